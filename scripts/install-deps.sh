#!/usr/bin/env bash
# Installs the Debian 12 packages otelbox needs to build and test, skipping those present.
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  librocksdb-dev libzstd-dev libsnappy-dev zlib1g-dev libre2-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
)
# Tests drive a real OpenTelemetry JS SDK and a real Prometheus (remote_write sender).
if [[ "${1:-}" == "--test" ]]; then
  packages+=(prometheus)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

as_root=()
[[ $(id -u) -eq 0 ]] || as_root=(sudo)
echo "installing: ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The Debian prometheus package starts a system service on :9090, our default port; we
# only want its binary.
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  "${as_root[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
  "${as_root[@]}" pkill -x prometheus >/dev/null 2>&1 || true
fi
