#pragma once
// The organizational domain of a name (RFC 7489 §3.2): the public suffix plus one label, from
// the Public Suffix List (Debian's `publicsuffix` package ships it as
// /usr/share/publicsuffix/public_suffix_list.dat). Without a list, the rule "*" alone applies:
// the last two labels. DMARC looks up its record there and aligns domains by it.
#include <string>
#include <string_view>
#include <unordered_set>

namespace volley::doctor {

class PublicSuffixList {
 public:
  PublicSuffixList() = default;  // no rules: the default rule "*" only
  // The list's text: one rule per line ("com", "*.ck", "!www.ck"), "//" comments, blank lines.
  static PublicSuffixList parse(std::string_view text);

  std::size_t size() const { return rules_.size() + exceptions_.size(); }
  // Lower case, no trailing dot. A name that is itself a public suffix is its own org domain.
  std::string org_domain(std::string_view domain) const;

 private:
  std::unordered_set<std::string> rules_;       // "com", "*.ck"
  std::unordered_set<std::string> exceptions_;  // "www.ck" (from "!www.ck")
};

}  // namespace volley::doctor
