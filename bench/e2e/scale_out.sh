#!/usr/bin/env bash
# bench/e2e/scale_out.sh: what Redis scale-out costs and gives, on the same
# sseload load, one setup after the other on this machine:
#
#   memory     one ssepushd, memory provider, 2 shards (the baseline)
#   redis-1    one ssepushd on Redis, 2 shards: every message goes through
#              Redis and back before it is delivered
#   redis-2    two ssepushd on the same Redis, 1 shard each: sseload's
#              workers spread their streams over both nodes, messages are
#              published on node 1 and reach node 2's subscribers through Redis
#
#   bench/e2e/scale_out.sh [--quick] [--out DIR]    (BUILD=build/release by default)
#
# Scenarios: broadcast (N subscribers on one channel, 100 msg/s offered),
# broadcast-max (the same, published as fast as deliveries keep up: --rate 0,
# at most 4 messages in flight) and channels (1,000 channels, 2 each of 10,000
# subscribers' channels, 2,000 msg/s). Per setup it writes NAME-SETUP.json and per scenario NAME.html, and
# at the end summary.md. redis-server runs on 127.0.0.1:<free port>, without
# persistence; all processes share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
quick=0 out=""
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale_out.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v redis-server >/dev/null || { echo "scale_out.sh: redis-server missing (tools/dev/install-deps.sh)" >&2; exit 2; }
build=${BUILD:-build/release}
if [[ $build == build/release ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$(nproc)" --target ssepushd sseload >/dev/null
fi
ssepushd=$root/$build/tools/ssepushd/ssepushd
sseload=$root/$build/tools/sseload/sseload
out=${out:-$root/$build/scale-out-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
key=bench
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

pids=() redis_pid=
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  if [[ -n $redis_pid ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  redis_pid=
}
trap stop_all EXIT

start_redis() {
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --logfile "$out/redis.log" &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "scale_out.sh: redis-server did not start" >&2; exit 1
}
start_node() {  # start_node <port> <shards> [ssepushd options...]
  local port=$1 shards=$2; shift 2
  "$ssepushd" --listen 127.0.0.1:$port --shards "$shards" --publish-key $key \
    --no-notify-channel-of-subscriptions --log-level warn "$@" > "$out/node-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$port/health" | grep -qv '"redis":"down"'; then return 0; fi
    sleep 0.05
  done
  echo "scale_out.sh: ssepushd on $port did not start" >&2; cat "$out/node-$port.log" >&2; exit 1
}

run() {  # run <name> <setup> <sseload options...>
  local name=$1 setup=$2; shift 2
  local urls=(--url http://127.0.0.1:18501)
  case $setup in
    memory) start_node 18501 2 ;;
    redis-1) start_redis; start_node 18501 2 --redis "redis://127.0.0.1:$rport" ;;
    redis-2)
      start_redis
      start_node 18501 1 --redis "redis://127.0.0.1:$rport"
      start_node 18502 1 --redis "redis://127.0.0.1:$rport"
      urls+=(--url http://127.0.0.1:18502) ;;
  esac
  echo "=== $name: $setup"
  "$sseload" "${urls[@]}" --publish-url http://127.0.0.1:18501 --publish-key $key \
    --label "$setup" --server-pid "${pids[0]}" --json "$out/$name-$setup.json" \
    --status-interval 2 "$@" | tee "$out/$name-$setup.txt" || true
  stop_all
}

if ((quick)); then n=2000 dur=4; else n=10000 dur=20; fi
common=(--warmup 2 --drain 20 --publish-pipeline 16 --connect-rate 10000 --workers 2)
for setup in memory redis-1 redis-2; do
  run broadcast "$setup" --scenario broadcast --connections $n --rate 100 --duration $dur "${common[@]}"
done
"$sseload" report "$out/broadcast.html" "$out"/broadcast-{memory,redis-1,redis-2}.json >/dev/null
for setup in memory redis-1 redis-2; do
  run broadcast-max "$setup" --scenario broadcast --connections $n --rate 0 --window 4 \
    --duration $dur "${common[@]}"
done
"$sseload" report "$out/broadcast-max.html" "$out"/broadcast-max-*.json >/dev/null
for setup in memory redis-1 redis-2; do
  run channels "$setup" --scenario channels --connections $n --channels 1000 --channels-per-sub 2 \
    --rate 2000 --duration $dur "${common[@]}"
done
"$sseload" report "$out/channels.html" "$out"/channels-*.json >/dev/null

# summary.md: deliveries/s, latency, loss and the first node's CPU, per setup.
field() {  # field <json> <object> <key>
  grep -o "\"$2\":{[^}]*" "$1" | grep -o "\"$3\":[0-9.e+-]*" | head -1 | cut -d: -f2
}
{
  echo "| scenario | setup | subscribers | deliveries/s | p50 ms | p99 ms | lost+dup+ooo | failed | node 1 CPU % |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for name in broadcast broadcast-max channels; do
    for setup in memory redis-1 redis-2; do
      j=$out/$name-$setup.json
      [[ -f $j ]] || continue
      awk -v n="$name" -v s="$setup" -v c="$(field "$j" connections open_after_connect)" \
          -v d="$(field "$j" messages deliveries_per_s)" -v p50="$(field "$j" latency_us p50)" \
          -v p99="$(field "$j" latency_us p99)" -v l="$(field "$j" messages lost)" \
          -v du="$(field "$j" messages duplicated)" -v o="$(field "$j" messages out_of_order)" \
          -v f="$(field "$j" connections failed)" -v cpu="$(field "$j" server cpu_pct_avg)" \
          'BEGIN { printf "| %s | %s | %d | %.0f | %.1f | %.1f | %d | %d | %.0f |\n", n, s, c, d, p50/1000, p99/1000, l+du+o, f, cpu }'
    done
  done
} > "$out/summary.md"
cat "$out/summary.md"
echo "scale_out.sh: results in $out"
