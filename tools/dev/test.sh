#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test:
#   release   unit + integration tests (ctest)
#   asan      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan      the same suite under ThreadSanitizer
#   fuzz      every libFuzzer target for a bounded time (FUZZ_SECONDS, default 60)
# Stages can be picked: tools/dev/test.sh release asan
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/dev/install-deps.sh
jobs=$(nproc)
stages=("$@")
((${#stages[@]})) || stages=(release asan tsan fuzz)

run_preset() {
  local p=$1
  echo "=== $p: configure + build"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j"$jobs"
  echo "=== $p: test"
  ctest --preset "$p" -j1 --timeout 600
}

for s in "${stages[@]}"; do
  case "$s" in
    release|debug|asan|tsan) run_preset "$s" ;;
    fuzz)
      cmake --preset fuzz >/dev/null
      cmake --build --preset fuzz -j"$jobs"
      for t in http_request url sse request_fields json jwt sse_parser http_response redis_topic \
               subscription_record; do
        tools/dev/fuzz.sh "$t" "${FUZZ_SECONDS:-60}"
      done
      ;;
    *) echo "test.sh: unknown stage '$s' (release, debug, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
echo "=== all stages passed: ${stages[*]}"
