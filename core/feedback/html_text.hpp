#pragma once
// Readable text from an HTML-only bounce (some Exchange servers send no text/plain part): tags
// dropped, block ends made line ends, the few entities bounce prose uses decoded.
#include <string>
#include <string_view>

namespace volley::feedback {

std::string html_to_text(std::string_view html);

}  // namespace volley::feedback
