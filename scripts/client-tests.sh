#!/usr/bin/env bash
# Real Python drivers against a gateway started on a free port with the demo at test scale.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-target}"
data_dir="${SEMGATE_TEST_DATA_DIR:-/var/tmp/semgate-test-data}"

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
# Apache Superset pins its own SQLAlchemy 1.4, pandas and pyarrow: it gets a virtualenv of its own
# (tests/clients/superset).
superset_venv=.venv-superset
if [ ! -x "$superset_venv/bin/python" ]; then
  python3 -m venv "$superset_venv"
fi
"$superset_venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/superset/requirements.txt
# node-postgres for test_node_pg.py, from tests/clients/node/package-lock.json.
if [ ! -d tests/clients/node/node_modules ]; then
  npm ci --prefix tests/clients/node --silent --no-audit --no-fund
fi

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
flight_port=$(free_port)
log=$(mktemp)
"$CARGO_TARGET_DIR/debug/semgate" serve --pg-addr "127.0.0.1:$port" --flight-addr "127.0.0.1:$flight_port" --data-dir "$data_dir" --demo-scale 0.01 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  grep -q "semgate is ready" "$log" && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
grep -q "semgate is ready" "$log" || { cat "$log"; echo "gateway did not start"; exit 1; }

export SEMGATE_BIN="$CARGO_TARGET_DIR/debug/semgate" SEMGATE_PORT=$port SEMGATE_FLIGHT_PORT=$flight_port
export SEMGATE_TPCH_DIR="$data_dir/tpch-sf0.01"
status=0
"$venv/bin/python" -m pytest -q tests/clients || status=$?
# tests/clients/conftest.py leaves superset/ out of the run above (collect_ignore); it runs here with Superset's python.
"$superset_venv/bin/python" -m pytest -q tests/clients/superset || status=$?
exit $status
