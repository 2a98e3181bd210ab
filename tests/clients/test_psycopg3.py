"""psycopg 3 (server-side binding, prepared statements, binary results, COPY) against the demo, checked against DuckDB."""
import datetime
from decimal import Decimal

import psycopg
import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

REVENUE_BY_REGION = (
    f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} GROUP BY 1 ORDER BY 1"
)


@pytest.fixture
def conn(port):
    with psycopg.connect(
        host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate", autocommit=True
    ) as connection:
        yield connection


def test_server_side_parameters(conn, reference):
    # psycopg 3 binds parameters on the server: the query travels as `... region = $1` with the value apart.
    cur = conn.execute(
        "SELECT ship_mode, SUM(revenue), MEASURE(line_items) FROM sales WHERE region = %s AND order_date >= %s "
        "AND order_date < %s GROUP BY ship_mode ORDER BY ship_mode",
        ("ASIA", datetime.date(1995, 1, 1), datetime.date(1996, 1, 1)),
    )
    actual = cur.fetchall()
    assert [d.type_code for d in cur.description] == [25, 1700, 20], "text, numeric, int8"
    assert isinstance(actual[0][1], Decimal) and isinstance(actual[0][2], int)
    expected = reference.execute(
        f"SELECT l_shipmode, SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} "
        "WHERE r_name = 'ASIA' AND o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01' "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(actual, expected)


def test_prepared_statement_executed_twice(conn, reference):
    query = "SELECT region, MEASURE(revenue), MEASURE(line_items) FROM sales WHERE region = %s GROUP BY region"
    cur = conn.cursor()
    expected = {r[0]: r for r in reference.execute(REVENUE_BY_REGION).fetchall()}
    for region in ["EUROPE", "AFRICA", "EUROPE"]:
        # prepare=True makes psycopg PREPARE a named statement on the first call and reuse it afterwards.
        cur.execute(query, (region,), prepare=True)
        assert_rows(cur.fetchall(), [expected[region]])
    assert len(conn._prepared._names) == 1, "one named server-side statement, reused"


def test_binary_cursor_types(conn, reference):
    cur = conn.cursor(binary=True)
    cur.execute(
        "SELECT region, date_trunc('year', order_date) AS y, MIN(order_date), SUM(revenue), MEASURE(line_items) "
        "FROM sales WHERE region = %s GROUP BY 1, 2 ORDER BY 2",
        ("AMERICA",),
    )
    rows = cur.fetchall()
    region, year, first_day, revenue, lines = rows[0]
    assert isinstance(region, str)
    assert isinstance(year, datetime.datetime), year
    assert isinstance(first_day, datetime.date) and not isinstance(first_day, datetime.datetime)
    assert isinstance(revenue, Decimal) and isinstance(lines, int)
    expected = reference.execute(
        f"SELECT r_name, year(o_orderdate), MIN(o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) "
        f"FROM {LINE_TO_REGION} WHERE r_name = 'AMERICA' GROUP BY 1, 2 ORDER BY 2"
    ).fetchall()
    assert [(r[1].year, r[2]) for r in rows] == [(e[1], e[2]) for e in expected]
    assert_rows([(r[0], r[3], r[4]) for r in rows], [(e[0], e[3], e[4]) for e in expected])


def test_copy_to_stdout_text(conn, reference):
    cur = conn.cursor()
    with cur.copy(
        "COPY (SELECT region, SUM(revenue), MEASURE(line_items) FROM sales GROUP BY 1 ORDER BY 1) TO STDOUT"
    ) as copy:
        rows = list(copy.rows())
    assert_rows(rows, reference.execute(REVENUE_BY_REGION).fetchall())
    assert all(isinstance(v, str) for row in rows for v in row), "text COPY without set_types yields strings"


def test_copy_to_stdout_binary_with_types(conn, reference):
    cur = conn.cursor()
    with cur.copy(
        "COPY (SELECT region, SUM(revenue), MEASURE(line_items), MIN(order_date) FROM sales GROUP BY 1 ORDER BY 1) "
        "TO STDOUT (FORMAT binary)"
    ) as copy:
        copy.set_types(["text", "numeric", "int8", "date"])
        rows = list(copy.rows())
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(*), MIN(o_orderdate) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert isinstance(rows[0][1], Decimal) and isinstance(rows[0][2], int) and isinstance(rows[0][3], datetime.date)
    assert_rows(rows, expected)


def test_type_info_fetch(conn):
    # What psycopg's adapters (and SQLAlchemy on psycopg 3) do to learn a type: TypeInfo.fetch queries pg_type.
    info = psycopg.types.TypeInfo.fetch(conn, "numeric")
    assert info is not None and info.oid == 1700 and info.array_oid == 1231


def test_list_parameter_with_any(conn, reference):
    # psycopg 3 adapts a Python list to a text[] parameter: `= ANY(%s)` is its IN-list idiom.
    rows = conn.execute(
        "SELECT region, MEASURE(customer_count) FROM customers WHERE region = ANY(%s) GROUP BY 1 ORDER BY 1",
        (["ASIA", "EUROPE"],),
    ).fetchall()
    expected = reference.execute(
        "SELECT r_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey WHERE r_name IN ('ASIA', 'EUROPE') GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [tuple(e) for e in expected]


def test_pipeline_mode_without_sync_between_statements(conn, reference):
    # Pipeline mode (what Npgsql does for Power BI's batches): Parse/Bind/Describe/Execute of several statements go out
    # back to back and one Sync ends them; a failing statement must not lose the results before it.
    with conn.pipeline() as pipeline:
        by_region = conn.execute("SELECT region, SUM(revenue), MEASURE(line_items) FROM sales GROUP BY 1 ORDER BY 1")
        answer = conn.execute("SELECT %s::int + 1", [41])
        customers = conn.execute("SELECT MEASURE(customer_count) FROM customers")
        pipeline.sync()
    assert_rows(by_region.fetchall(), reference.execute(REVENUE_BY_REGION).fetchall())
    assert answer.fetchone() == (42,)
    assert customers.fetchone()[0] == reference.execute("SELECT COUNT(*) FROM customer").fetchone()[0]

    with pytest.raises(psycopg.errors.UndefinedColumn):
        with conn.pipeline():
            before = conn.execute("SELECT 1")
            conn.execute("SELECT no_such_column FROM sales")
    assert before.fetchone() == (1,)
    assert conn.execute("SELECT 2").fetchone() == (2,), "the connection stays usable"


def test_pipeline_results_read_before_sync(conn, reference):
    # Fetching inside a pipeline sends Flush, not Sync: the gateway holds the extended protocol's replies until the
    # client's Sync (one write per round, as PostgreSQL does), and a Flush must write them all the same.
    with conn.pipeline():
        answer = conn.execute("SELECT %s::int + 1", [41])
        assert answer.fetchone() == (42,)
        by_region = conn.execute("SELECT region, SUM(revenue), MEASURE(line_items) FROM sales GROUP BY 1 ORDER BY 1")
        assert_rows(by_region.fetchall(), reference.execute(REVENUE_BY_REGION).fetchall())
        assert conn.execute("SELECT 3").fetchone() == (3,)
