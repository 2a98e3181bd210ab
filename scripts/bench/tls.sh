#!/usr/bin/env bash
# Benchmark (not a test): the cost of TLS on one large semantic result (one row per line item: ~600k rows at SF 0.1),
# pulled over the PostgreSQL wire and over Flight SQL from two gateways on the same data, one plaintext and one with
# TLS (a throwaway CA made with openssl). Prints the medians and the TLS / plaintext ratio.
#
#   SCALE=0.1 REPS=5 scripts/bench/tls.sh            # builds the release binary first
#   SEMGATE_BIN=/path/to/semgate scripts/bench/tls.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-0.1}"
reps="${REPS:-5}"
. scripts/bench/prepare.sh
tpch=$(bench_data "$scale")

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
(
  cd "$work"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile san.ext 2>/dev/null
)
# gateway NAME TLS PG FLIGHT: a gateway over the demo model and data on those ports, started in the background.
gateway() {
  local name=$1 tls=$2 pg=$3 flight=$4
  {
    echo "data_dir: $tpch"
    echo "semantic: [$PWD/semantic]"
    echo "users: [{name: analyst, password: analyst, groups: [admin]}]"
    [ "$tls" = yes ] && echo "tls: {cert_file: $work/server.pem, key_file: $work/server.key}"
    # Every run must transfer the result, not replay it from the cache.
    echo "cache: {capacity_mb: 0}"
  } >"$work/$name.yml"
  "$SEMGATE_BIN" serve --config "$work/$name.yml" --pg-addr "127.0.0.1:$pg" --flight-addr "127.0.0.1:$flight" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
}
plain_pg=$(free_port); plain_flight=$(free_port); tls_pg=$(free_port); tls_flight=$(free_port)
gateway plain no "$plain_pg" "$plain_flight"
gateway tls yes "$tls_pg" "$tls_flight"
for name in plain tls; do
  until grep -q "semgate is ready" "$work/$name.log"; do
    grep -q "^error" "$work/$name.log" && { cat "$work/$name.log"; exit 1; }
    sleep 0.1
  done
done
echo "binary: $SEMGATE_BIN, SF $scale"
PYTHONPATH=scripts/bench "$venv/bin/python" scripts/bench/tls.py "$plain_pg" "$plain_flight" "$tls_pg" "$tls_flight" \
  "$work/ca.pem" --reps "$reps" ${QUERY:+--query "$QUERY"}
