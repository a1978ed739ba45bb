#!/bin/sh
# deploy/volleyd.service, deploy/systemd/volley.{sysusers,tmpfiles} as systemd reads them:
#   1. `systemd-analyze verify` on a copy of the unit whose ExecStart is the volleyd just built
#      (verify refuses a unit whose binary does not exist), with no message at all: an unknown
#      or misspelt key is only a warning to verify, and a warning here is a setting that is
#      silently not applied on a real host;
#   2. `systemd-analyze security --offline` keeps the exposure level at 1.9 or below (threshold
#      19 on its 0-100 scale): a setting removed from the hardening fails the test;
#   3. systemd-sysusers and systemd-tmpfiles apply the two files to an empty root directory, and
#      the user and /etc/volley come out as the unit expects.
# Usage: systemd_unit_check.sh SOURCE_DIR VOLLEYD_BINARY. Exit 77 (skipped) without systemd's tools.
set -eu
src=$1
volleyd=$2
for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (Debian package systemd)"
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

unit=$tmp/volleyd.service
sed "s#^ExecStart=/usr/local/bin/volleyd #ExecStart=$volleyd #" "$src/deploy/volleyd.service" >"$unit"
grep -q "^ExecStart=$volleyd " "$unit" || fail "deploy/volleyd.service: no ExecStart=/usr/local/bin/volleyd line to point at the build"

if ! systemd-analyze verify "$unit" >"$tmp/verify.out" 2>&1; then
  cat "$tmp/verify.out" >&2
  fail "systemd-analyze verify refused deploy/volleyd.service"
fi
if [ -s "$tmp/verify.out" ]; then
  cat "$tmp/verify.out" >&2
  fail "systemd-analyze verify printed warnings for deploy/volleyd.service"
fi
echo "ok: systemd-analyze verify deploy/volleyd.service"

if ! systemd-analyze security --offline=yes --threshold=19 "$unit" >"$tmp/security.out" 2>&1; then
  grep -E '^(✗|→)' "$tmp/security.out" >&2 || cat "$tmp/security.out" >&2
  fail "systemd-analyze security: exposure of deploy/volleyd.service above 1.9"
fi
grep '^→' "$tmp/security.out"

root=$tmp/root
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$src/deploy/systemd/volley.sysusers" >"$tmp/sysusers.out" 2>&1 ||
  { cat "$tmp/sysusers.out" >&2; fail "systemd-sysusers refused deploy/systemd/volley.sysusers"; }
grep -q '^volley:x:[0-9]*:[0-9]*:[^:]*:/var/lib/volley:/usr/sbin/nologin$' "$root/etc/passwd" ||
  fail "deploy/systemd/volley.sysusers did not make the system user volley with home /var/lib/volley"
echo "ok: systemd-sysusers made $(grep '^volley:' "$root/etc/passwd")"

systemd-tmpfiles --root="$root" --create "$src/deploy/systemd/volley.tmpfiles" >"$tmp/tmpfiles.out" 2>&1 ||
  { cat "$tmp/tmpfiles.out" >&2; fail "systemd-tmpfiles refused deploy/systemd/volley.tmpfiles"; }
gid=$(grep '^volley:' "$root/etc/group" | cut -d: -f3)
for dir in etc/volley etc/volley/dkim; do
  [ "$(stat -c '%a %u %g' "$root/$dir")" = "750 0 $gid" ] ||
    fail "/$dir is $(stat -c '%a %u %g' "$root/$dir"), expected mode 750, owner root, group volley ($gid)"
done
echo "ok: systemd-tmpfiles made /etc/volley and /etc/volley/dkim (0750 root:volley)"
