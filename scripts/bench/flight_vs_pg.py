"""Benchmark (not a test): pull one large semantic result over the PostgreSQL wire and over Arrow Flight SQL.

Usage: flight_vs_pg.py PG_PORT FLIGHT_PORT [--reps N] [--query SQL] [--methods a,b,...] [--max-wire-gb G]

Every method runs the same query against the same gateway; each is warmed up once, then timed --reps times and the
median reported. MB/s is the Arrow size of the result divided by the time, the same payload for every method: the
result's `nbytes` with string views stored as plain strings (a view array's `nbytes` counts every data buffer it
points into, however little of them it uses, so it says more about the producer than about the data). The bytes
each protocol actually carried are listed beside it where the client exposes them.

Methods:
  compute      SELECT COUNT(*) FROM (query): the gateway's work without the transfer (one row back), for scale
  psycopg      psycopg 3, binary results, streamed in chunks of 10,000 rows (rows become Python tuples)
  copy-binary  psycopg 3 COPY (query) TO STDOUT (FORMAT binary), blocks read and not decoded (the wire alone)
  adbc-pg      ADBC PostgreSQL driver fetch_arrow_table (COPY binary decoded into Arrow in C++)
  flight-sql   ADBC Flight SQL driver fetch_arrow_table (Arrow IPC over gRPC, decoded in Go, handed over as Arrow)
  flight       pyarrow.flight: SQL text descriptor, GetFlightInfo, DoGet, read_all (Arrow IPC, C++ client)

Before timing, the Flight result is streamed once batch by batch (nothing kept) to measure it; if the gateway sends
more than --max-wire-gb, the Flight methods are skipped rather than exhausting memory in read_all.
"""
import argparse
import statistics
import sys
import time

import adbc_driver_flightsql.dbapi
import adbc_driver_postgresql.dbapi
import psycopg
import pyarrow as pa
import pyarrow.flight as flight

# One row per line item: grouped by dimensions that together are (almost) unique per line (60,174 groups for 60,175
# lines at SF 0.01, 600,536 for 600,572 at SF 0.1, ~6M at SF 1), with three measures. The raw TPC-H tables are not
# exposed, only the semantic views. GROUP BY is explicit: implicit aggregation (`SELECT dims, measures FROM sales`)
# returns the same rows, but `SELECT COUNT(*) FROM (that) t` (the compute baseline) then counts the view's line items.
DEFAULT_QUERY = (
    "SELECT order_date, ship_date, nation, ship_mode, part_type, MEASURE(revenue) AS revenue, "
    "MEASURE(quantity) AS quantity, MEASURE(line_items) AS line_items FROM sales GROUP BY 1, 2, 3, 4, 5"
)
USER = PASSWORD = "analyst"
FLIGHT_METHODS = ("flight-sql", "flight")


def pg_dsn(port):
    return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/semgate"


def compact(batch):
    """The batch with view types as plain strings/binaries: copies only the bytes the rows use."""
    plain = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}
    columns = [c.cast(plain[c.type]) if c.type in plain else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def flight_stream(args):
    client = flight.FlightClient(f"grpc://127.0.0.1:{args.flight_port}")
    options = flight.FlightCallOptions(headers=[client.authenticate_basic_token(USER, PASSWORD)])
    info = client.get_flight_info(flight.FlightDescriptor.for_command(args.query.encode()), options)
    return client, client.do_get(info.endpoints[0].ticket, options)


def probe(args):
    """Stream the Flight result once without keeping it: rows, batches, bytes on the wire and compact Arrow size."""
    rows = batches = wire = size = 0
    client, reader = flight_stream(args)
    with client:
        for chunk in reader:
            batch = chunk.data
            rows += batch.num_rows
            batches += 1
            wire += pa.ipc.get_record_batch_size(batch)
            size += compact(batch).nbytes
            if wire > args.max_wire_gb * 1e9:
                reader.cancel()
                return rows, batches, wire, size, False
    return rows, batches, wire, size, True


def run_compute(args):
    with psycopg.connect(pg_dsn(args.pg_port), autocommit=True) as conn:
        (rows,) = conn.execute(f"SELECT COUNT(*) FROM ({args.query}) t").fetchone()
    return rows, None


def run_psycopg(args):
    rows = 0
    with psycopg.connect(pg_dsn(args.pg_port), autocommit=True) as conn:
        cur = conn.cursor(binary=True)
        for _ in cur.stream(args.query, size=10_000):
            rows += 1
    return rows, None


def run_copy_binary(args):
    wire = 0
    with psycopg.connect(pg_dsn(args.pg_port), autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy(f"COPY ({args.query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                wire += len(block)
        rows = cur.rowcount  # from the "COPY n" command tag
    return (rows if rows >= 0 else None), f"{wire / 1e6:.1f} MB COPY binary"


def run_adbc_pg(args):
    with adbc_driver_postgresql.dbapi.connect(pg_dsn(args.pg_port), autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(args.query)
            table = cur.fetch_arrow_table()
    return table.num_rows, None


def run_flight_sql(args):
    with adbc_driver_flightsql.dbapi.connect(
        f"grpc://127.0.0.1:{args.flight_port}",
        db_kwargs={"username": USER, "password": PASSWORD},
        autocommit=True,
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(args.query)
            table = cur.fetch_arrow_table()
    return table.num_rows, f"{table.nbytes / 1e6:.1f} MB Arrow as received"


def run_flight(args):
    client, reader = flight_stream(args)
    with client:
        table = reader.read_all()
    wire = sum(pa.ipc.get_record_batch_size(b) for b in table.to_batches())
    return table.num_rows, f"{wire / 1e6:.1f} MB Arrow IPC"


METHODS = {
    "compute": run_compute,
    "psycopg": run_psycopg,
    "copy-binary": run_copy_binary,
    "adbc-pg": run_adbc_pg,
    "flight-sql": run_flight_sql,
    "flight": run_flight,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pg_port", type=int)
    parser.add_argument("flight_port", type=int)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--query", default=DEFAULT_QUERY)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--max-wire-gb", type=float, default=4.0,
                        help="skip the Flight methods when the probe sees more than this on the wire")
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")

    print(f"query: {args.query}")
    start = time.perf_counter()
    try:
        rows, batches, wire, size, complete = probe(args)
    except Exception as e:
        sys.exit(f"Flight probe failed: {str(e).splitlines()[0]}")
    elapsed = time.perf_counter() - start
    print(f"Flight probe: {rows} rows in {batches} batches ({rows / max(batches, 1):.0f} rows/batch), "
          f"{wire / 1e6:.1f} MB Arrow IPC on the wire for {size / 1e6:.1f} MB of data "
          f"({wire / max(size, 1):.1f}x), {elapsed:.2f} s")
    if not complete:
        print(f"  stopped after {args.max_wire_gb} GB on the wire: {wire / rows:.0f} wire bytes per row against "
              f"{size / rows:.0f} bytes of data; the Flight methods are skipped (their read_all would hold it all)")
        methods = [m for m in methods if m not in FLIGHT_METHODS]
    elif wire > 2 * size:
        print("  the gateway sends much more than the data: each batch carries whole shared buffers (string views?)")
    per_row = size / rows if rows else 0
    payload = f"{size / 1e6:.1f} MB" if complete else f"{per_row:.0f} bytes/row (from the probe's rows) x rows"
    print(f"{args.reps} timed runs per method after one warm-up; median. MB/s = {payload} (compact Arrow size of "
          "the result) / time")
    print()
    header = f"{'method':<12} {'rows':>10} {'median s':>9} {'min s':>8} {'max s':>8} {'Mrows/s':>8} {'MB/s':>8}  carried"
    print(header)
    print("-" * len(header))
    medians = {}
    for method in methods:
        run = METHODS[method]
        try:
            expected, carried = run(args)  # warm-up, and the row count every timed run must return
            times = []
            for _ in range(args.reps):
                begin = time.perf_counter()
                got, carried = run(args)
                times.append(time.perf_counter() - begin)
                if got != expected:
                    raise RuntimeError(f"{got} rows after {expected}: runs disagree")
        except Exception as e:  # one client failing must not hide the others' figures
            print(f"{method:<12} failed: {str(e).splitlines()[0]}")
            continue
        median = statistics.median(times)
        medians[method] = median
        if method == "compute":
            print(f"{method:<12} {expected:>10} {median:>9.3f} {min(times):>8.3f} {max(times):>8.3f} {'':>8} {'':>8}  "
                  "one row (the gateway's query time, no transfer)")
            continue
        if expected is not None and expected != rows and complete:
            print(f"  warning: {method} returned {expected} rows, Flight {rows}")
        mrows = f"{expected / median / 1e6:>8.2f}" if expected else f"{'?':>8}"
        mbs = f"{(size if complete else per_row * (expected or 0)) / median / 1e6:>8.1f}"
        print(f"{method:<12} {expected if expected is not None else '?':>10} {median:>9.3f} {min(times):>8.3f} "
              f"{max(times):>8.3f} {mrows} {mbs}  {carried or ''}")

    print()
    for flight_method in FLIGHT_METHODS:
        for pg_method in ("psycopg", "copy-binary", "adbc-pg"):
            if flight_method in medians and pg_method in medians:
                print(f"{flight_method} / {pg_method}: {medians[pg_method] / medians[flight_method]:.2f}x as fast")


if __name__ == "__main__":
    sys.exit(main())
