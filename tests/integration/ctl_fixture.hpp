#pragma once
// volleyctl as the tests run it: the real binary against a daemon's URL, stdout and stderr in
// files of their own, the exit status, and none of the caller's VOLLEY_* environment.
#include <sys/wait.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/process.hpp"

namespace volley::test {

inline std::string ctl_binary() { return std::string(VOLLEY_BINARY_DIR) + "/ctl/volleyctl"; }

struct CtlRun {
  int exit = -1;
  std::string out, err;
};

// A volleyctl process: stdout and stderr to files of their own (sh only splits them).
struct Ctl {
  // `first`: where the numbers of the output files start (ctl-<n>.out, ctl-<n>.err), so that
  // two of them in one directory write files of their own.
  Ctl(std::filesystem::path d, std::string u, int first = 0, std::vector<std::string> e = {})
      : dir(std::move(d)), url(std::move(u)), n(first), env(std::move(e)) {}

  const std::filesystem::path dir;
  std::string url;                // --url
  int n = 0;                      // the last output files' number
  std::vector<std::string> env;   // "NAME=value" for volleyctl, e.g. VOLLEY_CACERT

  std::vector<std::string> argv(const std::string& key, const std::vector<std::string>& args, const std::string& err) {
    std::vector<std::string> a{"/bin/sh", "-c",
                               "err=$1; shift; unset VOLLEY_URL VOLLEY_API_KEY VOLLEY_CACERT; exec \"$@\" 2>\"$err\"",
                               "sh", err, "/usr/bin/env"};
    a.insert(a.end(), env.begin(), env.end());
    a.insert(a.end(), {ctl_binary(), "--url", url});
    if (!key.empty()) a.insert(a.end(), {"--key", key});
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }

  CtlRun run(const std::string& key, const std::vector<std::string>& args) {
    const auto tag = std::to_string(++n);
    const auto out = dir / ("ctl-" + tag + ".out"), err = dir / ("ctl-" + tag + ".err");
    ChildProcess child(argv(key, args, err.string()), out);
    const auto status = child.wait_for(std::chrono::seconds(60));
    if (!status) throw std::runtime_error("volleyctl did not exit within 60 s");
    return CtlRun{WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, read_file(out), read_file(err)};
  }
};

inline std::string http_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace volley::test
