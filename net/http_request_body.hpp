#pragma once
// The HTTP server's request body: Beast's string_body, read without zero-filling and with room for
// the JSON parser's read-ahead.
//
// Why: string_body's reader grows the string with resize() (which zero-fills) and then copies the
// bytes over it: a memset of every body (1 % of volleyd's CPU at 100 KiB, loadtest/README.md,
// issue 14, ninth round). Appending writes each byte once. And a body with kReadAhead bytes of
// capacity past its end is parsed by simdjson where it is, instead of being copied into the
// parser's padded buffer first (core/json/request_json.hpp).
#include <cstdint>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional.hpp>

#include "core/json/request_json.hpp"

namespace volley::http_detail {

struct RequestBody : boost::beast::http::string_body {
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    // The parser has checked the length against its body limit before this; the string's own
    // limit is checked as string_body's reader does (an error, not a throw from reserve()).
    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      if (length) {
        if (*length > body_.max_size() - json::kReadAhead) {
          ec = boost::beast::http::error::buffer_overflow;
          return;
        }
        body_.reserve(static_cast<std::size_t>(*length) + json::kReadAhead);
      }
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      const std::size_t n = boost::beast::buffer_bytes(buffers);
      if (n > body_.max_size() - body_.size()) {
        ec = boost::beast::http::error::buffer_overflow;
        return 0;
      }
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        body_.append(static_cast<const char*>(b.data()), b.size());
      }
      ec = {};
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace volley::http_detail
