#!/bin/sh
# Runs once in the `postgres` service's /docker-entrypoint-initdb.d, after 01-schema.sql (examples/federated's
# tables): loads the demo's CSV files the `demo-data` service wrote to the shared volume, and makes the read-only
# role semgate connects as.
set -eu
csv=/tpch/tpch/csv
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$SEMGATE_PG_PASSWORD" <<SQL
\copy region FROM '$csv/region.csv' WITH (FORMAT csv, HEADER true)
\copy nation FROM '$csv/nation.csv' WITH (FORMAT csv, HEADER true)
\copy customer FROM '$csv/customer.csv' WITH (FORMAT csv, HEADER true)
\copy orders FROM '$csv/orders.csv' WITH (FORMAT csv, HEADER true)
\copy part FROM '$csv/part.csv' WITH (FORMAT csv, HEADER true)
\copy supplier FROM '$csv/supplier.csv' WITH (FORMAT csv, HEADER true)
ANALYZE;
CREATE ROLE semgate LOGIN PASSWORD :'password';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO semgate;
SQL
