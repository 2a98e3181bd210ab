#!/usr/bin/env bash
# Benchmark (not a test): BI tools' and drivers' catalog introspection on a release semgate (demo at SCALE, default
# 0.01: the catalog does not depend on it) against a PostgreSQL 15 with the same views.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/prepare.sh

data="${SEMGATE_TEST_DATA_DIR:-/var/tmp/semgate-test-data}"
log=$(mktemp)
port=$(free_port)
"$CARGO_TARGET_DIR/release/semgate" serve --pg-addr "127.0.0.1:$port" --flight-addr 127.0.0.1:0 \
  --data-dir "$data" --demo-scale "${SCALE:-0.01}" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
until grep -q "semgate is ready" "$log"; do kill -0 $server; sleep 0.05; done
"$venv/bin/python" scripts/bench/catalog.py "$port"
