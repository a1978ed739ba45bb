#pragma once
// The IP pools and pool rules as the API edges read them: the injection API and the submission
// listener choose a message's pool with them, queue control checks pool and source names. A
// reload (docs/lifecycle.md) replaces them; each request reads one version from start to end.
#include <memory>

#include "core/delivery/ip_pool.hpp"
#include "core/util/reloadable.hpp"

namespace volley::api {

using ReloadablePools = util::Reloadable<delivery::IpPools>;
using PoolsRef = std::shared_ptr<ReloadablePools>;

inline PoolsRef pools_ref(delivery::IpPools pools) {
  return std::make_shared<ReloadablePools>(std::make_shared<const delivery::IpPools>(std::move(pools)));
}

}  // namespace volley::api
