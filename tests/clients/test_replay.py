"""Replays the exact SQL that BI tools which cannot run here send (Power BI/Npgsql, Grafana, Tableau/psqlODBC,
DataGrip, Metabase, DBeaver, Superset) and checks semgate answers like PostgreSQL 15 does.

The statements live in tests/clients/replay/<tool>.sql, each with the file/URL it was taken from. What a real
PostgreSQL 15 returned for each of them (on a database with views sales and customers shaped like semgate's) is in
tests/clients/replay/expected.json, written by tests/clients/replay/record_pg15.py; this test needs no PostgreSQL.

For every statement: it must succeed; the result must have PG15's column names, in order, and column types of the
same family (string, integer, decimal, bool, date, timestamp, timestamptz, json, int vector, array: name vs text or
oid vs int4 is tolerated, integer vs numeric or timestamp vs timestamptz is not); for entries marked
"check: rowcount" the number of rows must match too, and for entries marked "check: values" every value (as text).
"""
import json
import sys
from pathlib import Path

import psycopg2
import pytest

REPLAY = Path(__file__).resolve().parent / "replay"
sys.path.insert(0, str(REPLAY))
import replay_fixtures  # noqa: E402

ENTRIES = replay_fixtures.all_entries()
EXPECTED = json.loads((REPLAY / "expected.json").read_text())["entries"]

# Built-in type oids (stable across PostgreSQL versions) and the family a client sees them as. PostgreSQL sends a
# domain's base type, so information_schema's domains show up as name/varchar/int4 here.
BUILTIN_TYPES = {
    16: ("bool", "bool"), 18: ("char", "string"), 19: ("name", "string"), 20: ("int8", "integer"),
    21: ("int2", "integer"), 22: ("int2vector", "int vector"), 23: ("int4", "integer"), 24: ("regproc", "integer"),
    25: ("text", "string"), 26: ("oid", "integer"), 28: ("xid", "integer"), 30: ("oidvector", "int vector"),
    114: ("json", "json"), 194: ("pg_node_tree", "string"), 700: ("float4", "decimal"), 701: ("float8", "decimal"),
    705: ("unknown", "string"), 1003: ("_name", "array"), 1005: ("_int2", "array"), 1007: ("_int4", "array"),
    1009: ("_text", "array"), 1016: ("_int8", "array"), 1028: ("_oid", "array"), 1034: ("_aclitem", "array"),
    1042: ("bpchar", "string"), 1043: ("varchar", "string"), 1082: ("date", "date"), 1114: ("timestamp", "timestamp"),
    1184: ("timestamptz", "timestamptz"), 1700: ("numeric", "decimal"), 2205: ("regclass", "integer"),
    2206: ("regtype", "integer"), 2277: ("anyarray", "array"), 3802: ("jsonb", "json"), 4089: ("regnamespace", "integer"),
}


def type_name(oid):
    return BUILTIN_TYPES.get(oid, (str(oid), None))[0]


def type_family(oid):
    return BUILTIN_TYPES.get(oid, (None, f"oid {oid}"))[1]


def test_fixtures_are_recorded():
    missing = [e["id"] for e in ENTRIES if e["id"] not in EXPECTED]
    stale = sorted(set(EXPECTED) - {e["id"] for e in ENTRIES})
    assert not missing and not stale, (
        f"re-run tests/clients/replay/record_pg15.py: missing {missing}, stale {stale}")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_replay(port, entry):
    expected = EXPECTED[entry["id"]]
    assert expected["ok"], f"PG15 itself rejects this fixture: {expected.get('error')}"

    def connect():
        return psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")

    where = f"{entry['file']}:{entry['line']} ({entry['headers'].get('source', 'no source')})"
    actual = replay_fixtures.run_entry(connect, entry)
    assert actual["ok"], f"{where}\nsemgate: {actual['error']} [SQLSTATE {actual['sqlstate']}]"

    problems = []
    if actual["columns"] != expected["columns"]:
        problems.append(f"columns: semgate {actual['columns']}\n         PG15    {expected['columns']}")
    else:
        wrong = [f"{name}: {type_name(a)} (PG15 {type_name(e)})"
                 for name, a, e in zip(expected["columns"], actual["type_oids"], expected["type_oids"])
                 if type_family(a) != type_family(e)]
        if wrong:
            problems.append("types: " + "; ".join(wrong))
    check = entry["headers"].get("check")
    if check in ("rowcount", "values") and actual["rowcount"] != expected["rowcount"]:
        problems.append(f"rows: semgate {actual['rowcount']}, PG15 {expected['rowcount']}")
    if check == "values" and actual["rows"] != expected["rows"]:
        problems.append(f"values: semgate {actual['rows']}\n        PG15    {expected['rows']}")
    assert not problems, where + "\n" + "\n".join(problems)
