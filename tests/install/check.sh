#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds tools/examples out of
# tree against it with find_package(ssepush), as an embedding project would.
#   tests/install/check.sh <build-dir> <source-dir>
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d /tmp/ssepush-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tools/examples" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" -j2 >/dev/null
test -x "$tmp/consumer/tick_service"
echo "install check: tick_service built against $tmp/prefix with find_package(ssepush)"
