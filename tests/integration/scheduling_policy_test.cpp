// [top level] scheduling_policy: every thread of a running volleyd, as the kernel reports it in
// /proc, runs under the policy the configuration names (daemon/cpu_scheduling.hpp).
#include <catch2/catch.hpp>

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "receiver_fixture.hpp"
#include "volleyd_fixture.hpp"

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// Each thread's name and policy (proc(5): field 41 of /proc/PID/task/TID/stat).
std::map<std::string, int> thread_policies(pid_t pid) {
  std::map<std::string, int> out;
  const auto dir = std::filesystem::path("/proc") / std::to_string(pid) / "task";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path() / "stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;  // the thread ended while it was read
    const auto open = text.find('(');
    std::istringstream fields(text.substr(close + 2));  // from field 3, the state
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
    REQUIRE(f.size() >= 39);
    out[entry.path().filename().string() + " " + text.substr(open + 1, close - open - 1)] = std::stoi(f[38]);
  }
  return out;
}

// The policies of a volleyd's threads once it has delivered one message, so that the threads made
// on first use (the bodies' sync, the delivery sessions') exist too.
std::map<std::string, int> policies_after_a_delivery(const std::string& name, const std::string& top_extra) {
  TempDir dir(name);
  SmtpReceiver receiver(dir / "receiver", "");
  VolleydOptions opts;
  opts.dns_port = 9;
  opts.smtp_port = 25;
  opts.top_extra = top_extra;
  opts.routes.push_back(Route{"sched.test", "127.0.0.1", receiver.port()});
  Volleyd volleyd(dir / "volleyd", opts);
  auto client = volleyd.client();
  inject(client, {{"from", "a@volley.test"}, {"to", {"x@sched.test"}}, {"subject", "s"}, {"text", "t\n"}});
  REQUIRE(wait_until([&] { return !events_for(volleyd.events(), "delivered", "x@sched.test").empty(); }, 30s, 20ms));
  return thread_policies(volleyd.pid());
}

}  // namespace

TEST_CASE("by default every volleyd thread runs under SCHED_BATCH", "[integration][scheduling]") {
  // volleyd inherits the test's policy: under SCHED_BATCH already (chrt -b), this would prove nothing.
  sched_param param{};
  REQUIRE(::sched_setscheduler(0, SCHED_OTHER, &param) == 0);
  const auto policies = policies_after_a_delivery("volley-it-sched-batch", "");
  CHECK(policies.size() >= 6);  // main, HTTP, SMTP, CAF's worker, the spool's, RocksDB's
  for (const auto& [thread, policy] : policies) {
    INFO(thread);
    CHECK(policy == SCHED_BATCH);
  }
}

TEST_CASE("scheduling_policy inherit leaves volleyd's threads under the policy it was started with",
          "[integration][scheduling]") {
  const auto policies = policies_after_a_delivery("volley-it-sched-inherit", "scheduling_policy = \"inherit\"\n");
  const int started_with = ::sched_getscheduler(0);  // the test's own, which volleyd inherits
  CHECK(policies.size() >= 6);
  for (const auto& [thread, policy] : policies) {
    INFO(thread);
    CHECK(policy == started_with);
  }
}
