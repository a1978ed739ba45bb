#include "core/util/openssl_error.hpp"

#include <openssl/err.h>

namespace volley::util {

std::string drain_openssl_errors() {
  std::string reason;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!reason.empty()) reason += "; ";
    reason += buf;
  }
  return reason;
}

}  // namespace volley::util
