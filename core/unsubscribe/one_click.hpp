#pragma once
// The body of an RFC 8058 one-click POST: the key/value pair List-Unsubscribe=One-Click, sent as
// application/x-www-form-urlencoded or multipart/form-data (section 3.1). Anything else is not a
// one-click unsubscribe (400): a link scanner's POST without it unsubscribes nobody.
#include <string_view>

namespace volley::unsubscribe {

// content_type: the request's Content-Type header ("" when absent: read as urlencoded).
bool is_one_click_body(std::string_view content_type, std::string_view body);

}  // namespace volley::unsubscribe
