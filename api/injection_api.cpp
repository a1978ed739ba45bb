#include "api/injection_api.hpp"

#include <algorithm>
#include <iterator>
#include <utility>
#include <variant>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "api/disk_guard.hpp"
#include "api/http_json.hpp"
#include "api/message_intake.hpp"
#include "api/personalization.hpp"
#include "core/json/members.hpp"
#include "storage/suppression_list.hpp"
#include "core/util/ascii.hpp"
#include "core/util/sha256.hpp"

namespace volley::api {

namespace {

using nlohmann::json;

constexpr std::string_view kMessagesPath = "/api/v1/messages";
constexpr std::string_view kBatchPath = "/api/v1/messages/batch";
constexpr std::string_view kMessagesPrefix = "/api/v1/messages/";
constexpr std::size_t kMaxIdempotencyKey = 200;
constexpr std::size_t kMaxStatusId = 128;

// The members of a batch body: anything else is 400 unknown_field.
constexpr volley::json::Members kBatch{"messages"};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse with_retry_after(HttpResponse r, int seconds) {
  r.headers.emplace_back("Retry-After", std::to_string(std::max(seconds, 0)));
  return r;
}

// The JSON body of a request, or the answer that refuses it.
std::variant<json, HttpResponse> parse_json_body(const HttpRequest& req) {
  json body;
  if (auto refused = api::parse_json_body(req, &body)) return std::move(*refused);
  return body;
}

// The Idempotency-Key header as the spool stores it, scoped to the tenant and the endpoint: the
// same key sent by another tenant, or to the other endpoint, is another key. Absent -> "",
// invalid -> an answer. Keys stored before scoping are the bare header value (printable
// ASCII); a scoped key starts with a control character, so it never finds one of them.
std::variant<std::string, HttpResponse> idempotency_key(const HttpRequest& req, std::string_view endpoint) {
  const auto key = req.header("idempotency-key");
  if (!key) return std::string();
  const bool printable = std::all_of(key->begin(), key->end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (key->empty() || key->size() > kMaxIdempotencyKey || !printable) {
    return error_response(400, "invalid_idempotency_key",
                          "Idempotency-Key must be 1 to " + std::to_string(kMaxIdempotencyKey) +
                              " printable ASCII characters",
                          "Idempotency-Key");
  }
  constexpr char kSeparator = '\x01';  // neither in an endpoint's name nor in a key
  std::string scoped;
  scoped.reserve(3 + endpoint.size() + req.tenant.size() + key->size());
  scoped.append(1, kSeparator).append(endpoint).append(1, kSeparator).append(req.tenant);
  scoped.append(1, kSeparator).append(*key);
  return scoped;
}

// What tells two requests with one key apart: SHA-256 of the body, byte for byte.
std::string request_digest(const std::string& body) {
  const util::Sha256 digest = util::sha256(body);
  return std::string(digest.begin(), digest.end());
}

bool valid_status_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxStatusId && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
}

// Validates one message request (api/message_intake.hpp); an error's field is prefixed with
// `field_prefix`.
std::variant<Prepared, HttpResponse> prepare(const json& request, const InjectionApiConfig& cfg,
                                             const std::string& tenant, const std::string& field_prefix) {
  auto result = prepare_request(request, cfg.prepare, *cfg.pools->get(), tenant, field_prefix);
  if (auto* err = std::get_if<IntakeError>(&result)) return error_response(err->status, err->code, err->message, err->field);
  auto& prepared = std::get<Prepared>(result);
  auto plan = unsubscribe_plan(request, prepared.message, cfg.unsubscribe.get(), field_prefix);
  if (auto* err = std::get_if<HttpResponse>(&plan)) return std::move(*err);
  prepared.unsubscribe = std::get<unsubscribe::Plan>(std::move(plan));
  return std::move(prepared);
}

// Answers one HTTP request when the spool has answered its batch; if the spool drops the batch
// without answering (actor gone), answers 503 when the last reference goes.
class SpoolReply {
 public:
  SpoolReply(Responder responder, std::string answer, std::shared_ptr<std::atomic<std::int64_t>> pending,
             std::int64_t count, int retry_after, std::function<void()> on_committed)
      : responder_(std::move(responder)),
        answer_(std::move(answer)),
        on_committed_(std::move(on_committed)),
        pending_(std::move(pending)),
        count_(count),
        retry_after_(retry_after) {
    pending_->fetch_add(count_, std::memory_order_relaxed);
  }
  ~SpoolReply() {
    InjectOutcome lost;
    lost.kind = InjectOutcome::Kind::failed;
    lost.error = "the spool did not answer";
    finish(std::move(lost));
  }
  SpoolReply(const SpoolReply&) = delete;
  SpoolReply& operator=(const SpoolReply&) = delete;

  void finish(InjectOutcome outcome) {
    if (done_.exchange(true, std::memory_order_acq_rel)) return;
    pending_->fetch_sub(count_, std::memory_order_relaxed);
    switch (outcome.kind) {
      case InjectOutcome::Kind::committed:
        // Before the answer: a client that has its 202 finds the consequences already done.
        if (on_committed_) on_committed_();
        responder_(json_response(202, std::move(answer_)));
        return;
      case InjectOutcome::Kind::replayed:
        responder_(json_response(202, std::move(outcome.replay_json)));
        return;
      case InjectOutcome::Kind::reused:
        responder_(error_response(422, "idempotency_key_reused",
                                  "this Idempotency-Key was used with another request body in the last 24 hours",
                                  "Idempotency-Key"));
        return;
      case InjectOutcome::Kind::failed:
        break;
    }
    responder_(with_retry_after(
        error_response(503, "spool_unavailable",
                       "the message could not be stored" + (outcome.error.empty() ? "" : ": " + outcome.error)),
        retry_after_));
  }

 private:
  Responder responder_;
  std::string answer_;
  std::function<void()> on_committed_;
  std::shared_ptr<std::atomic<std::int64_t>> pending_;
  std::int64_t count_;
  int retry_after_;
  std::atomic<bool> done_{false};
};

class InjectionApi {
 public:
  explicit InjectionApi(InjectionApiConfig config) : cfg_(std::move(config)) {
    if (!cfg_.pending) cfg_.pending = std::make_shared<std::atomic<std::int64_t>>(0);
  }

  void handle(HttpRequest&& req, Responder respond) const {
    const std::string_view path = req.path();
    if (path == kMessagesPath) {
      if (req.method != "POST") return respond(method_not_allowed("POST"));
      return inject_one(req, std::move(respond));
    }
    if (path == kBatchPath) {
      if (req.method != "POST") return respond(method_not_allowed("POST"));
      return inject_batch(req, std::move(respond));
    }
    if (path.size() > kMessagesPrefix.size() && path.substr(0, kMessagesPrefix.size()) == kMessagesPrefix) {
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      return status(req, path.substr(kMessagesPrefix.size()), std::move(respond));
    }
    if (path == "/healthz") {
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      return respond(json_response(200, R"({"status":"ok"})"));
    }
    if (path == "/metrics") {
      if (req.method != "GET") return respond(method_not_allowed("GET"));
      HttpResponse r;
      r.status = 200;
      r.content_type = "text/plain; version=0.0.4";
      if (cfg_.render_metrics) r.body = cfg_.render_metrics();
      return respond(std::move(r));
    }
    respond(error_response(404, "not_found", "no such resource: " + std::string(path)));
  }

 private:
  std::optional<HttpResponse> overloaded() const {
    if (cfg_.disk_guard && cfg_.disk_guard->refuse(GuardedEdge::injection)) return storage_full_response();
    const auto pending = cfg_.pending->load(std::memory_order_relaxed);
    if (pending <= cfg_.max_pending) return std::nullopt;
    return with_retry_after(error_response(503, "overloaded",
                                           std::to_string(pending) + " messages are waiting for the spool; retry later"),
                            cfg_.retry_after_seconds);
  }

  void inject_one(const HttpRequest& req, Responder respond) const {
    if (auto busy = overloaded()) return respond(std::move(*busy));
    auto key = idempotency_key(req, "messages");
    if (auto* err = std::get_if<HttpResponse>(&key)) return respond(std::move(*err));
    auto body = parse_json_body(req);
    if (auto* err = std::get_if<HttpResponse>(&body)) return respond(std::move(*err));

    // "template" / "personalizations": docs/templates.md.
    auto expanded =
        expand_request(std::get<json>(body), cfg_.templates.get(), req.tenant, "", cfg_.prepare.max_message_size);
    if (auto* err = std::get_if<HttpResponse>(&expanded)) return respond(std::move(*err));
    auto& expansion = std::get<Expansion>(expanded);
    if (expansion.personalized)
      return inject_personalized(req, std::move(expansion), std::get<std::string>(std::move(key)), std::move(respond));
    auto prepared =
        prepare(expansion.requests.empty() ? std::get<json>(body) : expansion.requests.front(), cfg_, req.tenant, "");
    if (auto* err = std::get_if<HttpResponse>(&prepared)) return respond(std::move(*err));

    auto accepted = accept_message(std::get<Prepared>(std::move(prepared)), req.tenant, cfg_.suppressions.get());
    auto batch = std::make_shared<InjectBatch>();
    if (accepted.message)
      add_with_unsubscribe(std::move(*accepted.message), accepted.unsubscribe, cfg_.unsubscribe.get(), accepted.answer,
                           batch->messages);
    submit(std::move(batch), std::get<std::string>(std::move(key)), req.body, dump(accepted.answer),
           std::move(accepted.suppressed), std::move(respond));
  }

  void inject_batch(const HttpRequest& req, Responder respond) const {
    if (auto busy = overloaded()) return respond(std::move(*busy));
    auto key = idempotency_key(req, "batch");
    if (auto* err = std::get_if<HttpResponse>(&key)) return respond(std::move(*err));
    auto body = parse_json_body(req);
    if (auto* err = std::get_if<HttpResponse>(&body)) return respond(std::move(*err));

    const json& root = std::get<json>(body);
    const auto messages = root.is_object() ? root.find(kBatch("messages").name) : root.end();
    if (!root.is_object() || messages == root.end() || !messages->is_array()) {
      return respond(error_response(400, "invalid_field", "the body must be an object with a \"messages\" array",
                                    "messages"));
    }
    if (auto unknown = refuse_unknown_members(root, kBatch.names())) return respond(std::move(*unknown));
    if (messages->empty()) {
      return respond(error_response(400, "invalid_field", "\"messages\" is empty", "messages"));
    }
    if (messages->size() > cfg_.max_batch) {
      return respond(error_response(400, "too_many_messages",
                                    std::to_string(messages->size()) + " messages in one batch; at most " +
                                        std::to_string(cfg_.max_batch),
                                    "messages"));
    }
    // All or nothing: validate every message before any is queued.
    std::vector<Prepared> prepared;
    prepared.reserve(messages->size());
    for (std::size_t i = 0; i < messages->size(); ++i) {
      const std::string where = "messages[" + std::to_string(i) + "]";
      auto expanded =
          expand_request((*messages)[i], cfg_.templates.get(), req.tenant, where, cfg_.prepare.max_message_size);
      if (auto* err = std::get_if<HttpResponse>(&expanded)) return respond(std::move(*err));
      auto& expansion = std::get<Expansion>(expanded);
      if (expansion.personalized)
        return respond(error_response(400, "invalid_field",
                                      "a batch item cannot have personalizations: send it on its own",
                                      where + ".personalizations"));
      const json& request = expansion.requests.empty() ? (*messages)[i] : expansion.requests.front();
      auto one = prepare(request, cfg_, req.tenant, where);
      if (auto* err = std::get_if<HttpResponse>(&one)) return respond(std::move(*err));
      prepared.push_back(std::get<Prepared>(std::move(one)));
    }
    submit_prepared(std::move(prepared), req, std::get<std::string>(std::move(key)), std::move(respond));
  }

  // One personalised request: each personalisation its own message, all or nothing as a batch.
  void inject_personalized(const HttpRequest& req, Expansion expansion, std::string key, Responder respond) const {
    std::vector<Prepared> prepared;
    prepared.reserve(expansion.requests.size());
    for (std::size_t i = 0; i < expansion.requests.size(); ++i) {
      auto one = prepare(expansion.requests[i], cfg_, req.tenant, expansion.prefixes[i]);
      if (auto* err = std::get_if<HttpResponse>(&one)) return respond(std::move(*err));
      prepared.push_back(std::get<Prepared>(std::move(one)));
    }
    submit_prepared(std::move(prepared), req, std::move(key), std::move(respond));
  }

  // Messages that were all validated, into one spool batch: {"messages": [an answer each]}.
  void submit_prepared(std::vector<Prepared> prepared, const HttpRequest& req, std::string key,
                       Responder respond) const {
    auto batch = std::make_shared<InjectBatch>();
    batch->messages.reserve(prepared.size());
    json answers = json::array();
    std::vector<SuppressedRecipient> suppressed;
    for (auto& p : prepared) {
      auto accepted = accept_message(std::move(p), req.tenant, cfg_.suppressions.get());
      if (accepted.message)
        add_with_unsubscribe(std::move(*accepted.message), accepted.unsubscribe, cfg_.unsubscribe.get(),
                             accepted.answer, batch->messages);
      answers.push_back(std::move(accepted.answer));
      std::move(accepted.suppressed.begin(), accepted.suppressed.end(), std::back_inserter(suppressed));
    }
    submit(std::move(batch), std::move(key), req.body, dump(json{{"messages", std::move(answers)}}),
           std::move(suppressed), std::move(respond));
  }

  // request_body: what a repeat with the same key must match to be answered the same.
  void submit(InjectBatchPtr batch, std::string key, const std::string& request_body, std::string answer,
              std::vector<SuppressedRecipient> suppressed, Responder respond) const {
    std::function<void()> on_committed;
    if (!suppressed.empty() && cfg_.on_suppressed) {
      on_committed = [report = cfg_.on_suppressed, suppressed = std::move(suppressed)]() mutable {
        report(std::move(suppressed));
      };
    }
    // Nothing to spool and no idempotency key to remember: nothing for the spool to do. (With a
    // key the spool still records the answer, so that a repeat neither reports the suppressed
    // recipients again nor answers with new ids.)
    if (batch->messages.empty() && key.empty()) {
      if (on_committed) on_committed();
      return respond(json_response(202, std::move(answer)));
    }
    auto reply = std::make_shared<SpoolReply>(std::move(respond), answer, cfg_.pending,
                                              static_cast<std::int64_t>(batch->messages.size()),
                                              cfg_.retry_after_seconds, std::move(on_committed));
    if (!key.empty()) batch->request_digest = request_digest(request_body);
    batch->idempotency_key = std::move(key);
    batch->response_json = std::move(answer);
    batch->done = [reply](InjectOutcome outcome) { reply->finish(std::move(outcome)); };
    if (!cfg_.spool) {
      InjectOutcome none;
      none.error = "no spool configured";
      return reply->finish(std::move(none));
    }
    caf::anon_send(cfg_.spool, put_atom::value, std::move(batch));
  }

  // Another tenant's message is answered as if it did not exist: ids are not secrets.
  void status(const HttpRequest& req, std::string_view id, Responder respond) const {
    auto not_found = [](std::string_view which) {
      return error_response(404, "not_found", "no message with id " + std::string(which), "id");
    };
    if (!valid_status_id(id)) return respond(not_found(id));
    if (!cfg_.status) return respond(error_response(503, "status_unavailable", "message status is not available"));
    std::string wanted(id);
    cfg_.status(wanted, [respond = std::move(respond), wanted, not_found, tenant = req.tenant,
                         admin = req.admin](std::optional<StatusFound> found) {
      if (!found || found->json.empty() || (!admin && found->tenant != tenant)) return respond(not_found(wanted));
      respond(json_response(200, std::move(found->json)));
    });
  }

  InjectionApiConfig cfg_;
};

}  // namespace

HttpResponse body_too_large(std::string_view target, std::size_t max_body_bytes) {
  const std::string limit = std::to_string(max_body_bytes);
  if (target.substr(0, target.find('?')) == kBatchPath) {
    return error_response(413, "too_large",
                          "the batch exceeds the batch limit of " + limit +
                              " bytes (the whole request body, all its messages together); send its messages in "
                              "smaller batches",
                          "messages");
  }
  return error_response(413, "too_large", "request body exceeds " + limit + " bytes");
}

Handler make_injection_handler(InjectionApiConfig config) {
  return serve<InjectionApi>(std::move(config));
}

}  // namespace volley::api
