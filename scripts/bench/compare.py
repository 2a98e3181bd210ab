"""Benchmark (not a test): the paths BI tools, psql users and notebooks take, semgate beside PostgreSQL 15 and DuckDB
in one run, printed as one table.

Usage: scripts/bench/compare.sh (builds the release gateway, or takes $SEMGATE_BIN, and runs this with the venv).

    compare.py SEMGATE_BIN DATA_ROOT [--small-scale 0.1] [--large-scale 1] [--seconds 10] [--clients 64] [--reps 3]

Starts its own gateways on the demo (TPC-H under DATA_ROOT, generated on first use) and a throw-away PostgreSQL 15
(initdb/pg_ctl, as tests/clients/replay/record_pg15.py does), then measures:

- pgbench -M simple|extended|prepared, CLIENTS clients for SECONDS each: a cached semantic query and `SELECT 1` on
  semgate, `SELECT 1` on PostgreSQL 15 (the fastest thing a server can answer: the bar the cached query must reach);
- compile + plan: `EXPLAIN` of a two-grain semantic query with a literal that changes every run (so neither the plan
  cache nor the result cache answers) minus the `SELECT 1` round trip, p50;
- bulk rows at the small scale (one row per line item): psql COPY and plain SELECT to /dev/null, psycopg 3 binary,
  ADBC (Flight SQL on semgate, libpq COPY on PostgreSQL); PostgreSQL serves the same rows from a table loaded with
  semgate's own COPY output;
- scripts/bench/memory.sh at the large scale: a 6M-group query with and without a memory limit;
- the semantic query set of latency.py at the large scale against DuckDB in-process, cache off, and its geomean.
"""
import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from argparse import Namespace
from pathlib import Path

import psycopg
import psycopg2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "clients" / "replay"))
import flight_vs_pg  # noqa: E402
import latency  # noqa: E402
from record_pg15 import pg15_with_views  # noqa: E402

CACHED_QUERY = "SELECT region, MEASURE(revenue) FROM sales GROUP BY region"
TWO_GRAINS = ("SELECT nation, MEASURE(revenue), MEASURE(customer_count) FROM sales "
              "WHERE nation <> 'nation {}' GROUP BY nation")
# The bulk result's columns as PostgreSQL declares them, for the table that serves the same rows there.
BULK_TABLE = ("CREATE TABLE lines (order_date date, ship_date date, nation text, ship_mode text, part_type text, "
              "revenue numeric, quantity numeric, line_items bigint)")
# Runs of the two-grain query whose planning the gateway times.
PLANNED_RUNS = 60
ENV = {**os.environ, "PGPASSWORD": "analyst"}
# What one run may be limited to (`--only`), in the order the table prints them.
PARTS = ("pgbench", "planning", "bulk", "memory", "semantic")


class Table:
    """The rows of the printed comparison: what was measured, semgate's figure, the peer's, and semgate ÷ peer."""

    def __init__(self):
        self.rows = []

    def add(self, path, ours, peer, unit, higher_is_better):
        """One row; `ours`/`peer` are numbers (or None when the run failed, with the reason in `unit`)."""
        if ours is None or peer is None:
            ratio = "failed"
        else:
            ratio = ours / peer
            ahead = ratio >= 1 if higher_is_better else ratio <= 1
            ratio = f"{ratio:.2f}× ({'ahead' if ahead else 'behind'})"
        self.rows.append((path, fmt(ours, unit), fmt(peer, unit), ratio))
        print(f"  {path}: {fmt(ours, unit)} | {fmt(peer, unit)} | {ratio}", file=sys.stderr, flush=True)

    def note(self, path, ours, peer):
        self.rows.append((path, ours, peer, ""))
        print(f"  {path}: {ours} | {peer}", file=sys.stderr, flush=True)

    def print(self):
        print("| path | semgate | peer | semgate ÷ peer |")
        print("|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def fmt(value, unit):
    if value is None:
        return "failed"
    if unit == "tps":
        return f"{value / 1000:.1f}k tps"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "MB/s":
        return f"{value:,.0f} MB/s"
    return f"{value} {unit}"


@contextlib.contextmanager
def gateway(binary, data_root, scale, cache_mb=None):
    """A release gateway on the demo at `scale` (its model over the data `semgate demo-data` made, with a result cache
    of `cache_mb` when given); yields (pg port, flight port, admin port)."""
    pg_port, flight_port, admin_port = free_port(), free_port(), free_port()
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log, \
            tempfile.NamedTemporaryFile("w", suffix=".yml") as config:
        serve = [binary, "serve", "--pg-addr", f"127.0.0.1:{pg_port}", "--flight-addr", f"127.0.0.1:{flight_port}",
                 "--admin-addr", f"127.0.0.1:{admin_port}"]
        if cache_mb is None:
            serve += ["--data-dir", data_root, "--demo-scale", str(scale)]
        else:
            config.write(f"data_dir: {Path(data_root) / f'tpch-sf{scale}'}\nsemantic: [{ROOT / 'semantic'}]\n"
                         "users: [{name: analyst, password: analyst, groups: [admin]}]\n"
                         f"cache: {{capacity_mb: {cache_mb}}}\n")
            config.flush()
            serve += ["--config", config.name]
        server = subprocess.Popen(serve, stdout=log, stderr=subprocess.STDOUT)
        try:
            while "semgate is ready" not in Path(log.name).read_text():
                if server.poll() is not None:
                    sys.exit(f"the gateway at SF {scale} exited:\n{Path(log.name).read_text()}")
                time.sleep(0.1)
            yield pg_port, flight_port, admin_port
        finally:
            server.terminate()
            server.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pgbench(port, sql, mode, args):
    """Transactions per second of `sql` from pgbench, or None with the reason printed."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(sql + ";\n")
        script.flush()
        os.chmod(script.name, 0o644)
        run = subprocess.run(["pgbench", "-n", "-c", str(args.clients), "-j", "2", "-T", str(args.seconds), "-M",
                              mode, "-f", script.name, "-h", "127.0.0.1", "-p", str(port), "-U", "analyst",
                              "semgate"], env=ENV, capture_output=True, text=True)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", run.stdout)
    if run.returncode or not tps or (failed and int(failed.group(1))):
        print(f"pgbench -M {mode} {sql!r} on port {port} failed: {run.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return float(tps.group(1))


def median_seconds(run, reps):
    run()  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def psql(port, *args):
    subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "analyst", "-d", "semgate",
                    *args], env=ENV, check=True, stdout=subprocess.DEVNULL)


def connect2(port):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
    conn.autocommit = True
    return conn


def compare_pgbench(table, ours, pg15, args):
    peer = {mode: pgbench(pg15, "SELECT 1", mode, args) for mode in ("simple", "extended", "prepared")}
    for mode in ("simple", "extended", "prepared"):
        table.add(f"pgbench {args.clients} clients, cached semantic query, `-M {mode}` (peer: PG15 `SELECT 1`)",
                  pgbench(ours, CACHED_QUERY, mode, args), peer[mode], "tps", True)
    for mode in ("simple", "extended", "prepared"):
        table.add(f"pgbench {args.clients} clients, `SELECT 1`, `-M {mode}` (peer: PG15)",
                  pgbench(ours, "SELECT 1", mode, args), peer[mode], "tps", True)


def compare_planning(table, ours, admin):
    cur = connect2(ours).cursor()
    cur.execute("SET semgate.cache = off")
    counter = iter(range(10**9))

    def explain():
        cur.execute("EXPLAIN " + TWO_GRAINS.format(next(counter)))
        cur.fetchall()

    plan, _ = latency.timed(explain, 200, 0.5)
    floor, _ = latency.timed(lambda: (cur.execute("SELECT 1"), cur.fetchall()), 200, 0.5)
    table.add("compile + plan of a two-grain semantic query (EXPLAIN − SELECT 1, p50; peer: the goal)",
              plan - floor, 2.0, "ms", False)
    # EXPLAIN also prints the plan after every analyzer and optimizer rule, which no query pays: the same query run
    # for real, its planning timed by the gateway (semgate_planning_duration_seconds, by stage).
    before = planning_buckets(admin)
    for _ in range(PLANNED_RUNS):
        cur.execute(TWO_GRAINS.format(next(counter)))
        cur.fetchall()
    after = planning_buckets(admin)
    stages = {stage: bucket_median(before[stage], after[stage]) for stage in ("optimize", "physical")}
    table.add(f"same query run, planning as the gateway times it (p50 optimize {stages['optimize']:.2f} ms + "
              f"p50 physical {stages['physical']:.2f} ms; peer: the goal)", sum(stages.values()), 2.0, "ms", False)


def planning_buckets(admin):
    """{stage: [(upper bound in ms, cumulative count)]} of semgate_planning_duration_seconds (the EXPLAINs before
    made both stages' series)."""
    buckets = {}
    for labels, count in re.findall(r'^semgate_planning_duration_seconds_bucket\{([^}]*)\} (\d+)', scrape(admin),
                                    re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        buckets.setdefault(labels["stage"], []).append((float(labels["le"]) * 1e3, int(count)))
    return buckets


def bucket_median(before, after):
    """The median of the observations between two scrapes of one histogram, interpolated within its bucket."""
    counts = [(bound, b - a) for (bound, a), (_, b) in zip(before, after)]
    half = counts[-1][1] / 2
    lower, below = 0.0, 0
    for bound, cumulative in counts:
        if cumulative >= half:
            return lower + (bound - lower) * (half - below) / max(cumulative - below, 1)
        lower, below = bound, cumulative
    return float("inf")


def compare_bulk(table, ours, flight_port, pg15, args):
    query = flight_vs_pg.DEFAULT_QUERY
    with psycopg.connect(flight_vs_pg.pg_dsn(ours), autocommit=True) as source, \
            psycopg.connect(flight_vs_pg.pg_dsn(pg15), autocommit=True) as target:
        target.execute(BULK_TABLE)
        with source.cursor().copy(f"COPY ({query}) TO STDOUT") as rows, \
                target.cursor().copy("COPY lines FROM STDIN") as load:
            for block in rows:
                load.write(block)
        target.execute("VACUUM ANALYZE lines")
        (count,) = target.execute("SELECT count(*) FROM lines").fetchone()
    served = "SELECT * FROM lines"
    label = f"{count:,}-row result (SF {args.small_scale}, one row per line item)"
    table.add(f"{label} via psql COPY to /dev/null (peer: PG15 table of the same rows)",
              median_seconds(lambda: psql(ours, "-c", f"COPY ({query}) TO STDOUT"), args.reps),
              median_seconds(lambda: psql(pg15, "-c", f"COPY ({served}) TO STDOUT"), args.reps), "s", False)
    table.add("same rows, plain `SELECT` through psql (unaligned)",
              median_seconds(lambda: psql(ours, "-A", "-c", query), args.reps),
              median_seconds(lambda: psql(pg15, "-A", "-c", served), args.reps), "s", False)
    ours_args = Namespace(pg_port=ours, flight_port=flight_port, query=query)
    pg_args = Namespace(pg_port=pg15, query=served)
    pg_psycopg = median_seconds(lambda: flight_vs_pg.run_psycopg(pg_args), args.reps)
    table.add("same rows, psycopg 3 binary (peer: PG15)",
              median_seconds(lambda: flight_vs_pg.run_psycopg(ours_args), args.reps), pg_psycopg, "s", False)
    table.add("same rows as Arrow: ADBC Flight SQL (peer: ADBC PostgreSQL on PG15)",
              median_seconds(lambda: flight_vs_pg.run_flight_sql(ours_args), args.reps),
              median_seconds(lambda: flight_vs_pg.run_adbc_pg(pg_args), args.reps), "s", False)


def compare_flight_transfer(table, args):
    """The transfer alone: the result answered from the result cache (a gateway whose cache holds it), pulled with
    pyarrow.flight's DoGet; Arrow size of the rows ÷ time."""
    with gateway(args.semgate_bin, args.data_root, args.small_scale, cache_mb=4096) as (ours, flight_port, admin):
        ours_args = Namespace(pg_port=ours, flight_port=flight_port, query=flight_vs_pg.DEFAULT_QUERY,
                              max_wire_gb=float("inf"))
        _, _, _, size, _ = flight_vs_pg.probe(ours_args)  # also fills the cache
        hits = cache_hits(admin)
        pulled = median_seconds(lambda: flight_vs_pg.run_flight(ours_args), args.reps)
        if cache_hits(admin) - hits != args.reps + 1:
            table.note("same rows over Flight, transfer only", "failed: not answered from the cache", "")
            return
    table.add(f"same rows over Flight, transfer only: {size / 1e6:.0f} MB of Arrow answered from the result cache, "
              "pyarrow.flight DoGet (peer: the goal)", size / 1e6 / pulled, 1000.0, "MB/s", True)


def cache_hits(admin):
    return int(float(re.search(r"^semgate_cache_hits_total (\S+)", scrape(admin), re.M).group(1)))


def scrape(admin):
    """The gateway's metrics, in Prometheus' text format."""
    return urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10).read().decode()


def compare_memory(table, args):
    run = subprocess.run([str(HERE / "memory.sh")], env={**ENV, "SEMGATE_BIN": args.semgate_bin, "SCALE": str(args.large_scale),
                                                         "SEMGATE_BENCH_DATA_DIR": args.data_root},
                         capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in run.stdout.splitlines() if line.startswith("memory_limit")]
    if run.returncode or len(lines) != 2:
        print(f"memory.sh failed: {run.stderr.strip()[-300:]}", file=sys.stderr)
        table.note("peak RSS of a 6M-group query (memory.sh)", "failed", "")
        return
    table.note(f"6M-group semantic query streamed, SF {args.large_scale} (memory.sh)",
               "; ".join(line.removeprefix("memory_limit ") for line in lines), "goal: bounded by the limit")


def compare_semantic_set(table, ours, args):
    tpch = Path(args.data_root) / f"tpch-sf{args.large_scale}"
    figures = latency.semantic_vs_duckdb(connect2(ours).cursor(), latency.duckdb_over(tpch), args.runs)
    for name, s50, _, d50, _ in figures:
        table.add(f"SF {args.large_scale}: {name}, p50 cache off (peer: DuckDB in-process)", s50, d50, "ms", False)
    ours_mean = latency.geomean([f[1] for f in figures])
    peer_mean = latency.geomean([f[3] for f in figures])
    table.add(f"{len(figures)} semantic queries at SF {args.large_scale}, geomean (goal ≤ 1.2× DuckDB)",
              ours_mean, peer_mean, "ms", False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("semgate_bin")
    parser.add_argument("data_root")
    parser.add_argument("--small-scale", default="0.1")
    parser.add_argument("--large-scale", default="1")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per query of the semantic set")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts to run, of {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}; choose from {', '.join(PARTS)}")

    table = Table()
    if parts & {"pgbench", "planning", "bulk"}:
        with pg15_with_views() as pg15:
            with gateway(args.semgate_bin, args.data_root, args.small_scale) as (ours, flight_port, admin):
                if "pgbench" in parts:
                    compare_pgbench(table, ours, pg15, args)
                if "planning" in parts:
                    compare_planning(table, ours, admin)
                if "bulk" in parts:
                    compare_bulk(table, ours, flight_port, pg15, args)
        if "bulk" in parts:
            compare_flight_transfer(table, args)
    if "memory" in parts:
        compare_memory(table, args)
    if "semantic" in parts:
        with gateway(args.semgate_bin, args.data_root, args.large_scale) as (ours, _, _):
            compare_semantic_set(table, ours, args)
    print()
    table.print()


if __name__ == "__main__":
    main()
