#!/usr/bin/env bash
# Installs what ssepush needs to build and test on Debian 12, and only what is
# missing (no apt-get at all when everything is there). Run as root.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  liburing-dev libsimdjson-dev libmimalloc-dev libtomlplusplus-dev libssl-dev
  libhiredis-dev                 # the Redis provider (RESP parsing and formatting)
  redis-server                   # tests/integration/redis_*: a real Redis on loopback
  libgtest-dev libbenchmark-dev
  clang libclang-rt-14-dev       # libFuzzer + sanitizer runtimes for the fuzz preset
  clang-format
  curl procps
  chromium                       # tests/browser (driven by playwright-core from npm)
)
# Node.js runs tests/compat and tests/browser: the machine image provides
# Node 20 (nodesource); Debian 12's own nodejs (18) is the fallback.
command -v node >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to apt-get install (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
