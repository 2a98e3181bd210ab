#!/usr/bin/env bash
# Benchmark (not a test): peak memory of one many-group semantic query (one group per line item or so: ~6M at SF 1),
# streamed to the client through COPY binary, on a gateway without a memory limit and on one with
# `memory_limit: $LIMIT` (default 256MB). Prints the time and the gateway's resident-memory growth (VmHWM at the end
# minus VmRSS when ready), or the error when the query does not fit.
#
#   SCALE=1 LIMIT=256MB scripts/bench/memory.sh          # builds the release binary first
#   SEMGATE_BIN=/path/to/semgate scripts/bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-1}"
limit="${LIMIT:-256MB}"
. scripts/bench/prepare.sh
tpch=$(bench_data "$scale")
work=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
query="SELECT order_date, ship_date, nation, ship_mode, part_type, MEASURE(revenue) AS revenue, \
MEASURE(quantity) AS quantity, MEASURE(line_items) AS line_items FROM sales GROUP BY 1, 2, 3, 4, 5"

for memory in unlimited "$limit"; do
  {
    echo "data_dir: $tpch"
    echo "semantic: [$PWD/semantic]"
    echo "users: [{name: analyst, password: analyst, groups: [admin]}]"
    echo "cache: {capacity_mb: 0}"
    [ "$memory" = unlimited ] || echo "memory_limit: $memory"
  } >"$work/semgate.yml"
  port=$(free_port)
  "$SEMGATE_BIN" serve --config "$work/semgate.yml" --pg-addr "127.0.0.1:$port" --flight-addr 127.0.0.1:0 \
    >"$work/log" 2>&1 &
  server=$!
  until grep -q "semgate is ready" "$work/log"; do
    kill -0 $server 2>/dev/null || { cat "$work/log"; exit 1; }
    sleep 0.1
  done
  ready_kb=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
  start=$(date +%s%N)
  outcome=$("$venv/bin/python" - "$port" "$query" <<'PY'
import sys
import psycopg
port, query = sys.argv[1], sys.argv[2]
try:
    with psycopg.connect(f"postgresql://analyst:analyst@127.0.0.1:{port}/semgate", autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for _ in copy:
                pass
        print(f"{cur.rowcount} rows")
except psycopg.Error as e:
    print(f"{e.sqlstate}: {str(e).splitlines()[0][:120]}")
PY
)
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  peak_kb=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
  echo "memory_limit $memory: $outcome in $ms ms; RSS growth $(( (peak_kb - ready_kb) / 1024 )) MB (ready $(( ready_kb / 1024 )) MB, peak $(( peak_kb / 1024 )) MB)"
  kill $server; wait $server 2>/dev/null || true
done
