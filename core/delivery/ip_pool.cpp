#include "core/delivery/ip_pool.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace volley::delivery {
namespace {


}  // namespace

IpPools IpPools::builtin(std::string ehlo_name) {
  IpPools pools;
  pools.sources.push_back({"default", "", std::move(ehlo_name)});
  pools.pools.push_back({"default", {{"default", 1}}});
  pools.default_pool = "default";
  return pools;
}

const Source* IpPools::source(std::string_view name) const {
  auto it = std::find_if(sources.begin(), sources.end(), [&](const Source& s) { return s.name == name; });
  return it == sources.end() ? nullptr : &*it;
}

const Pool* IpPools::pool(std::string_view name) const {
  auto it = std::find_if(pools.begin(), pools.end(), [&](const Pool& p) { return p.name == name; });
  return it == pools.end() ? nullptr : &*it;
}

const Pool* choose_pool(const IpPools& pools, std::string_view requested, std::string_view tenant,
                        std::string_view sender_domain) {
  if (!requested.empty()) return pools.pool(requested);
  for (const auto& rule : pools.rules) {
    if (!rule.tenant.empty() && rule.tenant != tenant) continue;
    if (!rule.sender_domain.empty() && !util::ascii_iequals(rule.sender_domain, sender_domain)) continue;
    return pools.pool(rule.pool);
  }
  return pools.pool(pools.default_pool);
}

SourceSelector::SourceSelector(const IpPools& pools, const Pool& pool) {
  for (const auto& member : pool.members) {
    if (const auto* source = pools.source(member.source)) members_.push_back({*source, member.weight});
  }
}

// nginx's smooth weighted round robin: every available member earns its weight, the richest
// is picked and pays back what was earned in total, so picks interleave instead of clumping.
const Source* SourceSelector::next(std::int64_t now_ms) {
  Member* best = nullptr;
  std::int64_t total = 0;
  for (auto& m : members_) {
    if (m.suspended || m.failing_until_ms > now_ms) continue;
    m.current += m.weight;
    total += m.weight;
    if (best == nullptr || m.current > best->current) best = &m;
  }
  if (best == nullptr) return nullptr;
  best->current -= total;
  return &best->source;
}

SourceSelector::Member* SourceSelector::find(std::string_view source) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](const Member& m) { return m.source.name == source; });
  return it == members_.end() ? nullptr : &*it;
}

void SourceSelector::suspend(std::string_view source) {
  if (auto* m = find(source)) m->suspended = true;
}

void SourceSelector::resume(std::string_view source) {
  if (auto* m = find(source)) m->suspended = false;
}

void SourceSelector::mark_failing(std::string_view source, std::int64_t until_ms) {
  if (auto* m = find(source)) m->failing_until_ms = until_ms;
}

}  // namespace volley::delivery
