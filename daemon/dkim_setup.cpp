#include "daemon/dkim_setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "core/util/ascii.hpp"

namespace volley {

namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

// Letters, digits, '-' and '.', not starting or ending with '.': a selector or a domain name.
bool dns_name(const std::string& s) {
  return !s.empty() && s.size() <= 253 && s.front() != '.' && s.back() != '.' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
         });
}

// The file's text, or "" and *error.
std::string read_key_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::string("cannot read the key file: ") + std::strerror(errno);
    return {};
  }
  std::string text;
  text.resize(kMaxKeyFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    *error = "cannot read the key file";
    return {};
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    *error = "the key file is larger than 64 KiB: not a PEM key";
    return {};
  }
  if (text.empty()) *error = "the key file is empty";
  return text;
}

}  // namespace

std::shared_ptr<const dkim::Signer> load_dkim_signer(const Config& cfg, std::string* error) {
  if (cfg.dkim.empty()) return nullptr;
  std::vector<dkim::SigningKey> keys;
  std::string problems;
  for (const auto& d : cfg.dkim) {
    const std::string entry = "[[dkim]] domain = \"" + d.domain + "\", selector = \"" + d.selector + "\", key_file " +
                              d.key_file + ": ";
    std::string why;
    const std::string pem = read_key_file(d.key_file, &why);
    if (pem.empty()) {
      problems += entry + why + "\n";
      continue;
    }
    auto key = dkim::parse_private_key(pem, &why);
    if (!key) {
      problems += entry + why + "\n";
      continue;
    }
    dkim::SigningKey k;
    k.domain = util::ascii_lower(d.domain);
    k.subdomains = d.subdomains;
    k.selector = d.selector;
    k.key = std::move(*key);
    // The reader accepted only the four valid spellings.
    k.canonicalization = dkim::parse_canonicalization(d.canonicalization).value_or(dkim::Canonicalization{});
    if (d.headers) k.headers = *d.headers;
    if (d.over_sign) k.over_sign = *d.over_sign;
    k.expiration = d.expiration;
    k.tenant = d.tenant;
    keys.push_back(std::move(k));
  }
  if (!problems.empty()) {
    problems.pop_back();
    *error = problems;
    return nullptr;
  }
  return std::make_shared<const dkim::Signer>(std::move(keys));
}

int run_dkim_keygen(const std::string& domain_in, const std::string& selector, const std::string& algorithm,
                    const std::string& out_dir) {
  const std::string domain = util::ascii_lower(domain_in);
  if (!dns_name(domain) || domain.find('.') == std::string::npos) {
    std::fprintf(stderr, "volleyd dkim-keygen: --domain: expected a domain name such as example.com\n");
    return 2;
  }
  if (!dns_name(selector) || selector.size() > 63) {
    std::fprintf(stderr, "volleyd dkim-keygen: --selector: expected letters, digits, '-' and '.' such as s2026r\n");
    return 2;
  }
  dkim::Algorithm a = dkim::Algorithm::ed25519_sha256;
  int bits = 0;
  if (algorithm == "rsa2048") {
    a = dkim::Algorithm::rsa_sha256;
    bits = 2048;
  } else if (algorithm != "ed25519") {
    std::fprintf(stderr, "volleyd dkim-keygen: --algorithm: expected ed25519 or rsa2048\n");
    return 2;
  }
  if (::mkdir(out_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "volleyd dkim-keygen: %s: %s\n", out_dir.c_str(), std::strerror(errno));
    return 1;
  }
  std::string error;
  const auto key = dkim::generate_key(a, bits, &error);
  if (!key) {
    std::fprintf(stderr, "volleyd dkim-keygen: %s\n", error.c_str());
    return 1;
  }
  const std::string path = out_dir + "/" + domain + "." + selector + ".pem";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "volleyd dkim-keygen: %s: %s%s\n", path.c_str(), std::strerror(errno),
                 errno == EEXIST ? " (a key is never overwritten: remove it or choose another selector)" : "");
    return 1;
  }
  const std::string pem = dkim::private_key_pem(*key);
  std::size_t written = 0;
  while (written < pem.size()) {
    const auto n = ::write(fd, pem.data() + written, pem.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == pem.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    std::fprintf(stderr, "volleyd dkim-keygen: %s: write failed: %s\n", path.c_str(), std::strerror(errno));
    ::unlink(path.c_str());
    return 1;
  }
  std::cerr << "wrote " << path << " (" << dkim::algorithm_name(a) << "); publish this TXT record:\n";
  std::cout << dkim::dns_txt_line(domain, selector, *key) << "\n";
  return 0;
}

}  // namespace volley
