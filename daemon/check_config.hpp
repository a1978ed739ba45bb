#pragma once
// `volleyd --check-config FILE`, as `postfix check`: the file and what it names (bounce rules,
// DKIM keys, tenants' time zones) read and checked exactly as a start or a reload would, and
// nothing started. Prints "FILE: ok" and returns 0, or every problem on stderr and returns 2.
// Listen addresses are not bound and TLS certificates not loaded: a start still checks those.
#include <string>

namespace volley {

int check_config(const std::string& path);

}  // namespace volley
