"""psycopg2 (what Superset and most Python tools use) against the demo, checked against DuckDB over the raw tables."""
from decimal import Decimal

import psycopg2
import psycopg2.errors
import pytest

LINE_TO_REGION = (
    "lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey"
)


@pytest.fixture
def conn(port):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
    connection.autocommit = True
    yield connection
    connection.close()


def close(a, b):
    return abs(float(a) - float(b)) <= 1e-9 * max(abs(float(a)), abs(float(b)), 1.0)


def assert_rows(actual, expected):
    assert len(actual) == len(expected) and expected, (actual, expected)
    for a_row, e_row in zip(actual, expected):
        for a, e in zip(a_row, e_row):
            if isinstance(e, (int, float, Decimal)):
                assert close(a, e), (a_row, e_row)
            else:
                assert str(a) == str(e), (a_row, e_row)


def test_revenue_by_region(conn, reference):
    cur = conn.cursor()
    cur.execute("SELECT region, MEASURE(revenue), MEASURE(order_count) FROM sales GROUP BY region ORDER BY region")
    actual = cur.fetchall()
    assert isinstance(actual[0][1], Decimal), "numeric comes back as Decimal"
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
        "GROUP BY r_name ORDER BY r_name"
    ).fetchall()
    assert_rows(actual, expected)


def test_customer_count_without_fan_out(conn, reference):
    cur = conn.cursor()
    cur.execute("SELECT nation, SUM(revenue), MAX(customer_count) FROM sales GROUP BY nation ORDER BY nation")
    expected = reference.execute(
        f"""SELECT c.n_name, r.rev, c.cnt FROM
            (SELECT n_name, COUNT(*) AS cnt FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name) c
            LEFT JOIN (SELECT n_name AS nn, SUM(l_extendedprice * (1 - l_discount)) AS rev FROM {LINE_TO_REGION}
                       GROUP BY n_name) r ON c.n_name = r.nn ORDER BY c.n_name"""
    ).fetchall()
    assert_rows(cur.fetchall(), expected)


def test_parameters_and_dates(conn, reference):
    cur = conn.cursor()
    cur.execute(
        "SELECT ship_mode, MEASURE(quantity) FROM sales WHERE order_date >= %s AND order_date < %s AND region = %s "
        "GROUP BY ship_mode ORDER BY ship_mode",
        ("1995-01-01", "1996-01-01", "EUROPE"),
    )
    expected = reference.execute(
        f"SELECT l_shipmode, SUM(l_quantity) FROM {LINE_TO_REGION} WHERE o_orderdate >= DATE '1995-01-01' "
        "AND o_orderdate < DATE '1996-01-01' AND r_name = 'EUROPE' GROUP BY l_shipmode ORDER BY l_shipmode"
    ).fetchall()
    assert_rows(cur.fetchall(), expected)


def test_monthly_time_series(conn, reference):
    cur = conn.cursor()
    cur.execute(
        "SELECT date_trunc('month', order_date) AS month, MEASURE(avg_order_value) FROM sales "
        "WHERE order_date BETWEEN '1997-01-01' AND '1997-06-30' GROUP BY 1 ORDER BY 1"
    )
    actual = cur.fetchall()
    expected = reference.execute(
        "SELECT date_trunc('month', o_orderdate), SUM(l_extendedprice * (1 - l_discount)) / COUNT(DISTINCT l_orderkey) "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderdate BETWEEN DATE '1997-01-01' AND DATE '1997-06-30' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [str(r[0])[:10] for r in actual] == [str(r[0])[:10] for r in expected]
    assert_rows([r[1:] for r in actual], [r[1:] for r in expected])


def test_errors_have_sqlstate_and_connection_survives(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.errors.UndefinedColumn):
        cur.execute("SELECT no_such_column FROM sales")
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        cur.execute("DELETE FROM sales")
    with pytest.raises(psycopg2.errors.SyntaxError):
        cur.execute("SELEC 1")
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)


def test_transactions_as_psycopg2_opens_them(port, reference):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")
    cur = connection.cursor()
    cur.execute("SELECT COUNT(*) FROM sales")
    (count,) = cur.fetchone()
    connection.commit()
    assert count == reference.execute("SELECT COUNT(*) FROM lineitem").fetchone()[0]
    connection.close()


def test_copy_expert_csv(conn, reference):
    import io

    buf = io.StringIO()
    conn.cursor().copy_expert(
        "COPY (SELECT market_segment, MEASURE(customer_count) FROM customers GROUP BY 1 ORDER BY 1) "
        "TO STDOUT WITH (FORMAT csv, HEADER)",
        buf,
    )
    lines = buf.getvalue().splitlines()
    assert lines[0] == "market_segment,measure"
    expected = reference.execute("SELECT c_mktsegment, COUNT(*) FROM customer GROUP BY 1 ORDER BY 1").fetchall()
    assert [tuple(line.split(",")) for line in lines[1:]] == [(s, str(n)) for s, n in expected]
