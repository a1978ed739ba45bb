// The process_* metrics from /proc text: fixtures copied from a real Linux 6.1 /proc, one with a
// command name made to break naive field splitting.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/metrics/process_stats.hpp"

using namespace volley::metrics;

namespace {

// pid 4242, utime 1250 and stime 250 ticks, starttime 71257 ticks after boot, vsize 3133440,
// rss 392 pages.
constexpr std::string_view kStat =
    "4242 (volleyd) S 1 4242 4242 0 -1 4194560 5218 0 12 0 1250 250 0 0 20 0 7 0 71257 3133440 392 "
    "18446744073709551615 94072664436736 94072664456617 140730874943488 0 0 0 0 4096 16387 0 0 0 17 1 0 0 0 "
    "0 0 94072664472624 94072664474240 94072714993664 140730874948024 140730874948044 140730874948044 "
    "140730874949611 0\n";

constexpr std::string_view kSystemStat =
    "cpu  1017 0 1219 416353 227 0 57 0 0 0\n"
    "cpu0 509 0 609 208152 113 0 28 0 0 0\n"
    "intr 201853 9 0 0\n"
    "ctxt 376214\n"
    "btime 1796470909\n"
    "processes 10452\n"
    "procs_running 1\n";

constexpr std::string_view kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max processes             63426                63426                processes \n"
    "Max open files            20000                524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

}  // namespace

TEST_CASE("/proc/self/stat gives CPU time, memory and the start time", "[metrics]") {
  const auto boot = parse_boot_time(kSystemStat);
  REQUIRE(boot);
  CHECK(*boot == 1796470909.0);
  const auto s = parse_proc_stat(kStat, *boot, 100, 4096);
  REQUIRE(s);
  CHECK(s->cpu_seconds == Approx(15.0));
  CHECK(s->virtual_bytes == 3133440.0);
  CHECK(s->resident_bytes == 392.0 * 4096);
  CHECK(s->start_time_seconds == Approx(1796470909.0 + 712.57));
}

TEST_CASE("a command name with spaces and parentheses does not shift the stat fields", "[metrics]") {
  std::string stat(kStat);
  stat.replace(stat.find("(volleyd)"), 9, "(a) b (c))");
  const auto s = parse_proc_stat(stat, 0, 100, 4096);
  REQUIRE(s);
  CHECK(s->cpu_seconds == Approx(15.0));
  CHECK(s->resident_bytes == 392.0 * 4096);
}

TEST_CASE("stat text that is cut short or not numbers is refused", "[metrics]") {
  CHECK_FALSE(parse_proc_stat("", 0, 100, 4096));
  CHECK_FALSE(parse_proc_stat("4242 (volleyd) S 1 4242 4242 0 -1 4194560 5218 0 12 0 1250 250", 0, 100, 4096));
  std::string stat(kStat);
  stat.replace(stat.find(" 1250 "), 6, " x250 ");
  CHECK_FALSE(parse_proc_stat(stat, 0, 100, 4096));
  CHECK_FALSE(parse_proc_stat(kStat, 0, 0, 4096));
  CHECK_FALSE(parse_boot_time("cpu 1 2 3\nbtimex 5\n"));
  CHECK_FALSE(parse_boot_time("btime soon\n"));
}

TEST_CASE("/proc/self/limits gives the soft limit of open files", "[metrics]") {
  const auto max = parse_max_open_files(kLimits);
  REQUIRE(max);
  CHECK(*max == 20000.0);

  std::string unlimited(kLimits);
  unlimited.replace(unlimited.find("20000 "), 6, "unlimited");
  const auto inf = parse_max_open_files(unlimited);
  REQUIRE(inf);
  CHECK(std::isinf(*inf));

  CHECK_FALSE(parse_max_open_files("Limit Soft Limit\nMax processes 100 100 processes\n"));
}
