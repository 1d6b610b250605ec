#!/usr/bin/env bash
# Hooklane's throughput benchmark, in one run on this machine. Prints each
# figure beside its target ("met"/"MISSED"); asserts nothing. Not part of
# tests/run.sh or CI.
#
#   1. hook calls accepted by `hooklane dev` (embedded backend, api_key auth)
#      under wrk, beside a bare hyper server answering 202 under the same load;
#   2. publish -> signed delivery to a local sink, end to end;
#   3. hook call -> http_request action reaching the sink, end to end;
#   4. peak RSS of hooklane dev;
#   5. AWS calls per inbound webhook and per published event, counted on the
#      wire (the ingress and dispatcher binaries as Lambda functions, moto
#      behind a counting proxy), priced at us-east-1 rates.
#
#   bash tests/bench.sh [--seconds 10] [--connections 64] [--drain 60]
#                       [--aws-calls 200] [--only local|aws] [--venv DIR]
#                       [--skip-build] [--keep-logs]
#
# Builds the release binaries (hooklane, ingress, dispatcher and the test
# kit's bench-bare and bench-sink) unless --skip-build; installs wrk from
# Debian's packages when it is missing (needs root). The AWS step needs
# moto_server in .venv (tests/run.sh creates it) or --venv. Loopback only;
# stops everything it started; about 3-4 minutes with the defaults.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD=1
ARGS=()
for arg in "$@"; do
  if [[ "$arg" == "--skip-build" ]]; then BUILD=0; else ARGS+=("$arg"); fi
done

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk" >&2
  (apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)) >/dev/null
fi
if [[ "$BUILD" == 1 ]]; then
  echo "==> building (release)" >&2
  cargo build --release -q -p hooklane -p hooklane-ingress -p hooklane-dispatcher \
    -p hooklane-testkit --bins
fi

BENCH_PID=""
cleanup() {
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PYTHONDONTWRITEBYTECODE=1 python3 "$ROOT/tests/bench/main.py" ${ARGS[@]+"${ARGS[@]}"} &
BENCH_PID=$!
wait "$BENCH_PID"
