#include "actors/dkim_signer.hpp"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

// Statistics go to the metrics actor in bundles, not once per batch: at thousands of messages a
// second one message per injection request to the metrics actor shows in a profile. A bundle
// leaves when it holds kStatsBundle messages or kStatsDelay after its first one.
constexpr std::size_t kStatsBundle = 64;
constexpr auto kStatsDelay = std::chrono::milliseconds(250);

struct SignerWorkerState {
  DkimSignStats pending;
  bool flush_scheduled = false;
};

using signer_worker_actor = dkim_signer_actor::extend<caf::reacts_to<tick_atom>>;

void send_stats(SignerWorkerState& state, const metrics_actor& metrics) {
  if (state.pending.message_seconds.empty()) return;
  if (metrics) caf::anon_send(metrics, sign_atom::value, std::move(state.pending));
  state.pending = DkimSignStats{};
}

signer_worker_actor::behavior_type signer_worker(signer_worker_actor::stateful_pointer<SignerWorkerState> self,
                                                 DkimSignerOptions options) {
  return {
      [self, options](put_atom, const InjectBatchPtr& batch) {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        auto& state = self->state;
        if (!sign_batch(*options.signer->get(), *batch, now, options.metrics ? &state.pending : nullptr)) {
          InjectOutcome failed;
          failed.kind = InjectOutcome::Kind::failed;
          failed.error = "DKIM signing failed";
          if (batch->done) batch->done(std::move(failed));
          return;
        }
        caf::anon_send(options.spool, put_atom::value, batch);
        if (state.pending.message_seconds.size() >= kStatsBundle) {
          send_stats(state, options.metrics);
        } else if (!state.pending.message_seconds.empty() && !state.flush_scheduled) {
          state.flush_scheduled = true;
          self->delayed_send(self, kStatsDelay, tick_atom::value);
        }
      },
      [self, options](tick_atom) {
        self->state.flush_scheduled = false;
        send_stats(self->state, options.metrics);
      },
  };
}

}  // namespace

bool sign_batch(const dkim::Signer& signer, InjectBatch& batch, std::int64_t now, DkimSignStats* stats) {
  for (auto& m : batch.messages) {
    const auto start = std::chrono::steady_clock::now();
    dkim::SignResult signed_fields;
    try {
      signed_fields = signer.sign(m.wire_data, true, m.message.tenant, now);
    } catch (const std::exception& e) {
      spdlog::error("dkim: signing failed{}", util::log_fields("message_id", m.message.id, "error", e.what()));
      return false;
    }
    if (signed_fields.signatures.empty()) {
      if (!signed_fields.error.empty())
        spdlog::debug("dkim: message left unsigned{}", util::log_fields("message_id", m.message.id, "error", signed_fields.error));
      continue;
    }
    // The fields go in front of the stored wire form as they are (no line of theirs starts
    // with a dot). insert() reuses the string's spare room when it has enough.
    m.wire_data.insert(0, signed_fields.fields);
    m.message.message_size += signed_fields.fields.size();
    m.message.dkim = signed_fields.signatures;
    if (stats) {
      stats->signatures.insert(stats->signatures.end(), signed_fields.signatures.begin(), signed_fields.signatures.end());
      stats->message_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  return true;
}

caf::actor spawn_dkim_signer(caf::actor_system& system, DkimSignerOptions options) {
  const std::size_t workers = options.workers == 0 ? 1 : options.workers;
  auto factory = [&system, options] {
    // Each on a thread of its own: signing (RSA above all) is the one heavy computation among the
    // actors, and the scheduler's few workers (worker_threads) must not wait behind it.
    return caf::actor_cast<caf::actor>(system.spawn<caf::detached>(signer_worker, options));
  };
  return caf::actor_pool::make(system.dummy_execution_unit(), workers, factory, caf::actor_pool::round_robin());
}

}  // namespace volley
