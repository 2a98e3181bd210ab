"""Latency of semantic queries over the PostgreSQL wire against the same questions in DuckDB in-process, then the
result cache: hits against misses.

Usage: scripts/bench/run.sh (starts a release gateway on the demo and runs this with the venv's Python).
Prints, per query, p50/p95 over N runs for semgate (psycopg2, simple protocol, `SET semgate.cache = off`) and DuckDB
(hand-written SQL over the same Parquet files), and the ratio; then p50/p99 of cache hits over HIT_RUNS runs with the
uncached p50 beside them, and `SELECT 1` as the round-trip floor. A benchmark, not a test: nothing asserts speed.
"""
import math
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
    (
        "gross_sales, quantity, avg_discount by ship_mode, flag",
        "SELECT ship_mode, return_flag, MEASURE(gross_sales), MEASURE(quantity), MEASURE(avg_discount) FROM sales "
        "GROUP BY 1, 2",
        "SELECT l_shipmode, l_returnflag, SUM(l_extendedprice), SUM(l_quantity), AVG(l_discount) FROM lineitem "
        "GROUP BY 1, 2",
    ),
    (
        "top 10 brands by revenue",
        "SELECT brand, MEASURE(revenue) FROM sales GROUP BY brand ORDER BY 2 DESC LIMIT 10",
        "SELECT p_brand, SUM(l_extendedprice * (1 - l_discount)) FROM lineitem JOIN part ON l_partkey = p_partkey "
        "GROUP BY p_brand ORDER BY 2 DESC LIMIT 10",
    ),
    (
        "returned_revenue by market_segment in 1995",
        "SELECT market_segment, MEASURE(returned_revenue) FROM sales "
        "WHERE order_date >= '1995-01-01' AND order_date < '1996-01-01' GROUP BY 1",
        "SELECT c_mktsegment, SUM(CASE WHEN l_returnflag = 'R' THEN l_extendedprice * (1 - l_discount) END) "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01' GROUP BY 1",
    ),
    (
        "avg_order_value by order_priority",
        "SELECT order_priority, MEASURE(avg_order_value) FROM sales GROUP BY 1",
        "SELECT o_orderpriority, SUM(l_extendedprice * (1 - l_discount)) / COUNT(DISTINCT l_orderkey) "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY 1",
    ),
    (
        "yearly revenue, line_items in EUROPE by ship year",
        "SELECT date_trunc('year', ship_date), MEASURE(revenue), MEASURE(line_items) FROM sales "
        "WHERE region = 'EUROPE' GROUP BY 1",
        f"SELECT date_trunc('year', l_shipdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) "
        f"FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE' GROUP BY 1",
    ),
]
TABLES = ["region", "nation", "customer", "orders", "lineitem", "part"]


def timed(run, n, percentile=0.95):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(percentile * (len(samples) - 1))]


def duckdb_over(tpch):
    """DuckDB in-process (2 threads, like this machine's gateway) with the TPC-H Parquet files as views."""
    duck = duckdb.connect()
    duck.execute("SET threads = 2")
    for table in TABLES:
        duck.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch}/{table}.parquet')")
    return duck


def semantic_vs_duckdb(cur, duck, runs):
    """p50/p95 of every query in QUERIES on semgate (cache off) and DuckDB: [(name, s50, s95, d50, d95)]. Both must
    return as many rows, so a query the gateway answers wrongly short does not pass for fast."""
    cur.execute("SET semgate.cache = off")
    figures = []
    for name, semantic, raw in QUERIES:
        def run_semgate():
            cur.execute(semantic)
            return cur.fetchall()

        def run_duckdb():
            return duck.execute(raw).fetchall()

        ours, theirs = len(run_semgate()), len(run_duckdb())  # warm both
        if ours != theirs:
            raise RuntimeError(f"{name}: semgate returned {ours} rows, DuckDB {theirs}")
        figures.append((name, *timed(run_semgate, runs), *timed(run_duckdb, runs)))
    cur.execute("RESET semgate.cache")
    return figures


def geomean(ratios):
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def main():
    port, tpch, runs = int(sys.argv[1]), sys.argv[2], int(os.environ.get("RUNS", "20"))
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
    conn.autocommit = True
    cur = conn.cursor()
    uncached = {}
    print(f"{'query':<50} {'semgate p50/p95 ms':>20} {'duckdb p50/p95 ms':>20} {'ratio p50':>10}")
    figures = semantic_vs_duckdb(cur, duckdb_over(tpch), runs)
    for name, s50, s95, d50, d95 in figures:
        print(f"{name:<50} {s50:>9.1f}/{s95:<10.1f} {d50:>9.1f}/{d95:<10.1f} {s50 / d50:>9.2f}x")
        uncached[name] = s50
    print(f"{'geometric mean of the ratios':<92} {geomean([f[1] / f[3] for f in figures]):>9.2f}x")

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
