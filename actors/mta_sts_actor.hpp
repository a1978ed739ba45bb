#pragma once
// The MTA-STS actor (RFC 8461): for a destination domain, the policy in force. It looks up the
// _mta-sts TXT record through the DNS actor, fetches the policy over HTTPS from
// mta-sts.<domain>/.well-known/mta-sts.txt with the certificate checked, caches it for its
// max_age and refetches when the TXT id changes; a failed refresh keeps the cached policy.
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "core/tls/inputs.hpp"

namespace volley {

using mta_sts_actor = caf::typed_actor<
    // The policy of a domain; mode none when it has none (no _mta-sts record, no policy ever
    // fetched, or MTA-STS turned off). Never an error.
    caf::replies_to<sts_atom, std::string>::with<tls::StsPolicy>>;

}  // namespace volley
