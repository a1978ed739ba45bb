#include "net/doctor_resolver.hpp"

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <boost/asio/io_context.hpp>

#include "core/util/ascii.hpp"

namespace volley {

DoctorResolver::DoctorResolver(DnsTransport::Settings settings, dns::LookupLimits limits)
    : io_(std::make_unique<boost::asio::io_context>()),
      transport_(std::make_unique<DnsTransport>(*io_, std::move(settings))),
      limits_(limits),
      rng_(std::random_device{}()) {}

DoctorResolver::~DoctorResolver() = default;

const dns::RecordResolution& DoctorResolver::lookup(const std::string& name_in, dns::RrType type) {
  std::string name = util::ascii_lower(name_in);
  if (!name.empty() && name.back() == '.') name.pop_back();
  auto key = std::make_pair(name, type);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  dns::RecordLookup lookup(name, type, rng_(), limits_);
  std::vector<dns::Query> queries = lookup.start();
  while (!lookup.done() && !queries.empty()) {
    std::vector<dns::Query> next;
    for (const auto& q : queries) {
      // The reply runs inside io_->run() below, on this thread.
      transport_->exchange(q, [&lookup, &next, id = q.id](std::optional<std::vector<std::uint8_t>> reply) {
        std::vector<dns::Query> more;
        if (reply) {
          auto advance = lookup.on_response(*reply);
          more = advance.accepted ? std::move(advance.queries) : lookup.on_timeout(id);
        } else {
          more = lookup.on_timeout(id);
        }
        next.insert(next.end(), more.begin(), more.end());
      });
    }
    io_->restart();
    io_->run();
    queries = std::move(next);
  }
  dns::RecordResolution result = lookup.result();
  if (!lookup.done() && result.error.empty()) result.error = "no answer";
  return cache_.emplace(std::move(key), std::move(result)).first->second;
}

std::vector<std::string> DoctorResolver::addresses(const std::string& name) {
  std::vector<std::string> out;
  for (auto type : {dns::RrType::a, dns::RrType::aaaa}) {
    const auto& r = lookup(name, type);
    if (r.status != dns::Status::ok) continue;
    for (const auto& rec : r.records) out.push_back(rec.data);
  }
  return out;
}

}  // namespace volley
