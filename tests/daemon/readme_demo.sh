#!/usr/bin/env bash
# The README's run command (tools/dev/demo.sh) serves the demo chat at the URL
# it prints. Run from the source tree; PORT=0 picks a free port.
#   tests/daemon/readme_demo.sh <source-dir>
set -euo pipefail
src=$1
tmp=$(mktemp -d /tmp/ssepush-readme.XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$src"
PORT=0 setsid tools/dev/demo.sh > "$tmp/out" 2> "$tmp/err" &
pid=$!
for _ in $(seq 1 600); do  # the build is normally up to date: seconds, not minutes
  grep -q "listening on" "$tmp/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; echo "readme_demo: demo.sh exited" >&2; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://[0-9.:]*/' "$tmp/out" | head -1)
[[ -n $url ]] || { cat "$tmp/out" "$tmp/err" >&2; echo "readme_demo: no URL printed" >&2; exit 1; }
page=$(curl -fsS "$url")
[[ $page == *"ssepushd chat"* && $page == *EventSource* ]] || { echo "readme_demo: $url is not the chat page" >&2; exit 1; }
# The demo's publish key works as the README's curl line shows.
curl -fsS -X POST -H "Authorization: Bearer demo-key" \
     "${url}event-publish/channel/home?selector=cmd.chat" -d '{"message":"hi"}' | grep -q '"published":1'
echo "readme_demo: $url serves the chat page and the demo publish key works"
