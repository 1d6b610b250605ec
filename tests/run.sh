#!/usr/bin/env bash
# Hooklane's whole test run: the Rust workspace's tests against a real moto
# server (DynamoDB + SQS) and, for the web console, a headless chromium;
# then the SAM template's lint.
#
#   bash tests/run.sh [extra args for `cargo test`]
#   bash tests/run.sh -p hooklane-store           # one crate
#   bash tests/run.sh -- --nocapture              # args for the test binaries
#
# Runnable from any directory. On a fresh machine it creates .venv (python3)
# and installs the pinned Python tools below; later runs skip the install
# while .venv/.hooklane-test-pins records the same pins.
#
# Environment:
#   HOOKLANE_SKIP_CARGO=1   developer switch: skip the `cargo test` step (to
#                           check the tooling, moto start/stop and the template
#                           lint without building Rust).
#   HOOKLANE_MOTO_WAIT=30   seconds to wait for moto to answer.
#   HOOKLANE_SAM_BUILD=1    also run `sam build` (on by default when CI=true).
#
# The tests see: AWS_ENDPOINT_URL (the moto server), AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY = testing, AWS_REGION / AWS_DEFAULT_REGION = us-east-1,
# HOOKLANE_REQUIRE_MOTO=1, and every ignored test runs (`--include-ignored`:
# the tests marked `needs moto` run here, and fail if moto is not reachable),
# SAM_CLI_TELEMETRY=0, HOOKLANE_REQUIRE_BROWSER=1 (the console's browser
# test fails instead of skipping when chromium or chromedriver is missing;
# Debian's `chromium` and `chromium-driver` are installed with apt-get when
# absent, as root), and .venv/bin first on PATH (python with
# `standardwebhooks`, sam, cfn-lint, cargo-lambda, moto_server).
#
# The browser test writes docs/images/console-hook.png and
# console-endpoint.png when it passes, and keeps its screenshots under
# target/tmp/console-test-…/ when it fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PINS=(
  "moto[server]==5.2.5"
  "aws-sam-cli==1.170.0"
  "cfn-lint==1.58.0"
  "cargo-lambda==1.9.2"
  "standardwebhooks==1.1.0"
)
VENV="$ROOT/.venv"
STAMP="$VENV/.hooklane-test-pins"
MOTO_WAIT="${HOOKLANE_MOTO_WAIT:-30}"

section() { printf '\n==> %s\n' "$*"; }
die() { printf 'tests/run.sh: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ cleanup
MOTO_PID=""
RUN_DIR=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$MOTO_PID" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
    # moto runs in its own process group (setsid): stop the whole group.
    kill -TERM -- "-$MOTO_PID" 2>/dev/null || kill -TERM "$MOTO_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$MOTO_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$MOTO_PID" 2>/dev/null; then
      kill -KILL -- "-$MOTO_PID" 2>/dev/null || kill -KILL "$MOTO_PID" 2>/dev/null || true
    fi
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  if [[ -n "$RUN_DIR" && -d "$RUN_DIR" ]]; then
    if [[ $rc -eq 0 ]]; then
      rm -rf "$RUN_DIR"
    else
      printf '\ntests/run.sh: failed (exit %s); moto log kept in %s\n' "$rc" "$RUN_DIR" >&2
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- python tools
section "Python tools (.venv)"
if [[ ! -x "$VENV/bin/python" ]]; then
  command -v python3 >/dev/null || die "python3 is needed to create .venv"
  echo "creating $VENV"
  python3 -m venv "$VENV"
fi
WANT="$(printf '%s\n' "${PINS[@]}")"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/moto_server" ]]; then
  echo "pinned tools already installed"
else
  # Installed already (e.g. by hand)? Then only record the stamp.
  if "$VENV/bin/python" - "${PINS[@]}" <<'PY' 2>/dev/null && [[ -x "$VENV/bin/moto_server" ]]
import re, sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(.+)$", pin).groups()
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
  then
    echo "pinned tools found in .venv"
  else
    echo "installing: ${PINS[*]}"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "${PINS[@]}"
  fi
  printf '%s\n' "$WANT" >"$STAMP"
fi

export PATH="$VENV/bin:$PATH"
export SAM_CLI_TELEMETRY=0

# ------------------------------------------------------------------ browser
section "chromium and chromedriver (the console's browser test)"
if command -v chromedriver >/dev/null && command -v chromium >/dev/null; then
  echo "found $(command -v chromium) and $(command -v chromedriver)"
else
  command -v apt-get >/dev/null || die "chromium and chromedriver are needed: install Debian's chromium and chromium-driver"
  [[ "$(id -u)" == "0" ]] || die "chromium and chromedriver are needed: sudo apt-get install chromium chromium-driver"
  echo "installing chromium chromium-driver with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export HOOKLANE_REQUIRE_BROWSER=1

# --------------------------------------------------------------------- moto
section "moto server"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hooklane-tests.XXXXXX")"
MOTO_LOG="$RUN_DIR/moto.log"
PORT="$("$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"

# moto's own server, with DynamoDB's per-item atomicity (tests/moto_atomic.py).
MOTO=("$VENV/bin/python" "$ROOT/tests/moto_atomic.py" -H 127.0.0.1 -p "$PORT")
if command -v setsid >/dev/null; then
  setsid "${MOTO[@]}" >"$MOTO_LOG" 2>&1 </dev/null &
else
  "${MOTO[@]}" >"$MOTO_LOG" 2>&1 </dev/null &
fi
MOTO_PID=$!

moto_up() {
  "$VENV/bin/python" - "$PORT" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1).read()
except Exception:
    sys.exit(1)
PY
}
deadline=$((SECONDS + MOTO_WAIT))
until moto_up; do
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    cat "$MOTO_LOG" >&2
    die "moto_server exited before answering (log above)"
  fi
  if ((SECONDS >= deadline)); then
    cat "$MOTO_LOG" >&2
    die "moto_server did not answer on 127.0.0.1:$PORT within ${MOTO_WAIT}s (log above)"
  fi
  sleep 0.2
done
echo "moto listening on http://127.0.0.1:$PORT (pid $MOTO_PID, log $MOTO_LOG)"

# Only the emulator: never a developer's real account.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export HOOKLANE_REQUIRE_MOTO=1

# -------------------------------------------------------------------- cargo
if [[ "${HOOKLANE_SKIP_CARGO:-0}" == "1" ]]; then
  section "cargo test (skipped: HOOKLANE_SKIP_CARGO=1)"
else
  # The tests that need moto are #[ignore]d (a plain `cargo test` lists them
  # as "needs moto"); here moto is up, so they run: --include-ignored goes to
  # the test binaries, after any test-binary args the caller gave after `--`.
  CARGO_ARGS=()
  TEST_ARGS=()
  seen_dashes=0
  for arg in "$@"; do
    if ((seen_dashes)); then
      TEST_ARGS+=("$arg")
    elif [[ "$arg" == "--" ]]; then
      seen_dashes=1
    else
      CARGO_ARGS+=("$arg")
    fi
  done
  TEST_ARGS+=(--include-ignored)
  section "cargo test --workspace --locked ${CARGO_ARGS[*]} -- ${TEST_ARGS[*]}"
  command -v cargo >/dev/null || die "cargo is not on PATH (install Rust: https://rustup.rs)"
  cargo test --workspace --locked ${CARGO_ARGS[@]+"${CARGO_ARGS[@]}"} -- "${TEST_ARGS[@]}"
fi

# ----------------------------------------------------------------- template
section "sam validate --lint"
sam validate --lint --template-file infra/template.yaml

section "cfn-lint"
cfn-lint infra/template.yaml

# The Lambda build: three release binaries through SAM's rust-cargolambda
# builder (about 12 minutes on 2 cores). On in CI (CI=true) and with
# HOOKLANE_SAM_BUILD=1; skipped otherwise to keep local runs short.
if [[ "${HOOKLANE_SAM_BUILD:-${CI:-false}}" =~ ^(1|true)$ ]]; then
  section "sam build"
  sam build --build-dir "${RUN_DIR:-$ROOT/.aws-sam}/sam-build"
  for fn in IngressFunction DispatcherFunction AdminFunction; do
    [[ -x "${RUN_DIR:-$ROOT/.aws-sam}/sam-build/$fn/bootstrap" ]] || die "sam build made no bootstrap for $fn"
  done
else
  section "sam build (skipped: set HOOKLANE_SAM_BUILD=1, as CI does)"
fi

section "all passed"
