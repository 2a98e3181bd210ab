"""A filtered semantic query over a PostgreSQL table through semgate, against the same question sent to PostgreSQL
directly, and what crossed the wire from PostgreSQL to semgate.

Usage: scripts/bench/federated.sh (sets up examples/federated at SCALE, starts a release gateway, runs this).
Prints p50/p95 over N runs of each query (psycopg2, simple protocol; semgate with `SET semgate.cache = off` so every
run reaches PostgreSQL) and the ratio; then the rows PostgreSQL sent for each (from EXPLAIN ANALYZE's metrics of the
node above each source's statement), against the rows of the answer. A benchmark, not a test: nothing asserts speed.
"""
import re
import statistics
import sys
import time

import psycopg2

QUERIES = [
    (
        "customers of one nation and segment",
        "SELECT customer_count, total_account_balance FROM customers "
        "WHERE nation = 'JAPAN' AND market_segment = 'BUILDING'",
        "SELECT count(*), sum(c_acctbal) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "WHERE n_name = 'JAPAN' AND c_mktsegment = 'BUILDING'",
    ),
    (
        "balance by nation in one region",
        "SELECT nation, customer_count, total_account_balance FROM customers WHERE region = 'ASIA' ORDER BY nation",
        "SELECT n_name, count(*), sum(c_acctbal) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey WHERE r_name = 'ASIA' GROUP BY n_name ORDER BY n_name",
    ),
    (
        "segments with a balance filter",
        "SELECT market_segment, customer_count FROM customers WHERE nation IN ('FRANCE', 'GERMANY') "
        "ORDER BY market_segment",
        "SELECT c_mktsegment, count(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "WHERE n_name IN ('FRANCE', 'GERMANY') GROUP BY c_mktsegment ORDER BY c_mktsegment",
    ),
]
RUNS = 200


def timed(cur, sql):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        cur.execute(sql)
        cur.fetchall()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main():
    semgate_port, pg_port = int(sys.argv[1]), int(sys.argv[2])
    gateway = psycopg2.connect(host="127.0.0.1", port=semgate_port, user="analyst", password="analyst", dbname="semgate")
    gateway.autocommit = True
    direct = psycopg2.connect(host="127.0.0.1", port=pg_port, user="semgate", dbname="tpch")
    direct.autocommit = True
    g, d = gateway.cursor(), direct.cursor()
    g.execute("SET semgate.cache = off")
    print(f"{'query':40} {'semgate p50/p95 ms':>20} {'PostgreSQL p50/p95 ms':>22} {'ratio':>6}  rows from PG / answer")
    for name, semantic, raw in QUERIES:
        g.execute(semantic)
        ours = g.fetchall()
        d.execute(raw)
        theirs = d.fetchall()
        assert [tuple(str(v) for v in r) for r in ours] == [tuple(str(v) for v in r) for r in theirs], (ours, theirs)
        s50, s95 = timed(g, semantic)
        p50, p95 = timed(d, raw)
        g.execute("EXPLAIN ANALYZE " + semantic)
        plan = "\n".join(str(r[-1]) for r in g.fetchall())
        sent = [int(n) for n in re.findall(r"SchemaCastScanExec, metrics=\[output_rows=(\d+)", plan)]
        moved = sum(sent) if sent else "?"
        print(f"{name:40} {s50:9.2f} / {s95:7.2f} {p50:10.2f} / {p95:8.2f} {s50 / p50:6.2f}  {moved} / {len(ours)}")


if __name__ == "__main__":
    main()
