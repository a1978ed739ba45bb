// volley-loadgen: injects messages into Volley's HTTP API as fast as asked, over keep-alive
// connections, and reports the injection rate and latency percentiles. Bounded in count and time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <utility>  // before Boost.Asio (see build-facts)

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string target = "127.0.0.1:8025";
  std::uint64_t count = 1000;
  double duration_s = 60;
  int concurrency = 32;
  std::size_t size = 10 * 1024;
  std::size_t batch = 1;
  double rate = 0;  // messages/s, 0 = as fast as possible
  std::string domains = "example.test";
  std::string domains_file;  // one "domain[:weight]" per line; for lists too long for argv
  std::string from = "loadgen@volley.test";
  std::string json_out;
  bool progress = true;
  std::string api_key;            // sent as "Authorization: Bearer <key>" when set
  std::size_t personalizations = 0;  // >0: one templated request per N messages (docs/templates.md)
  std::string template_name;      // with personalizations: a stored template instead of inline text
  std::string trace_out;          // one line per request: when it was sent (ms since start), latency ms
};

struct WeightedDomains {
  std::vector<std::string> names;
  std::discrete_distribution<std::size_t> pick;

  explicit WeightedDomains(const std::string& spec) {
    std::vector<double> weights;
    std::size_t pos = 0;
    while (pos <= spec.size()) {
      auto comma = spec.find(',', pos);
      std::string item = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (!item.empty()) {
        auto colon = item.find(':');
        names.push_back(item.substr(0, colon));
        weights.push_back(colon == std::string::npos ? 1.0 : std::stod(item.substr(colon + 1)));
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (names.empty()) throw std::invalid_argument("--domains is empty");
    pick = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
  }
};

struct Stats {
  std::uint64_t started = 0;   // messages handed to a request
  std::uint64_t injected = 0;  // messages answered 2xx
  std::uint64_t failed = 0;    // messages in other answers (401, 503, ...) or failed requests
  std::uint64_t connection_errors = 0;
  std::map<std::string, std::uint64_t> errors;
  std::vector<double> latencies_ms;  // per request
  std::vector<double> sent_ms;       // per request, since the start: places the slow ones in time
};

class Generator;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Generator& gen, int index)
      : io_(io), stream_(io), timer_(io), gen_(gen), index_(index) {}
  void start(const tcp::endpoint& ep);

 private:
  void next();
  void send();
  void fail(const std::string& what);

  asio::io_context& io_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Generator& gen_;
  int index_;
  tcp::endpoint ep_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::size_t in_request_ = 0;
  Clock::time_point sent_at_;
};

class Generator {
 public:
  Generator(asio::io_context& io, Options opts) : io_(io), opts_(std::move(opts)), domains_(opts_.domains) {
    // One body text of the requested size, reused: generating bytes is not what is measured.
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789";
    text_.reserve(opts_.size);
    std::mt19937 rng{42};
    for (std::size_t i = 0; i < opts_.size; ++i)
      text_ += (i % 76 == 75) ? '\n' : kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    host_ = opts_.target;
    // The text's JSON form once: escaping ~100 KiB per request was most of the injector's CPU at
    // 100 KiB (0.43 ms a message, a quarter of the two CPUs the MTA and the sink share).
    text_json_ = nlohmann::json(text_).dump();
    from_json_ = nlohmann::json(opts_.from).dump();
    // The bytes must be the ones nlohmann writes for the same object: checked once, here.
    if (one_text(0, "example.test") != one_object(0, "example.test").dump())
      throw std::logic_error("loadgen: the prebuilt message JSON differs from nlohmann's");
  }

  void run() {
    auto colon = opts_.target.rfind(':');
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(opts_.target.substr(0, colon), opts_.target.substr(colon + 1));
    ep_ = *results.begin();
    start_ = Clock::now();
    deadline_ = start_ + std::chrono::milliseconds(static_cast<long>(opts_.duration_s * 1000));
    for (int i = 0; i < opts_.concurrency; ++i) std::make_shared<Connection>(io_, *this, i)->start(ep_);
    asio::steady_timer progress(io_);
    std::function<void()> tick = [&] {
      progress.expires_after(std::chrono::seconds(1));
      progress.async_wait([&](const boost::system::error_code& ec) {
        if (ec || finished()) return;
        print_progress();
        tick();
      });
    };
    if (opts_.progress) tick();
    io_.run();
    end_ = Clock::now();
    if (opts_.progress) std::fprintf(stderr, "\n");
  }

  // Claims the messages of the next request; 0 when the run is over.
  std::size_t claim(std::optional<Clock::time_point>* not_before) {
    if (Clock::now() >= deadline_ || stats_.started >= opts_.count) return 0;
    const std::size_t per_request = opts_.personalizations > 0 ? opts_.personalizations : opts_.batch;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(per_request, opts_.count - stats_.started));
    if (opts_.rate > 0) {
      auto at = start_ + std::chrono::microseconds(static_cast<long>(1e6 * stats_.started / opts_.rate));
      *not_before = at;
    }
    stats_.started += n;
    return n;
  }

  // One message as the API takes it.
  nlohmann::json one_object(std::uint64_t seq, const std::string& domain) const {
    return nlohmann::json{{"from", opts_.from},
                          {"to", {"user" + std::to_string(seq) + "@" + domain}},
                          {"subject", "loadgen message " + std::to_string(seq)},
                          {"text", text_}};
  }
  // The same, serialized as nlohmann does it (keys sorted), around the text's prebuilt JSON.
  std::string one_text(std::uint64_t seq, const std::string& domain) const {
    const std::string n = std::to_string(seq);
    const std::string to = nlohmann::json("user" + n + "@" + domain).dump();
    std::string out;
    out.reserve(text_json_.size() + from_json_.size() + to.size() + 64);
    out.append("{\"from\":").append(from_json_);
    out.append(",\"subject\":\"loadgen message ").append(n).append("\"");
    out.append(",\"text\":").append(text_json_);
    out.append(",\"to\":[").append(to).append("]}");
    return out;
  }

  std::string body(std::size_t n) {
    auto one = [&] {
      const auto seq = seq_++;
      return one_text(seq, domains_.names[domains_.pick(rng_)]);
    };
    if (opts_.personalizations > 0) return personalized(n);
    if (opts_.batch == 1) return one();
    std::string b = "{\"messages\":[";
    for (std::size_t i = 0; i < n; ++i) b.append(i == 0 ? "" : ",").append(one());
    return b.append("]}");
  }

  // One request of n personalisations of one template, each to its own recipient: the same text
  // as --batch sends, with a greeting and the sequence number substituted.
  std::string personalized(std::size_t n) {
    nlohmann::json r{{"from", opts_.from}, {"personalizations", nlohmann::json::array()}};
    if (opts_.template_name.empty()) {
      r["subject"] = "loadgen message {{seq}}";
      r["text"] = "Hello {{name}},\n" + text_;
    } else {
      r["template"] = opts_.template_name;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto seq = seq_++;
      r["personalizations"].push_back(
          {{"to", {"user" + std::to_string(seq) + "@" + domains_.names[domains_.pick(rng_)]}},
           {"substitutions", {{"name", "User " + std::to_string(seq)}, {"seq", seq}}}});
    }
    return r.dump();
  }

  void record(std::size_t n, int status, Clock::time_point sent_at, double ms, const std::string& error) {
    stats_.latencies_ms.push_back(ms);
    stats_.sent_ms.push_back(std::chrono::duration<double, std::milli>(sent_at - start_).count());
    if (status >= 200 && status <= 299) {
      stats_.injected += n;
    } else {
      stats_.failed += n;
      stats_.errors[error.empty() ? "http " + std::to_string(status) : error] += n;
    }
  }

  // A failure outside any request (a refused connection): reported, and it fails the run.
  void record_connection_error(const std::string& error) {
    ++stats_.connection_errors;
    ++stats_.errors[error];
  }

  bool finished() const {
    return stats_.injected + stats_.failed >= stats_.started &&
           (stats_.started >= opts_.count || Clock::now() >= deadline_);
  }

  const Options& opts() const { return opts_; }
  const std::string& host() const { return host_; }
  const char* path() const {
    return opts_.batch == 1 || opts_.personalizations > 0 ? "/api/v1/messages" : "/api/v1/messages/batch";
  }

  void write_trace(const std::string& path) const {
    std::ofstream out(path);
    // The start on CLOCK_MONOTONIC (steady_clock on Linux), to line the requests up with other
    // traces of the same run (perf trace --full-time, volleyd's logs).
    out << std::fixed << "# start_monotonic_ms "
        << std::chrono::duration<double, std::milli>(start_.time_since_epoch()).count() << "\n";
    out << "sent_ms latency_ms\n";
    for (std::size_t i = 0; i < stats_.latencies_ms.size(); ++i)
      out << stats_.sent_ms[i] << ' ' << stats_.latencies_ms[i] << '\n';
  }

  nlohmann::json report() const {
    // Apart: the requests sent after the first second, past the run's start (a volleyd just
    // started slowed the first ~30 ms of requests in runs measured by hand: loadtest/README.md,
    // issue 14, sixth round).
    std::vector<double> warm;
    for (std::size_t i = 0; i < stats_.latencies_ms.size(); ++i)
      if (stats_.sent_ms[i] >= 1000) warm.push_back(stats_.latencies_ms[i]);
    std::vector<double> l = stats_.latencies_ms;  // sorted apart: the trace keeps the send order
    std::sort(l.begin(), l.end());
    std::sort(warm.begin(), warm.end());
    auto pct_of = [](const std::vector<double>& v, double p) {
      if (v.empty()) return 0.0;
      return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
    };
    auto pct = [&](double p) { return pct_of(l, p); };
    const double secs = std::chrono::duration<double>(end_ - start_).count();
    return nlohmann::json{{"injected", stats_.injected},
                          {"failed", stats_.failed},
                          {"seconds", secs},
                          {"injected_per_second", secs > 0 ? static_cast<double>(stats_.injected) / secs : 0},
                          {"latency_ms", {{"p50", pct(50)}, {"p90", pct(90)}, {"p99", pct(99)}, {"p99.9", pct(99.9)},
                                          {"max", l.empty() ? 0 : l.back()}}},
                          {"latency_after_first_second_ms",
                           {{"requests", warm.size()}, {"p50", pct_of(warm, 50)}, {"p99", pct_of(warm, 99)},
                            {"p99.9", pct_of(warm, 99.9)}, {"max", warm.empty() ? 0 : warm.back()}}},
                          {"errors", stats_.errors},
                          {"connection_errors", stats_.connection_errors},
                          {"concurrency", opts_.concurrency},
                          {"batch", opts_.batch},
                          {"personalizations", opts_.personalizations},
                          {"size", opts_.size}};
  }

 private:
  void print_progress() {
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    std::fprintf(stderr, "\r%8.1fs  injected %llu  failed %llu  %.0f msg/s   ", secs,
                 static_cast<unsigned long long>(stats_.injected), static_cast<unsigned long long>(stats_.failed),
                 secs > 0 ? static_cast<double>(stats_.injected) / secs : 0.0);
  }

  asio::io_context& io_;
  Options opts_;
  WeightedDomains domains_;
  std::mt19937_64 rng_{7};
  std::string text_, host_;
  std::string text_json_, from_json_;  // their JSON forms, made once
  std::uint64_t seq_ = 0;
  Stats stats_;
  tcp::endpoint ep_;
  Clock::time_point start_, deadline_, end_;
};

void Connection::start(const tcp::endpoint& ep) {
  ep_ = ep;
  stream_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return self->fail("connect: " + ec.message());
    self->next();
  });
}

void Connection::next() {
  std::optional<Clock::time_point> not_before;
  in_request_ = gen_.claim(&not_before);
  if (in_request_ == 0) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  if (not_before && *not_before > Clock::now()) {
    timer_.expires_at(*not_before);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) { self->send(); });
  } else {
    send();
  }
}

void Connection::send() {
  req_ = {};
  req_.method(http::verb::post);
  req_.target(gen_.path());
  req_.version(11);
  req_.set(http::field::host, gen_.host());
  req_.set(http::field::content_type, "application/json");
  if (!gen_.opts().api_key.empty()) req_.set(http::field::authorization, "Bearer " + gen_.opts().api_key);
  req_.keep_alive(true);
  req_.body() = gen_.body(in_request_);
  req_.prepare_payload();
  sent_at_ = Clock::now();
  stream_.expires_after(std::chrono::seconds(30));
  http::async_write(stream_, req_, [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
    if (ec) return self->fail("write: " + ec.message());
    self->res_ = {};
    http::async_read(self->stream_, self->buffer_, self->res_,
                     [self](const beast::error_code& ec2, std::size_t) {
                       if (ec2) return self->fail("read: " + ec2.message());
                       const double ms = std::chrono::duration<double, std::milli>(Clock::now() - self->sent_at_).count();
                       self->gen_.record(self->in_request_, self->res_.result_int(), self->sent_at_, ms, "");
                       if (!self->res_.keep_alive()) return self->fail("server closed keep-alive");
                       self->next();
                     });
  });
}

void Connection::fail(const std::string& what) {
  if (in_request_ > 0)
    gen_.record(in_request_, 0, sent_at_, 0, what);
  else
    gen_.record_connection_error(what);
  in_request_ = 0;
  beast::error_code ignored;
  stream_.socket().close(ignored);
  // A broken connection is replaced, so one error does not shrink the offered load; after a
  // short pause, so a target that is down is not hammered in a tight loop.
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
    if (self->gen_.finished()) return;
    std::make_shared<Connection>(self->io_, self->gen_, self->index_)->start(self->ep_);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"volley-loadgen: inject messages into Volley's HTTP API"};
  app.add_option("--target", o.target, "host:port of Volley's HTTP API")->capture_default_str();
  app.add_option("-n,--count", o.count, "messages to inject at most")->capture_default_str();
  app.add_option("-d,--duration", o.duration_s, "seconds to run at most")->capture_default_str();
  app.add_option("-c,--concurrency", o.concurrency, "keep-alive connections")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("-s,--size", o.size, "text body bytes per message")->capture_default_str();
  app.add_option("-b,--batch", o.batch, "messages per request (>1 uses /api/v1/messages/batch)")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("-r,--rate", o.rate, "target messages per second (0 = unlimited)")->capture_default_str();
  app.add_option("--domains", o.domains, "recipient domains with optional weights: a.test:3,b.test:1")->capture_default_str();
  app.add_option("--domains-file", o.domains_file, "file with one domain[:weight] per line (overrides --domains)")
      ->check(CLI::ExistingFile);
  app.add_option("--from", o.from, "sender address")->capture_default_str();
  app.add_option("--json", o.json_out, "write the report as JSON to this file");
  app.add_flag("!--no-progress", o.progress, "no progress line");
  app.add_option("--api-key", o.api_key, "API key, sent as Authorization: Bearer");
  app.add_option("--personalizations", o.personalizations,
                 "messages per request as personalisations of one template (POST /api/v1/messages)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--template", o.template_name, "with --personalizations: a stored template's name");
  app.add_option("--trace", o.trace_out, "write one line per request to this file: sent at (ms since start), latency ms");
  CLI11_PARSE(app, argc, argv);
  if (o.duration_s <= 0 || o.duration_s > 3600) {
    std::cerr << "--duration must be in (0, 3600]\n";
    return 2;
  }
  try {
    if (!o.domains_file.empty()) {
      // The same list syntax as --domains, one entry per line (blank lines and # comments skipped).
      std::ifstream in(o.domains_file);
      std::string line, list;
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (!list.empty()) list += ',';
        list += line;
      }
      o.domains = list;
    }
    asio::io_context io{1};
    Generator gen(io, o);
    gen.run();
    if (!o.trace_out.empty()) gen.write_trace(o.trace_out);
    auto report = gen.report();
    std::cout << report.dump(2) << "\n";
    if (!o.json_out.empty()) std::ofstream(o.json_out) << report.dump(2) << "\n";
    // Success means every message offered was accepted and nothing failed on the way.
    const bool ok = report["failed"].get<std::uint64_t>() == 0 && report["connection_errors"].get<std::uint64_t>() == 0 &&
                    report["injected"].get<std::uint64_t>() > 0;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "volley-loadgen: " << e.what() << "\n";
    return 2;
  }
}
