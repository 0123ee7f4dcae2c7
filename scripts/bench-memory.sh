#!/usr/bin/env bash
# Memory of one `herald serve` (web and worker) holding many pending events, for
# docs/BENCHMARKS.md (section "Memory of herald serve with pending events"): starts a Temporal
# dev server with the settings of ARCHITECTURE.md and `herald serve` (release build, SQLite in a
# temporary folder, log-only mode), creates PENDING published events through the API (8 at a
# time, each with one reminder three days ahead, so every workflow waits on its timer), waits
# until every workflow is started, and prints the process's resident memory (VmRSS) and its
# peak (VmHWM) from /proc and the event workflows it holds in memory (herald_workflows_in_memory)
# at each step; then, EDIT_ROUNDS times (default 2), renames every event and measures again.
# Settings: PENDING (default 10000), KEEP_LOGS=DIR to keep the logs of Herald and Temporal,
# SKIP_BUILD=1 to use an existing release build, HERALD_BIN to
# measure another binary, and any HERALD_* setting (HERALD_WORKER_CACHE, HERALD_WORKER_POLLERS)
# passes through to herald.
# Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

: "${TEMPORAL:=.tools/py/bin/temporal}"
: "${PENDING:=10000}"
: "${EDIT_ROUNDS:=2}"
target=${CARGO_TARGET_DIR:-target}
herald=${HERALD_BIN:-$target/release/herald}

work=$(mktemp -d)
temporal_pid=""
herald_pid=""
cleanup() {
  trap - EXIT INT TERM
  for pid in $herald_pid $temporal_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n ${KEEP_LOGS:-} ]]; then mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
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
metrics_token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export HERALD_DATA_DIR=$work/data HERALD_LISTEN=127.0.0.1:$h_port HERALD_BASE_URL=$base
export HERALD_TEMPORAL_ADDRESS=http://127.0.0.1:$t_port RUST_LOG=${RUST_LOG:-warn}
export HERALD_METRICS_TOKEN=$metrics_token
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

rows=()
# memory LABEL: keeps "label|VmRSS|VmHWM|RssAnon|workflows in memory" of herald serve (RssAnon:
# the part that is not the binary's own pages or other files: the heap, stacks, the allocator's).
memory() {
  local rss hwm anon held
  rss=$(awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$herald_pid/status")
  hwm=$(awk '/^VmHWM:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$herald_pid/status")
  anon=$(awk '/^RssAnon:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$herald_pid/status")
  held=$(curl -fsS -H "Authorization: Bearer $metrics_token" "$base/metrics" |
    awk '$1 == "herald_workflows_in_memory" {print int($2)}')
  echo "memory $1: RSS $rss, peak $hwm, anonymous $anon, workflows in memory ${held:-0}"
  rows+=("$1|$rss|$hwm|$anon|${held:-0}")
}
# unsynced: the changes not yet told to Temporal (herald_events_unsynced).
unsynced() {
  curl -fsS -H "Authorization: Bearer $metrics_token" "$base/metrics" |
    awk '$1 == "herald_events_unsynced" {print int($2)}'
}

printf 'bench password 1234\n' | "$herald" user create bench@example.org --name Bench --verified >/dev/null
token=$("$herald" token create bench@example.org --name bench)
curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name": "Bench", "slug": "bench"}' "$base/api/v1/orgs" >/dev/null
memory "started, nothing pending"

starts=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
ends=$(date -u -d '+3 days +2 hours' +%Y-%m-%dT%H:%M:%SZ)
echo "Creating $PENDING published events through the API, 8 at a time ..."
started=$(date +%s.%N)
created=$(python3 - "$base" "$token" "$PENDING" "$starts" "$ends" "$work/ids" <<'PY'
import http.client, json, sys, threading, urllib.parse
base, token, total, starts, ends = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
url = urllib.parse.urlparse(base)
body = json.dumps({"name": "Pending", "starts_at": starts, "ends_at": ends, "timezone": "UTC",
                   "reminder_offsets": [3600], "status": "published"})
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
lock, left, ok, ids = threading.Lock(), [total], [0], []
def run():
    conn = http.client.HTTPConnection(url.hostname, url.port)
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
        conn.request("POST", "/api/v1/orgs/bench/events", body, headers)
        answer = conn.getresponse()
        raw = answer.read()
        if answer.status == 201:
            with lock:
                ok[0] += 1
                ids.append(json.loads(raw)["id"])
threads = [threading.Thread(target=run) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with open(sys.argv[6], "w") as f:
    f.write("\n".join(ids))
print(ok[0])
PY
)
took=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
echo "created $created in ${took}s"
memory "right after $created events were created"

echo "Waiting until every workflow is started ..."
for _ in $(seq 1 600); do
  [[ $(unsynced) == 0 ]] && break
  sleep 1
done
settled=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
memory "every workflow started (${settled}s after the first create)"
sleep 30
memory "30 s later"
sleep 30
memory "60 s later"

# Each round renames every pending event: each workflow is signalled, and with more events than
# the worker's cache most are replayed from their history, so a run that is not freed when it is
# evicted shows up as memory growing round after round.
for round in $(seq 1 "$EDIT_ROUNDS"); do
  echo "Edit round $round: renaming the $created events, 8 at a time ..."
  python3 - "$base" "$token" "$round" "$work/ids" <<'PY'
import http.client, json, sys, threading, urllib.parse
base, token, rnd = sys.argv[1], sys.argv[2], sys.argv[3]
url = urllib.parse.urlparse(base)
ids = open(sys.argv[4]).read().split()
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
body = json.dumps({"name": f"Pending, round {rnd}"})
lock = threading.Lock()
def run():
    conn = http.client.HTTPConnection(url.hostname, url.port)
    while True:
        with lock:
            if not ids:
                return
            event = ids.pop()
        conn.request("PATCH", f"/api/v1/events/{event}", body, headers)
        conn.getresponse().read()
threads = [threading.Thread(target=run) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
PY
  for _ in $(seq 1 600); do
    [[ $(unsynced) == 0 ]] && break
    sleep 1
  done
  sleep 15
  memory "15 s after edit round $round"
done

echo
echo "herald serve (web and worker), SQLite, $(nproc) cores, $created pending events, HERALD_WORKER_CACHE=${HERALD_WORKER_CACHE:-default}:"
printf '%-52s %12s %12s %12s %12s\n' "moment" "RSS" "peak" "anonymous" "workflows"
for r in "${rows[@]}"; do
  IFS='|' read -r label rss hwm anon held <<<"$r"
  printf '%-52s %12s %12s %12s %12s\n' "$label" "$rss" "$hwm" "$anon" "$held"
done
echo "creating them took ${took}s"
