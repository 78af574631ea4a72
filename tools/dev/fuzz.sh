#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time.
#
#   tools/dev/fuzz.sh <target> <seconds> [extra libFuzzer flags...]
#
# <target> is the name in tests/fuzz/ with or without "_fuzz" (http_request,
# url, sse). Configures the `fuzz` preset if it has not been, builds the target
# (a no-op when up to date), and fuzzes a scratch copy of the seed corpus in a
# temporary directory, so the repo is never written to. Uses
# tests/fuzz/<target>.dict when present.
#
# Exits nonzero on a finding (crash, sanitizer report, leak, timeout); the
# scratch directory with the reproducer is then kept and its path printed.
#
# Environment:
#   SSEPUSH_FUZZ_BUILD_DIR  build directory (default: build/fuzz, the preset's);
#                           a non-default one is configured with the same settings
#   JOBS                    parallel build jobs (default 2)
#   SSEPUSH_FUZZ_NO_BUILD   set: the target is built already (test.sh runs
#                           several fuzz.sh at once after one build)
set -euo pipefail

usage() {
    echo "usage: $0 <target> <seconds> [libFuzzer flags...]" >&2
    exit 2
}
[[ $# -ge 2 ]] || usage
target=${1%_fuzz}
seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SSEPUSH_FUZZ_BUILD_DIR:-$root/build/fuzz}
jobs=${JOBS:-2}
corpus=$root/tests/fuzz/corpus/$target
dict=$root/tests/fuzz/$target.dict

if [[ ! -f $root/tests/fuzz/${target}_fuzz.cc ]]; then
    echo "fuzz.sh: no target tests/fuzz/${target}_fuzz.cc" >&2
    exit 2
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
    if [[ $build == "$root/build/fuzz" ]]; then
        (cd "$root" && cmake --preset fuzz)
    else
        # Same settings as the preset, in another directory.
        CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DSSEPUSH_FUZZ=ON -DSSEPUSH_BUILD_TESTS=OFF -DSSEPUSH_BUILD_BENCH=OFF \
            -DSSEPUSH_BUILD_TOOLS=OFF
    fi
fi
[[ -n ${SSEPUSH_FUZZ_NO_BUILD:-} ]] || cmake --build "$build" --target "${target}_fuzz" -j"$jobs"
bin=$build/tests/fuzz/${target}_fuzz

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ssepush-fuzz-$target.XXXXXX")
mkdir -p "$scratch/corpus" "$scratch/artifacts"
if [[ -d $corpus ]]; then
    cp -R "$corpus/." "$scratch/corpus/"
fi

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$scratch/artifacts/")
[[ -f $dict ]] && args+=(-dict="$dict")

# UBSan only reports and carries on unless told to stop; a report must fail the run.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

echo "fuzz.sh: $bin for ${seconds}s, scratch corpus in $scratch/corpus" >&2
status=0
"$bin" "${args[@]}" "$@" "$scratch/corpus" || status=$?

if [[ $status -ne 0 ]]; then
    echo "fuzz.sh: ${target}_fuzz failed (exit $status); reproducer(s) kept in $scratch/artifacts:" >&2
    ls -l "$scratch/artifacts" >&2 || true
    exit "$status"
fi
rm -rf "$scratch"
echo "fuzz.sh: ${target}_fuzz ran ${seconds}s with no finding" >&2
