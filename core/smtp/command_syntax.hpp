#pragma once
// The small pieces of SMTP command syntax the server machine reads (RFC 5321 §4.1): words,
// paths with their parameters, numbers, and the checks that keep control characters out.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley::smtp::command_syntax {

bool istarts_with(std::string_view s, std::string_view prefix);
// Control characters have no place in a command line: NUL and bare CR smuggle, the rest are
// binary noise. TAB is let through as ordinary text.
bool has_control(std::string_view s);
bool non_ascii(std::string_view s);
std::string_view trim(std::string_view s);
bool parse_number(std::string_view s, std::uint64_t& out);

// "<path> params" after "FROM:" or "TO:". The path may hold a quoted local part with '>' or
// spaces in it; a source route ("<@a,@b:user@c>", RFC 5321 §4.1.2) is accepted and dropped.
struct PathAndParams {
  std::string_view path;
  std::string_view params;
};
std::optional<PathAndParams> split_path(std::string_view s);

// local@domain, both present, no bare spaces. Deliberately loose beyond that: the owner judges
// addresses; the machine only refuses what cannot be one.
bool plausible_mailbox(std::string_view p);

// The next space-separated word of `s`, removed from it.
std::string_view next_word(std::string_view& s);

// Reply text from the owner goes on the wire: no line ends or other controls in it.
void append_sanitized(std::string& out, std::string_view text);

}  // namespace volley::smtp::command_syntax
