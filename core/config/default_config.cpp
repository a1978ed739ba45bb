// The default configuration as a commented TOML document, generated from Config{} so that the
// documented defaults are the real ones.
#include <string>

#include "core/config/config.hpp"
#include "core/config/units.hpp"

namespace volley {
namespace {

std::string str(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string num(std::size_t n) { return std::to_string(n); }
template <typename Rep, typename Period>
std::string dur(std::chrono::duration<Rep, Period> d) {
  return str(format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d)));
}

}  // namespace

std::string default_config_toml() {
  const Config c;
  std::string servers;
  for (const auto& s : c.dns.servers) servers += (servers.empty() ? "" : ", ") + str(s.to_string());

  std::string t;
  t += "# Volley configuration: every setting, with its default value.\n"
       "#\n"
       "# Durations: \"250ms\", \"30s\", \"5m\", \"1h\", \"5d\", combinations such as \"1h30m\", or an\n"
       "# integer number of seconds. Sizes: \"512KiB\", \"25MiB\", \"1GiB\" or an integer number of bytes.\n"
       "# Relative paths are relative to the working directory. Unknown keys are errors.\n"
       "\n"
       "# Domain on the right of the Message-IDs Volley generates. Default: this machine's host name.\n"
       "# hostname = \"mail.example.com\"\n"
       "\n"
       "[http]\n"
       "# Where the HTTP injection API listens: \"ip:port\", \"[ipv6]:port\" or \"name:port\";\n"
       "# port 0 lets the kernel choose.\n"
       "listen = " + str(c.http.listen.to_string()) + "\n"
       "# Largest message accepted, after MIME encoding.\n"
       "max_message_size = " + str(format_byte_size(c.http.max_message_size)) + "\n"
       "# Back-pressure: messages accepted but not yet committed to the spool. Beyond this,\n"
       "# injection is refused with 503 until the spool catches up.\n"
       "max_pending = " + num(c.http.max_pending) + "\n"
       "\n"
       "[spool]\n"
       "# Directory of the durable message spool (RocksDB).\n"
       "path = " + str(c.spool.path) + "\n"
       "\n"
       "[dns]\n"
       "# Resolvers to ask, as IP addresses with an optional port (default 53), e.g.\n"
       "# [\"127.0.0.1:5353\", \"[::1]\"]. Empty: the nameservers listed in resolv_conf.\n"
       "servers = [" + servers + "]\n"
       "# How long to wait for one answer, and how many times to ask each server.\n"
       "timeout = " + dur(c.dns.timeout) + "\n"
       "attempts = " + std::to_string(c.dns.attempts) + "\n"
       "resolv_conf = " + str(c.dns.resolv_conf) + "\n"
       "\n"
       "[delivery]\n"
       "# Port of the destination MX hosts (other than 25 only for testing).\n"
       "smtp_port = " + std::to_string(c.delivery.smtp_port) + "\n"
       "# Name sent in EHLO: a host name or an address literal such as \"[192.0.2.1]\".\n"
       "# Default: this machine's host name.\n"
       "# ehlo_name = \"mail.example.com\"\n"
       "# Simultaneous SMTP sessions to one destination domain.\n"
       "max_connections = " + num(c.delivery.max_connections_per_domain) + "\n"
       "# Messages sent over one session before it is closed and a new one opened.\n"
       "max_messages_per_connection = " + num(c.delivery.max_messages_per_connection) + "\n"
       "# An SMTP session with nothing to send is closed after this (whole seconds).\n"
       "idle_timeout = " + dur(c.delivery.idle_timeout) + "\n"
       "# Giving up on a TCP connection that is not established after this (whole seconds).\n"
       "connect_timeout = " + dur(c.delivery.connect_timeout) + "\n"
       "# Retries after a temporary failure: the delay starts at retry_first and doubles up to\n"
       "# retry_max_interval; a message still undelivered after max_age bounces\n"
       "# (Postfix's minimal_backoff_time, maximal_backoff_time, maximal_queue_lifetime).\n"
       "retry_first = " + dur(c.delivery.retry_first) + "\n"
       "retry_max_interval = " + dur(c.delivery.retry_max_interval) + "\n"
       "max_age = " + dur(c.delivery.max_age) + "\n"
       "\n"
       "# Static routes: mail for a domain goes to the given host instead of its MX hosts.\n"
       "# One [[route]] table per domain; port defaults to 25.\n"
       "# [[route]]\n"
       "# domain = \"example.com\"\n"
       "# host = \"127.0.0.1\"\n"
       "# port = 2525\n"
       "\n"
       "[log]\n"
       "# One JSON object per line for every delivery event (delivered, deferred, bounced, ...).\n"
       "event_log = " + str(c.log.event_log) + "\n"
       "# trace, debug, info, warn, error, critical or off.\n"
       "level = " + str(c.log.level) + "\n";
  return t;
}

}  // namespace volley
