#!/usr/bin/env bash
# `make run`: Herald on SQLite with a Temporal dev server it starts itself (unless one answers
# already on HERALD_TEMPORAL_ADDRESS) and, unless HERALD_APPRISE_URL is set, a local Apprise API
# (scripts/apprise-lite.py on the real `apprise` library), so channels receive real messages.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

: "${TEMPORAL:=.tools/py/bin/temporal}"
export HERALD_DATA_DIR=${HERALD_DATA_DIR:-./data}
export HERALD_LISTEN=${HERALD_LISTEN:-127.0.0.1:8080}
export HERALD_TEMPORAL_ADDRESS=${HERALD_TEMPORAL_ADDRESS:-http://127.0.0.1:7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
mkdir -p "$HERALD_DATA_DIR"

echo "Building Herald ..."
cargo build --locked --bin herald

read -r t_host t_port < <(host_port "$HERALD_TEMPORAL_ADDRESS")
temporal_pid=""
apprise_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n ${herald_pid:-} ]]; then kill -TERM "$herald_pid" 2>/dev/null || true; wait "$herald_pid" 2>/dev/null || true; fi
  if [[ -n $apprise_pid ]]; then kill -TERM "$apprise_pid" 2>/dev/null || true; wait "$apprise_pid" 2>/dev/null || true; fi
  if [[ -n $temporal_pid ]]; then
    echo "Stopping the Temporal dev server ..."
    kill -TERM "$temporal_pid" 2>/dev/null || true
    wait "$temporal_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

if port_open "$t_host" "$t_port"; then
  echo "Using the Temporal server already answering on $t_host:$t_port."
else
  echo "Starting a Temporal dev server on $t_host:$t_port (history kept in $HERALD_DATA_DIR/temporal.db) ..."
  # WAL and eager activities: see ARCHITECTURE.md for the measured effect on reminder lateness.
  "$TEMPORAL" server start-dev --ip "$t_host" --port "$t_port" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$HERALD_DATA_DIR/temporal.db" \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
    --dynamic-config-value system.enableActivityEagerExecution=true \
    --log-level error >"$HERALD_DATA_DIR/temporal.log" 2>&1 &
  temporal_pid=$!
  wait_port "$t_host" "$t_port" 60 "the Temporal dev server (log: $HERALD_DATA_DIR/temporal.log)"
  export HERALD_TEMPORAL_UI_URL=${HERALD_TEMPORAL_UI_URL:-http://$t_host:$TEMPORAL_UI_PORT}
fi

if [[ -z ${HERALD_APPRISE_URL:-} ]]; then
  a_port=$(free_port)
  echo "Starting a local Apprise API on 127.0.0.1:$a_port (log: $HERALD_DATA_DIR/apprise.log) ..."
  PYTHONPATH=.tools/py${PYTHONPATH:+:$PYTHONPATH} python3 scripts/apprise-lite.py --host 127.0.0.1 \
    --port "$a_port" >"$HERALD_DATA_DIR/apprise.log" 2>&1 &
  apprise_pid=$!
  wait_port 127.0.0.1 "$a_port" 30 "the local Apprise API (log: $HERALD_DATA_DIR/apprise.log)"
  export HERALD_APPRISE_URL=http://127.0.0.1:$a_port
fi

url=${HERALD_BASE_URL:-http://$HERALD_LISTEN}
echo
echo "  Herald:      $url"
[[ -n ${HERALD_TEMPORAL_UI_URL:-} ]] && echo "  Temporal UI: $HERALD_TEMPORAL_UI_URL"
echo "  Apprise API: $HERALD_APPRISE_URL"
[[ -z ${HERALD_MAIL_URL:-} ]] && echo "  Mail:        written to Herald's log (set HERALD_MAIL_URL to send it)"
echo "  Press Ctrl-C to stop."
echo
./target/debug/herald serve &
herald_pid=$!
wait "$herald_pid"
