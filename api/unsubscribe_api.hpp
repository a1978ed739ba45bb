#pragma once
// The public unsubscribe endpoint (RFC 8058, docs/unsubscribe.md), in front of any other
// handler:
//   POST /u/<token>  body List-Unsubscribe=One-Click (form-encoded or multipart): the token's
//                    recipient is unsubscribed; 200 with a short page, no redirect and no
//                    cookie, also when it already was. Another body: 400, nothing written.
//   GET  /u/<token>  a page with a button that sends that POST: link scanners and previews
//                    GET every link in a message, so a GET unsubscribes nobody.
// A token that is not one Volley signed: 404 for every method. No API key is asked for: the
// token is the authority, for its own tenant only. Other paths go to `next` (null: 404).
#include <functional>
#include <memory>

#include "net/http_server.hpp"
#include "core/unsubscribe/token.hpp"

namespace volley::api {

struct UnsubscribeApiConfig {
  std::shared_ptr<const unsubscribe::TokenKey> key;  // required
  // Unsubscribes a verified recipient (source "one_click"); done(ok) once, from any thread:
  // false when it could not be written (503, the provider retries).
  std::function<void(unsubscribe::Recipient who, std::function<void(bool ok)> done)> unsubscribe;
};

Handler make_unsubscribe_handler(UnsubscribeApiConfig config, Handler next);

}  // namespace volley::api
