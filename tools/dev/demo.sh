#!/usr/bin/env bash
# README command 1: install what is missing, build (Release), start ssepushd
# with the embedded demo on http://127.0.0.1:${PORT:-8080}/ (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/dev/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target ssepushd
# The demo publish key lets the README's curl line publish; set PUBLISH_KEY for your own.
exec build/release/tools/ssepushd/ssepushd --demo --listen "127.0.0.1:${PORT:-8080}" \
     --publish-key "${PUBLISH_KEY:-demo-key}" "$@"
