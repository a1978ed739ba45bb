#pragma once
// volleyd's doctor (docs/doctor.md): the `doctor` subcommand, which checks the sender's DNS for a
// configuration file without a running daemon, and the worker behind GET /api/v1/doctor. Both
// run the same net/doctor_runner on the same plan (core/doctor/plan.hpp).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "api/doctor_api.hpp"
#include "core/config/config.hpp"
#include "core/dkim/signer.hpp"

namespace volley {

// `volleyd doctor --config FILE [--json]`: registered on construction; run() after parsing when
// chosen(). Exit status 0 when nothing fails, 1 when something does, 2 for a configuration or
// key that cannot be read.
class DoctorCommand {
 public:
  explicit DoctorCommand(CLI::App& app);
  bool chosen() const { return sub_->parsed(); }
  int run() const;

 private:
  CLI::App* sub_;
  std::string config_path_;
  bool json_ = false;
};

// For GET /api/v1/doctor: each run on a thread of its own, one at a time; the last thread is
// joined when the returned config's last copy goes (the HTTP server's handler, at shutdown).
api::DoctorApiConfig doctor_api(const Config& cfg, std::shared_ptr<const dkim::Signer> signer);

}  // namespace volley
