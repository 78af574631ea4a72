#!/usr/bin/env bash
# Runs the demo chat page of ssepushd in headless Chromium (Debian's
# /usr/bin/chromium, driven by playwright-core; no browser download): installs
# the pinned npm package if needed, starts ssepushd with the demo on a free
# port, runs the node:test suite under a global timeout, stops the server by
# its PID and exits with the tests' status.
#
#   tests/browser/run.sh <path-to-ssepushd> [test files...]
#
# Environment (optional):
#   BROWSER_ARTIFACTS    where screenshots go (default: <build dir>/browser-artifacts
#                        when the binary is in a CMake build tree, else
#                        /tmp/browser-artifacts)
#   BROWSER_TIMEOUT      global limit for the test run in seconds (default 240)
#   BROWSER_HEARTBEAT_MS --heartbeat-interval-ms for the server (default 500)
#   BROWSER_IDLE_MS      --idle-timeout-ms for the server (default 4000)
#   CHROMIUM             the browser binary (default /usr/bin/chromium)
#
# Writes only to tests/browser/node_modules (npm ci), the artifacts directory
# and a mktemp directory (npm also uses its usual cache, Chromium a temporary
# profile of its own).
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ $# -lt 1 ]; then
    echo "usage: $0 <path-to-ssepushd> [test files...]" >&2
    exit 2
fi
bin="$1"
shift
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ ! -x "$bin" ]; then
    echo "run.sh: '$bin' is not an executable" >&2
    exit 2
fi

timeout_s="${BROWSER_TIMEOUT:-240}"
heartbeat_ms="${BROWSER_HEARTBEAT_MS:-500}"
idle_ms="${BROWSER_IDLE_MS:-4000}"
chromium="${CHROMIUM:-/usr/bin/chromium}"

for tool in node npm timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: '$tool' not found" >&2; exit 2; }
done
if [ ! -x "$chromium" ]; then
    echo "run.sh: no Chromium at '$chromium' (Debian: apt-get install chromium)" >&2
    exit 2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
    echo "run.sh: node >= 20.10 required (have $(node --version))" >&2
    exit 2
fi

# --- where screenshots go: never the source tree
if [ -z "${BROWSER_ARTIFACTS:-}" ]; then
    dir="$(dirname "$bin")"
    BROWSER_ARTIFACTS=/tmp/browser-artifacts
    while [ "$dir" != "/" ]; do
        if [ -f "$dir/CMakeCache.txt" ]; then
            BROWSER_ARTIFACTS="$dir/browser-artifacts"
            break
        fi
        dir="$(dirname "$dir")"
    done
fi
case "$BROWSER_ARTIFACTS" in /*) ;; *) BROWSER_ARTIFACTS="$PWD/$BROWSER_ARTIFACTS" ;; esac
mkdir -p "$BROWSER_ARTIFACTS" || exit 2
rm -f "$BROWSER_ARTIFACTS"/*.png

cd "$here" || exit 2

# --- npm ci when node_modules is missing or was installed from another lockfile.
stamp="node_modules/.ssepush-browser-lock"
want="$(cat package.json package-lock.json | cksum)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: npm ci (node_modules missing or stale)"
    if ! timeout 300 npm ci --prefer-offline --no-audit --no-fund --loglevel=error; then
        echo "run.sh: npm ci failed" >&2
        exit 2
    fi
    printf '%s' "$want" >"$stamp"
fi

# --- start the server with the options its --help lists: the settings of
# today's option system (--listen, --heartbeat-interval 500ms, --demo, which is
# off by default) or the older flags (--port, --heartbeat-interval-ms).
help="$("$bin" --help 2>&1)"
has_option() { grep -qE -- "(^|[[:space:],])--(\[no-\])?$1([[:space:]=]|\$)" <<<"$help"; }
args=()
if has_option listen; then
    args+=(--listen 127.0.0.1:0)
else
    args+=(--port 0)
fi
has_option demo && args+=(--demo)
if has_option heartbeat-interval; then
    args+=(--heartbeat-interval "${heartbeat_ms}ms")
elif has_option heartbeat-interval-ms; then
    args+=(--heartbeat-interval-ms "$heartbeat_ms")
fi
if has_option idle-timeout; then
    args+=(--idle-timeout "${idle_ms}ms")
elif has_option idle-timeout-ms; then
    args+=(--idle-timeout-ms "$idle_ms")
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ssepush-browser.XXXXXX")" || exit 2
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        # Give it 5 s to drain, then SIGKILL (still by PID).
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!

port=""
for _ in $(seq 100); do # up to 10 s
    port="$(sed -n 's#^ssepushd: listening on http://[^ ]*:\([0-9][0-9]*\)/.*#\1#p' "$tmp/stdout")"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "run.sh: ssepushd did not report its port (${args[*]})" >&2
    echo "--- ssepushd stdout" >&2; cat "$tmp/stdout" >&2
    echo "--- ssepushd stderr" >&2; cat "$tmp/stderr" >&2
    exit 1
fi
base="http://127.0.0.1:$port"
echo "run.sh: ssepushd (pid $pid) on $base: ${args[*]}"

# Fail fast when the server does not serve the demo page.
if ! timeout 10 node -e '
    fetch(process.argv[1] + "/", { signal: AbortSignal.timeout(5000) })
        .then((r) => r.text().then((t) => process.exit(r.ok && t.includes("chat-input") ? 0 : 1)),
              () => process.exit(1));' "$base"; then
    echo "run.sh: ssepushd does not serve the demo chat on GET $base/" >&2
    echo "--- ssepushd stderr" >&2; cat "$tmp/stderr" >&2
    exit 1
fi

# --- run the tests
if [ $# -gt 0 ]; then
    files=("$@")
else
    files=(test/*.test.mjs)
fi
start_s=$SECONDS
SSEPUSH_BASE_URL="$base" BROWSER_ARTIFACTS="$BROWSER_ARTIFACTS" CHROMIUM="$chromium" \
    timeout --kill-after=10 "$timeout_s" \
    node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
status=$?
echo "run.sh: tests finished with status $status in $((SECONDS - start_s)) s"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run.sh: the test run hit the global timeout of ${timeout_s} s" >&2
fi
for f in "$BROWSER_ARTIFACTS"/*.png; do
    [ -e "$f" ] && echo "run.sh: screenshot $f"
done

if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: ssepushd exited during the tests" >&2
    [ "$status" -eq 0 ] && status=1
fi
if [ "$status" -ne 0 ]; then
    echo "--- ssepushd stderr" >&2
    cat "$tmp/stderr" >&2
fi
exit "$status"
