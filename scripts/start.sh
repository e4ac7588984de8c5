#!/usr/bin/env bash
# Installs what is missing, builds otelbox (Release) and starts it with ./otelbox-data.
# Extra arguments go to otelbox (see `otelbox --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DOTELBOX_BUILD_TESTS=OFF -DOTELBOX_BUILD_BENCH=OFF >/dev/null
cmake --build build --target otelbox -j"$(nproc)"
exec build/appliance/otelbox --data-dir ./otelbox-data "$@"
