#!/usr/bin/env bash
# Benchmark (not a test): semgate beside PostgreSQL 15 and DuckDB on the paths clients take — pgbench simple, extended
# and prepared; compile + plan; bulk rows through psql, psycopg and Flight SQL; memory with and without a limit; the
# semantic query set at SF 1 — printed as one table (scripts/bench/compare.py says what each row measures).
#
#   scripts/bench/compare.sh                              # builds the release binary first (cargo build --release)
#   SEMGATE_BIN=/path/to/semgate SECONDS_EACH=5 scripts/bench/compare.sh
#   scripts/bench/compare.sh --only pgbench,bulk          # some parts: pgbench, planning, bulk, memory, semantic
#
# Needs PostgreSQL 15's server binaries (Debian's postgresql-15, installed here when missing) and pgbench.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || ! command -v pgbench >/dev/null; then
  apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null
fi
. scripts/bench/prepare.sh
data="${SEMGATE_BENCH_DATA_DIR:-/var/tmp/semgate-bench-data}"
mkdir -p "$data"
"$venv/bin/python" scripts/bench/compare.py "$SEMGATE_BIN" "$data" --seconds "${SECONDS_EACH:-10}" \
  --small-scale "${SMALL_SCALE:-0.1}" --large-scale "${LARGE_SCALE:-1}" "$@"
