#pragma once
// volley-receiver's asynchronous bounces: a recipient whose rule is "bounce_later" is accepted
// (250 at the end of data), and a moment later a delivery status notification (RFC 3464) goes to
// the message's envelope sender over SMTP, at the script's bounce_to address, the way a real
// receiving MTA bounces mail it took and could not deliver.
#include <functional>
#include <string>

#include <utility>  // before Boost.Asio (see build-facts)

#include <boost/asio.hpp>

#include "core/smtp/reply.hpp"

namespace volley::receiver {

// The DSN (multipart/report; report-type=delivery-status) for one failed recipient. `original`
// is the message as received: its header section is returned in a text/rfc822-headers part.
std::string make_dsn(const std::string& reporting_mta, const std::string& sender, const std::string& recipient,
                     const smtp::Reply& reply, const std::string& original);

// Sends `dsn` with a null reverse path to `to` through the SMTP server at `server`; done(ok,
// reply or error) is called once on the io_context's thread. Bounded by `timeout` in all.
void send_bounce(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& server,
                 const std::string& helo, const std::string& to, std::string dsn, std::chrono::seconds timeout,
                 std::function<void(bool ok, std::string detail)> done);

}  // namespace volley::receiver
