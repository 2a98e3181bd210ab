#!/usr/bin/env bash
# Benchmarks (not tests): first start of the release gateway on an empty data dir (TPC-H generation included), then
# semantic-query latency over the wire against DuckDB in-process on the same Parquet files.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-0.1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-release}"
cargo build --release --locked
venv=.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt

data=$(mktemp -d)
log=$(mktemp)
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s%N)
"$CARGO_TARGET_DIR/release/semgate" serve --pg-addr "127.0.0.1:$port" --data-dir "$data" --demo-scale "$scale" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data" "$log"' EXIT
until grep -q "semgate is ready" "$log"; do kill -0 $server; sleep 0.05; done
echo "first start at SF $scale (TPC-H generation + Parquet + model load): $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$venv/bin/python" scripts/bench/latency.py "$port" "$data/tpch-sf$scale"
