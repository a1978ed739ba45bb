#!/bin/bash
# Before and after, interleaved: runs `bench.sh --only volley -r 1 [bench options]` alternately in
# another checkout (the "before", with its own Release build in build/) and in this one, ROUNDS
# times each, and prints one line per run. Interleaving puts both sides under the same drift of
# the machine; single runs on a small VM spread by +-15 %.
#   bash loadtest/interleave.sh /work/wt/base 5 -n 20000
# (git worktree add ../base <commit> && cmake -S ../base -B ../base/build -G Ninja
#  -DCMAKE_BUILD_TYPE=Release && ninja -C ../base/build volleyd volley-loadgen volley-receiver)
set -euo pipefail
base=$(cd "${1:?usage: interleave.sh BASE_CHECKOUT ROUNDS [bench options]}" && pwd)
rounds=${2:?usage: interleave.sh BASE_CHECKOUT ROUNDS [bench options]}
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
for _ in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$here
    [ "$side" = before ] && dir=$base
    line=$(cd "$dir" && bash loadtest/bench.sh --only volley -r 1 "$@" 2>&1 | grep -E '^\| volley|loadavg' | tr '\n' ' ')
    echo "$side ($(git -C "$dir" rev-parse --short HEAD)): $line"
  done
done
