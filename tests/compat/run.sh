#!/usr/bin/env bash
# Runs the real ServiceStack TypeScript client (@servicestack/client) against
# ssepushd: installs the pinned npm packages if needed, starts the server on a
# free port, runs the node:test suite under a global timeout, stops the server
# by its PID and exits with the tests' status.
#
#   tests/compat/run.sh <path-to-ssepushd> [test files...]
#
# Environment (optional):
#   COMPAT_TIMEOUT       global limit for the test run in seconds (default 180)
#   COMPAT_HEARTBEAT_MS  the server's --heartbeat-interval, in ms (default 500)
#   COMPAT_IDLE_MS       the server's --idle-timeout, in ms (default 4000)
#
# Writes only to tests/compat/node_modules (npm ci) and a mktemp directory
# (npm itself also uses its usual cache, ~/.npm or $npm_config_cache).
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

timeout_s="${COMPAT_TIMEOUT:-180}"
heartbeat_ms="${COMPAT_HEARTBEAT_MS:-500}"
idle_ms="${COMPAT_IDLE_MS:-4000}"

for tool in node npm timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: '$tool' not found" >&2; exit 2; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
    echo "run.sh: node >= 20.10 required (have $(node --version))" >&2
    exit 2
fi

cd "$here" || exit 2

# --- npm ci when node_modules is missing or was installed from another lockfile.
stamp="node_modules/.ssepush-compat-lock"
want="$(cat package.json package-lock.json | cksum)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: npm ci (node_modules missing or stale)"
    if ! timeout 300 npm ci --prefer-offline --no-audit --no-fund --loglevel=error; then
        echo "run.sh: npm ci failed" >&2
        exit 2
    fi
    printf '%s' "$want" >"$stamp"
fi

# --- start the server
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ssepush-compat.XXXXXX")" || exit 2
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

# --demo: the chat services (PostChatToChannel...) the client tests call.
"$bin" --listen 127.0.0.1:0 --demo --heartbeat-interval "${heartbeat_ms}ms" \
    --idle-timeout "${idle_ms}ms" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!

port=""
for _ in $(seq 100); do # up to 10 s
    port="$(sed -n 's#^ssepushd: listening on http://[^ ]*:\([0-9][0-9]*\)/.*#\1#p' "$tmp/stdout")"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "run.sh: ssepushd did not report its port" >&2
    echo "--- ssepushd stdout" >&2; cat "$tmp/stdout" >&2
    echo "--- ssepushd stderr" >&2; cat "$tmp/stderr" >&2
    exit 1
fi
base="http://127.0.0.1:$port"
echo "run.sh: ssepushd (pid $pid) on $base, heartbeat ${heartbeat_ms} ms, idle timeout ${idle_ms} ms"

# Fail fast (instead of 25 tests each waiting for onConnect) when the server
# does not answer HTTP.
if ! timeout 10 node -e '
    fetch(process.argv[1] + "/event-subscribers", { signal: AbortSignal.timeout(5000) })
        .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' "$base"; then
    echo "run.sh: ssepushd does not answer GET $base/event-subscribers" >&2
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
SSEPUSH_BASE_URL="$base" SSEPUSH_HEARTBEAT_MS="$heartbeat_ms" SSEPUSH_IDLE_MS="$idle_ms" \
    timeout --kill-after=10 "$timeout_s" \
    node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
status=$?
echo "run.sh: tests finished with status $status in $((SECONDS - start_s)) s"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run.sh: the test run hit the global timeout of ${timeout_s} s" >&2
fi

if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: ssepushd exited during the tests" >&2
    [ "$status" -eq 0 ] && status=1
fi
if [ "$status" -ne 0 ]; then
    echo "--- ssepushd stderr" >&2
    cat "$tmp/stderr" >&2
fi
exit "$status"
