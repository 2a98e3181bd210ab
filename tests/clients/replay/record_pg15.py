#!/usr/bin/env python3
"""Records what a real PostgreSQL 15 answers to every replay fixture into expected.json.

Run once after adding or changing fixtures (needs the PostgreSQL 15 server binaries, Debian's postgresql-15):

    .venv/bin/python tests/clients/replay/record_pg15.py

It starts a throw-away cluster (initdb + pg_ctl, temporary directory, free port, run as the postgres user when
started as root), creates role analyst / database semgate and views public.sales and public.customers with the
same column names and types as semgate's semantic views, runs each fixture entry the way test_replay.py does
(psycopg2, fresh autocommit connection, simple protocol) and writes column names, type oids and names, and row
counts. The test itself then needs no PostgreSQL.
"""
import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import replay_fixtures  # noqa: E402

PG_BIN = Path(os.environ.get("PG15_BIN", "/usr/lib/postgresql/15/bin"))
OUT = Path(__file__).resolve().parent / "expected.json"

# Column names and types as `\d sales` / `\d customers` show them on semgate (text dimensions, date time
# dimensions, numeric and bigint measures).
VIEWS = {
    "sales": [
        ("order_date", "date"), ("ship_date", "date"), ("region", "text"), ("nation", "text"),
        ("market_segment", "text"), ("order_priority", "text"), ("order_status", "text"), ("ship_mode", "text"),
        ("return_flag", "text"), ("line_status", "text"), ("brand", "text"), ("part_type", "text"),
        ("revenue", "numeric"), ("gross_sales", "numeric"), ("quantity", "numeric"), ("line_items", "bigint"),
        ("order_count", "bigint"), ("avg_discount", "numeric"), ("returned_revenue", "numeric"),
        ("customer_count", "bigint"), ("avg_order_value", "numeric"),
    ],
    "customers": [
        ("region", "text"), ("nation", "text"), ("market_segment", "text"), ("customer_count", "bigint"),
        ("total_account_balance", "numeric"), ("avg_account_balance", "numeric"),
    ],
}
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


@contextlib.contextmanager
def pg15_with_views():
    """A throw-away PostgreSQL 15 with role analyst, database semgate and views shaped like semgate's; yields its
    port. Also used by scripts/bench/catalog.py."""
    tmp = Path(tempfile.mkdtemp(prefix="replay-pg15-"))
    data = tmp / "data"
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(tmp, pg.pw_uid, pg.pw_gid)
    port = free_port()
    subprocess.run(as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
    log = tmp / "server.log"
    subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start", "-o",
                                f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"]), check=True)
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE ROLE analyst LOGIN PASSWORD 'analyst'")
        admin.cursor().execute("CREATE DATABASE semgate OWNER analyst")
        admin.close()
        setup = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
        setup.autocommit = True
        cur = setup.cursor()
        for view, columns in VIEWS.items():
            select = ", ".join(f"NULL::{typ} AS {name}" for name, typ in columns)
            cur.execute(f"CREATE VIEW public.{view} AS SELECT {select} WHERE false")
        setup.close()
        yield port
    finally:
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL)
        time.sleep(0.2)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    with pg15_with_views() as port:
        def connect():
            return psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst",
                                    dbname="semgate")

        setup = connect()
        server_version = setup.server_version
        cur = setup.cursor()
        cur.execute("SELECT oid, typname FROM pg_catalog.pg_type")
        type_names = dict(cur.fetchall())
        setup.close()

        expected = {}
        for entry in replay_fixtures.all_entries():
            result = replay_fixtures.run_entry(connect, entry)
            record = {"file": entry["file"], "line": entry["line"], "ok": result["ok"]}
            if result["ok"]:
                record["columns"] = result["columns"]
                record["type_oids"] = result["type_oids"]
                record["types"] = [type_names.get(t, str(t)) for t in result["type_oids"]]
                record["rowcount"] = result["rowcount"]
                if entry["headers"].get("check") == "values":
                    record["rows"] = result["rows"]
            else:
                record["error"] = result["error"]
                record["sqlstate"] = result["sqlstate"]
                print(f"PG15 rejects {entry['id']}: {result['error']}", file=sys.stderr)
            expected[entry["id"]] = record
        document = {"_recorded_with": f"PostgreSQL {server_version} via {Path(__file__).name}",
                    "entries": expected}
        OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(expected)} entries to {OUT}")


if __name__ == "__main__":
    main()
