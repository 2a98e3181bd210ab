#!/usr/bin/env bash
# Benchmark (not a test): one large semantic result (one row per line item, ~6M rows at SF 1) pulled over the
# PostgreSQL wire (psycopg binary, COPY binary, ADBC PostgreSQL) and over Arrow Flight SQL (ADBC, pyarrow.flight),
# from a release gateway. Rows/s, MB/s and the Flight/PG ratio, median of REPS runs.
#
#   SCALE=1 REPS=5 scripts/bench/flight.sh            # builds the release binary first (cargo build --release)
#   SEMGATE_BIN=/path/to/semgate scripts/bench/flight.sh   # use that binary, no build
#   METHODS=psycopg,flight-sql QUERY="SELECT ..." MAX_WIRE_GB=4 scripts/bench/flight.sh
#
# The TPC-H data is generated on the first start at a scale and kept in $SEMGATE_BENCH_DATA_DIR (default
# /var/tmp/semgate-bench-data) for the next runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-1}"
reps="${REPS:-5}"
. scripts/bench/prepare.sh
data="${SEMGATE_BENCH_DATA_DIR:-/var/tmp/semgate-bench-data}"
mkdir -p "$data"
port=$(free_port)
flight_port=$(free_port)
log=$(mktemp)
start=$(date +%s%N)
"$SEMGATE_BIN" serve --pg-addr "127.0.0.1:$port" --flight-addr "127.0.0.1:$flight_port" --data-dir "$data" \
  --demo-scale "$scale" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
until grep -q "semgate is ready" "$log"; do
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
echo "binary: $SEMGATE_BIN"
echo "gateway ready at SF $scale in $(( ($(date +%s%N) - start) / 1000000 )) ms (data in $data/tpch-sf$scale)"
args=(--reps "$reps" --max-wire-gb "${MAX_WIRE_GB:-4}")
[ -n "${METHODS:-}" ] && args+=(--methods "$METHODS")
[ -n "${QUERY:-}" ] && args+=(--query "$QUERY")
"$venv/bin/python" scripts/bench/flight_vs_pg.py "$port" "$flight_port" "${args[@]}"
echo "gateway peak RSS: $(grep VmHWM /proc/$server/status 2>/dev/null | awk '{print $2, $3}')"
