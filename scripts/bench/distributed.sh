#!/usr/bin/env bash
# Benchmark (not a test): the semantic query set on one process over local files, on the same process as coordinator
# of two `semgate worker` processes on this machine (every query distributed: SET semgate.distributed = on), and on
# one process over the same files in a local S3 server (moto, examples/object_store). Prints each query's median time
# per setup with the ratios, then EXPLAIN ANALYZE of one distributed query: its stages, tasks, rows and bytes that
# crossed the network, and each stage's time.
#
#   SCALE=1 scripts/bench/distributed.sh                    # builds the release binary first
#   SEMGATE_BIN=/path/to/semgate SCALE=0.1 RUNS=3 scripts/bench/distributed.sh
#   S3=0 ...                                                # skip the S3 setup
#
# Two cores cannot show a speed-up from two more processes on them: what this measures is the cost of distribution
# (planning twice, serializing stages, shuffling through gRPC) and where the time goes, which is what a real cluster
# divides by its machines (README, "Scale-out").
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-1}"
runs="${RUNS:-5}"
. scripts/bench/prepare.sh
tpch=$(bench_data "$scale")
work=$(mktemp -d)
pids=()
s3_state="$work/s3"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -d "$s3_state" ] && examples/object_store/setup.sh --stop "$s3_state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export SEMGATE_CLUSTER_SECRET="bench-$(date +%s%N)"

# wait_for LOG PATTERN PID: until the process logs PATTERN (or dies).
wait_for() {
  until grep -q "$2" "$1"; do
    kill -0 "$3" 2>/dev/null || { cat "$1"; exit 1; }
    sleep 0.1
  done
}

base_config() {
  echo "data_dir: $tpch"
  echo "semantic: [$PWD/semantic]"
  echo "users: [{name: analyst, password: analyst, groups: [admin]}]"
  echo "cache: {capacity_mb: 0}"
}
base_config >"$work/single.yml"

workers=()
for n in 1 2; do
  "$SEMGATE_BIN" worker --listen 127.0.0.1:0 --config "$work/single.yml" >"$work/worker$n.log" 2>&1 &
  pids+=($!)
  wait_for "$work/worker$n.log" "listening on" $!
  workers+=("$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/worker$n.log" | head -1)")
done
{
  base_config
  # Partitions small enough that every scan of the set is split over both workers at this scale.
  echo "distributed: {workers: [${workers[0]}, ${workers[1]}], min_bytes_for_distribution: 0, \
bytes_per_partition: ${BYTES_PER_PARTITION:-4MB}}"
} >"$work/cluster.yml"

gateway() { # gateway NAME CONFIG [ENV...]: start one; its PostgreSQL port in $port (not a subshell: pids must grow)
  port=$(free_port)
  env "${@:3}" "$SEMGATE_BIN" serve --config "$2" --pg-addr "127.0.0.1:$port" --flight-addr 127.0.0.1:0 \
    >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_for "$work/$1.log" "semgate is ready" $!
}
gateway single "$work/single.yml"
single=$port
gateway cluster "$work/cluster.yml"
cluster=$port
setups=("local files, one process=$single" "2 workers on this machine=$cluster")

if [ "${S3:-1}" = 1 ]; then
  s3_port=$(free_port)
  OBJECT_STORE_PORT=$s3_port OBJECT_STORE_SCALE=$scale SEMGATE=$SEMGATE_BIN \
    examples/object_store/setup.sh "$s3_state" >/dev/null
  gateway s3 examples/object_store/semgate.yml OBJECT_STORE_PORT="$s3_port" OBJECT_STORE_KEY_ID=semgate \
    OBJECT_STORE_SECRET=semgate
  s3=$port
  setups+=("S3 (moto on this machine), one process=$s3")
fi

echo "SF $scale, median of $runs runs per query, binary $SEMGATE_BIN"
"$venv/bin/python" - "$runs" "${setups[@]}" <<'PY'
import statistics, sys, time
import psycopg

QUERIES = {
    "revenue by region": "SELECT region, revenue, order_count FROM sales ORDER BY region",
    "revenue by nation, customers": "SELECT nation, SUM(revenue), MEASURE(customer_count) FROM sales GROUP BY nation ORDER BY nation",
    "1996 by month": "SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, order_count, avg_order_value "
    "FROM sales WHERE order_date >= DATE '1996-01-01' AND order_date < DATE '1997-01-01' ORDER BY month",
    "ship mode x return flag": "SELECT ship_mode, return_flag, revenue, returned_revenue FROM sales ORDER BY 1, 2",
    "customers by nation": "SELECT region, nation, customer_count, total_account_balance FROM customers ORDER BY 1, 2",
    "subquery over segments": "SELECT t.region, SUM(t.revenue) FROM (SELECT region, market_segment, revenue FROM sales) t "
    "GROUP BY t.region ORDER BY 1",
}
runs = int(sys.argv[1])
setups = [s.rsplit("=", 1) for s in sys.argv[2:]]
connections = {}
for name, port in setups:
    conn = psycopg.connect(f"postgresql://analyst:analyst@127.0.0.1:{port}/semgate", autocommit=True)
    conn.execute("SET semgate.distributed = on")
    conn.execute("SET semgate.cache = off")  # every run computes
    connections[name] = conn
medians = {}
for query_name, sql in QUERIES.items():
    answers = {}
    for name, _ in setups:
        times = []
        for _ in range(runs + 1):  # the first run warms the file cache and is not counted
            start = time.perf_counter()
            rows = connections[name].execute(sql).fetchall()
            times.append(time.perf_counter() - start)
        medians[(query_name, name)] = statistics.median(times[1:])
        answers[name] = [tuple(round(v, 4) if isinstance(v, float) else str(v) for v in r) for r in rows]
    first = next(iter(answers.values()))
    assert all(a == first for a in answers.values()), f"{query_name}: the setups' answers differ"
names = [n for n, _ in setups]
print(f"{'query':32}" + "".join(f"{n[:28]:>30}" for n in names))
for query_name in QUERIES:
    base = medians[(query_name, names[0])]
    cells = [f"{medians[(query_name, n)] * 1000:9.1f} ms ({medians[(query_name, n)] / base:4.2f}x)" for n in names]
    print(f"{query_name:32}" + "".join(f"{c:>30}" for c in cells))
geo = {n: statistics.geometric_mean([medians[(q, n)] / medians[(q, names[0])] for q in QUERIES]) for n in names}
print(f"{'geometric mean vs one process':32}" + "".join(f"{geo[n]:29.2f}x" for n in names))
print("\nEXPLAIN ANALYZE on the cluster, stage boundaries only (tasks, rows and bytes between stages, time):")
for row in connections[names[1]].execute("EXPLAIN ANALYZE " + QUERIES["revenue by region"]).fetchall():
    for line in str(row[-1]).splitlines():
        if any(word in line for word in ("DistributedExec", "Stage", "Network")):
            keep = [m for m in line.split(", ") if not m.startswith(("files_", "row_groups", "page_index"))]
            print(", ".join(keep)[:400])
PY
