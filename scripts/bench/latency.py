"""Latency of semantic queries over the PostgreSQL wire against the same questions in DuckDB in-process, then the
result cache: hits against misses.

Usage: scripts/bench/run.sh (starts a release gateway on the demo and runs this with the venv's Python).
Prints, per query, p50/p95 over N runs for semgate (psycopg2, simple protocol, `SET semgate.cache = off`) and DuckDB
(hand-written SQL over the same Parquet files), and the ratio; then p50/p99 of cache hits over HIT_RUNS runs with the
uncached p50 beside them, and `SELECT 1` as the round-trip floor. A benchmark, not a test: nothing asserts speed.
"""
import os
import statistics
import sys
import time

import duckdb
import psycopg2

LINE_TO_REGION = (
    "lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey"
)
QUERIES = [
    (
        "revenue by region",
        "SELECT region, MEASURE(revenue) FROM sales GROUP BY region",
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} GROUP BY r_name",
    ),
    (
        "revenue + customer_count by nation (two grains)",
        "SELECT nation, MEASURE(revenue), MEASURE(customer_count) FROM sales GROUP BY nation",
        f"""SELECT c.n_name, r.rev, c.cnt FROM
            (SELECT n_name, COUNT(*) AS cnt FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name) c
            LEFT JOIN (SELECT n_name AS nn, SUM(l_extendedprice * (1 - l_discount)) AS rev FROM {LINE_TO_REGION}
            GROUP BY n_name) r ON c.n_name = r.nn""",
    ),
    (
        "monthly order_count in 1996",
        "SELECT date_trunc('month', order_date), MEASURE(order_count) FROM sales "
        "WHERE order_date >= '1996-01-01' AND order_date < '1997-01-01' GROUP BY 1",
        "SELECT date_trunc('month', o_orderdate), COUNT(DISTINCT l_orderkey) FROM lineitem JOIN orders "
        "ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' GROUP BY 1",
    ),
]


def timed(run, n, percentile=0.95):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(percentile * (len(samples) - 1))]


def main():
    port, tpch, runs = int(sys.argv[1]), sys.argv[2], int(os.environ.get("RUNS", "20"))
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
    conn.autocommit = True
    cur = conn.cursor()
    duck = duckdb.connect()
    duck.execute("SET threads = 2")
    for table in ["region", "nation", "customer", "orders", "lineitem"]:
        duck.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch}/{table}.parquet')")
    cur.execute("SET semgate.cache = off")
    uncached = {}
    print(f"{'query':<50} {'semgate p50/p95 ms':>20} {'duckdb p50/p95 ms':>20} {'ratio p50':>10}")
    for name, semantic, raw in QUERIES:
        def run_semgate():
            cur.execute(semantic)
            cur.fetchall()

        def run_duckdb():
            duck.execute(raw).fetchall()

        run_semgate(), run_duckdb()  # warm both
        s50, s95 = timed(run_semgate, runs)
        d50, d95 = timed(run_duckdb, runs)
        print(f"{name:<50} {s50:>9.1f}/{s95:<10.1f} {d50:>9.1f}/{d95:<10.1f} {s50 / d50:>9.2f}x")
        uncached[name] = s50

    cur.execute("RESET semgate.cache")
    hit_runs = int(os.environ.get("HIT_RUNS", "500"))
    floor50, floor99 = timed(lambda: (cur.execute("SELECT 1"), cur.fetchall()), hit_runs, 0.99)
    print(f"\nresult cache, {hit_runs} runs each; SELECT 1 round trip p50/p99 {floor50:.3f}/{floor99:.3f} ms")
    print(f"{'query':<50} {'hit p50/p99 ms':>20} {'uncached p50 ms':>16} {'speed-up':>9}")
    for name, semantic, _ in QUERIES:
        def run_hit():
            cur.execute(semantic)
            cur.fetchall()

        run_hit()  # the miss that fills the entry
        h50, h99 = timed(run_hit, hit_runs, 0.99)
        print(f"{name:<50} {h50:>9.3f}/{h99:<10.3f} {uncached[name]:>16.1f} {uncached[name] / h50:>8.0f}x")


if __name__ == "__main__":
    main()
