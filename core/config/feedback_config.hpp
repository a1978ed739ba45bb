#pragma once
// Reading what closes the loop with the sender: [smtp_in], [[return_path]], [suppression],
// [[webhook]] and [events]. Internal to core/config.
#include "core/config/config.hpp"
#include "core/config/toml_reader.hpp"

namespace volley::config_detail {

// The event types a webhook may ask for, in the order docs/events.md lists them.
const std::vector<std::string_view>& event_types();

void read_smtp_in(const toml::table& t, Config::SmtpIn& in, Problems& problems);
void read_return_path(const toml::table& t, std::vector<Config::ReturnPath>& paths, Problems& problems);
void read_suppression(const toml::table& t, Config::Suppression& s, Problems& problems);
void read_webhook(const toml::table& t, std::vector<Config::Webhook>& hooks, Problems& problems);
void read_events(const toml::table& t, Config::Events& e, Problems& problems);

}  // namespace volley::config_detail
