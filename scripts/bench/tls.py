"""Benchmark (not a test): what TLS costs on a large result, over the PostgreSQL wire and over Flight SQL.

Usage: tls.py PLAIN_PG PLAIN_FLIGHT TLS_PG TLS_FLIGHT CA_FILE [--reps N] [--query SQL]

Two gateways over the same data: one plaintext, one with TLS (rustls). The same query is pulled by
  copy-binary  psycopg 3 COPY (query) TO STDOUT (FORMAT binary), blocks read, not decoded (the wire alone)
  psycopg      psycopg 3 binary results streamed in chunks of 10,000 rows
  flight-sql   ADBC Flight SQL fetch_arrow_table (grpc:// against grpc+tls://)
each warmed up once, then timed --reps times; the median, and TLS / plaintext.
"""
import argparse
import statistics
import time

import adbc_driver_flightsql.dbapi
import psycopg

from flight_vs_pg import DEFAULT_QUERY, PASSWORD, USER


def pg_dsn(port, ca):
    if ca is None:
        return f"host=127.0.0.1 port={port} dbname=semgate user={USER} password={PASSWORD} sslmode=disable"
    return (f"host=localhost port={port} dbname=semgate user={USER} password={PASSWORD} sslmode=verify-full "
            f"sslrootcert={ca}")


def copy_binary(port, ca, query):
    wire = 0
    with psycopg.connect(pg_dsn(port, ca), autocommit=True) as conn:
        with conn.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                wire += len(block)
    return wire


def stream_rows(port, ca, query):
    rows = 0
    with psycopg.connect(pg_dsn(port, ca), autocommit=True) as conn:
        for _ in conn.cursor(binary=True).stream(query, size=10_000):
            rows += 1
    return rows


def flight_sql(port, ca, query):
    kwargs = {"username": USER, "password": PASSWORD}
    uri = f"grpc://127.0.0.1:{port}"
    if ca is not None:
        uri = f"grpc+tls://localhost:{port}"
        kwargs["adbc.flight.sql.client_option.tls_root_certs"] = open(ca).read()
    with adbc_driver_flightsql.dbapi.connect(uri, db_kwargs=kwargs, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetch_arrow_table().num_rows


def timed(run, reps):
    expected = run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        assert run() == expected, "runs disagree"
        times.append(time.perf_counter() - start)
    return statistics.median(times), expected


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("plain_pg", "plain_flight", "tls_pg", "tls_flight"):
        parser.add_argument(name, type=int)
    parser.add_argument("ca")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--query", default=DEFAULT_QUERY)
    args = parser.parse_args()
    print(f"query: {args.query}\n{args.reps} timed runs after one warm-up; median\n")
    print(f"{'method':<12} {'plaintext s':>12} {'TLS s':>8} {'TLS/plain':>10}  result")
    for name, run, plain, secured in (
        ("copy-binary", copy_binary, args.plain_pg, args.tls_pg),
        ("psycopg", stream_rows, args.plain_pg, args.tls_pg),
        ("flight-sql", flight_sql, args.plain_flight, args.tls_flight),
    ):
        plain_s, size = timed(lambda: run(plain, None, args.query), args.reps)
        tls_s, _ = timed(lambda: run(secured, args.ca, args.query), args.reps)
        unit = "bytes" if name == "copy-binary" else "rows"
        print(f"{name:<12} {plain_s:>12.3f} {tls_s:>8.3f} {tls_s / plain_s:>9.2f}x  {size} {unit}")


if __name__ == "__main__":
    main()
