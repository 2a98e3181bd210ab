"""node-postgres (pg from npm: most Node.js apps, Knex, Sequelize, Prisma's pg adapter) run from Node; what it reads is
checked against DuckDB. scripts/client-tests.sh installs tests/clients/node (npm ci)."""
import json
import os
import subprocess

import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")


@pytest.fixture(scope="module")
def out(port):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "pg")):
        pytest.fail("node-postgres is missing: run `npm ci --prefix tests/clients/node` (scripts/client-tests.sh does)")
    run = subprocess.run(
        ["node", os.path.join(NODE_DIR, "pg_smoke.js"), str(port)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def ok(result):
    assert "error" not in result, result
    return result


def test_simple_query(out, reference):
    result = ok(out["simple"])
    # text, numeric, int8, date: node-pg leaves numeric and int8 as strings.
    assert result["fields"] == [["region", 25], ["revenue", 1700], ["lines", 20], ["first_order", 1082]]
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(*), MIN(o_orderdate) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    rows = [(r["region"], r["revenue"], r["lines"], r["first_order"]) for r in result["rows"]]
    assert_rows(rows, expected)


def test_parameters(out, reference):
    result = ok(out["params"])
    expected = reference.execute(
        f"SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} "
        "WHERE r_name = 'ASIA' AND o_orderdate >= DATE '1996-01-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows([(r["nation"], r["revenue"]) for r in result["rows"]], expected)


def test_js_date_parameter(out, reference):
    result = ok(out["date_param"])
    (expected,) = reference.execute(
        "SELECT COUNT(DISTINCT o_orderkey) FROM orders JOIN lineitem ON l_orderkey = o_orderkey "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1995-07-01'"
    ).fetchone()
    assert int(result["rows"][0]["orders"]) == expected


def test_named_prepared_statement_twice(out, reference):
    for key, segment in [("named_first", "BUILDING"), ("named_second", "MACHINERY")]:
        result = ok(out[key])
        (count,) = reference.execute(f"SELECT COUNT(*) FROM customer WHERE c_mktsegment = '{segment}'").fetchone()
        assert result["rows"] == [{"market_segment": segment, "n": str(count)}], (key, result)
        assert result["fields"] == [["market_segment", 25], ["n", 20]]


def test_error_keeps_the_connection(out):
    assert out["error"]["code"] == "42703", out["error"]
    assert len(ok(out["after_error"])["rows"]) == 1


def test_integer_literal_is_int4(out):
    # PostgreSQL types `1` as integer (int4), which node-pg turns into a JS number; int8 would come back as a string.
    result = ok(out["after_error"])
    assert result["fields"] == [["one", 23]] and result["rows"] == [[1]], result
