#pragma once
// Test support: DNSSEC as a mail server meets it. Zones signed at test time with fresh keys
// (ldns-keygen, ldns-signzone), served by a real nsd (nsd_server.hpp), and a real validating
// resolver, unbound, on 127.0.0.1 that trusts each signed zone's DS and sets the AD bit on what
// it validated: the resolver Volley is pointed at ([dns] servers, [dns] dnssec = true).
// Unsigned zones are served too (answers without AD); `tamper` spoils a signed record after
// signing, so unbound finds its signature bogus and answers SERVFAIL. Header-only, POSIX; needs
// root (nsd) and Debian's ldnsutils, nsd and unbound.
//
//   volley::test::DnssecRig rig({{{"signed.test", zone_text}, true},
//                                {{"plain.test", other_text}, false}});
//   query 127.0.0.1 : rig.resolver_port()
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/nsd_server.hpp"
#include "tests/support/process.hpp"

namespace volley::test {

struct RigZone {
  NsdZone zone;      // name ("signed.test") and zone-file text, SOA and NS included
  bool sign = true;  // false: served as it is, and unbound treats it as insecure
  // After signing, each `first` in the signed zone's text is replaced by `second` (e.g. a TLSA
  // record's hex data): that RRset's signature no longer matches, a bogus answer.
  std::vector<std::pair<std::string, std::string>> tamper;
};

class DnssecRig {
 public:
  static constexpr const char* unbound_binary = "/usr/sbin/unbound";

  explicit DnssecRig(std::vector<RigZone> zones) : dir_("volley-dnssec") {
    if (zones.empty()) throw std::invalid_argument("DnssecRig needs at least one zone");
    std::vector<NsdZone> served;
    for (auto& z : zones) {
      if (z.sign) {
        served.push_back(NsdZone{z.zone.name, sign(z)});
      } else {
        served.push_back(z.zone);
        insecure_.push_back(z.zone.name);
      }
      names_.push_back(z.zone.name);
    }
    nsd_ = std::make_unique<NsdServer>(std::move(served));
    start_unbound();
  }

  // unbound, the validating resolver, on 127.0.0.1.
  std::uint16_t resolver_port() const { return unbound_port_; }
  // nsd, the zones' authoritative server, on 127.0.0.1 (no validation, no AD).
  std::uint16_t authority_port() const { return nsd_->port(); }
  static const char* address() { return "127.0.0.1"; }
  // "signed.test. IN DS ..." lines unbound trusts.
  const std::vector<std::string>& trust_anchors() const { return anchors_; }
  const std::filesystem::path& directory() const { return dir_.path(); }
  std::string unbound_log() const { return read_file(dir_.path() / "unbound.log"); }

 private:
  // Runs `command` with /bin/sh in the rig's directory; its output, or an exception.
  std::string shell(const std::string& command) {
    auto [status, out] = run_with_input(
        {"/bin/sh", "-c", "cd '" + dir_.path().string() + "' && " + command}, "", dir_.path());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("DnssecRig: `" + command + "` failed: " + out);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  // A KSK and a ZSK (ECDSA P-256, RFC 8624's recommended algorithm), the signed zone text, and
  // the KSK's DS as a trust anchor.
  std::string sign(const RigZone& z) {
    const std::string& name = z.zone.name;
    const std::string file = name + ".zone";
    write_file(dir_.path() / file, z.zone.text);
    const std::string ksk = shell("ldns-keygen -a ECDSAP256SHA256 -k " + name);
    const std::string zsk = shell("ldns-keygen -a ECDSAP256SHA256 " + name);
    // Valid from an hour ago (clock skew) for a week: inception "now" can look future to unbound.
    const std::time_t now = std::time(nullptr);
    shell("ldns-signzone -i " + std::to_string(now - 3600) + " -e " +
          std::to_string(now + 7 * 86400) + " -o " + name + " -f " + file + ".signed " + file +
          " " + ksk + " " + zsk);
    std::string text = read_file(dir_.path() / (file + ".signed"));
    for (const auto& [from, to] : z.tamper) {
      const auto at = text.find(from);
      if (at == std::string::npos) {
        throw std::runtime_error("DnssecRig: nothing to tamper with: " + from);
      }
      text.replace(at, from.size(), to);
    }
    std::string ds = read_file(dir_.path() / (ksk + ".ds"));
    for (char& c : ds) {
      if (c == '\t' || c == '\n') c = ' ';
    }
    while (!ds.empty() && ds.back() == ' ') ds.pop_back();
    anchors_.push_back(ds);
    return text;
  }

  void write_unbound_config() {
    const std::string d = dir_.path().string();
    const std::string p = std::to_string(unbound_port_);
    std::string conf =
        "server:\n"
        "  interface: 127.0.0.1@" + p + "\n"
        "  port: " + p + "\n"
        "  do-ip6: no\n"
        "  num-threads: 1\n"
        "  username: \"\"\n"
        "  chroot: \"\"\n"
        "  directory: \"" + d + "\"\n"
        "  pidfile: \"" + d + "/unbound.pid\"\n"
        "  use-syslog: no\n"
        "  logfile: \"" + d + "/unbound.log\"\n"
        "  verbosity: 1\n"
        "  val-log-level: 2\n"
        "  do-not-query-localhost: no\n"
        "  access-control: 127.0.0.0/8 allow\n"
        "  module-config: \"validator iterator\"\n"
        // A test's answers must not outlive the test's zones in some cache.
        "  cache-max-ttl: 30\n"
        "  cache-max-negative-ttl: 5\n";
    for (const auto& a : anchors_) conf += "  trust-anchor: \"" + a + "\"\n";
    for (const auto& name : insecure_) conf += "  domain-insecure: \"" + name + "\"\n";
    // unbound answers RFC 6761's special names (test., invalid., ...) itself unless told not to.
    for (const auto& name : names_) {
      const auto dot = name.rfind('.');
      const std::string tld = dot == std::string::npos ? name : name.substr(dot + 1);
      conf += "  local-zone: \"" + tld + ".\" nodefault\n";
    }
    conf += "remote-control:\n  control-enable: no\n";
    for (const auto& name : names_) {
      conf += "stub-zone:\n  name: \"" + name + "\"\n  stub-addr: 127.0.0.1@" +
              std::to_string(nsd_->port()) + "\n";
    }
    write_file(dir_.path() / "unbound.conf", conf);
  }

  void start_unbound() {
    // Another process may take the free port first: then unbound exits, and another is tried.
    for (int tries = 0;; ++tries) {
      unbound_port_ = free_port();
      write_unbound_config();
      unbound_.start({unbound_binary, "-d", "-c", (dir_.path() / "unbound.conf").string()},
                     dir_.path() / "unbound.out");
      const bool up = wait_until(
          [&] {
            return !unbound_.running() ||
                   dns_soa_answered(unbound_port_, names_.front(), std::chrono::milliseconds(200));
          },
          std::chrono::seconds(20));
      if (up && unbound_.running()) return;
      unbound_.kill_now();
      if (tries == 2) {
        throw std::runtime_error("unbound did not start: " +
                                 read_file(dir_.path() / "unbound.out") + unbound_log());
      }
    }
  }

  TempDir dir_;
  std::vector<std::string> names_;
  std::vector<std::string> insecure_;
  std::vector<std::string> anchors_;
  std::unique_ptr<NsdServer> nsd_;
  std::uint16_t unbound_port_ = 0;
  ChildProcess unbound_;
};

}  // namespace volley::test
