// The default configuration as a commented TOML document, generated from Config{} so that the
// documented defaults are the real ones.
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/units.hpp"
#include "core/delivery/rate.hpp"

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
std::string durs(const std::vector<std::chrono::seconds>& list) {
  std::string out;
  for (auto d : list) out += (out.empty() ? "" : ", ") + dur(d);
  return "[" + out + "]";
}
std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ", ") + str(s);
  return out;
}

}  // namespace

std::string default_config_toml() {
  const Config c;
  const auto& limits = c.shaping.defaults;
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
       "# Connections fail after this when not established (whole seconds).\n"
       "connect_timeout = " + dur(c.delivery.connect_timeout) + "\n"
       "# The pool for mail that neither names one nor matches a [[pool_rule]]. Required when there\n"
       "# are several [[pool]]s; with one, it is that one; with none, the built-in pool \"default\".\n"
       "# default_pool = \"shared\"\n"
       "# Bounce classification rules of your own, in a TOML file. Default: none.\n"
       "# bounce_rules = \"/etc/volley/bounce-rules.toml\"\n"
       "#\n"
       "# The keys from here to the end of [delivery] are the defaults of every destination: they\n"
       "# may be set here or in [shaping.default] (below), not in both.\n"
       "# Simultaneous SMTP sessions to one destination domain.\n"
       "max_connections = " + num(c.shaping.defaults.max_connections) + "\n"
       "# Messages sent over one session before it is closed and a new one opened.\n"
       "max_messages_per_connection = " + num(c.shaping.defaults.max_messages_per_connection) + "\n"
       "# An SMTP session with nothing to send is closed after this (whole seconds).\n"
       "idle_timeout = " + dur(c.shaping.defaults.idle_timeout) + "\n"
       "# Retries after a temporary failure: the delay starts at retry_first and doubles up to\n"
       "# retry_max_interval; a message still undelivered after max_age bounces\n"
       "# (Postfix's minimal_backoff_time, maximal_backoff_time, maximal_queue_lifetime).\n"
       "retry_first = " + dur(c.shaping.defaults.retry.first) + "\n"
       "retry_max_interval = " + dur(c.shaping.defaults.retry.max_interval) + "\n"
       "max_age = " + dur(c.shaping.defaults.retry.max_age) + "\n"
       "# Delays before the 1st, 2nd, ... retry of a greylisted recipient, e.g. [\"5m\", \"10m\", \"20m\"];\n"
       "# after them, greylisting is retried like any temporary failure. Empty: no special treatment.\n"
       "greylist_retry = " + durs(limits.retry.greylist) + "\n"
       "\n"
       "# Who may use the HTTP API. Without any [[api_key]] it is open to whoever reaches [http] listen;\n"
       "# with keys, /api/ requests need \"Authorization: Bearer <key>\". Store the SHA-256 of the key\n"
       "# (printf %s \"$KEY\" | sha256sum); the key's tenant owns what it injects; admin keys may\n"
       "# also suspend, resume and bounce queues.\n"
       "# [[api_key]]\n"
       "# name = \"newsletter-app\"\n"
       "# key_sha256 = \"e2186dbdb1bb4193608605e84f33208765b5693b55edd4f730a719a100eeea6f\"\n"
       "# tenant = \"acme\"\n"
       "# admin = false\n"
       "\n"
       "# Static routes: mail for a domain goes to the given host instead of its MX hosts.\n"
       "# One [[route]] table per domain; port defaults to 25.\n"
       "# [[route]]\n"
       "# domain = \"example.com\"\n"
       "# host = \"127.0.0.1\"\n"
       "# port = 2525\n"
       "\n"
       "# Sending addresses: a local IP address to send from, and the name it gives in EHLO (it should\n"
       "# match the address's reverse DNS; default: [delivery] ehlo_name). Every source is in a pool.\n"
       "# With no [[pool]], mail leaves from whatever address the kernel picks.\n"
       "# [[source]]\n"
       "# name = \"ip1\"\n"
       "# address = \"192.0.2.1\"\n"
       "# ehlo_name = \"o1.mta.example.com\"\n"
       "# [[source]]\n"
       "# name = \"ip2\"\n"
       "# address = \"2001:db8::2\"\n"
       "# ehlo_name = \"o2.mta.example.com\"\n"
       "\n"
       "# Pools of sources: each connection takes the next source of its message's pool, in\n"
       "# proportion to their weights (1 to 1000, default 1).\n"
       "# [[pool]]\n"
       "# name = \"shared\"\n"
       "# sources = [{ name = \"ip1\", weight = 3 }, { name = \"ip2\" }]\n"
       "# [[pool]]\n"
       "# name = \"acme\"\n"
       "# sources = [{ name = \"ip2\" }]\n"
       "\n"
       "# A message's pool: the one its request names, else that of the first [[pool_rule]] it\n"
       "# matches (on tenant, sender_domain or both), else [delivery] default_pool.\n"
       "# [[pool_rule]]\n"
       "# tenant = \"acme\"\n"
       "# sender_domain = \"acme.example\"\n"
       "# pool = \"acme\"\n"
       "\n"
       "# Traffic shaping: how hard each destination may be fed, in layers applied in this order:\n"
       "# [shaping.default]; the first [[shaping.provider]] whose mx_suffixes cover every MX host of\n"
       "# the domain (such domains also share one queue, named after the provider); the domain's\n"
       "# [[shaping.domain]]; then [[shaping.source]] rules for the source sending: for every\n"
       "# destination, for the provider, for the domain. Each sets only the keys it names. Every\n"
       "# layer takes the keys below and [delivery]'s from max_connections to greylist_retry.\n"
       "# Rates: \"100/s\", \"30/m\", \"2000/h\", \"5000/d\" or \"unlimited\".\n"
       "[shaping.default]\n"
       "# New connections, and messages, per destination.\n"
       "max_connection_rate = " + str(delivery::format_rate(limits.max_connection_rate)) + "\n"
       "max_message_rate = " + str(delivery::format_rate(limits.max_message_rate)) + "\n"
       "# Recipients per SMTP transaction; a message with more is sent in several.\n"
       "max_recipients_per_transaction = " + num(limits.max_recipients_per_transaction) + "\n"
       "# A destination that answers \"too fast\" gets half the connections and message rate for\n"
       "# rate_limit_cooldown; more such answers extend that and halve again (at most once per\n"
       "# rate_limit_recovery_step); afterwards the limits come back one halving per step.\n"
       "rate_limit_cooldown = " + dur(limits.backoff.cooldown) + "\n"
       "rate_limit_recovery_step = " + dur(limits.backoff.recovery_step) + "\n"
       "\n"
       "# [[shaping.provider]]\n"
       "# name = \"google\"\n"
       "# mx_suffixes = [\".google.com\", \".googlemail.com\"]\n"
       "# max_connections = 20\n"
       "\n"
       "# [[shaping.domain]]\n"
       "# domain = \"example.org\"\n"
       "# max_message_rate = \"2000/h\"\n"
       "\n"
       "# [[shaping.source]]\n"
       "# source = \"ip2\"\n"
       "# provider = \"google\"  # or domain = \"example.org\", or neither: every destination\n"
       "# max_message_rate = \"50/s\"\n"
       "\n"
       "[log]\n"
       "# One JSON object per line for every event (received, delivered, deferred, bounced, ...).\n"
       "event_log = " + str(c.log.event_log) + "\n"
       "# Past this size the log is renamed to .1 (and .1 to .2, ...); event_log_keep files are kept.\n"
       "event_log_max_size = " + str(format_byte_size(c.log.event_log_max_size)) + "\n"
       "event_log_keep = " + num(c.log.event_log_keep) + "\n"
       "# trace, debug, info, warn, error, critical or off.\n"
       "level = " + str(c.log.level) + "\n"
       "\n"
       "# VERP: mail from sender_domain (\"*\": any other) leaves with the envelope sender\n"
       "# <prefix>+<recipient id>@<domain>, so each bounce names the recipient message it is about.\n"
       "# The domain's MX must point at [smtp_in]. Without any, the sender's own address is used.\n"
       "# [[return_path]]\n"
       "# sender_domain = \"*\"\n"
       "# domain = \"bounce.example.com\"\n"
       "# prefix = \"bounces\"\n"
       "\n"
       "# The SMTP listener for asynchronous bounces and feedback-loop (ARF) reports; off unless listen\n"
       "# is set. It takes mail only for the [[return_path]] domains and `domains` (no relaying).\n"
       "[smtp_in]\n"
       "# listen = \"0.0.0.0:25\"\n"
       "hostname = " + str(c.smtp_in.hostname) + "\n"
       "domains = []  # e.g. [\"fbl.example.com\"], where feedback loops send their reports\n"
       "max_message_size = " + str(format_byte_size(c.smtp_in.max_message_size)) + "\n"
       "max_connections = " + num(c.smtp_in.max_connections) + "\n"
       "timeout = " + dur(c.smtp_in.timeout) + "\n"
       "# tls_certificate = \"/etc/volley/tls/fullchain.pem\"  # both set: STARTTLS is offered\n"
       "# tls_private_key = \"/etc/volley/tls/privkey.pem\"\n"
       "\n"
       "[suppression]\n"
       "# Addresses a tenant no longer mails (RocksDB).\n"
       "path = " + str(c.suppression.path) + "\n"
       "# Bounce categories that add the address by themselves; complaints too unless false.\n"
       "bounce_categories = [" + joined(c.suppression.bounce_categories) + "]\n"
       "complaints = " + (c.suppression.complaints ? "true" : "false") + "\n"
       "\n"
       "[events]\n"
       "# Events waiting for a webhook endpoint are kept here (RocksDB) until it takes them.\n"
       "webhook_queue = " + str(c.events.webhook_queue) + "\n"
       "\n"
       "# [[webhook]]\n"
       "# name = \"app\"\n"
       "# url = \"https://app.example.com/volley-events\"\n"
       "# secret = \"change-me-to-a-long-random-string\"  # shared with the application; 16+ characters\n"
       "# events = [\"bounced\", \"async_bounce\", \"complaint\"]  # empty or absent: every type\n"
       "# tenants = []  # empty or absent: every tenant\n"
       "# max_batch = 100\n"
       "# timeout = \"10s\"\n"
       "# retry_first = \"1s\"  # then doubling, up to retry_max\n"
       "# retry_max = \"5m\"\n";
  return t;
}

}  // namespace volley
