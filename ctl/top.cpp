// volleyctl top: a screen a second of what the daemon is doing, from its open /metrics (no key
// needed): messages per second by outcome, queue depth, and the domains deferring most.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ctl/commands.hpp"
#include "ctl/table.hpp"

namespace volley::ctl {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// The outcomes shown, in order, and the counter each is read from.
const std::pair<const char*, const char*> kOutcomes[] = {
    {"received", "volley_recipients_received_total"}, {"delivered", "volley_messages_delivered_total"},
    {"deferred", "volley_messages_deferred_total"},   {"bounced", "volley_messages_bounced_total"},
    {"expired", "volley_messages_expired_total"},     {"suppressed", "volley_suppressed_total"}};
constexpr std::size_t kTopDomains = 10;

struct Sample {
  Clock::time_point at;
  std::map<std::string, double> totals;          // metric name -> sum over its series
  std::map<std::string, double> deferred_by_domain;
  std::map<std::string, double> depth_by_domain;
};

// The value of label `name` in `{a="x",b="y"}` ("" when absent; escapes are left as they are).
std::string label(std::string_view labels, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  for (auto pos = labels.find(key); pos != std::string_view::npos; pos = labels.find(key, pos + 1)) {
    if (pos == 0 || labels[pos - 1] == '{' || labels[pos - 1] == ',') {
      const auto start = pos + key.size();
      return std::string(labels.substr(start, labels.find('"', start) - start));
    }
  }
  return {};
}

Sample sample(Client& client) {
  const auto r = client.get("/metrics");
  if (r.status != 200) expect_ok(r, false);
  Sample s;
  s.at = Clock::now();
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string name = line.substr(0, std::min(brace, line.find(' ')));
    const std::string_view labels =
        brace == std::string::npos ? std::string_view() : std::string_view(line).substr(brace, space - brace);
    double value = 0;
    try {
      value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    s.totals[name] += value;
    if (name == "volley_messages_deferred_total") s.deferred_by_domain[label(labels, "domain")] += value;
    if (name == "volley_queue_depth") s.depth_by_domain[label(labels, "domain")] += value;
  }
  return s;
}

void show(Context& ctx, const Sample& before, const Sample& now) {
  const double secs = std::max(1e-3, std::chrono::duration<double>(now.at - before.at).count());
  auto rate = [&](const std::map<std::string, double>& a, const std::map<std::string, double>& b, const std::string& k) {
    const auto x = a.find(k), y = b.find(k);
    const double d = (y == b.end() ? 0 : y->second) - (x == a.end() ? 0 : x->second);
    return d > 0 ? d / secs : 0.0;
  };
  std::vector<std::tuple<double, double, std::string>> deferring;  // rate, queued, domain
  for (const auto& [domain, total] : now.deferred_by_domain) {
    const double r = rate(before.deferred_by_domain, now.deferred_by_domain, domain);
    const auto depth = now.depth_by_domain.find(domain);
    if (r > 0 || (depth != now.depth_by_domain.end() && depth->second > 0))
      deferring.emplace_back(r, depth == now.depth_by_domain.end() ? 0 : depth->second, domain);
  }
  std::sort(deferring.begin(), deferring.end(), [](const auto& x, const auto& y) {
    return std::tie(std::get<0>(y), std::get<1>(y)) < std::tie(std::get<0>(x), std::get<1>(x));
  });
  if (deferring.size() > kTopDomains) deferring.resize(kTopDomains);
  double depth = 0;
  std::size_t domains = 0;
  for (const auto& [d, v] : now.depth_by_domain) {
    depth += v;
    domains += v > 0;
  }
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  if (ctx.json) {
    json rates = json::object();
    for (const auto& [name, metric] : kOutcomes) rates[name] = rate(before.totals, now.totals, metric);
    json top = json::array();
    for (const auto& [r, q, d] : deferring) top.push_back({{"domain", d}, {"deferred_per_second", r}, {"queued", q}});
    std::cout << json{{"at", now_ms}, {"per_second", rates}, {"queued", static_cast<std::uint64_t>(depth)}, {"top_deferring", top}}.dump() << std::endl;
    return;
  }
  std::string screen;
  // On a terminal, home and clear: a live screen; piped, screens follow each other.
  screen += isatty(STDOUT_FILENO) ? "\x1b[H\x1b[2J" : "\n";
  screen += "volley top  " + ctx.client.url_text() + "  " + format_time(now_ms) + " UTC\n\n";
  Table rates;
  for (const auto& [name, metric] : kOutcomes) rates.header.push_back(std::string(name) + "/s");
  rates.numeric.assign(rates.header.size(), true);
  std::vector<std::string> row;
  for (const auto& [name, metric] : kOutcomes) row.push_back(format_rate(rate(before.totals, now.totals, metric)));
  rates.add(row);
  screen += render(rates) + "\nqueued: " + std::to_string(static_cast<long long>(depth)) + " recipient messages in " +
            std::to_string(domains) + " domains\n\n";
  Table top;
  top.header = {"TOP DEFERRING DOMAINS", "DEFERRED/S", "QUEUED"};
  top.numeric = {false, true, true};
  for (const auto& [r, q, d] : deferring) top.add({d, format_rate(r), std::to_string(static_cast<long long>(q))});
  screen += render(top);
  if (deferring.empty()) screen += "(none)\n";
  std::cout << screen << std::flush;
}

}  // namespace

void cmd_top(Context& ctx, const TopArgs& a) {
  const auto interval = std::chrono::duration<double>(a.interval_seconds);
  Sample before = sample(ctx.client);
  for (std::uint64_t i = 0; a.iterations == 0 || i < a.iterations; ++i) {
    std::this_thread::sleep_for(interval);  // the refresh period itself, not a wait for something
    Sample now = sample(ctx.client);
    show(ctx, before, now);
    before = std::move(now);
  }
}

}  // namespace volley::ctl
