#!/usr/bin/env bash
# Installs deps if missing, builds Release into build/, starts volleyd on its embedded defaults
# (or with the arguments given, e.g. ./run.sh --config deploy/volley.example.toml).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target volleyd
exec ./build/volleyd "$@"
