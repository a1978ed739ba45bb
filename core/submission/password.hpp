#pragma once
// Passwords of [[submission_user]] as crypt(3) hashes (libcrypt): verified in constant time,
// and made for `volleyd hash-password`. yescrypt by default; sha512-crypt hashes verify too.
#include <optional>
#include <string>
#include <string_view>

namespace volley::submission {

// True when `password` matches `hash` (a crypt(3) hash). False for a malformed hash.
bool verify_password(std::string_view password, const std::string& hash);

// A new yescrypt hash of `password` ("$y$..."), with a salt drawn from OpenSSL's generator.
// nullopt and *error when libcrypt fails (a password with a NUL in it is refused).
std::optional<std::string> hash_password(std::string_view password, std::string* error);

// A hash that matches no password, of the same cost as hash_password's: checked for an unknown
// user, so that a wrong user name takes as long to refuse as a wrong password.
const std::string& decoy_hash();

}  // namespace volley::submission
