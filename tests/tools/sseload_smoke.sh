#!/usr/bin/env bash
# sseload against a real ssepushd, one short run per scenario. sseload's own
# verdict is the assertion: it exits 1 when a frame was lost, duplicated or
# reordered, a publish or heartbeat failed, or a connection failed or dropped.
# The JSON results are checked for the figures each scenario must show.
#   tests/tools/sseload_smoke.sh <ssepushd> <sseload>
set -euo pipefail
ssepushd=$1
sseload=$2
tmp=$(mktemp -d /tmp/sseload-smoke.XXXXXX)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "sseload_smoke: $*" >&2; exit 1; }
# The number after "key": in a JSON file's given object (flat lookup).
num() { grep -o "\"$2\":{[^}]*" "$1" | grep -o "\"$3\":[0-9.e+-]*" | head -1 | cut -d: -f2; }

"$ssepushd" --listen 127.0.0.1:0 --shards 2 --publish-key smoke --heartbeat-interval 500ms \
  --idle-timeout 5s --log-level warn > "$tmp/out" 2> "$tmp/err" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/out" | head -1)
[[ -n $url ]] || fail "ssepushd did not start: $(cat "$tmp/err")"

run() {  # run <name> <sseload options...>
  local name=$1; shift
  echo "--- $name: sseload $*"
  if ! "$sseload" --url "$url" --publish-key smoke --server-pid "$server" --status off \
       --json "$tmp/$name.json" --drain 5 --timeout 60 "$@" > "$tmp/$name.txt" 2>&1; then
    cat "$tmp/$name.txt" >&2
    fail "$name: sseload failed"
  fi
  grep -E "messages|integrity|latency|heartbeats|verdict" "$tmp/$name.txt" || true
}

# Broadcast: every subscriber gets every message.
run broadcast --scenario broadcast --connections 300 --rate 200 --duration 2 --warmup 0.5
pub=$(num "$tmp/broadcast.json" messages published)
got=$(num "$tmp/broadcast.json" messages delivered)
[[ $pub -gt 100 ]] || fail "broadcast published only $pub"
[[ $got -eq $((pub * 300)) ]] || fail "broadcast delivered $got, want $pub x 300"

# Channels: 40 channels, each subscriber on 3, two publishers.
run channels --scenario channels --connections 300 --channels 40 --channels-per-sub 3 \
  --publishers 2 --rate 400 --duration 2 --warmup 0.5
got=$(num "$tmp/channels.json" messages delivered)
[[ $got -gt 0 ]] || fail "channels delivered nothing"

# Churn: a fifth of the connections reconnect every second, while publishing.
run churn --scenario churn --connections 300 --channels 10 --channels-per-sub 2 \
  --churn-share 0.2 --rate 300 --duration 3 --warmup 0.5
rec=$(num "$tmp/churn.json" connections reconnects)
[[ $rec -gt 50 ]] || fail "churn reconnected only $rec connections"

# Slow readers: 5 % stop reading; the others still get everything.
run slow --scenario slow --connections 200 --slow-share 0.05 --rate 200 --message-size 2000 \
  --duration 2 --warmup 0.5
slow=$(num "$tmp/slow.json" connections slow)
[[ $slow -eq 10 ]] || fail "slow: $slow slow subscribers, want 10"

# Idle: heartbeats at the announced 500 ms, each answered and echoed as onHeartbeat.
run idle --scenario idle --connections 200 --duration 2 --warmup 0.5
hb=$(num "$tmp/idle.json" heartbeats ok)
onhb=$(num "$tmp/idle.json" heartbeats on_heartbeat)
[[ $hb -ge 400 ]] || fail "idle: only $hb heartbeats answered"
[[ $onhb -ge 400 ]] || fail "idle: only $onhb onHeartbeat events"

# The generic publisher: a plain POST of the message to a path template.
run post --scenario channels --connections 100 --channels 5 --rate 100 --duration 1 --warmup 0.5 \
  --publish post --publish-path '/event-publish/channel/{channel}?selector=cmd.bench'
got=$(num "$tmp/post.json" messages delivered)
[[ $got -gt 0 ]] || fail "post delivered nothing"

# A wrong publish key must fail the run (sseload is not a test that cannot fail).
if "$sseload" --url "$url" --publish-key wrong --status off --connections 10 --duration 0.5 \
     --warmup 0 --timeout 30 > "$tmp/wrong.txt" 2>&1; then
  fail "a run whose publishes were all refused passed"
fi
grep -q "publish answered 403" "$tmp/wrong.txt" || fail "no 403 in: $(cat "$tmp/wrong.txt")"
echo "sseload_smoke: every scenario passed with zero lost frames"
