#!/usr/bin/env bash
# docs/scale-out.md's two-node example, run for real: two ssepushd on one
# redis-server act as one (a subscriber on node 1 hears what node 2
# publishes, node 2 lists node 1's subscriber), /health and /metrics show the
# Redis link, and when Redis is killed each node keeps serving its own
# subscribers, then both come back when it returns.
#   tests/daemon/scale_out.sh <ssepushd>
set -euo pipefail
bin=$1
command -v redis-server >/dev/null || { echo "scale_out: redis-server is not installed" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ssepush-scale.XXXXXX)
pids=()
redis_pid=
cleanup() {
  for p in "${pids[@]}" $redis_pid; do kill -9 "$p" 2>/dev/null || true; done
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "scale_out: $*" >&2
  for f in "$tmp"/node*.err; do echo "--- $f" >&2; tail -20 "$f" >&2; done
  exit 1
}
wait_for() {  # wait_for <seconds> <command...>
  local n=$(( $1 * 20 )); shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.05; done
  return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rport=$(free_port)
start_redis() {
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --logfile /dev/null &
  redis_pid=$!
  wait_for 10 redis-cli -p "$rport" ping >/dev/null 2>&1 || fail "redis-server did not start"
}
start_redis

for n in 1 2; do
  "$bin" --listen 127.0.0.1:0 --shards 2 --redis "redis://127.0.0.1:$rport" --publish-key k1 \
    > "$tmp/node$n.out" 2> "$tmp/node$n.err" &
  pids+=($!)
done
for n in 1 2; do
  wait_for 10 grep -q "listening on" "$tmp/node$n.out" || fail "node $n did not start"
done
url1=$(grep -o 'http://[0-9.:]*' "$tmp/node1.out" | head -1)
url2=$(grep -o 'http://[0-9.:]*' "$tmp/node2.out" | head -1)
redis_up() { curl -sf "$1/health" | grep -q '"redis":"up"'; }
for u in "$url1" "$url2"; do wait_for 10 redis_up "$u" || fail "$u: redis link not up"; done
curl -sf "$url1/metrics" | grep -qx 'ssepush_redis_subscribed 1' || fail "metrics: not subscribed"
curl -sf "$url1/metrics" | grep -qx 'ssepush_redis_command_links_up 2' || fail "metrics: links"

# A subscriber on node 1 hears what is published on node 2.
curl -sN "$url1/event-stream?channels=home" > "$tmp/stream" 2>/dev/null &
wait_for 5 grep -q cmd.onConnect "$tmp/stream" || fail "the stream did not open"
publish() {  # publish <node url> <body>
  curl -sf -X POST -H 'Authorization: Bearer k1' \
    "$1/event-publish/channel/home?selector=cmd.chat" -d "$2" > /dev/null
}
publish "$url2" '{"message":"hi"}'
wait_for 5 grep -q 'data: home@cmd.chat {"message":"hi"}' "$tmp/stream" ||
  fail "node 2's message did not reach node 1's subscriber"
echo "scale_out: a subscriber on node 1 got node 2's message"
# Node 2 lists node 1's subscriber.
id=$(grep -o '"id":"[A-Za-z0-9]*"' "$tmp/stream" | head -1 | cut -d'"' -f4)
curl -sf "$url2/event-subscribers?channels=home" | grep -q '"userId"' ||
  fail "node 2 does not list node 1's subscriber"
# A ServiceStack server's message, as redis-cli publishes it.
redis-cli -p "$rport" PUBLISH sse:topic 'notify.channel.home cmd.chat {"message":"from .NET"}' >/dev/null
wait_for 5 grep -q 'from .NET' "$tmp/stream" || fail "redis-cli PUBLISH did not arrive"
# A heartbeat for it through node 2 (it is held by node 1).
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$url2/event-heartbeat?id=$id") == 200 ]] ||
  fail "heartbeat through node 2 refused"
wait_for 5 grep -q 'cmd.onHeartbeat' "$tmp/stream" || fail "no onHeartbeat after a heartbeat via node 2"
echo "scale_out: node 2 lists it and passes its heartbeat on"

# Redis killed: node 1 still serves its own subscriber; health says so.
kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
redis_down() { curl -sf "$1/health" | grep -q '"redis":"down"'; }
wait_for 10 redis_down "$url1" || fail "health does not show redis down"
curl -sf "$url1/metrics" | grep -qx 'ssepush_redis_subscribed 0' || fail "metrics still subscribed"
publish "$url1" '{"message":"during"}'
wait_for 5 grep -q 'during' "$tmp/stream" || fail "node 1's own subscriber missed a local message"
echo "scale_out: with Redis gone, node 1 still serves its subscriber"

# Redis back (empty): links come back, the subscription is stored again,
# node 2's messages flow again.
start_redis
for u in "$url1" "$url2"; do wait_for 15 redis_up "$u" || fail "$u: redis link did not come back"; done
wait_for 10 bash -c "redis-cli -p $rport exists sse:id:$id | grep -qx 1" ||
  fail "the subscription was not stored again"
publish "$url2" '{"message":"after"}'
wait_for 5 grep -q 'after' "$tmp/stream" || fail "cross-node delivery did not resume"
echo "scale_out: Redis back: subscription stored again, node 2's messages arrive"
# Node 1 stopped (SIGTERM): its subscription leaves Redis, node 2 goes on.
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "node 1 exited with $?"
[[ $(redis-cli -p "$rport" exists "sse:id:$id") == 0 ]] || fail "node 1 left its subscription in Redis"
redis_up "$url2" || fail "node 2 lost Redis when node 1 stopped"
echo "scale_out: node 1 stopped and took its subscription out of Redis; node 2 serves on"
kill -TERM "${pids[1]}"
wait "${pids[1]}" || fail "node 2 exited with $?"
pids=()
echo "scale_out: passed"
