#pragma once
// volleyd's DKIM set-up: the keys of [[dkim]] read and checked at start (a bad key stops the
// daemon: mail is never sent unsigned because of one), and the `dkim-keygen` command.
#include <memory>
#include <string>

#include "core/config/config.hpp"
#include "core/dkim/signer.hpp"

namespace volley {

// Every [[dkim]] key read and checked. nullptr when none is configured; nullptr and *error
// (every bad entry, one per line, each naming its domain, selector and file) when one is bad.
std::shared_ptr<const dkim::Signer> load_dkim_signer(const Config& cfg, std::string* error);

// `volleyd dkim-keygen`: writes <out_dir>/<domain>.<selector>.pem (mode 0600, never over an
// existing file) and prints the TXT record to publish. algorithm: "ed25519" or "rsa2048".
// Returns the process exit code (errors are printed to stderr).
int run_dkim_keygen(const std::string& domain, const std::string& selector, const std::string& algorithm,
                    const std::string& out_dir);

}  // namespace volley
