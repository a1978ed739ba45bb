#include "core/doctor/org_domain.hpp"

#include <vector>

#include "core/util/ascii.hpp"

namespace volley::doctor {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // A rule is the line's first word; the rest of the line is ignored (the list's own format).
    line = line.substr(0, line.find_first_of(" \t"));
    if (line.empty() || line.rfind("//", 0) == 0) continue;
    if (line.front() == '!') {
      list.exceptions_.insert(util::ascii_lower(line.substr(1)));
    } else {
      list.rules_.insert(util::ascii_lower(line));
    }
  }
  return list;
}

std::string PublicSuffixList::org_domain(std::string_view domain_in) const {
  std::string domain = util::ascii_lower(domain_in);
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  // Where each label starts: suffix i is domain.substr(starts[i]).
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < domain.size(); ++i)
    if (domain[i] == '.') starts.push_back(i + 1);
  const std::size_t n = starts.size();
  auto suffix = [&](std::size_t i) { return std::string_view(domain).substr(starts[i]); };
  // The number of labels of the public suffix: an exception rule wins and stands for its own
  // labels minus one; otherwise the longest matching rule; otherwise "*", one label.
  std::size_t suffix_labels = 1;
  bool found = false;
  for (std::size_t i = 0; i < n && !found; ++i) {
    if (exceptions_.count(std::string(suffix(i)))) {
      suffix_labels = n - i - 1;
      found = true;
    }
  }
  for (std::size_t i = 0; i < n && !found; ++i) {
    const bool wildcard = i + 1 < n && rules_.count("*." + std::string(suffix(i + 1)));
    if (rules_.count(std::string(suffix(i))) || wildcard) {
      suffix_labels = n - i;
      found = true;
    }
  }
  if (suffix_labels >= n) return domain;
  return std::string(suffix(n - suffix_labels - 1));
}

}  // namespace volley::doctor
