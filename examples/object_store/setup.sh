#!/usr/bin/env bash
# Sets up examples/object_store on this machine: a local S3 server (moto, from PyPI, in .venv-s3) whose bucket
# `semgate-demo` holds the TPC-H demo's Parquet files (tpch/<table>.parquet) and the line items once more, split
# Hive-style by ship year (tpch/lineitem_by_year/ship_year=1992/…), where a filter on the year reads one directory.
# Idempotent: a second run stops what the first started and starts afresh.
#
#   examples/object_store/setup.sh [STATE_DIR]           # default: data/object_store
#   examples/object_store/setup.sh --stop [STATE_DIR]
#
# Environment: OBJECT_STORE_PORT (59000), OBJECT_STORE_SCALE (0.1, the demo's), SEMGATE (the semgate binary; default:
# built with cargo). The server logs every request to STATE_DIR/s3.log: that is where partition pruning shows. It
# takes any key; the example's model reads it from OBJECT_STORE_KEY_ID / OBJECT_STORE_SECRET (see README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

stop_only=false
if [ "${1:-}" = "--stop" ]; then stop_only=true; shift; fi
state=${1:-$root/data/object_store}
mkdir -p "$state"
state=$(cd "$state" && pwd)
port=${OBJECT_STORE_PORT:-59000}
scale=${OBJECT_STORE_SCALE:-0.1}

stop() {
  if [ -f "$state/s3.pid" ]; then
    kill "$(cat "$state/s3.pid")" 2>/dev/null || true
    rm -f "$state/s3.pid"
  fi
}
stop
if $stop_only; then exit 0; fi

venv=$root/.venv-s3
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${SEMGATE:-}" ]; then
  (cd "$root" && cargo build --quiet --bin semgate)
  SEMGATE="${CARGO_TARGET_DIR:-$root/target}/debug/semgate"
fi
tables=$("$SEMGATE" demo-data --data-dir "$state/generated" --scale "$scale")

"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/s3.log" 2>&1 &
echo $! >"$state/s3.pid"

AWS_ACCESS_KEY_ID=semgate AWS_SECRET_ACCESS_KEY=semgate "$venv/bin/python" - "$port" "$tables" "$state/partitioned" <<'PY'
import pathlib, shutil, sys, time

import boto3, duckdb

port, tables, partitioned = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
for _ in range(300):
    try:
        s3.list_buckets()
        break
    except Exception:
        time.sleep(0.1)
s3.create_bucket(Bucket="semgate-demo")
for file in sorted(tables.glob("*.parquet")):
    s3.upload_file(str(file), "semgate-demo", f"tpch/{file.name}")
shutil.rmtree(partitioned, ignore_errors=True)
duckdb.sql(
    f"COPY (SELECT *, year(l_shipdate) AS ship_year FROM '{tables / 'lineitem.parquet'}') "
    f"TO '{partitioned}' (FORMAT parquet, PARTITION_BY (ship_year))"
)
for file in sorted(partitioned.rglob("*.parquet")):
    s3.upload_file(str(file), "semgate-demo", f"tpch/lineitem_by_year/{file.relative_to(partitioned)}")
PY
echo "S3 server on http://127.0.0.1:$port (bucket semgate-demo), log $state/s3.log"
