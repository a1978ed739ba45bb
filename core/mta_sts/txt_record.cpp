#include "core/mta_sts/txt_record.hpp"

#include <algorithm>

#include "core/mta_sts/wsp.hpp"

namespace volley::mta_sts {

namespace {

constexpr std::string_view kVersion = "v=STSv1";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }


bool fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return false;
}

// sts-extension name (RFC 8461 §3.1): (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 32 || !is_alnum(n.front())) return false;
  for (char c : n)
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. visible ASCII but ';' and '='.
bool valid_value(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == ';' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> parse_sts_record(std::string_view record, std::string* error) {
  if (!record.starts_with(kVersion)) {
    fail(error, "does not begin with v=STSv1");
    return std::nullopt;
  }
  std::string_view rest = trim_wsp(record.substr(kVersion.size()));
  if (rest.empty()) {
    fail(error, "no id");
    return std::nullopt;
  }
  if (rest.front() != ';') {
    fail(error, "unknown version \"" + std::string(trim_wsp(record.substr(0, record.find(';')))) + "\"");
    return std::nullopt;
  }
  rest.remove_prefix(1);
  std::optional<std::string> id;
  while (true) {
    const auto semi = rest.find(';');
    const std::string_view field = trim_wsp(rest.substr(0, semi));
    const bool last = semi == std::string_view::npos;
    if (!last) rest = rest.substr(semi + 1);
    if (field.empty()) {
      if (last) break;  // a separator may end the record, nothing else may be empty
      fail(error, "empty field");
      return std::nullopt;
    }
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) {
      fail(error, "field \"" + std::string(field) + "\" is not name=value");
      return std::nullopt;
    }
    const std::string_view name = trim_wsp(field.substr(0, eq));
    const std::string_view value = trim_wsp(field.substr(eq + 1));
    if (name == "id") {
      if (id) {
        fail(error, "more than one id");
        return std::nullopt;
      }
      if (value.empty() || value.size() > 32 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return is_alnum(c); })) {
        fail(error, "id \"" + std::string(value) + "\" is not 1-32 letters and digits");
        return std::nullopt;
      }
      id = std::string(value);
    } else if (!valid_name(name) || !valid_value(value)) {
      // Extensions are allowed and ignored, when well formed.
      fail(error, "malformed field \"" + std::string(field) + "\"");
      return std::nullopt;
    }
    if (last) break;
  }
  if (!id) fail(error, "no id");
  return id;
}

std::optional<std::string> sts_record_id(const std::vector<std::string>& txt_records, std::string* error) {
  const std::string* found = nullptr;
  std::size_t count = 0;
  for (const auto& r : txt_records) {
    if (!std::string_view(r).starts_with(kVersion)) continue;  // other TXT records share the name
    ++count;
    found = &r;
  }
  if (count == 0) {
    fail(error, "no v=STSv1 record");
    return std::nullopt;
  }
  if (count > 1) {
    fail(error, std::to_string(count) + " v=STSv1 records (exactly one is required)");
    return std::nullopt;
  }
  std::string why;
  auto id = parse_sts_record(*found, &why);
  if (!id) fail(error, "malformed v=STSv1 record: " + why);
  return id;
}

}  // namespace volley::mta_sts
