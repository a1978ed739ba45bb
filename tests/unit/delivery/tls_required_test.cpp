// Volley's own tls_required reply (TLS required and not had): a temporary failure of its own
// kind wherever it arose (a server's session or no usable MX host), never a bounce.
#include <catch2/catch.hpp>

#include "core/delivery/outcome_policy.hpp"
#include "core/delivery/reply_classifier.hpp"
#include "core/smtp/reply.hpp"

using namespace volley::delivery;
using volley::smtp::Reply;

TEST_CASE("tls_required is deferred as its own kind, from a session or before one") {
  const auto classifier = ReplyClassifier::builtin();
  OutcomePolicy p(classifier);
  PendingRcpt r{"a@example.com", 0, 1, 0, 0};
  RetryPolicy retry;
  const auto not_offered = Reply::synthetic(451, "4.7.10", "tls_required: STARTTLS not offered");
  for (bool from_server : {true, false}) {
    const auto d = p.on_temporary(not_offered, from_server, retry, r, 0, 1000);
    CHECK(d.verdict == Verdict::deferred);
    CHECK(d.kind == TempfailKind::tls_required);
    CHECK(d.category == "tls_required");
  }
  const auto handshake =
      Reply::synthetic(451, "4.7.10", "tls_required: TLS handshake failed: certificate verify failed (self-signed)");
  CHECK(p.on_temporary(handshake, true, retry, r, 0, 1000).category == "tls_required");
  // A server's own text saying so is not Volley's reply.
  CHECK(p.on_temporary(Reply::synthetic(451, "4.7.0", "TLS required here"), false, retry, r, 0, 1000).category == "other");
}
