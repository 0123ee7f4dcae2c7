#!/usr/bin/env bash
# `make bench`: runs `herald bench` (docs/BENCHMARKS.md) against a throw-away stack it starts
# itself: a Temporal dev server with the settings of ARCHITECTURE.md on a free port, and
# apprise-lite (the real apprise library behind a minimal Apprise API) on another. Herald is
# built in release mode. Arguments go to `herald bench` (e.g. `scripts/bench.sh --quick`).
# SKIP_BUILD=1 uses an existing release build (in $CARGO_TARGET_DIR when set), HERALD_BIN another
# binary. Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

: "${TEMPORAL:=.tools/py/bin/temporal}"
TOOLS_PY=$(cd "$(dirname "$TEMPORAL")/.." && pwd)

make --no-print-directory tools

work=$(mktemp -d)
temporal_pid=""
apprise_pid=""
cleanup() {
  trap - EXIT INT TERM
  for pid in $apprise_pid $temporal_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  echo "Building Herald in release mode ..."
  cargo build --release --locked --bin herald
fi

t_port=$(free_port)
echo "Starting a Temporal dev server on 127.0.0.1:$t_port (WAL, eager activities) ..."
"$TEMPORAL" server start-dev --headless --ip 127.0.0.1 --port "$t_port" --log-level error \
  --db-filename "$work/temporal.db" \
  --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
  --dynamic-config-value system.enableActivityEagerExecution=true >"$work/temporal.log" 2>&1 &
temporal_pid=$!
wait_port 127.0.0.1 "$t_port" 60 "the Temporal dev server" || { cat "$work/temporal.log"; exit 1; }

a_port=$(free_port)
echo "Starting apprise-lite on 127.0.0.1:$a_port ..."
PYTHONPATH=$TOOLS_PY${PYTHONPATH:+:$PYTHONPATH} python3 scripts/apprise-lite.py --host 127.0.0.1 --port "$a_port" \
  >"$work/apprise.log" 2>&1 &
apprise_pid=$!
wait_port 127.0.0.1 "$a_port" 30 "apprise-lite" || { cat "$work/apprise.log"; exit 1; }

export HERALD_TEMPORAL_ADDRESS=http://127.0.0.1:$t_port
export HERALD_APPRISE_URL=http://127.0.0.1:$a_port
# A fresh temporary database unless HERALD_DATABASE_URL is set; the worker's files go there too.
export HERALD_DATA_DIR=${HERALD_DATA_DIR:-$work/data}
echo
"${HERALD_BIN:-${CARGO_TARGET_DIR:-target}/release/herald}" bench "$@"
