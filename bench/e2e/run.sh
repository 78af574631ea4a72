#!/usr/bin/env bash
# bench/e2e/run.sh: ssepushd and nchan on the same sseload scenarios, one after
# the other on this machine, with the ratios printed at the end.
#
#   bench/e2e/run.sh [--quick] [--pin] [--only NAME[,NAME...]] [--out DIR]
#
#   --quick   small and short (a smoke run of the script itself, ~2 min)
#   --pin     pin the server to CPU 0 and sseload to CPU 1 (both servers alike;
#             nginx's master and workers all go to CPU 0). Default: no pinning,
#             server and load generator share both cores, as the kernel decides.
#   --only    run only these scenarios (names below)
#   --out     where results go (default build/release/e2e-<date>)
#
# Each scenario starts a fresh server, runs sseload against it with
# --server-pid (CPU and RSS of the server and its children), stops it, then
# does the same with nchan (../shared/peers/nchan, 127.0.0.1:8091). The
# servers never run at the same time. Per scenario it writes NAME-ssepushd.json,
# NAME-nchan.json and NAME.html (both runs overlaid), and at the end
# summary.md, the table for bench/RESULTS.md.
#
# Scenarios (the same sseload options for both servers; publishes are pipelined
# 16 deep, so a server that can batch may, and one that cannot falls behind):
#   broadcast-10k    10,000 subscribers on one channel, 100 msg/s offered (1 M deliveries/s)
#   latency-10k      10,000 subscribers at 5 msg/s, a load both servers carry
#   broadcast-39k    39,000 at 10 msg/s (390 k/s offered). 39,000 is nchan's ceiling (2
#                    workers x 19,800 fds); its reuseport split is uneven, so a few
#                    percent of its connections fail
#   broadcast-37k    37,000 at 10 msg/s, where nchan takes every connection
#   broadcast-100k   100,000 subscribers at 3 msg/s, ssepushd alone (6 shards)
#   idle-100k        100,000 ServiceStack subscriptions, 10 s heartbeats, ssepushd alone
#   channels         10,000 subscribers, 1,000 channels, 2,000 msg/s, zero loss
#   churn            10,000 subscribers on 100 channels, 5 % reconnecting every second,
#                    500 msg/s, zero loss
#   slowbase, slow   10,000 subscribers at 4 msg/s of 512 B, then the same with 1 % not
#                    reading: the others' p99 must not rise by 20 %
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
quick=0 pin=0 only="" out=""
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --pin) pin=1 ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
peers=$root/../shared/peers
[[ -x $peers/nchan/start.sh || -f $peers/nchan/start.sh ]] || { echo "run.sh: $peers/nchan not found" >&2; exit 2; }
command -v nginx >/dev/null || { echo "run.sh: nginx/nchan missing: run 'bash $peers/install.sh' as root" >&2; exit 2; }

cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target ssepushd sseload >/dev/null
ssepushd=$root/build/release/tools/ssepushd/ssepushd
sseload=$root/build/release/tools/sseload/sseload
out=${out:-$root/build/release/e2e-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
port=18480
key=bench

server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  bash "$peers/nchan/stop.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

load_cpu=() server_cpu=() server_pin=()
# ssepushd pins shard i to CPU i by default; with --pin it leaves that to taskset.
if ((pin)); then load_cpu=(taskset -c 1); server_cpu=(taskset -c 0); server_pin=(--no-pin-threads); fi

start_ssepushd() {  # start_ssepushd <shards>
  "${server_cpu[@]}" "$ssepushd" --listen 127.0.0.1:$port --shards "$1" --publish-key $key "${server_pin[@]}" \
    --no-notify-channel-of-subscriptions --log-level warn > "$out/ssepushd.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.05; done
  echo "run.sh: ssepushd did not start" >&2; cat "$out/ssepushd.log" >&2; exit 1
}
stop_ssepushd() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; }
start_nchan() {
  bash "$peers/nchan/stop.sh" >/dev/null 2>&1 || true
  bash "$peers/nchan/start.sh" >/dev/null
  nchan_pid=$(cat "${PEERS_STATE:-/tmp/ssepush-peers}/nchan/run/start.pid")
  if ((pin)); then
    for p in $nchan_pid $(cat /proc/$nchan_pid/task/$nchan_pid/children); do taskset -a -p -c 0 "$p" >/dev/null; done
  fi
}
stop_nchan() { bash "$peers/nchan/stop.sh" >/dev/null; }

# sseload against ssepushd / nchan with the same scenario options.
run_ssepushd() {  # run_ssepushd <name> <shards> <sseload options...>
  local name=$1 shards=$2; shift 2
  start_ssepushd "$shards"
  echo "=== $name: ssepushd ($shards shards)"
  "${load_cpu[@]}" "$sseload" --url http://127.0.0.1:$port --publish-key $key --label ssepushd \
    --server-pid "$server_pid" --json "$out/$name-ssepushd.json" --status-interval 2 "$@" \
    | tee "$out/$name-ssepushd.txt" || true
  stop_ssepushd
}
run_nchan() {  # run_nchan <name> <sseload options...>
  local name=$1; shift
  start_nchan
  echo "=== $name: nchan (2 workers)"
  "${load_cpu[@]}" "$sseload" --url http://127.0.0.1:8091 --flavour plain --label nchan \
    --server-pid "$nchan_pid" --json "$out/$name-nchan.json" --status-interval 2 "$@" \
    | tee "$out/$name-nchan.txt" || true
  stop_nchan
}
wanted() { [[ -z $only || ",$only," == *",$1,"* ]]; }
report() {  # report <name>: one HTML page with every run of the scenario
  local files=()
  for f in "$out/$1-ssepushd.json" "$out/$1-nchan.json"; do [[ -f $f ]] && files+=("$f"); done
  "$sseload" report "$out/$1.html" "${files[@]}" >/dev/null
}

if ((quick)); then n10=2000 n37=3500 n39=4000 n100=8000 dur=4 idle=8; else n10=10000 n37=37000 n39=39000 n100=100000 dur=20 idle=40; fi
both() {  # both <name> <ssepushd shards> <sseload options...>
  local name=$1 shards=$2; shift 2
  wanted "$name" || return 0
  run_ssepushd "$name" "$shards" "$@"
  run_nchan "$name" "$@"
  report "$name"
}
alone() {
  local name=$1 shards=$2; shift 2
  wanted "$name" || return 0
  run_ssepushd "$name" "$shards" "$@"
  report "$name"
}

common=(--warmup 2 --drain 20 --publish-pipeline 16 --connect-rate 10000)
both broadcast-10k 2 --scenario broadcast --connections $n10 --rate 100 --duration $dur "${common[@]}"
both latency-10k 2 --scenario broadcast --connections $n10 --rate 5 --duration $dur "${common[@]}"
both broadcast-39k 2 --scenario broadcast --connections $n39 --rate 10 --duration $dur "${common[@]}" \
  --connect-rate 5000
both broadcast-37k 2 --scenario broadcast --connections $n37 --rate 10 --duration $dur "${common[@]}" \
  --connect-rate 5000
both channels 2 --scenario channels --connections $n10 --channels 1000 --rate 2000 \
  --publishers 4 --duration $dur "${common[@]}"
both churn 2 --scenario churn --connections $n10 --channels 100 --churn-share 0.05 --rate 500 \
  --publishers 2 --duration $dur "${common[@]}"
both slowbase 2 --scenario broadcast --connections $n10 --rate 4 --message-size 512 \
  --duration $dur "${common[@]}"
both slow 2 --scenario slow --connections $n10 --slow-share 0.01 --rate 4 --message-size 512 \
  --duration $dur "${common[@]}"
alone broadcast-100k 6 --scenario broadcast --connections $n100 --rate 3 --duration $dur \
  "${common[@]}"
alone idle-100k 6 --scenario idle --connections $n100 --duration $idle --warmup 2 --connect-rate 10000

# --- summary -----------------------------------------------------------------------
summary=$out/summary.md
{
  echo "# e2e: ssepushd vs nchan, $(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Linux $(uname -r)"
  echo
  if ((pin)); then echo "Pinned: server on CPU 0, sseload on CPU 1."; else echo "Not pinned: server and sseload share both CPUs."; fi
  echo
  echo "| scenario | server | subscribers | deliveries/s | p50 ms | p99 ms | lost+dup+ooo | failed | server CPU % | server RSS MiB | B/conn |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$summary"
field() {  # field <json> <object> <key>
  grep -o "\"$2\":{[^}]*" "$1" | grep -o "\"$3\":[0-9.e+-]*" | head -1 | cut -d: -f2
}
for j in "$out"/*-ssepushd.json "$out"/*-nchan.json; do
  [[ -f $j ]] || continue
  base=$(basename "$j" .json); name=${base%-*}; server=${base##*-}
  awk -v n="$name" -v s="$server" -v c="$(field "$j" connections open_after_connect)" \
      -v d="$(field "$j" messages deliveries_per_s)" -v p50="$(field "$j" latency_us p50)" \
      -v p99="$(field "$j" latency_us p99)" -v l="$(field "$j" messages lost)" \
      -v du="$(field "$j" messages duplicated)" -v o="$(field "$j" messages out_of_order)" \
      -v f="$(field "$j" connections failed)" -v cpu="$(field "$j" server cpu_pct_avg)" \
      -v rss="$(field "$j" server rss_kib_peak)" -v bpc="$(field "$j" server rss_bytes_per_conn)" \
      'BEGIN { printf "| %s | %s | %d | %.0f | %.1f | %.1f | %d | %d | %.0f | %.0f | %.0f |\n", n, s, c, d, p50/1000, p99/1000, l+du+o, f, cpu, rss/1024, bpc }' >> "$summary"
done
{
  echo
  echo "| scenario | deliveries/s ssepushd / nchan | p99 ssepushd / nchan |"
  echo "|---|---:|---:|"
  for j in "$out"/*-ssepushd.json; do
    name=$(basename "$j" -ssepushd.json); n=$out/$name-nchan.json
    [[ -f $n ]] || continue
    awk -v a="$(field "$j" messages deliveries_per_s)" -v b="$(field "$n" messages deliveries_per_s)" \
        -v pa="$(field "$j" latency_us p99)" -v pb="$(field "$n" latency_us p99)" -v n="$name" \
        'BEGIN { printf "| %s | %.2fx | %.2fx |\n", n, (b>0?a/b:0), (pb>0?pa/pb:0) }'
  done
} >> "$summary"
echo
cat "$summary"
echo
echo "results, reports (.html) and logs: $out"
