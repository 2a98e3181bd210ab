#!/usr/bin/env bash
# Sets up examples/federated on this machine: the TPC-H demo data split across a throwaway PostgreSQL (customer,
# nation, region), a throwaway MariaDB (part, supplier), a SQLite file (orders) and Parquet files (lineitem), all
# under one state directory. Idempotent: a second run stops what the first started and starts afresh.
#
#   examples/federated/setup.sh [STATE_DIR]        # default: data/federated
#   examples/federated/setup.sh --stop [STATE_DIR]
#   examples/federated/setup.sh --postgres stop|start [STATE_DIR]   # only PostgreSQL (outage drills)
#
# Environment: FEDERATED_PG_PORT (55432), FEDERATED_MYSQL_PORT (53306), FEDERATED_SCALE (0.1, the demo's),
# SEMGATE (the semgate binary; default: built with cargo). PostgreSQL comes from this machine's initdb/pg_ctl,
# MariaDB from Debian's packages (installed here when missing). PostgreSQL logs every statement it runs
# (STATE_DIR/postgres.log) and MariaDB too (STATE_DIR/mariadb-queries.log): that is where pushdown shows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

stop_only=false
postgres_action=
if [ "${1:-}" = "--stop" ]; then stop_only=true; shift; fi
if [ "${1:-}" = "--postgres" ]; then postgres_action=$2; shift 2; fi
state=${1:-$root/data/federated}
mkdir -p "$state"
state=$(cd "$state" && pwd)
# PostgreSQL's account must be able to reach its directory inside.
chmod a+x "$state"
pg_port=${FEDERATED_PG_PORT:-55432}
mysql_port=${FEDERATED_MYSQL_PORT:-53306}
scale=${FEDERATED_SCALE:-0.1}

stop() {
  if [ -f "$state/postgres/postmaster.pid" ]; then stop_postgres 2>/dev/null || true; fi
  if [ -f "$state/mariadb.pid" ]; then
    kill "$(cat "$state/mariadb.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$state/mariadb.pid" ] || break; sleep 0.1; done
  fi
}

# PostgreSQL refuses to run as root: use the postgres account (or make one).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$pg_account" -- "$@"; else "$@"; fi
}
pg_account=postgres
if [ "$(id -u)" = 0 ] && ! id "$pg_account" >/dev/null 2>&1; then
  pg_account=semgate-pg
  id "$pg_account" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_account"
fi

stop_postgres() { as_pg pg_ctl -D "$state/postgres" -m fast -w stop >/dev/null; }
start_postgres() {
  as_pg pg_ctl -D "$state/postgres" -l "$state/postgres.log" -w start \
    -o "-p $pg_port -k $state/postgres-socket -c listen_addresses=127.0.0.1 -c log_statement=all" >/dev/null
}
case "$postgres_action" in
  stop) stop_postgres; exit 0 ;;
  start) start_postgres; exit 0 ;;
  "") ;;
  *) echo "--postgres takes stop or start" >&2; exit 2 ;;
esac

stop
if $stop_only; then echo "stopped the databases under $state"; exit 0; fi

# Tools from Debian's packages, installed when missing.
missing=()
command -v mariadbd >/dev/null || missing+=(mariadb-server)
command -v mariadb >/dev/null || missing+=(mariadb-client)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  # Keep the package from starting its own server on port 3306.
  policy_added=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=true
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if $policy_added; then rm -f /usr/sbin/policy-rc.d; fi
fi

# The demo's tables as CSV, from the same generator the embedded demo uses.
if [ -z "${SEMGATE:-}" ]; then
  (cd "$root" && cargo build --quiet --bin semgate)
  SEMGATE="${CARGO_TARGET_DIR:-$root/target}/debug/semgate"
fi
csv=$("$SEMGATE" demo-data --data-dir "$state/generated" --scale "$scale" --csv)
tpch=$(dirname "$csv")

# One CREATE TABLE of schema.sql.
ddl() { awk -v t="$1" 'BEGIN{RS=";"} $0 ~ "CREATE TABLE " t " \\(" {print $0 ";"}' "$here/schema.sql"; }

# Parquet: line items stay files.
rm -rf "$state/files" && mkdir -p "$state/files"
ln -s "$tpch/lineitem.parquet" "$state/files/"

# SQLite: orders.
rm -f "$state/orders.sqlite"
{ ddl orders; printf '.import --csv --skip 1 %s orders\n' "$csv/orders.csv"; } | sqlite3 "$state/orders.sqlite"

# PostgreSQL: customer, nation, region; every statement logged.
rm -rf "$state/postgres" "$state/postgres-socket"
mkdir -p "$state/postgres" "$state/postgres-socket"
touch "$state/postgres.log"
chown "$pg_account" "$state/postgres" "$state/postgres-socket" "$state/postgres.log" 2>/dev/null || true
as_pg initdb -D "$state/postgres" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
start_postgres
psql_do() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" "$@"; }
psql_do -U postgres -d postgres -c "CREATE ROLE semgate LOGIN" -c "CREATE DATABASE tpch OWNER semgate"
for table in region nation customer; do
  { ddl "$table"; printf "\\\\copy %s FROM '%s' WITH (FORMAT csv, HEADER true)\n" "$table" "$csv/$table.csv"; } \
    | psql_do -U semgate -d tpch
done
psql_do -U semgate -d tpch -c "ANALYZE region, nation, customer"

# MariaDB: part, supplier; every statement logged.
rm -rf "$state/mariadb"
mariadb-install-db --no-defaults --datadir="$state/mariadb" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >/dev/null 2>&1
setsid -f mariadbd --no-defaults --datadir="$state/mariadb" --port="$mysql_port" --bind-address=127.0.0.1 \
  --socket="$state/mariadb.sock" --pid-file="$state/mariadb.pid" --user=root --log-error="$state/mariadb.err" \
  --general-log=1 --general-log-file="$state/mariadb-queries.log" --local-infile=1 </dev/null >/dev/null 2>&1
mysql_do() { mariadb --no-defaults -h 127.0.0.1 -P "$mysql_port" -u root --local-infile=1 "$@"; }
for _ in $(seq 100); do mysql_do -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
mysql_do -e "CREATE DATABASE tpch; CREATE USER semgate@'%'; GRANT SELECT ON tpch.* TO semgate@'%';"
for table in part supplier; do
  { ddl "$table"
    printf "LOAD DATA LOCAL INFILE '%s' INTO TABLE %s FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' IGNORE 1 LINES;\n" \
      "$csv/$table.csv" "$table"
  } | mysql_do tpch
done

echo "examples/federated is set up under $state (TPC-H scale $scale):"
echo "  PostgreSQL 127.0.0.1:$pg_port (customer, nation, region), MariaDB 127.0.0.1:$mysql_port (part, supplier),"
echo "  $state/orders.sqlite (orders), $state/files (lineitem)"
echo "serve it:  semgate serve --config examples/federated/semgate.yml --data-dir $state"
