#include "daemon/doctor_setup.hpp"

#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "actors/dns_actor.hpp"
#include "core/doctor/plan.hpp"
#include "core/doctor/table.hpp"
#include "daemon/dkim_setup.hpp"
#include "net/doctor_runner.hpp"

namespace volley {

namespace {

DnsTransport::Settings dns_settings(const Config& cfg) {
  const auto dns = DnsConfig::from_config(cfg.dns);
  return DnsTransport::Settings{dns.servers, dns.timeout, dns.attempts};
}

doctor::Plan plan_for(const Config& cfg, const dkim::Signer* signer) {
  return doctor::make_plan(cfg, signer ? doctor::dkim_keys(*signer) : std::vector<doctor::DkimKey>{});
}

// One run at a time on a thread of its own; the destructor waits for the last.
class DoctorWorker {
 public:
  DoctorWorker(doctor::Plan plan, DnsTransport::Settings dns) : plan_(std::move(plan)), dns_(std::move(dns)) {}
  ~DoctorWorker() {
    std::thread last;
    {
      std::lock_guard lock(mutex_);
      last = std::move(thread_);
    }
    if (last.joinable()) last.join();  // the run needs the lock once more to end
  }

  bool start(std::function<void(std::string)> done) {
    std::lock_guard lock(mutex_);
    if (running_) return false;
    if (thread_.joinable()) thread_.join();  // finished: only its end is left
    running_ = true;
    thread_ = std::thread([this, done = std::move(done)] {
      std::string body;
      try {
        body = doctor::findings_json(run_doctor(plan_, dns_, load_public_suffix_list()));
      } catch (const std::exception& e) {
        body = std::string(R"({"ok":false,"error":")") + "the doctor could not run" + R"("})";
        std::fprintf(stderr, "doctor: %s\n", e.what());
      }
      {
        std::lock_guard lock(mutex_);
        running_ = false;
      }
      done(std::move(body));
    });
    return true;
  }

 private:
  const doctor::Plan plan_;
  const DnsTransport::Settings dns_;
  std::mutex mutex_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace

DoctorCommand::DoctorCommand(CLI::App& app)
    : sub_(app.add_subcommand("doctor", "Check the sender's DNS (DKIM, SPF, DMARC, PTR, MX) for a configuration")) {
  sub_->add_option("--config", config_path_, "TOML configuration file")->required();
  sub_->add_flag("--json", json_, "Print the findings as JSON instead of a table");
}

int DoctorCommand::run() const {
  const auto loaded = load_config_file(config_path_);
  if (!loaded.ok()) {
    std::fprintf(stderr, "volleyd doctor: invalid configuration:\n%s\n", loaded.error.c_str());
    return 2;
  }
  std::string error;
  const auto signer = load_dkim_signer(*loaded.config, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "volleyd doctor: a DKIM key cannot be used:\n%s\n", error.c_str());
    return 2;
  }
  std::vector<doctor::Finding> findings;
  try {
    findings = run_doctor(plan_for(*loaded.config, signer.get()), dns_settings(*loaded.config), load_public_suffix_list());
  } catch (const std::exception& e) {  // libspf2 could not start: nothing was checked
    std::fprintf(stderr, "volleyd doctor: %s\n", e.what());
    return 2;
  }
  std::cout << (json_ ? doctor::findings_json(findings) + "\n" : doctor::render_table(findings)) << std::flush;
  return doctor::any_fail(findings) ? 1 : 0;
}

api::DoctorApiConfig doctor_api(const Config& cfg, std::shared_ptr<const dkim::Signer> signer) {
  auto worker = std::make_shared<DoctorWorker>(plan_for(cfg, signer.get()), dns_settings(cfg));
  return api::DoctorApiConfig{[worker](std::function<void(std::string)> done) { return worker->start(std::move(done)); }};
}

}  // namespace volley
