#include "net/spf_evaluator.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/types.h>

#include <cstring>
#include <stdexcept>

extern "C" {
#include <spf2/spf.h>
}

#include "core/util/ascii.hpp"

namespace volley {

namespace {

SPF_dns_stat_t herrno_of(const dns::RecordResolution& r) {
  if (r.status == dns::Status::ok) return NETDB_SUCCESS;
  if (r.status == dns::Status::temp_fail) return TRY_AGAIN;
  return r.error == "NXDOMAIN" ? HOST_NOT_FOUND : NO_DATA;
}

// What the lookup callback reaches through the layer's hook.
struct LayerState {
  DoctorResolver* resolver = nullptr;
  int temp_failures = 0;  // lookups of the current evaluation that got no answer
};

// libspf2's lookup callback: one record set from the resolver, in libspf2's layout (addresses
// as in_addr/in6_addr, names and texts as C strings).
SPF_dns_rr_t* lookup(SPF_dns_server_t* server, const char* domain, ns_type type, int /*should_cache*/) {
  auto* state = static_cast<LayerState*>(server->hook);
  DoctorResolver* resolver = state->resolver;
  dns::RrType ours;
  switch (type) {
    case ns_t_a: ours = dns::RrType::a; break;
    case ns_t_aaaa: ours = dns::RrType::aaaa; break;
    case ns_t_mx: ours = dns::RrType::mx; break;
    case ns_t_txt: ours = dns::RrType::txt; break;
    case ns_t_ptr: ours = dns::RrType::ptr; break;
    default:  // type 99 (SPF) is obsolete (RFC 7208 §3.1): nothing published there counts
      return SPF_dns_rr_new_init(server, domain, type, 0, NO_DATA);
  }
  const auto& r = resolver->lookup(domain, ours);
  if (r.status == dns::Status::temp_fail) ++state->temp_failures;
  SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, type, static_cast<int>(r.ttl), herrno_of(r));
  if (rr == nullptr || r.status != dns::Status::ok) return rr;
  int n = 0;
  for (const auto& rec : r.records) {
    if (rec.type == dns::RrType::a || rec.type == dns::RrType::aaaa) {
      const bool v4 = rec.type == dns::RrType::a;
      if (SPF_dns_rr_buf_realloc(rr, n, v4 ? sizeof(in_addr) : sizeof(in6_addr)) != SPF_E_SUCCESS) break;
      if (::inet_pton(v4 ? AF_INET : AF_INET6, rec.data.c_str(), v4 ? static_cast<void*>(&rr->rr[n]->a)
                                                                      : static_cast<void*>(&rr->rr[n]->aaaa)) != 1)
        continue;
    } else {
      if (SPF_dns_rr_buf_realloc(rr, n, rec.data.size() + 1) != SPF_E_SUCCESS) break;
      std::memcpy(rr->rr[n]->txt, rec.data.c_str(), rec.data.size() + 1);
    }
    ++n;
  }
  rr->num_rr = n;
  if (n == 0) rr->herrno = NO_DATA;
  return rr;
}

doctor::SpfResult result_of(SPF_result_t r) {
  switch (r) {
    case SPF_RESULT_PASS: return doctor::SpfResult::pass;
    case SPF_RESULT_FAIL: return doctor::SpfResult::fail;
    case SPF_RESULT_SOFTFAIL: return doctor::SpfResult::softfail;
    case SPF_RESULT_NEUTRAL: return doctor::SpfResult::neutral;
    case SPF_RESULT_NONE: return doctor::SpfResult::none;
    case SPF_RESULT_TEMPERROR: return doctor::SpfResult::temperror;
    default: return doctor::SpfResult::permerror;
  }
}

}  // namespace

struct SpfEvaluator::Library {
  LayerState state;
  SPF_dns_server_t layer{};
  SPF_server_t* server = nullptr;
  ~Library() {
    if (server) SPF_server_free(server);
  }
};

SpfEvaluator::SpfEvaluator(DoctorResolver& resolver) : resolver_(resolver), lib_(std::make_unique<Library>()) {
  // destroy == NULL: libspf2 leaves the layer to us; no layer below, no get_spf/get_exp/add_cache
  // overrides: libspf2 asks for the TXT records itself through lookup.
  lib_->layer.lookup = lookup;
  lib_->layer.name = "volley";
  lib_->state.resolver = &resolver_;
  lib_->layer.hook = &lib_->state;
  lib_->server = SPF_server_new_dns(&lib_->layer, 0);
  if (lib_->server == nullptr) throw std::runtime_error("libspf2: SPF_server_new_dns failed");
  SPF_server_set_rec_dom(lib_->server, "volley-doctor.invalid");
}

SpfEvaluator::~SpfEvaluator() = default;

doctor::SpfVerdict SpfEvaluator::evaluate(const std::string& domain, const std::string& address, const std::string& helo) {
  doctor::SpfVerdict verdict;
  // The record as published, for the report (libspf2 keeps only its compiled form).
  const auto& txt = resolver_.lookup(domain, dns::RrType::txt);
  if (txt.status == dns::Status::ok) {
    for (const auto& rec : txt.records) {
      const std::string lower = util::ascii_lower(rec.data);
      if (lower == "v=spf1" || lower.rfind("v=spf1 ", 0) == 0) {
        verdict.record += (verdict.record.empty() ? "" : " | ") + rec.data;
      }
    }
  }
  SPF_request_t* req = SPF_request_new(lib_->server);
  if (req == nullptr) throw std::runtime_error("libspf2: SPF_request_new failed");
  const bool v6 = address.find(':') != std::string::npos;
  const SPF_errcode_t set_ip =
      v6 ? SPF_request_set_ipv6_str(req, address.c_str()) : SPF_request_set_ipv4_str(req, address.c_str());
  const std::string sender = "postmaster@" + domain;
  SPF_request_set_helo_dom(req, helo.c_str());
  if (set_ip != SPF_E_SUCCESS || SPF_request_set_env_from(req, sender.c_str()) != 0) {
    SPF_request_free(req);
    verdict.result = doctor::SpfResult::permerror;
    verdict.detail = "libspf2 refused the address " + address + " or the domain " + domain;
    return verdict;
  }
  SPF_response_t* resp = nullptr;
  lib_->state.temp_failures = 0;
  SPF_request_query_mailfrom(req, &resp);
  if (resp != nullptr) {
    verdict.result = result_of(SPF_response_result(resp));
    if (verdict.result == doctor::SpfResult::permerror) {
      for (int i = 0; i < SPF_response_messages(resp); ++i) {
        SPF_error_t* e = SPF_response_message(resp, i);
        if (e && SPF_error_errorp(e) && SPF_error_message(e))
          verdict.detail += (verdict.detail.empty() ? "" : "; ") + std::string(SPF_error_message(e));
      }
    }
    SPF_response_free(resp);
  } else {
    verdict.result = doctor::SpfResult::temperror;
  }
  SPF_request_free(req);
  // libspf2 calls a lookup that got no answer a permerror; RFC 7208 §2.6.6 says temperror.
  if (verdict.result == doctor::SpfResult::permerror && lib_->state.temp_failures > 0) {
    verdict.result = doctor::SpfResult::temperror;
    verdict.detail = "a DNS lookup got no answer";
  }
  if (verdict.result == doctor::SpfResult::permerror && verdict.detail.empty()) verdict.detail = "permerror";
  return verdict;
}

}  // namespace volley
