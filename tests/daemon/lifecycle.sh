#!/usr/bin/env bash
# ssepushd as an operator sees it: a bad option exits 2 naming the key; SIGHUP
# reopens the log file (rotation); SIGTERM drains (open streams end cleanly)
# and exits 0 within the drain bound.
#   tests/daemon/lifecycle.sh <ssepushd>
set -euo pipefail
bin=$1
tmp=$(mktemp -d /tmp/ssepush-life.XXXXXX)
server=
cleanup() {
  [[ -n $server ]] && kill -9 "$server" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "lifecycle: $*" >&2; [[ -f $tmp/log ]] && cat "$tmp/log" >&2; exit 1; }
wait_for() {  # wait_for <seconds> <command...>
  local n=$(( $1 * 20 )); shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.05; done
  return 1
}

# 1. A bad option: status 2 and a message naming the key.
set +e
err=$("$bin" --idle-timeout soon 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 ]] || fail "a bad option exited $rc, want 2"
[[ $err == *idle_timeout* ]] || fail "the error does not name the key: $err"
echo "lifecycle: bad option -> exit 2: $err" | head -1

# 2. Start, with a log file.
"$bin" --listen 127.0.0.1:0 --log-file "$tmp/log" --log-level debug --drain-timeout 2s \
  > "$tmp/out" 2> "$tmp/err" &
server=$!
wait_for 5 grep -q "listening on" "$tmp/out" || fail "did not start: $(cat "$tmp/err")"
url=$(grep -o 'http://[0-9.:]*' "$tmp/out" | head -1)
for i in 1 2 3; do
  curl -sN "$url/event-stream?channels=life" > "$tmp/stream$i" 2>/dev/null &
  echo $! > "$tmp/curl$i"
done
for i in 1 2 3; do wait_for 5 grep -q cmd.onConnect "$tmp/stream$i" || fail "stream $i did not open"; done
grep -q "listening on" "$tmp/log" || fail "no startup line in the log"

# 3. Rotation: move the file away, SIGHUP, the daemon writes to a new one.
mv "$tmp/log" "$tmp/log.1"
kill -HUP "$server"
wait_for 5 grep -q "log reopened" "$tmp/log" || fail "SIGHUP did not reopen the log"
echo "lifecycle: SIGHUP reopened the log"

# 4. SIGTERM: drain and exit 0, streams ended by the server.
start=$(date +%s%N)
kill -TERM "$server"
set +e
wait "$server"; rc=$?
set -e
server=
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 0 ]] || fail "SIGTERM exit status $rc, want 0"
(( elapsed_ms < 5000 )) || fail "drain took ${elapsed_ms} ms (bound: 2 s drain + margin)"
for i in 1 2 3; do
  pid=$(cat "$tmp/curl$i")
  wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || fail "stream $i still open after the drain"
done
grep -q "draining" "$tmp/log" || fail "no drain line"
grep -q "stopped" "$tmp/log" || fail "no stop line"
echo "lifecycle: SIGTERM -> exit 0 in ${elapsed_ms} ms, 3 streams ended"
