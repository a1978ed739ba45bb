#include "api/unsubscribe_api.hpp"

#include <string>
#include <utility>

#include "api/http_json.hpp"
#include "core/unsubscribe/headers.hpp"
#include "core/unsubscribe/one_click.hpp"

namespace volley::api {
namespace {

// Small pages without scripts, images, cookies or anything fetched from elsewhere: the
// recipient's address stays between them and Volley.
HttpResponse page(int status, std::string_view title, std::string_view body_html) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
           "<title>";
  r.body.append(title).append("</title></head>\n<body><h1>").append(title).append("</h1>\n");
  r.body.append(body_html).append("\n</body></html>\n");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

// Tokens are base64url: nothing to escape in the form's action.
HttpResponse confirmation_page(std::string_view token) {
  std::string form = "<p>Unsubscribe from this sender's mailings?</p>\n<form method=\"post\" action=\"/u/";
  form.append(token).append(
      "\" enctype=\"application/x-www-form-urlencoded\">"
      "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
      "<button type=\"submit\">Unsubscribe</button></form>");
  return page(200, "Unsubscribe", form);
}

class UnsubscribeApi {
 public:
  UnsubscribeApi(UnsubscribeApiConfig config, Handler next) : cfg_(std::move(config)), next_(std::move(next)) {}

  void handle(HttpRequest&& req, Responder respond) const {
    const auto token = unsubscribe::token_in_path(req.path());
    if (!token) {
      if (next_) return next_(std::move(req), std::move(respond));
      return respond(page(404, "Not found", "<p>There is nothing here.</p>"));
    }
    auto who = cfg_.key->read(*token);
    if (!who) return respond(page(404, "Unknown link", "<p>This unsubscribe link is not valid.</p>"));
    if (req.method == "GET" || req.method == "HEAD") return respond(confirmation_page(*token));
    if (req.method != "POST") {
      HttpResponse r = page(405, "Method not allowed", "<p>Use the button on this page.</p>");
      r.headers.emplace_back("Allow", "GET, HEAD, POST");
      return respond(std::move(r));
    }
    if (!unsubscribe::is_one_click_body(req.header("content-type").value_or(""), req.body))
      return respond(page(400, "Bad request", "<p>The request is not a one-click unsubscribe "
                                             "(RFC 8058: a POST with List-Unsubscribe=One-Click).</p>"));
    if (!cfg_.unsubscribe) return respond(page(503, "Try again later", "<p>Unsubscribing is not available.</p>"));
    cfg_.unsubscribe(std::move(*who), [respond = std::move(respond)](bool ok) {
      if (!ok) {
        HttpResponse r = page(503, "Try again later", "<p>Your request could not be recorded. Please try again.</p>");
        r.headers.emplace_back("Retry-After", "60");
        return respond(std::move(r));
      }
      respond(page(200, "Unsubscribed", "<p>You will not receive these mailings any more.</p>"));
    });
  }

 private:
  UnsubscribeApiConfig cfg_;
  Handler next_;
};

}  // namespace

Handler make_unsubscribe_handler(UnsubscribeApiConfig config, Handler next) {
  return serve<UnsubscribeApi>(std::move(config), std::move(next));
}

}  // namespace volley::api
