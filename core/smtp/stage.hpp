#pragma once
// Which command an SMTP reply answered: a refused MAIL FROM speaks of our sender, a refused RCPT
// of the recipient, a refused EHLO of our client. The names are those of events, bounce rules
// (`stages = [...]`) and volley-receiver scripts.
#include <array>
#include <optional>
#include <string_view>

namespace volley::smtp {

enum class Stage {
  none,         // not known: a reply from a DSN, or a failure Volley made up before any command
  greeting,     // the connection: the server's greeting
  ehlo,         // EHLO, and HELO after it
  mail,         // MAIL FROM
  rcpt,         // RCPT TO
  data,         // the DATA command itself
  end_of_data,  // the message: the reply after the final "."
};

inline constexpr std::array<std::string_view, 7> kStageNames = {"",     "greeting", "ehlo",       "mail",
                                                                "rcpt", "data",     "end_of_data"};

inline std::string_view to_string(Stage stage) { return kStageNames[static_cast<std::size_t>(stage)]; }

// "mail" -> Stage::mail; nullopt for anything else, "" included.
inline std::optional<Stage> parse_stage(std::string_view name) {
  for (std::size_t i = 1; i < kStageNames.size(); ++i)
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  return std::nullopt;
}

// Whether a reply at this stage can speak of the recipient's address (a refused greeting, EHLO,
// MAIL or DATA is about our client, our sender or the transaction). Unknown stages can.
inline bool about_recipient(Stage stage) {
  return stage == Stage::none || stage == Stage::rcpt || stage == Stage::end_of_data;
}

}  // namespace volley::smtp
