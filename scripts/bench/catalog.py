"""What BI tools and drivers wait for before their first chart: catalog introspection, on semgate and on a PostgreSQL 15
with the same views (started here, as tests/clients/replay/record_pg15.py does), side by side.

Usage: scripts/bench/catalog.sh (starts a release gateway on the demo and runs this with the venv's Python).
Prints p50 per task over RUNS runs on each server and the ratio semgate / PostgreSQL. A benchmark, not a test.
"""
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import psycopg2
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/clients/replay"))
import record_pg15  # noqa: E402
import replay_fixtures  # noqa: E402

RUNS = int(os.environ.get("RUNS", "30"))


def connect(port):
    return psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")


def replayed(entry_id):
    """One replayed client query (tests/clients/replay), run on a fresh connection like the tool does."""
    entry = next(e for e in replay_fixtures.all_entries() if e["id"] == entry_id)

    def run(port):
        result = replay_fixtures.run_entry(lambda: connect(port), entry)
        assert result["ok"], result
    return run


def sqlalchemy_reflection(port):
    engine = sa.create_engine(f"postgresql+psycopg2://analyst:analyst@127.0.0.1:{port}/semgate", poolclass=sa.NullPool)
    inspector = sa.inspect(engine)
    for view in inspector.get_view_names():
        inspector.get_columns(view)
        inspector.get_pk_constraint(view)
        inspector.get_foreign_keys(view)
        inspector.get_indexes(view)
    engine.dispose()


def asyncpg_array_result(port):
    """A fresh asyncpg connection reading a bigint[]: asyncpg introspects the type first (its recursive query)."""
    async def run():
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="analyst", password="analyst",
                                     database="semgate")
        try:
            rows = await conn.fetch("SELECT ARRAY[CAST(1 AS BIGINT), CAST(2 AS BIGINT)] AS a")
            assert list(rows[0]["a"]) == [1, 2]
        finally:
            await conn.close()
    asyncio.run(run())


def all_replayed(port):
    for entry in replay_fixtures.all_entries():
        replay_fixtures.run_entry(lambda: connect(port), entry)


TASKS = [
    ("connect + SELECT 1 (psycopg2)", lambda port: connect(port).cursor().execute("SELECT 1")),
    ("Metabase describe-fields (v0.51.8)", replayed("metabase/metabase_describe_fields_v0_51_8")),
    ("Grafana table list on the search path", replayed("grafana/grafana_show_tables")),
    ("DBeaver indexes", replayed("dbeaver/dbeaver_indexes")),
    ("SQLAlchemy reflection of every view (Superset)", sqlalchemy_reflection),
    ("asyncpg connect + bigint[] result (type introspection)", asyncpg_array_result),
    ("all 106 replayed tool queries, one connection each", all_replayed),
]


def p50(task, port):
    task(port)  # warm-up: the first run plans catalog tables and fills caches on both servers
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        task(port)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    semgate = int(sys.argv[1])
    with record_pg15.pg15_with_views() as postgres:
        print(f"{'task':52} {'semgate p50':>12} {'PG15 p50':>10} {'ratio':>7}")
        for name, task in TASKS:
            ours, theirs = p50(task, semgate), p50(task, postgres)
            print(f"{name:52} {ours:10.1f}ms {theirs:8.1f}ms {ours / theirs:6.2f}x")


if __name__ == "__main__":
    main()
