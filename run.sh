#!/usr/bin/env bash
# Installs what volleyd needs if missing (scripts/deps.sh, without the test peers), builds Release
# into build/, starts volleyd on its embedded defaults (or with the arguments given, e.g.
# ./run.sh --config deploy/volley.example.toml). Tests are not configured here: ./test.sh builds
# them into build-test/.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOLLEY_TESTS=OFF >/dev/null
cmake --build build --target volleyd
exec ./build/volleyd "$@"
