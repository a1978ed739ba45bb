#pragma once
// OpenSSL keeps the detailed reason for a failure on its thread-local error queue; the return
// codes (and the error_code Asio hands back) often say only "system lib".
#include <string>

namespace volley::util {

// Every reason on this thread's OpenSSL error queue, oldest first, joined by "; "; "" when the
// queue is empty. The queue is empty afterwards.
std::string drain_openssl_errors();

}  // namespace volley::util
