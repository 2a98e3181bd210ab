#!/usr/bin/env bash
# Benchmarks (not tests): first start of the release gateway on an empty data dir (TPC-H generation included), then
# semantic-query latency over the wire against DuckDB in-process on the same Parquet files.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-0.1}"
source scripts/bench/prepare.sh

data=$(mktemp -d)
log=$(mktemp)
port=$(free_port)
start=$(date +%s%N)
"$CARGO_TARGET_DIR/release/semgate" serve --pg-addr "127.0.0.1:$port" --data-dir "$data" --demo-scale "$scale" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data" "$log"' EXIT
until grep -q "semgate is ready" "$log"; do kill -0 $server; sleep 0.05; done
echo "first start at SF $scale (TPC-H generation + Parquet + model load): $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$venv/bin/python" scripts/bench/latency.py "$port" "$data/tpch-sf$scale"
