#pragma once
// A reload that adds, removes, renames or reorders sources (docs/lifecycle.md): a destination
// queue's lanes follow their sources by name, not by position, so that what a lane carries (its
// ready work, its session counts, the owner's egress path with its rate history and backoff)
// stays with the source it belongs to.
//
// A lane whose source left gives up its ready work (the queue chooses new lanes for it) but stays,
// retired, while sessions still use it: their transactions in flight finish and are reported on
// it, so nothing is sent twice or lost. It goes at the first reload after its last session ended.
#include <cstddef>
#include <utility>
#include <vector>

#include "core/delivery/ip_pool.hpp"
#include "core/delivery/job.hpp"
#include "core/delivery/lane.hpp"
#include "core/delivery/shaping.hpp"

namespace volley::delivery {

template <class Msg>
struct RekeyedLanes {
  // One lane per configured source, in the sources' order; then the retired lanes still in use.
  std::vector<Lane<Msg>> lanes;
  // For each lane before: its index now (kNoSource: dropped, no session used it).
  std::vector<std::size_t> moved;
  // Ready work of the sources that left, to be made ready again on the lanes that stay.
  std::vector<Job<Msg>> orphans;
};

// lanes: the queue's lanes before; sources: the configured ones now; fresh: the limits of a new
// source's lane until its owner shapes it.
template <class Msg>
RekeyedLanes<Msg> rekey_lanes(std::vector<Lane<Msg>>&& lanes, const std::vector<Source>& sources,
                              const Limits& fresh) {
  RekeyedLanes<Msg> out;
  out.moved.assign(lanes.size(), kNoSource);
  std::size_t retired = 0;
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    std::size_t j = 0;
    while (j < sources.size() && sources[j].name != lanes[l].source.name) ++j;
    // A name retired and then configured again is one lane again. Two old lanes never share a
    // name: a lane retires when its name is not configured, and comes back when it is.
    if (j < sources.size())
      out.moved[l] = j;
    else if (lanes[l].sessions != 0)
      out.moved[l] = sources.size() + retired++;
  }
  // Sized once and filled by move-assignment: a lane is never relocated (std::deque's move
  // constructor may throw, so a growing vector would copy lanes, whose jobs cannot be copied).
  out.lanes = std::vector<Lane<Msg>>(sources.size() + retired);
  for (std::size_t i = 0; i < sources.size(); ++i) out.lanes[i].limits = fresh;
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    if (out.moved[l] == kNoSource || out.moved[l] >= sources.size()) {  // its source left
      for (auto& job : lanes[l].ready) out.orphans.push_back(std::move(job));
      lanes[l].ready.clear();
    }
    if (out.moved[l] != kNoSource) out.lanes[out.moved[l]] = std::move(lanes[l]);
  }
  for (std::size_t i = 0; i < sources.size(); ++i) out.lanes[i].source = sources[i];  // address, EHLO name
  return out;
}

}  // namespace volley::delivery
