#pragma once
// List-Unsubscribe at injection (docs/unsubscribe.md): the injection API asks here which
// headers a validated message gets (core/unsubscribe/headers.hpp) and hands each accepted
// message here on its way into the batch, where it gets them: the application's own as they
// are, Volley's per-recipient ones by storing one message per recipient
// (core/unsubscribe/split.hpp), before DKIM signs the batch.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "net/http_server.hpp"
#include "core/message/prepare.hpp"
#include "core/spool/records.hpp"
#include "core/unsubscribe/headers.hpp"
#include "core/unsubscribe/token.hpp"

namespace volley::api {

// [unsubscribe] as the injection API uses it.
struct UnsubscribeHeaders {
  unsubscribe::Endpoints endpoints;
  std::shared_ptr<const unsubscribe::TokenKey> key;
};

// A message with Volley's headers is stored once per recipient: a bound on what one request
// may make of that (recipients times message size).
inline constexpr std::size_t kMaxSplitBytes = 256 * 1024 * 1024;

// The headers a request asks for, or the 400 (413 over kMaxSplitBytes) that refuses it; an
// error's field is prefixed with field_prefix ("messages[2]"). headers null: not configured.
std::variant<unsubscribe::Plan, HttpResponse> unsubscribe_plan(const nlohmann::json& request,
                                                               const message::PreparedMessage& message,
                                                               const UnsubscribeHeaders* headers,
                                                               const std::string& field_prefix);

// Appends an accepted message to out, with the plan's headers. A split message's parts give
// their recipients new ids: answer (the client's {"id", "recipients": [{"id"}]}) is updated to
// them.
void add_with_unsubscribe(spool::NewMessage&& message, const unsubscribe::Plan& plan,
                          const UnsubscribeHeaders* headers, nlohmann::json& answer,
                          std::vector<spool::NewMessage>& out);

}  // namespace volley::api
