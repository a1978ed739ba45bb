#include "response_builder.hpp"

#include <memory>
#include <stdexcept>

#include <stdbool.h>
#include <ldns/ldns.h>
#undef dprintf

namespace volley::dns::test {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};

void push_text(ldns_pkt* pkt, ldns_pkt_section section, const std::vector<std::string>& rrs) {
  for (const auto& text : rrs) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      throw std::runtime_error("bad test RR: " + text);
    }
    ldns_pkt_push_rr(pkt, section, rr);
  }
}

}  // namespace

std::vector<std::uint8_t> build_response(const FakeResponse& r) {
  std::unique_ptr<ldns_pkt, PktFree> pkt(ldns_pkt_new());
  ldns_pkt_set_id(pkt.get(), r.id);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_rd(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_tc(pkt.get(), r.truncated);
  ldns_pkt_set_ad(pkt.get(), r.authenticated);
  ldns_pkt_set_rcode(pkt.get(), r.rcode);
  ldns_rr* q = ldns_rr_new();
  ldns_rr_set_owner(q, ldns_dname_new_frm_str(r.qname.c_str()));
  ldns_rr_set_type(q, static_cast<ldns_rr_type>(r.qtype));
  ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, q);
  push_text(pkt.get(), LDNS_SECTION_ANSWER, r.answer);
  push_text(pkt.get(), LDNS_SECTION_AUTHORITY, r.authority);
  push_text(pkt.get(), LDNS_SECTION_ADDITIONAL, r.additional);
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&raw, pkt.get(), &size) != LDNS_STATUS_OK) {
    throw std::runtime_error("ldns_pkt2wire failed");
  }
  std::vector<std::uint8_t> out(raw, raw + size);
  std::free(raw);
  return out;
}

}  // namespace volley::dns::test
