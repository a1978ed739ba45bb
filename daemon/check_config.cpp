#include "daemon/check_config.hpp"

#include <cstdio>
#include <exception>
#include <variant>

#include "core/config/config.hpp"
#include "net/tls_context.hpp"
#include "daemon/dkim_setup.hpp"
#include "daemon/schedule_setup.hpp"
#include "daemon/wiring.hpp"

namespace volley {

int check_config(const std::string& path) {
  const LoadResult loaded = load_config_file(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error.c_str());
    return 2;
  }
  const Config& cfg = *loaded.config;
  int rc = 0;
  if (auto rules = load_classifier(cfg); auto* error = std::get_if<std::string>(&rules)) {
    std::fprintf(stderr, "%s\n", error->c_str());
    rc = 2;
  }
  std::string dkim_error;
  load_dkim_signer(cfg, &dkim_error);
  if (!dkim_error.empty()) {
    std::fprintf(stderr, "%s: dkim: %s\n", path.c_str(), dkim_error.c_str());
    rc = 2;
  }
  // The listeners' certificates as their start would load them, readable and a pair (a listener
  // that does not listen, or offers no TLS, reads none; the config reader has checked that both
  // files or neither are named).
  const struct {
    const char* table;
    bool listens;
    const std::string& certificate;
    const std::string& key;
  } listeners[] = {
      {"http", true, cfg.http.tls_certificate, cfg.http.tls_private_key},
      {"smtp_in", cfg.smtp_in.listen.has_value(), cfg.smtp_in.tls_certificate, cfg.smtp_in.tls_private_key},
      {"submission", cfg.submission.listen || cfg.submission.implicit_tls_listen, cfg.submission.tls_certificate,
       cfg.submission.tls_private_key},
      {"unsubscribe", cfg.unsubscribe.listen.has_value(), cfg.unsubscribe.tls_certificate,
       cfg.unsubscribe.tls_private_key}};
  for (const auto& l : listeners) {
    if (!l.listens || l.certificate.empty() || l.key.empty()) continue;
    try {
      make_server_tls_context(l.certificate, l.key);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: [%s]: %s\n", path.c_str(), l.table, e.what());
      rc = 2;
    }
  }
  if (!load_sending_windows(cfg)) {  // it has logged which tenant and zone
    std::fprintf(stderr, "%s: [[tenant]] send_window: a time zone cannot be read\n", path.c_str());
    rc = 2;
  }
  if (rc == 0) std::printf("%s: ok\n", path.c_str());
  return rc;
}

}  // namespace volley
