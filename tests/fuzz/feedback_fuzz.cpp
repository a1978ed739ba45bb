// libFuzzer target for volley::feedback::parse_report: any bytes must give a Report within the
// limits report.hpp promises. See tests/fuzz/README.md for how to run it with the corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/feedback/report.hpp"
#include "../unit/feedback/report_bounds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto report = volley::feedback::parse_report(input);
  if (!volley::feedback::test::within_bounds(report)) std::abort();  // libFuzzer keeps the input
  return 0;
}
