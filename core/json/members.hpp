#pragma once
// The members a kind of JSON request object may have, listed once next to the code that reads
// them. Code names a member through its list (kMessage("subject")), and a name the list lacks
// does not compile: a member cannot be read without being allowed. A member of a request that
// its list lacks is refused (unknown_field), not dropped: a typo ("subjet") or a feature Volley
// does not have ("send_at") would otherwise send something other than what the client asked for.
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace volley::json {

template <std::size_t N>
class Members;

// A member name that its list holds (checked when compiling).
class Member {
 public:
  std::string_view name;

 private:
  template <std::size_t N>
  friend class Members;
  consteval explicit Member(std::string_view n) : name(n) {}
};

template <std::size_t N>
class Members {
 public:
  template <class... Names>
  consteval explicit Members(Names... names) : names_{std::string_view(names)...} {}

  consteval Member operator()(std::string_view name) const {
    for (std::string_view n : names_)
      if (n == name) return Member(n);
    throw "not a member of this list";  // never a constant expression: naming it fails to compile
  }

  constexpr std::span<const std::string_view> names() const { return names_; }

 private:
  std::array<std::string_view, N> names_;
};

template <class... Names>
Members(Names...) -> Members<sizeof...(Names)>;

// JSON paths as error answers name fields: "to", "to[2].email", "messages[0].from".
std::string member_path(std::string_view parent, std::string_view name);  // parent "" -> name
std::string index_path(std::string_view parent, std::size_t index);

struct UnknownMember {
  std::string field;    // its path
  std::string message;  // for people, with the names that are allowed
};

// The first member (in name order) of `object`, a JSON object whose path is `parent`, that
// neither `allowed` nor `also_allowed` holds; nullopt when every member is known.
std::optional<UnknownMember> unknown_member(const nlohmann::json& object, std::string_view parent,
                                            std::span<const std::string_view> allowed,
                                            std::span<const std::string_view> also_allowed = {});

}  // namespace volley::json
