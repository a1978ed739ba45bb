#pragma once
// `volleyd dkim-keygen` as tests run it: the key written to <dir>/keys/<domain>.<selector>.pem,
// and the TXT line it printed (the line naming <selector>._domainkey), ready for a zone file.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <sstream>
#include <string>

#include "volleyd_fixture.hpp"

namespace volley::test {

inline std::string keygen(const TempDir& dir, const std::string& domain, const std::string& selector,
                          const std::string& algorithm) {
  const auto [status, output] =
      run_with_input({Volleyd::binary(), "dkim-keygen", "--domain", domain, "--selector", selector, "--algorithm",
                      algorithm, "--out", (dir / "keys").string()},
                     "", dir.path());
  INFO(output);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(selector + "._domainkey." + domain + ". TXT \"v=DKIM1; ", 0) == 0) return line;
  FAIL("no TXT record printed");
  return {};
}

}  // namespace volley::test
