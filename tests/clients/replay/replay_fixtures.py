"""Reads the replay fixtures (tests/clients/replay/*.sql) and runs one entry on a psycopg2 connection.

Fixture format: an entry starts with a line "-- name: <id>", followed by "-- key: value" header lines
(source, check, batch-of, ...), then the SQL text up to the next "-- name:" line. The SQL is sent exactly as
written (one simple-protocol Query message, as psycopg2 sends it), after two substitutions:

  {{oid:public}}  the oid of schema public on the server being tested
  {{oid:sales}}   the oid of the relation public.sales on that server

(BI tools send these oids as parameters they read from an earlier catalog query; they differ between PostgreSQL
and semgate, so they are looked up on the server itself.)

"-- batch-of: a, b, c" builds the entry from the named entries of the same file, joined into one Query message.
"-- check: rowcount" asks the test to compare the number of rows too (default: column names and types only);
"-- check: values" compares every value (as text) too, for results that do not depend on the server's oids.
"""
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = re.compile(r"^--\s*([a-z-]+):\s*(.*)$")
PLACEHOLDER = re.compile(r"\{\{oid:(public|sales)\}\}")
LOOKUPS = {
    "public": "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public'",
    "sales": "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relname = 'sales'",
}


def fixture_files():
    return sorted(HERE.glob("*.sql"))


def parse_file(path):
    """Returns the entries of one fixture file, in order: dicts with id, name, file, line, headers, sql."""
    entries = []
    current = None
    lines = Path(path).read_text().splitlines()
    for lineno, line in enumerate(lines, start=1):
        match = HEADER.match(line)
        if match and match.group(1) == "name":
            current = {"name": match.group(2).strip(), "file": Path(path).name, "line": lineno, "headers": {},
                       "body": [], "in_header": True}
            entries.append(current)
            continue
        if current is None:
            continue
        if current["in_header"] and match and match.group(1) in ("source", "check", "batch-of", "note"):
            current["headers"][match.group(1)] = match.group(2).strip()
            continue
        current["in_header"] = False
        current["body"].append(line)
    by_name = {}
    for entry in entries:
        entry["sql"] = "\n".join(entry.pop("body")).strip()
        entry.pop("in_header")
        entry["id"] = f"{Path(path).stem}/{entry['name']}"
        by_name[entry["name"]] = entry
    for entry in entries:
        batch = entry["headers"].get("batch-of")
        if batch:
            parts = []
            for name in [n.strip() for n in batch.split(",")]:
                sql = by_name[name]["sql"]
                parts.append(sql if sql.rstrip().endswith(";") else sql + ";")
            entry["sql"] = "\n".join(parts)
        if not entry["sql"]:
            raise ValueError(f"{entry['file']}:{entry['line']}: entry {entry['name']} has no SQL")
    return entries


def all_entries():
    entries = []
    for path in fixture_files():
        entries.extend(parse_file(path))
    ids = [e["id"] for e in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate replay entries: {sorted(duplicates)}")
    return entries


def resolve(cursor, sql):
    """Replaces {{oid:...}} placeholders with the oid looked up on the connected server."""
    cache = {}

    def lookup(match):
        key = match.group(1)
        if key not in cache:
            cursor.execute(LOOKUPS[key])
            row = cursor.fetchone()
            if row is None:
                raise LookupError(f"no oid for {key} on this server ({LOOKUPS[key]})")
            cache[key] = str(row[0])
        return cache[key]

    return PLACEHOLDER.sub(lookup, sql)


def run_entry(connect, entry):
    """Runs one entry on a fresh autocommit connection. Returns a dict: ok, columns, type_oids, rowcount, error."""
    conn = connect()
    conn.autocommit = True
    try:
        cur = conn.cursor()
        try:
            sql = resolve(cur, entry["sql"])
            cur.execute(sql)
        except Exception as error:  # noqa: BLE001 - every server error is a result here
            code = getattr(error, "pgcode", None)
            message = (getattr(error, "pgerror", None) or str(error)).strip()
            return {"ok": False, "error": message, "sqlstate": code}
        if cur.description is None:
            return {"ok": True, "columns": [], "type_oids": [], "rowcount": None}
        rows = cur.fetchall()
        return {
            "ok": True,
            "columns": [d.name for d in cur.description],
            "type_oids": [d.type_code for d in cur.description],
            "rowcount": len(rows),
            "rows": [[None if v is None else str(v) for v in row] for row in rows],
        }
    finally:
        conn.close()
