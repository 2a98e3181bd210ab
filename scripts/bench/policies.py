"""What access policies cost: the same question asked by a user whose policy filters rows (emea, region EUROPE) and
by a full-access user who writes the same condition in WHERE (analyst), so both read the same rows and the difference
is the policy's own cost; DuckDB in-process over the same Parquet files with the same condition as the yardstick.

Usage: scripts/bench/policies.sh (starts a release gateway on the demo and runs this with the venv's Python).
Cache off (`SET semgate.cache = off`); p50 over N runs after warm-up. A benchmark, not a test: nothing asserts speed.
"""
import os
import sys

import duckdb
import psycopg2

from latency import LINE_TO_REGION, timed

N = int(os.environ.get("N", "30"))
QUERIES = [
    (
        "revenue by nation",
        "SELECT nation, MEASURE(revenue) FROM sales {where} GROUP BY nation",
        f"SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} "
        "WHERE r_name = 'EUROPE' GROUP BY n_name",
    ),
    (
        "customer_count + order_count (two grains)",
        "SELECT MEASURE(customer_count), MEASURE(order_count) FROM sales {where}",
        "SELECT (SELECT COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey JOIN region "
        "ON n_regionkey = r_regionkey WHERE r_name = 'EUROPE'), "
        f"(SELECT COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE')",
    ),
    (
        "monthly line_items in 1996",
        "SELECT date_trunc('month', order_date), MEASURE(line_items) FROM sales "
        "WHERE order_date >= '1996-01-01' AND order_date < '1997-01-01' {and_where} GROUP BY 1",
        f"SELECT date_trunc('month', o_orderdate), COUNT(*) FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE' "
        "AND o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' GROUP BY 1",
    ),
]


def connect(port, user):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=user, dbname="semgate")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET semgate.cache = off")
    return connection


def main():
    port, tpch = int(sys.argv[1]), sys.argv[2]
    analyst, emea = connect(port, "analyst"), connect(port, "emea")
    duck = duckdb.connect()
    duck.execute("SET threads = 2")
    for table in ["region", "nation", "customer", "orders", "lineitem"]:
        duck.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch}/{table}.parquet')")

    def run(connection, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    print(f"{'query':45} {'analyst + WHERE':>16} {'emea (policy)':>14} {'policy cost':>12} {'DuckDB':>9}")
    for name, template, reference in QUERIES:
        filtered = template.format(where="WHERE region = 'EUROPE'", and_where="AND region = 'EUROPE'")
        policed = template.format(where="", and_where="")
        assert sorted(map(str, run(analyst, filtered))) == sorted(map(str, run(emea, policed))), name
        for _ in range(3):
            run(analyst, filtered), run(emea, policed), duck.execute(reference).fetchall()
        with_where, _ = timed(lambda: run(analyst, filtered), N)
        with_policy, _ = timed(lambda: run(emea, policed), N)
        duck_p50, _ = timed(lambda: duck.execute(reference).fetchall(), N)
        print(f"{name:45} {with_where:13.2f} ms {with_policy:11.2f} ms {with_policy / with_where:11.2f}x "
              f"{duck_p50:6.2f} ms")
    plan = "SELECT region FROM sales GROUP BY region"
    simple_where, _ = timed(lambda: run(analyst, plan), N)
    simple_policy, _ = timed(lambda: run(emea, plan), N)
    print(f"{'distinct regions (planning-bound)':45} {simple_where:13.2f} ms {simple_policy:11.2f} ms "
          f"{simple_policy / simple_where:11.2f}x (analyst reads all five)")


if __name__ == "__main__":
    main()
