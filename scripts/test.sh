#!/usr/bin/env bash
# `make test`: every test, with a fresh Temporal dev server on a free port. Postgres tests run
# when HERALD_TEST_POSTGRES_URL is set (each test creates and drops its own database).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

: "${TEMPORAL:=.tools/py/bin/temporal}"
TEMPORAL=$(cd "$(dirname "$TEMPORAL")" && pwd)/$(basename "$TEMPORAL")
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# The browser test (tests/it/browser.rs) needs Debian's Chromium and chromedriver. Installed here
# when missing and we are root; otherwise say how, and that test fails with the same advice.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "Chromium and chromedriver are missing; the browser test needs them."
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; then
    echo "Installed Chromium and chromedriver."
  else
    echo "warning: not installed, so the browser test will fail. Install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends chromium chromium-driver" >&2
  fi
fi

work=$(mktemp -d)
port=$(free_port)
cleanup() {
  [[ -n ${temporal_pid:-} ]] && kill -TERM "$temporal_pid" 2>/dev/null && wait "$temporal_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "Starting a Temporal dev server for the tests on 127.0.0.1:$port ..."
"$TEMPORAL" server start-dev --headless --ip 127.0.0.1 --port "$port" --log-level error \
  --dynamic-config-value system.enableActivityEagerExecution=true >"$work/temporal.log" 2>&1 &
temporal_pid=$!
wait_port 127.0.0.1 "$port" 60 "the Temporal dev server" || { cat "$work/temporal.log"; exit 1; }

export HERALD_TEST_TEMPORAL_ADDRESS=http://127.0.0.1:$port
export HERALD_TEST_TEMPORAL_BIN=$TEMPORAL
# Python packages from `make tools` (the icalendar parser used to check .ics files).
export HERALD_TEST_PYTHONPATH=$(dirname "$(dirname "$TEMPORAL")")

filter=()
if [[ -n ${HERALD_TEST_POSTGRES_URL:-} ]]; then
  echo "Postgres tests: on (${HERALD_TEST_POSTGRES_URL%%@*}@…)"
else
  echo "Postgres tests: off (set HERALD_TEST_POSTGRES_URL to run them)"
  if [[ ${CI:-} == true ]]; then
    echo "error: CI=true but HERALD_TEST_POSTGRES_URL is not set; no test may be skipped in CI" >&2
    exit 1
  fi
  filter=(-E 'not test(/::postgres$/)')
fi

echo "Validating docker-compose.yml, the Dockerfile and .dockerignore (Docker Compose, the Compose schema, Herald's own checks) ..."
PYTHONPATH=$(dirname "$(dirname "$TEMPORAL")")${PYTHONPATH:+:$PYTHONPATH} python3 scripts/validate-compose.py
echo "Checking that the validator catches each kind of broken container file ..."
PYTHONPATH=$(dirname "$(dirname "$TEMPORAL")")${PYTHONPATH:+:$PYTHONPATH} python3 scripts/validate-compose.py --self-test

profile=default
[[ ${CI:-} == true ]] && profile=ci
cargo nextest run --workspace --locked --profile "$profile" "${filter[@]}"
cargo test --workspace --locked --doc
