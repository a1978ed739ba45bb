#pragma once
// The header block of the message a report is about, read into OriginalHeaders.
#include <string_view>

#include "core/feedback/report.hpp"

namespace volley::feedback {

// `block`: header lines up to the first empty line (anything after it is ignored).
OriginalHeaders read_original_headers(std::string_view block);

}  // namespace volley::feedback
