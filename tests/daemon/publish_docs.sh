#!/usr/bin/env bash
# Runs the shell examples of docs/publish-api.md, in order, against a real
# ssepushd, then checks what the example subscriber received.
#   tests/daemon/publish_docs.sh <ssepushd> <docs/publish-api.md>
set -euo pipefail
bin=$1
doc=$2
TMPDIR=$(mktemp -d /tmp/ssepush-docs.XXXXXX)
export TMPDIR
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$TMPDIR"
}
trap cleanup EXIT

KEY=docs-test-key-$$
"$bin" --listen 127.0.0.1:0 --publish-key "$KEY" --log-level warn > "$TMPDIR/server.out" 2> "$TMPDIR/server.err" &
server=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$TMPDIR/server.out" 2>/dev/null && break
  sleep 0.05
done
SSEPUSHD=$(grep -o 'http://[0-9.:]*' "$TMPDIR/server.out" | head -1)
[[ -n $SSEPUSHD ]] || { cat "$TMPDIR/server.err"; echo "publish_docs: server did not start" >&2; exit 1; }
export SSEPUSHD KEY

# The ```sh blocks, in order, as one script.
awk '/^```sh$/{on=1; next} /^```$/{on=0} on' "$doc" > "$TMPDIR/examples.sh"
echo "publish_docs: running $(grep -c '^curl\|^SUB=\|^until' "$TMPDIR/examples.sh") example lines"
( set -euo pipefail; cd "$TMPDIR"; timeout 60 bash -euo pipefail "$TMPDIR/examples.sh" ) \
  > "$TMPDIR/examples.out"
cat "$TMPDIR/examples.out"

# What the documented subscriber must have received, in this order.
expect() {
  for _ in $(seq 1 50); do grep -qF "$1" "$TMPDIR/stream.txt" && return 0; sleep 0.1; done
  echo "publish_docs: the subscriber never got: $1" >&2; cat "$TMPDIR/stream.txt" >&2; exit 1
}
expect 'data: news@cmd.headline {"title":"ssepush 1.0 released"}'
expect 'data: cmd.announce "maintenance at 22:00"'
expect 'data: cmd.private {"hello":"you"}'
expect 'data: cmd.toggle$#channels '
expect 'data: news@cmd.headline {"title":"two"}'
expect 'data: cmd.tick '
grep -qF '{"published":3}' "$TMPDIR/examples.out"
grep -qF '"error":"invalid selector' "$TMPDIR/examples.out"
echo "publish_docs: every example ran and the subscriber received what the doc says"
