#include "core/mta_sts/cache_decision.hpp"

#include <catch2/catch.hpp>

using namespace volley;
using namespace volley::mta_sts;
using std::chrono::seconds;

namespace {

const Clock::time_point t0{seconds(1000)};

std::optional<CachedPolicy> cached(std::string id, seconds max_age = seconds(3600)) {
  tls::StsPolicy p;
  p.mode = tls::StsPolicy::Mode::enforce;
  p.mx = {"mx.example"};
  p.max_age = max_age;
  p.id = std::move(id);
  return CachedPolicy{p, t0};
}

TxtAnswer record(std::string id) { return {TxtAnswer::Kind::record, std::move(id)}; }
const TxtAnswer no_record{TxtAnswer::Kind::no_record, ""};
const TxtAnswer failed{TxtAnswer::Kind::failed, ""};

}  // namespace

TEST_CASE("sts cache: nothing cached") {
  CHECK(decide(std::nullopt, record("a"), t0) == Action::fetch);
  CHECK(decide(std::nullopt, no_record, t0) == Action::none);
  CHECK(decide(std::nullopt, failed, t0) == Action::none);
  CHECK(after_failed_fetch(std::nullopt, t0) == Action::none);
}

TEST_CASE("sts cache: a fresh policy is used until the id changes") {
  CHECK(decide(cached("a"), record("a"), t0 + seconds(3599)) == Action::use_cached);
  CHECK(decide(cached("a"), record("b"), t0 + seconds(10)) == Action::fetch);
  CHECK(after_failed_fetch(cached("a"), t0 + seconds(10)) == Action::use_cached);
}

TEST_CASE("sts cache: a fresh policy outlives a missing or failed TXT lookup") {
  CHECK(decide(cached("a"), no_record, t0 + seconds(10)) == Action::use_cached);
  CHECK(decide(cached("a"), failed, t0 + seconds(10)) == Action::use_cached);
}

TEST_CASE("sts cache: an expired policy is fetched again or dropped") {
  const auto later = t0 + seconds(3600);
  CHECK(decide(cached("a"), record("a"), later) == Action::fetch);
  CHECK(decide(cached("a"), no_record, later) == Action::none);
  CHECK(decide(cached("a"), failed, later) == Action::none);
  CHECK(after_failed_fetch(cached("a"), later) == Action::none);
  CHECK(decide(cached("a", seconds(0)), record("a"), t0) == Action::fetch);
}
