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
      # One target per CPU at a time, each for the whole time; each one's log
      # is shown when it ends (all of it on a finding, which fails the stage).
      logs=$(mktemp -d /tmp/ssepush-fuzz-logs.XXXXXX)
      declare -A fuzzing=()
      failed=()
      reap() {
        local pid rc=0
        wait -n -p pid || rc=$?
        local t=${fuzzing[$pid]}
        unset "fuzzing[$pid]"
        if ((rc)); then
          failed+=("$t")
          cat "$logs/$t.log"
        else
          echo "fuzz $t: $(grep -ho 'Done [0-9]* runs in [0-9]* second(s)' "$logs/$t.log" | tail -1), no finding"
        fi
      }
      for t in http_request url sse request_fields json jwt sse_parser http_response redis_topic \
               subscription_record; do
        while ((${#fuzzing[@]} >= jobs)); do reap; done
        SSEPUSH_FUZZ_NO_BUILD=1 tools/dev/fuzz.sh "$t" "${FUZZ_SECONDS:-60}" > "$logs/$t.log" 2>&1 &
        fuzzing[$!]=$t
      done
      while ((${#fuzzing[@]})); do reap; done
      rm -rf "$logs"
      if ((${#failed[@]})); then
        echo "=== fuzz: findings in ${failed[*]}" >&2
        exit 1
      fi
      ;;
    *) echo "test.sh: unknown stage '$s' (release, debug, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done
echo "=== all stages passed: ${stages[*]}"
