#!/usr/bin/env bash
# HTTP figures for docs/BENCHMARKS.md (section "HTTP: reads, the public page and saves"):
# requests per second and latency (p50, p99) of
#   1. reading an event through the API with a bearer token   (wrk -t2 -c64)
#   2. the public page of the same event                       (wrk -t2 -c64)
#   3. creating a published event, its workflow start included (wrk -t2 -c8)
#   4. the same creation while Temporal is down (outbox)       (wrk -t2 -c8)
# against a throw-away stack started here: a Temporal dev server with the settings of
# ARCHITECTURE.md on a free port and `herald serve` (release build, SQLite in a temporary folder,
# log-only mode: no notification is sent). wrk is installed with apt-get when missing.
# Settings: DURATION (default 10s), SKIP_BUILD=1 to use an existing release build, HERALD_BIN to
# measure another binary, HERALD_DATABASE_URL to measure on Postgres instead of SQLite. Every
# process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

: "${TEMPORAL:=.tools/py/bin/temporal}"
: "${DURATION:=10s}"
target=${CARGO_TARGET_DIR:-target}
herald=${HERALD_BIN:-$target/release/herald}

if ! command -v wrk >/dev/null; then
  echo "Installing wrk with apt-get ..."
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

work=$(mktemp -d)
temporal_pid=""
herald_pid=""
cleanup() {
  trap - EXIT INT TERM
  for pid in $herald_pid $temporal_pid; do
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

h_port=$(free_port)
base=http://127.0.0.1:$h_port
export HERALD_DATA_DIR=$work/data HERALD_LISTEN=127.0.0.1:$h_port HERALD_BASE_URL=$base
export HERALD_TEMPORAL_ADDRESS=http://127.0.0.1:$t_port RUST_LOG=${RUST_LOG:-warn}
unset HERALD_APPRISE_URL
mkdir -p "$HERALD_DATA_DIR"
echo "Starting herald serve on $base ..."
"$herald" serve >"$work/herald.log" 2>&1 &
herald_pid=$!
wait_port 127.0.0.1 "$h_port" 60 "herald" || { cat "$work/herald.log"; exit 1; }
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

printf 'bench password 1234\n' | "$herald" user create bench@example.org --name Bench --verified >/dev/null
token=$("$herald" token create bench@example.org --name bench)
auth="Authorization: Bearer $token"
curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' \
  -d '{"name": "Bench", "slug": "bench"}' "$base/api/v1/orgs" >/dev/null
starts=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
ends=$(date -u -d '+30 days +2 hours' +%Y-%m-%dT%H:%M:%SZ)
event=$(curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' \
  -d "{\"name\": \"Bench night\", \"starts_at\": \"$starts\", \"ends_at\": \"$ends\", \"timezone\": \"UTC\",
       \"reminder_offsets\": [3600], \"status\": \"published\", \"visibility\": \"public\"}" \
  "$base/api/v1/orgs/bench/events")
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$event")
slug=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])' <<<"$event")

cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"name": "Bench create", "starts_at": "$starts", "ends_at": "$ends", "timezone": "UTC", "reminder_offsets": [3600], "status": "published"}'
LUA

results=()
# measure NAME CONNECTIONS WRK-ARGS...: runs wrk, keeps "name|req/s|p50|p99|non-2xx".
measure() {
  local name=$1 conns=$2
  shift 2
  echo "wrk -t2 -c$conns -d$DURATION: $name ..."
  local out
  out=$(wrk -t2 -c"$conns" -d"$DURATION" --latency "$@")
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  results+=("$name|$rps|$p50|$p99|${bad:-0}")
}

measure "API event read (bearer token)" 64 -H "$auth" "$base/api/v1/events/$id"
measure "public event page" 64 "$base/o/bench/e/$slug"
measure "event create, workflow start included" 8 -s "$work/create.lua" "$base/api/v1/orgs/bench/events"

echo "Stopping Temporal ..."
kill -TERM "$temporal_pid" 2>/dev/null || true
wait "$temporal_pid" 2>/dev/null || true
temporal_pid=""
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 || break
  sleep 0.2
done
measure "event create, Temporal down (outbox)" 8 -s "$work/create.lua" "$base/api/v1/orgs/bench/events"

echo
backend=SQLite
[[ -n ${HERALD_DATABASE_URL:-} ]] && backend=Postgres
echo "HTTP on $(nproc) cores, $DURATION each, $backend:"
printf '%-42s %10s %10s %10s %8s\n' "request" "req/s" "p50" "p99" "non-2xx"
for r in "${results[@]}"; do
  IFS='|' read -r name rps p50 p99 bad <<<"$r"
  printf '%-42s %10s %10s %10s %8s\n' "$name" "$rps" "$p50" "$p99" "$bad"
done
