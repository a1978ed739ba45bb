#pragma once
// Volley's configuration: what the TOML file may say, its defaults, and how it is read.
// Every setting has a default, so an empty file is a valid configuration. Mistakes are never
// guessed around: a wrong type, an out-of-range value or an unknown key is an error that names
// the file, the line and the key. toml++ stays behind this header (core/config's readers, on the
// shared TOML reader of core/toml). The defaults here are the only ones: a component whose options
// repeat a setting takes its default from the kDefault* constant of the section.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/host_port.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/delivery/return_path.hpp"
#include "core/delivery/shaping.hpp"
#include "core/schedule/window.hpp"

namespace volley {

// Mail for `domain` goes to host:port instead of the domain's MX hosts.
struct StaticRoute {
  std::string domain;  // lower case, no trailing dot
  std::string host;    // IP literal (IPv6 without brackets) or host name
  std::uint16_t port = 25;
  friend bool operator==(const StaticRoute&, const StaticRoute&) = default;
};

// This machine's host name (gethostname), or "localhost" when it is not a valid host name.
std::string system_hostname();

struct Config {
  struct Http {
    static constexpr std::size_t kDefaultMaxPending = 20000;
    HostPort listen{"127.0.0.1", 8025};  // port 0: the kernel picks one
    std::size_t max_message_size = 25 * 1024 * 1024;
    // Back-pressure: accepted messages not yet committed to the spool; beyond it, 503.
    std::size_t max_pending = kDefaultMaxPending;
    // Both set: `listen` speaks HTTPS only (PEM files, the chain first). A reload reads them again.
    std::string tls_certificate, tls_private_key;
    friend bool operator==(const Http&, const Http&) = default;
  } http;

  struct Spool {
    std::string path = "./var/spool";  // relative paths are relative to the working directory
    // min_free_space: below this much free space on a database's filesystem, new work is
    // refused (core/disk/free_space.hpp). Bytes, or a percentage of the filesystem's size;
    // neither: automatic (1 GiB or 5 %, whichever is smaller, at least 64 MiB).
    std::optional<std::uint64_t> min_free_bytes;
    std::optional<double> min_free_percent;
    friend bool operator==(const Spool&, const Spool&) = default;
  } spool;

  struct Dns {
    static constexpr std::chrono::milliseconds kDefaultTimeout{2000};
    static constexpr int kDefaultAttempts = 2;
    std::vector<HostPort> servers;  // IP addresses; empty: the nameservers in resolv_conf
    std::chrono::milliseconds timeout = kDefaultTimeout;  // per query attempt
    int attempts = kDefaultAttempts;
    std::string resolv_conf = "/etc/resolv.conf";
    // The resolvers validate DNSSEC (a local validating resolver): answers with the AD bit are
    // taken as authenticated. DANE needs it.
    bool dnssec = false;
    friend bool operator==(const Dns&, const Dns&) = default;
  } dns;

  struct Delivery {
    static constexpr std::uint16_t kDefaultSmtpPort = 25;
    static constexpr std::chrono::seconds kDefaultConnectTimeout{30};
    std::uint16_t smtp_port = kDefaultSmtpPort;
    std::string ehlo_name = system_hostname();
    std::chrono::seconds connect_timeout = kDefaultConnectTimeout;
    std::string bounce_rules;  // the operator's bounce rules file (read elsewhere); empty: none
    static constexpr std::uint16_t kDefaultMtaStsPort = 443;
    bool mta_sts = true;                            // RFC 8461 policies are fetched and applied
    std::uint16_t mta_sts_port = kDefaultMtaStsPort;  // where policies are fetched (other than 443: tests)
    bool dane = false;                              // RFC 7672; needs [dns] dnssec
    // Idle sessions may carry mail for other domains with the same MX host (net/session_cache.hpp).
    bool share_connections = true;
    // With share_connections: connection attempts (not yet greeted) at once to one MX host from
    // one source, over every domain; 0 = no limit. Destinations beyond it wait for a parked session.
    std::uint32_t max_connecting_per_host = 16;
    // BDAT (RFC 3030) instead of DATA where the MX host offers CHUNKING and PIPELINING.
    bool chunking = true;
    friend bool operator==(const Delivery&, const Delivery&) = default;
  } delivery;

  std::vector<StaticRoute> routes;  // [[route]]; at most one per domain

  // [tls]: outbound TLS. Certificates are verified against the system's CA store and ca_file
  // (PEM, e.g. a private CA; "" = none). The mode per destination is a shaping key (tls).
  struct Tls {
    std::string ca_file;
    friend bool operator==(const Tls&, const Tls&) = default;
  } tls;

  // [tls_reporting]: SMTP TLS Reporting (RFC 8460, docs/auth-tls-reporting.md): daily reports of
  // outbound TLS results to the domains that ask for them. On needs who Volley reports as.
  struct TlsReporting {
    bool enabled = false;
    std::string organization_name;  // "organization-name" of the reports
    std::string contact_info;       // "contact-info", e.g. "mailto:postmaster@example.com"
    std::string from;               // envelope sender and From: of mailed reports
    std::string submitter;          // TLS-Report-Submitter; "" = [hostname]
    std::uint16_t https_port = 443; // the port of https: rua URLs without one (other: tests)
    friend bool operator==(const TlsReporting&, const TlsReporting&) = default;
  } tls_reporting;

  // Where mail leaves from: [[source]], [[pool]], [[pool_rule]] and [delivery] default_pool.
  // With no [[pool]], the built-in pool "default": one source that does not bind to an address
  // and says [delivery] ehlo_name, as Volley did before pools existed. A [[source]] that names no
  // ehlo_name says [delivery] ehlo_name too.
  delivery::IpPools ip_pools = delivery::IpPools::builtin(system_hostname());

  // How hard each destination may be fed, in layers (see core/delivery/shaping.hpp):
  // [shaping.default], [[shaping.provider]], [[shaping.domain]], [[shaping.source]]. The defaults
  // layer is Limits{}, then the limit keys of [delivery] (max_connections,
  // max_messages_per_connection, idle_timeout, retry_first, retry_max_interval, max_age,
  // greylist_retry), then those of [shaping.default]; a key set in both tables is an error.
  delivery::ShapingPolicy shaping;

  struct Log {
    static constexpr std::size_t kDefaultEventLogMaxSize = 256 * 1024 * 1024;
    static constexpr std::size_t kDefaultEventLogKeep = 10;
    std::string event_log = "./var/events.jsonl";
    // The event log is rotated past this size: events.jsonl -> events.jsonl.1 -> ... .<keep>.
    std::size_t event_log_max_size = kDefaultEventLogMaxSize;
    std::size_t event_log_keep = kDefaultEventLogKeep;  // rotated files kept
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
    std::string format = "text";  // text: for people; json: one object per line, for log shippers
    friend bool operator==(const Log&, const Log&) = default;
  } log;

  // [lifecycle]: how volleyd stops (docs/operations.md).
  struct Lifecycle {
    static constexpr std::chrono::seconds kDefaultDrainTimeout{30};
    // SIGTERM: SMTP transactions in flight get this long to finish; what is left stays spooled.
    std::chrono::seconds drain_timeout = kDefaultDrainTimeout;
    friend bool operator==(const Lifecycle&, const Lifecycle&) = default;
  } lifecycle;

  // [[api_key]]: who may use the HTTP API. None: the API is open to whoever can reach its address
  // (keep it on loopback); any: every /api/ request needs "Authorization: Bearer <key>".
  struct ApiKey {
    std::string name;        // for logs
    std::string key_sha256;  // lower-case hex; the key itself is never stored
    std::string tenant = "default";  // messages injected with this key belong to this tenant
    bool admin = false;      // may use queue control (/api/v1/queues, pools, sources)
    friend bool operator==(const ApiKey&, const ApiKey&) = default;
  };
  std::vector<ApiKey> api_keys;

  // [smtp_in]: the SMTP listener for asynchronous bounces and feedback-loop reports. Off unless
  // `listen` is set. It takes mail only for the return-path domains and `domains` (no relay).
  struct SmtpIn {
    static constexpr std::size_t kDefaultMaxMessageSize = 10 * 1024 * 1024;
    static constexpr std::size_t kDefaultMaxConnections = 200;
    static constexpr std::chrono::seconds kDefaultTimeout{300};
    static constexpr std::chrono::seconds kDefaultDataTimeout{600};
    std::optional<HostPort> listen;
    std::string hostname = system_hostname();
    std::vector<std::string> domains;  // beyond the return-path domains: e.g. the FBL address's domain
    std::size_t max_message_size = kDefaultMaxMessageSize;
    std::size_t max_connections = kDefaultMaxConnections;
    std::chrono::seconds timeout = kDefaultTimeout;           // deadline for each command line (not re-armed by bytes)
    std::chrono::seconds data_timeout = kDefaultDataTimeout;  // deadline for the whole DATA phase
    std::string tls_certificate, tls_private_key;  // both set: STARTTLS is offered
    friend bool operator==(const SmtpIn&, const SmtpIn&) = default;
  } smtp_in;

  // [[return_path]]: VERP. Mail from `sender_domain` ("*": any sender no other entry names)
  // leaves with the envelope sender <prefix>+<recipient id>@<domain>, so a bounce names the exact
  // recipient message it is about. With none, the sender's own address is the return path.
  using ReturnPath = delivery::ReturnPathRule;
  std::vector<ReturnPath> return_paths;

  // [suppression]: addresses a tenant no longer mails.
  struct Suppression {
    std::string path = "./var/suppressions";
    // Bounce categories (synchronous or asynchronous) that add the address by themselves.
    std::vector<std::string> bounce_categories = {"bad-mailbox", "bad-domain", "inactive-mailbox"};
    bool complaints = true;  // a complaint (any feedback type but not-spam) adds the address
    friend bool operator==(const Suppression&, const Suppression&) = default;
  } suppression;

  // [[webhook]]: event batches POSTed to an application, signed, queued on disk until taken.
  struct Webhook {
    std::string name;                  // unique; used in the queue and metrics
    std::string url;                   // http://host:port/path or https://...
    std::string secret;                // HMAC key
    std::vector<std::string> events;   // empty: every event type
    std::vector<std::string> tenants;  // empty: every tenant
    std::size_t max_batch = 100;       // events per POST
    std::chrono::milliseconds timeout{10000};
    std::chrono::milliseconds retry_first{1000};
    std::chrono::milliseconds retry_max{300000};
    friend bool operator==(const Webhook&, const Webhook&) = default;
  };
  std::vector<Webhook> webhooks;
  struct Events {
    std::string webhook_queue = "./var/webhooks";  // the webhooks' queue on disk (RocksDB)
    // How long a delivered recipient's event stays in the spool, so that a late bounce or
    // complaint still finds its message, tenant and campaign.
    static constexpr std::chrono::seconds kDefaultHistoryRetention{30 * 24 * 3600};
    std::chrono::seconds history_retention = kDefaultHistoryRetention;
    friend bool operator==(const Events&, const Events&) = default;
  } events;

  // [metrics]: what GET /metrics exports.
  struct Metrics {
    // A destination's series (outcome counters, queue depth, connections) are dropped once it has
    // had nothing queued, no connection and no event for this long; 0: kept for ever.
    static constexpr std::chrono::seconds kDefaultIdleSeriesTtl{3600};
    std::chrono::seconds idle_series_ttl = kDefaultIdleSeriesTtl;
    friend bool operator==(const Metrics&, const Metrics&) = default;
  } metrics;

  // [[dkim]]: DKIM keys (docs/auth-dkim.md). Mail whose From: domain is `domain` (or, with
  // subdomains, under it) is signed with each entry for it; keys are read at start-up.
  struct Dkim {
    std::string domain;  // d=, lower case
    bool subdomains = false;
    std::string selector;
    std::string key_file;  // PEM: RSA (>= 1024 bits) or Ed25519
    std::optional<std::vector<std::string>> headers;    // absent: core/dkim's default list
    std::optional<std::vector<std::string>> over_sign;  // absent: From, Subject, List-Unsubscribe(-Post)
    std::chrono::seconds expiration{0};                 // x= after t=; 0: none
    std::string tenant;                                 // "": every tenant's mail
    std::string canonicalization = "relaxed/relaxed";
    friend bool operator==(const Dkim&, const Dkim&) = default;
  };
  std::vector<Dkim> dkim;

  // [submission] and [[submission_user]]: the SMTP submission listener (RFC 6409) for
  // applications that send through SMTP. Off unless `listen` or `implicit_tls_listen` is set.
  struct Submission {
    static constexpr std::size_t kDefaultMaxMessageSize = 25 * 1024 * 1024;
    static constexpr std::size_t kDefaultMaxConnections = 100;
    static constexpr std::chrono::seconds kDefaultTimeout{300};
    static constexpr std::chrono::seconds kDefaultAuthLockout{900};
    std::optional<HostPort> listen;               // STARTTLS
    std::optional<HostPort> implicit_tls_listen;  // TLS from the first byte (RFC 8314)
    std::string hostname = system_hostname();
    std::string tls_certificate, tls_private_key;  // required once a listener is set
    std::size_t max_message_size = kDefaultMaxMessageSize;
    std::size_t max_connections = kDefaultMaxConnections;
    std::chrono::seconds timeout = kDefaultTimeout;  // per command, and for the whole DATA phase x2
    std::vector<std::string> trusted_networks;      // CIDRs that may submit without AUTH
    std::string trusted_tenant = "default";         // the tenant of mail submitted without AUTH
    std::chrono::seconds auth_lockout = kDefaultAuthLockout;  // after 5 failed AUTHs in a row
    friend bool operator==(const Submission&, const Submission&) = default;
  } submission;
  struct SubmissionUser {
    std::string name;           // the AUTH user name
    std::string password_hash;  // crypt(3): yescrypt ($y$) or sha512-crypt ($6$)
    std::string tenant = "default";
    std::vector<std::string> sender_domains;  // MAIL FROM and From: within these (lower case)
    std::string pool;                          // "": the pool rules choose
    delivery::Rate max_messages;               // per user; unlimited by default
    std::size_t max_recipients = 100;          // per message
    friend bool operator==(const SubmissionUser&, const SubmissionUser&) = default;
  };
  std::vector<SubmissionUser> submission_users;
  // [unsubscribe]: one-click unsubscribe (RFC 8058, docs/unsubscribe.md). Off unless base_url
  // is set: then mail with a campaign (or "list_unsubscribe": true) carries List-Unsubscribe.
  struct Unsubscribe {
    std::string base_url;             // "https://mta.example.com": scheme and host, no path
    std::optional<HostPort> listen;   // its own listener for /u/ only; the API listener serves /u/ too
    std::string tls_certificate, tls_private_key;  // both set: `listen` speaks HTTPS
    std::string mailto_domain;        // "": no mailto; else taken on [smtp_in] (which must listen)
    friend bool operator==(const Unsubscribe&, const Unsubscribe&) = default;
  } unsubscribe;
  // [[tenant]]: one tenant's settings (docs/scheduling.md). Mail of a tenant with a
  // send_window is first tried only inside it, in its timezone (a zone of /usr/share/zoneinfo).
  struct Tenant {
    std::string name;
    std::optional<schedule::SendWindow> send_window;
    std::string timezone = "UTC";
    friend bool operator==(const Tenant&, const Tenant&) = default;
  };
  std::vector<Tenant> tenants;

  std::string hostname = system_hostname();  // right-hand side of generated Message-IDs
  // Threads that run the actors (CAF's scheduler); 0: one for every two CPUs, at least one.
  // The HTTP and SMTP sockets, the spool's commits and DKIM signing have threads of their own.
  std::size_t worker_threads = 0;
  // Linux scheduling policy of volleyd's threads (daemon/cpu_scheduling.hpp): "batch"
  // (SCHED_BATCH: a thread woken by another does not preempt the one running) or "inherit" (the
  // policy volleyd was started with).
  std::string scheduling_policy = "batch";

  friend bool operator==(const Config&, const Config&) = default;
};

struct LoadResult {
  std::optional<Config> config;  // set when the document is valid
  // Otherwise every problem found, one per line, in file order, each like
  //   volley.toml:7: [delivery] smtp_port: expected an integer 1..65535, got "abc"
  std::string error;

  bool ok() const noexcept { return config.has_value(); }
};

// source_name is what error messages call the document (usually its path).
LoadResult parse_config(std::string_view toml_text, std::string_view source_name);
// Reads and parses a file (at most 1 MiB).
LoadResult load_config_file(const std::string& path);

// A commented TOML document listing every setting with its default value; parsing it gives
// Config{}. For documentation and `volleyd --print-default-config`.
std::string default_config_toml();

}  // namespace volley
