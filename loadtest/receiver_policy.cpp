#include "receiver_policy.hpp"
#include "core/util/ascii.hpp"

#include <algorithm>

namespace volley::receiver {

std::optional<smtp::Reply> Policy::admit(std::size_t from_ip, std::size_t total, std::size_t hard_limit) const {
  const bool over = total >= hard_limit || (script_.max_concurrent && total >= script_.max_concurrent) ||
                    (script_.max_concurrent_per_ip && from_ip >= script_.max_concurrent_per_ip);
  if (over) return smtp::Reply::synthetic(421, "4.7.0", script_.hostname + " too many connections");
  return script_.refusal(Stage::greeting);
}

std::optional<smtp::Reply> Policy::hello() const { return script_.refusal(Stage::ehlo); }

std::optional<smtp::Reply> Policy::mail(const std::string& ip, Clock::time_point now) {
  if (auto scripted = script_.refusal(Stage::mail)) return scripted;
  if (script_.rate <= 0) return std::nullopt;
  // A token bucket: `rate` per second, bursts of one second's worth (at least one message).
  const double capacity = std::max(1.0, script_.rate);
  auto [it, fresh] = rates_.try_emplace(ip, Bucket{capacity, now});
  auto& b = it->second;
  if (!fresh) {
    const std::chrono::duration<double> elapsed = now - b.last;
    b.tokens = std::min(capacity, b.tokens + elapsed.count() * script_.rate);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return script_.rate_close ? smtp::Reply::synthetic(421, "4.7.0", script_.hostname + " rate limited, closing")
                            : smtp::Reply::synthetic(451, "4.7.0", "rate limited");
}

bool Policy::tempfail(const Rule& rule, const std::string& recipient) {
  const std::string key = util::ascii_lower(recipient);
  int& served = tempfails_[key];
  if (served >= rule.times) return false;
  ++served;
  return true;
}

Verdict Policy::rcpt(const std::string& ip, const std::string& sender, const std::string& recipient,
                     Clock::time_point now) {
  const Rule& rule = script_.rule_for(recipient);
  Verdict v;
  v.delay = rule.delay;
  if ((v.reply = script_.refusal(Stage::rcpt))) return v;
  if (rule.stage != Stage::rcpt) return v;
  switch (rule.action) {
    case Action::accept:
    case Action::bounce_later:
      break;
    case Action::reject:
      v.reply = rule.reply;
      break;
    case Action::tempfail:
      if (tempfail(rule, recipient)) v.reply = rule.reply;
      break;
    case Action::greylist: {
      // The first attempt of a triplet starts its clock; attempts before the period has passed
      // since then are refused, later ones accepted (the classic scheme).
      const auto [it, first] = greylist_.try_emplace({ip, sender, recipient}, now);
      if (first || now - it->second < rule.greylist) v.reply = rule.reply;
      break;
    }
    case Action::drop:
      v.drop_after = rule.after_bytes;
      break;
  }
  return v;
}

std::vector<std::pair<std::string, smtp::Reply>> Policy::bounces(const std::vector<std::string>& recipients) const {
  std::vector<std::pair<std::string, smtp::Reply>> out;
  for (const auto& r : recipients) {
    const Rule& rule = script_.rule_for(r);
    if (rule.action == Action::bounce_later) out.emplace_back(r, rule.reply);
  }
  return out;
}

Verdict Policy::refuse_at(Stage stage, const std::vector<std::string>& recipients) {
  Verdict v;
  v.reply = script_.refusal(stage);
  for (const auto& r : recipients) {
    const Rule& rule = script_.rule_for(r);
    if (stage == Stage::end_of_data) v.delay = std::max(v.delay, rule.delay);
    if (rule.stage != stage) continue;
    const bool refuse = rule.action == Action::reject || tempfail(rule, r);
    if (refuse && !v.reply) v.reply = rule.reply;
  }
  return v;
}

Verdict Policy::data(const std::vector<std::string>& recipients) { return refuse_at(Stage::data, recipients); }

Verdict Policy::message(const std::vector<std::string>& recipients) {
  return refuse_at(Stage::end_of_data, recipients);
}

}  // namespace volley::receiver
