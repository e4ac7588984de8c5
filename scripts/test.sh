#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# Tests and benchmarks ON explicitly: start.sh may have cached them OFF in the same build dir.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DOTELBOX_BUILD_TESTS=ON -DOTELBOX_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j2 "$@"
