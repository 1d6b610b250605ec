#!/usr/bin/env bash
# Throughput and memory of `hooklane dev` on this machine (embedded backend):
# accepted hook calls per second and latency under wrk, the time the
# dispatcher takes to run every accepted call, and the process's peak RSS.
# Prints figures; asserts nothing. Not part of tests/run.sh.
#
#   bash tests/bench.sh [seconds=10] [connections=32]
#
# Installs wrk from Debian's packages when it is missing (needs root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_RUN="${1:-10}"
CONNS="${2:-32}"

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
echo "==> building (release)"
cargo build --release --bin hooklane -q

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
TOKEN="bench-$(date +%s)"
DEV_PID=""
cleanup() { [[ -n "$DEV_PID" ]] && kill "$DEV_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

HOOKLANE_ADMIN_TOKEN="$TOKEN" HOOKLANE_LOG=warn ./target/release/hooklane dev \
  --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/dev.log" 2>&1 &
DEV_PID=$!
B="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.1; done

curl -sf -X POST "$B/v1/bots" -H "Authorization: Bearer $TOKEN" -d '{"name": "bench", "id": "bench"}' >/dev/null
HOOK="$(curl -sf -X POST "$B/v1/bots/bench/hooks" -H "Authorization: Bearer $TOKEN" \
  -d '{"name": "bench", "auth": {"type": "none"}, "actions": [{"type": "set_variable", "name": "last", "value": "{payload.n}"}]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"n": 1, "user": {"name": "Ada"}, "variables": [{"name": "Amount", "variable": "{amount}", "value": "12"}]}'
LUA

echo "==> wrk: $SECONDS_RUN s, $CONNS connections, POST /hooks/bench/$HOOK"
start_runs=$(date +%s.%N)
wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s "$WORK/post.lua" "$B/hooks/bench/$HOOK" | tee "$WORK/wrk.txt"
accepted_end=$(date +%s.%N)

echo "==> waiting for the dispatcher to drain the queue"
python3 - "$WORK/data/hooklane.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
t0 = time.time()
while True:
    n = db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    if n == 0:
        break
    time.sleep(0.2)
print(f"queue drained {time.time() - t0:.1f} s after the load stopped")
PY
RSS_KB="$(grep VmHWM /proc/$DEV_PID/status | awk '{print $2}')"
echo "==> peak RSS of hooklane dev: $((RSS_KB / 1024)) MiB"
