#!/usr/bin/env bash
# Benchmark (not a test): the latency cost of access policies, a row-filtered user beside a full-access user asking
# with the same condition in WHERE, DuckDB in-process as the yardstick (scripts/bench/policies.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-0.1}"
source scripts/bench/prepare.sh

data="${SEMGATE_BENCH_DATA:-/var/tmp/semgate-bench-data}"
log=$(mktemp)
port=$(free_port)
"$CARGO_TARGET_DIR/release/semgate" serve --pg-addr "127.0.0.1:$port" --flight-addr "127.0.0.1:$(free_port)" \
  --data-dir "$data" --demo-scale "$scale" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
until grep -q "semgate is ready" "$log"; do kill -0 $server; sleep 0.05; done
cd scripts/bench && "../../$venv/bin/python" policies.py "$port" "$data/tpch-sf$scale"
