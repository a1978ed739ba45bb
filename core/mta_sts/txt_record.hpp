#pragma once
// The _mta-sts TXT record of a domain (RFC 8461 §3.1): "v=STSv1; id=20260101T000000;".
// Its id says which policy version is published; a changed id means the policy file changed.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::mta_sts {

// The id of the one STSv1 record among the TXT records at _mta-sts.<domain>, or nullopt with
// *error saying why there is none: no record begins with "v=STSv1", several do (RFC 8461 §3.1:
// then the domain has no policy), or the one record is malformed (no id, an id that is not
// 1-32 letters and digits, a field that is not name=value).
std::optional<std::string> sts_record_id(const std::vector<std::string>& txt_records,
                                         std::string* error = nullptr);

// One record's id, the same checks (the record must begin with "v=STSv1").
std::optional<std::string> parse_sts_record(std::string_view record, std::string* error = nullptr);

}  // namespace volley::mta_sts
