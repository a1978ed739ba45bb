#pragma once
// Reading [submission] and [[submission_user]] (the SMTP submission listener). Internal to
// core/config.
#include "core/config/config.hpp"
#include "core/config/toml_reader.hpp"

namespace volley::config_detail {

void read_submission(const toml::table& t, Config::Submission& s, Problems& problems);
void read_submission_user(const toml::table& t, std::vector<Config::SubmissionUser>& users, Problems& problems);
// What only the whole file tells: a listener needs TLS keys and someone allowed to submit.
void check_submission(const toml::table& root, const Config& config, Problems& problems);

}  // namespace volley::config_detail
