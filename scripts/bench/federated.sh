#!/usr/bin/env bash
# Benchmark (not a test): filtered semantic queries over PostgreSQL through a release semgate against the same
# questions sent to PostgreSQL directly. Sets up examples/federated at SCALE (default 1) in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/prepare.sh

state=$(mktemp -d)
log=$(mktemp)
export FEDERATED_SCALE="${SCALE:-1}" FEDERATED_PG_PORT=$(free_port) FEDERATED_MYSQL_PORT=$(free_port)
export SEMGATE="$CARGO_TARGET_DIR/release/semgate"
examples/federated/setup.sh "$state" >/dev/null
port=$(free_port)
"$SEMGATE" serve --config examples/federated/semgate.yml --data-dir "$state" --pg-addr "127.0.0.1:$port" \
  --flight-addr "127.0.0.1:$(free_port)" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; examples/federated/setup.sh --stop "$state" >/dev/null; rm -rf "$state" "$log"' EXIT
until grep -q "semgate is ready" "$log"; do kill -0 $server; sleep 0.05; done
echo "examples/federated at TPC-H scale $FEDERATED_SCALE; PostgreSQL 15 on 127.0.0.1:$FEDERATED_PG_PORT"
"$venv/bin/python" scripts/bench/federated.py "$port" "$FEDERATED_PG_PORT"
