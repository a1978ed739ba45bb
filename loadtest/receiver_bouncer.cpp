#include "receiver_bouncer.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

#include "core/smtp/client.hpp"
#include "core/smtp/wire.hpp"

namespace volley::receiver {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::string rfc5322_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// The original's header section, with CRLF line ends.
std::string header_section(const std::string& message) {
  auto end = message.find("\r\n\r\n");
  if (end == std::string::npos) return message.substr(0, 64 * 1024);
  return message.substr(0, end + 2);
}

// Drives Volley's sans-IO SMTP client over one Asio connection.
class BounceSession : public std::enable_shared_from_this<BounceSession> {
 public:
  BounceSession(asio::io_context& io, std::string helo, std::function<void(bool, std::string)> done)
      : socket_(io), deadline_(io), client_(options(std::move(helo))), done_(std::move(done)) {}

  void start(const tcp::endpoint& server, smtp::Transaction txn, std::chrono::seconds timeout) {
    txn_ = std::move(txn);
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->finish(false, "timed out");
    });
    socket_.async_connect(server, [self = shared_from_this()](error_code ec) {
      if (ec) return self->finish(false, "connect: " + ec.message());
      self->client_.on_connected();
      self->pump();
      self->read();
    });
  }

 private:
  static smtp::SmtpClient::Options options(std::string helo) {
    smtp::SmtpClient::Options o;
    o.ehlo_name = std::move(helo);
    return o;
  }

  void read() {
    if (finished_) return;
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->finished_) return;
      if (ec) {
        self->client_.on_closed(ec.message());
      } else {
        self->client_.on_bytes(std::string_view(self->buf_.data(), n));
      }
      self->pump();
      if (!ec) self->read();
    });
  }

  void pump() {
    for (auto& action : client_.take_actions()) {
      if (finished_) return;
      if (auto* w = std::get_if<smtp::WriteBytes>(&action)) {
        out_ += w->shared ? *w->shared : w->text;
      } else if (std::holds_alternative<smtp::SessionReady>(action)) {
        if (!sent_) {
          sent_ = true;
          client_.start(txn_);
          pump();
          return;
        }
      } else if (auto* d = std::get_if<smtp::TransactionDone>(&action)) {
        const auto& reply = d->result.per_rcpt.front();
        ok_ = reply.code / 100 == 2;
        detail_ = reply.summary();
        client_.quit();
        pump();
        return;
      } else if (auto* f = std::get_if<smtp::SessionFailed>(&action)) {
        return finish(false, f->reply.summary());
      } else if (std::holds_alternative<smtp::CloseConnection>(action)) {
        return finish(ok_, detail_.empty() ? "closed" : detail_);
      }
    }
    write();
  }

  void write() {
    if (writing_ || out_.empty() || finished_) return;
    writing_ = true;
    pending_.swap(out_);
    asio::async_write(socket_, asio::buffer(pending_), [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      self->pending_.clear();
      if (ec) return self->finish(false, "write: " + ec.message());
      self->write();
    });
  }

  void finish(bool ok, std::string detail) {
    if (finished_) return;
    finished_ = true;
    error_code ignored;
    deadline_.cancel();
    socket_.close(ignored);
    done_(ok, std::move(detail));
  }

  tcp::socket socket_;
  asio::steady_timer deadline_;
  smtp::SmtpClient client_;
  smtp::Transaction txn_;
  std::function<void(bool, std::string)> done_;
  std::array<char, 4096> buf_{};
  std::string out_, pending_, detail_;
  bool writing_ = false, sent_ = false, ok_ = false, finished_ = false;
};

std::atomic<std::uint64_t> g_boundary{0};

}  // namespace

std::string make_dsn(const std::string& reporting_mta, const std::string& sender, const std::string& recipient,
                     const smtp::Reply& reply, const std::string& original) {
  const std::string boundary = "dsn-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(++g_boundary);
  const std::string status = reply.enhanced.empty() ? std::to_string(reply.code / 100) + ".0.0" : reply.enhanced;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + reporting_mta + ">\r\n";
  m += "To: <" + sender + ">\r\n";
  m += "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + rfc5322_date() + "\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "Your message could not be delivered to <" + recipient + ">.\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + reporting_mta + "\r\n";
  m += "Arrival-Date: " + rfc5322_date() + "\r\n\r\n";
  m += "Final-Recipient: rfc822; " + recipient + "\r\n";
  m += "Action: failed\r\n";
  m += "Status: " + status + "\r\n";
  m += "Remote-MTA: dns; " + reporting_mta + "\r\n";
  m += "Diagnostic-Code: smtp; " + reply.summary() + "\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n";
  m += header_section(original);
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

void send_bounce(asio::io_context& io, const tcp::endpoint& server, const std::string& helo, const std::string& to,
                 std::string dsn, std::chrono::seconds timeout, std::function<void(bool, std::string)> done) {
  smtp::Transaction txn;
  txn.mail_from = "";
  txn.rcpts = {to};
  txn.message_size = dsn.size();
  txn.wire_data = std::make_shared<const std::string>(smtp::to_wire_data(dsn));
  auto session = std::make_shared<BounceSession>(io, helo, std::move(done));
  session->start(server, std::move(txn), timeout);
}

}  // namespace volley::receiver
