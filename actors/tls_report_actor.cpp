// The TLS report actor (tls_report_actor.hpp): the running day, the days waiting to be sent,
// the file that keeps both across restarts, and the protocol. Sending is tls_report_send.cpp.
#include "actors/tls_report_actor.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/tls_report_state.hpp"
#include "core/util/ids.hpp"
#include "core/util/log_fields.hpp"

namespace volley {

namespace {

using nlohmann::json;
using tls_rpt::Aggregate;
using tls_rpt::utc_day_start;

constexpr std::int64_t kDayMs = 86400000;

json state_json(const TlsReportState& st) {
  json closed = json::array();
  for (const auto& c : st.closed) closed.push_back({{"aggregate", c.aggregate.to_json()}, {"end-ms", c.end_ms}});
  return {{"current", st.current.to_json()}, {"closed", std::move(closed)}};
}

// Written to a temporary file, then renamed over the old one: a crash leaves one or the other.
bool save(TlsReportState& st) {
  if (st.options.state_file.empty()) return true;
  const std::string tmp = st.options.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << state_json(st).dump();
    out.flush();
    if (!out) {
      spdlog::error("tls_report: cannot write the state file{}", util::log_fields("path", tmp));
      return false;
    }
  }
  if (std::rename(tmp.c_str(), st.options.state_file.c_str()) != 0) {
    spdlog::error("tls_report: cannot rename the state file{}", util::log_fields("from", tmp, "to", st.options.state_file));
    return false;
  }
  st.dirty = false;
  return true;
}

void load(TlsReportState& st, std::int64_t now) {
  st.current = Aggregate(utc_day_start(now));
  if (st.options.state_file.empty()) return;
  std::ifstream in(st.options.state_file, std::ios::binary);
  if (!in) return;  // first start
  std::stringstream text;
  text << in.rdbuf();
  const auto j = json::parse(text.str(), nullptr, false);
  std::string error = "not JSON";
  auto bad = [&] {
    spdlog::error("tls_report: state file unreadable; starting with an empty aggregate{}", util::log_fields("path", st.options.state_file, "error", error));
  };
  if (j.is_discarded() || !j.is_object() || !j.contains("current")) return bad();
  auto current = Aggregate::from_json(j["current"], &error);
  if (!current) return bad();
  std::vector<ClosedPeriod> closed;
  if (auto it = j.find("closed"); it != j.end() && it->is_array()) {
    for (const auto& c : *it) {
      auto a = c.is_object() && c.contains("aggregate") ? Aggregate::from_json(c["aggregate"], &error) : std::nullopt;
      if (!a || !c.contains("end-ms") || !c["end-ms"].is_number_integer()) return bad();
      closed.push_back(ClosedPeriod{std::move(*a), c["end-ms"].get<std::int64_t>()});
    }
  }
  st.current = std::move(*current);
  st.closed = std::move(closed);
  spdlog::info("tls_report: resumed the aggregate{}",
               util::log_fields("since_ms", st.current.start_ms(), "periods_waiting", st.closed.size()));
}

void schedule_send(TlsReportSelf self, std::int64_t period_start) {
  auto& st = self->state;
  const auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(st.options.max_send_delay).count();
  const auto delay = max_ms > 0 ? std::uniform_int_distribution<std::int64_t>(0, max_ms)(st.random) : 0;
  self->delayed_send(self, std::chrono::milliseconds(delay), tls_send_atom::value, period_start);
}

// Closes the current period when its day is over (or, with `now_cut`, at once) and starts the next.
// Returns whether a period was closed.
bool close_period(TlsReportSelf self, std::int64_t now, bool now_cut) {
  auto& st = self->state;
  const auto day_end = utc_day_start(st.current.start_ms()) + kDayMs;
  if (!now_cut && now < day_end) return false;
  const bool had_data = !st.current.empty();
  if (had_data) st.closed.push_back(ClosedPeriod{std::move(st.current), now_cut ? now : day_end});
  st.current = Aggregate(now_cut ? now : utc_day_start(now));
  st.dirty = true;
  if (had_data && !now_cut) schedule_send(self, st.closed.back().aggregate.start_ms());
  return had_data;
}

std::uint64_t start_run(TlsReportSelf self, std::vector<ClosedPeriod> periods,
                        std::optional<caf::typed_response_promise<std::string>> promise) {
  auto& st = self->state;
  const auto run = st.next_run++;
  auto& r = st.runs[run];
  r.promise = std::move(promise);
  r.pending = 1;  // held until every period's lookups are out
  for (const auto& p : periods) send_period(self, p, run);
  delivery_done(self, run, json());
  return run;
}

}  // namespace

tls_report_actor spawn_tls_report_actor(caf::actor_system& system, TlsReportOptions options) {
  auto fetcher = std::make_unique<HttpsFetcher>(*options.io, options.ca_file);  // throws on a bad CA file
  auto shared = std::make_shared<std::unique_ptr<HttpsFetcher>>(std::move(fetcher));
  return system.spawn(
      [](TlsReportSelf self, TlsReportOptions options,
         std::shared_ptr<std::unique_ptr<HttpsFetcher>> fetcher) -> tls_report_actor::behavior_type {
        auto& st = self->state;
        st.options = std::move(options);
        st.fetcher = std::move(*fetcher);
        const auto now = now_unix_ms();
        load(st, now);
        close_period(self, now, false);  // a day that ended while Volley was down
        for (const auto& c : st.closed) schedule_send(self, c.aggregate.start_ms());
        self->delayed_send(self, st.options.save_every, tick_atom::value);
        return {
            [self](tls_report_atom, const TlsSessionRecord& r) {
              auto& st = self->state;
              if (r.at_ms >= utc_day_start(st.current.start_ms()) + kDayMs) close_period(self, r.at_ms, false);
              st.current.add(r.outcome);
              st.dirty = true;
            },
            [self](tls_reports_atom) -> std::string { return state_json(self->state).dump(); },
            [self](tls_send_atom) -> caf::typed_response_promise<std::string> {
              auto& st = self->state;
              close_period(self, now_unix_ms(), true);
              auto promise = self->make_response_promise<std::string>();
              auto periods = std::move(st.closed);
              st.closed.clear();
              start_run(self, std::move(periods), promise);
              save(st);
              return promise;
            },
            [self](tls_send_atom, std::int64_t period_start) {
              auto& st = self->state;
              std::vector<ClosedPeriod> due;
              for (auto it = st.closed.begin(); it != st.closed.end();) {
                if (it->aggregate.start_ms() == period_start) {
                  due.push_back(std::move(*it));
                  it = st.closed.erase(it);
                } else {
                  ++it;
                }
              }
              if (due.empty()) return;  // an operator sent it already
              st.dirty = true;
              start_run(self, std::move(due), std::nullopt);
            },
            [self](spool_atom, caf::actor inject) { self->state.inject = std::move(inject); },
            [self](tls_sent_atom, std::uint64_t run, const std::string& result) {
              delivery_done(self, run, json::parse(result, nullptr, false));
            },
            [self](tick_atom) {
              auto& st = self->state;
              close_period(self, now_unix_ms(), false);
              if (st.dirty) save(st);
              self->delayed_send(self, st.options.save_every, tick_atom::value);
            },
            [self](stop_atom) -> bool {
              const bool ok = save(self->state);
              self->quit();
              return ok;
            },
        };
      },
      std::move(options), shared);
}

}  // namespace volley
