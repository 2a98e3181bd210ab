"""Cursors (DECLARE … CURSOR / FETCH / CLOSE) through the drivers that use them: psycopg2's and psycopg 3's named
(server-side) cursors, and psqlODBC's UseDeclareFetch (Tableau, Power BI), whose statements test_replay replays.
Rows are checked against DuckDB over the raw tables."""
import psycopg
import psycopg2
import psycopg2.errors
import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

BY_DAY_AND_REGION = "SELECT order_date, region, SUM(revenue) FROM sales GROUP BY 1, 2 ORDER BY 1, 2"


def connect2(port):
    return psycopg2.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate")


@pytest.fixture(scope="module")
def by_day_and_region(reference):
    return reference.execute(
        f"SELECT o_orderdate, r_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()


def test_psycopg2_named_cursor_reads_in_chunks(port, by_day_and_region):
    conn = connect2(port)
    try:
        with conn.cursor(name="by_day") as cur:
            cur.itersize = 500  # FETCH FORWARD 500 until the result ends
            cur.execute(BY_DAY_AND_REGION)
            rows = list(cur)
        conn.commit()
    finally:
        conn.close()
    assert len(rows) > 5 * 500, "the result spans several FETCHes"
    assert_rows(rows, by_day_and_region)


def test_psycopg2_cursor_with_hold_in_autocommit(port, by_day_and_region):
    conn = connect2(port)
    conn.autocommit = True
    try:
        cur = conn.cursor(name="held", withhold=True)
        cur.execute(BY_DAY_AND_REGION)
        first, second = cur.fetchmany(7), cur.fetchmany(7)
        rest = cur.fetchall()
        cur.close()
    finally:
        conn.close()
    assert_rows(first + second + rest, by_day_and_region)


def test_psycopg3_server_side_cursor(port, by_day_and_region):
    with psycopg.connect(host="127.0.0.1", port=port, user="analyst", password="analyst", dbname="semgate") as conn:
        with conn.cursor(name="by_day3") as cur:
            cur.itersize = 300
            cur.execute(BY_DAY_AND_REGION)
            assert [d.name for d in cur.description] == ["order_date", "region", "sum"]
            rows = cur.fetchall()
    assert_rows(rows, by_day_and_region)


def test_cursor_errors_keep_the_connection(port):
    conn = connect2(port)
    conn.autocommit = True
    cur = conn.cursor()
    try:
        with pytest.raises(psycopg2.errors.InvalidCursorName) as missing:
            cur.execute('FETCH 10 IN "never_declared"')
        assert "does not exist" in str(missing.value)

        cur.execute("DECLARE twice CURSOR WITH HOLD FOR SELECT region FROM sales GROUP BY 1 ORDER BY 1")
        with pytest.raises(psycopg2.errors.DuplicateCursor):
            cur.execute("DECLARE twice CURSOR WITH HOLD FOR SELECT 1")
        with pytest.raises(psycopg2.errors.FeatureNotSupported) as backward:
            cur.execute("FETCH BACKWARD 1 FROM twice")
        assert "only move forward" in str(backward.value)
        cur.execute("FETCH ALL FROM twice")
        assert [r[0] for r in cur.fetchall()] == ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
        cur.execute("FETCH 5 FROM twice")
        assert cur.fetchall() == [], "an exhausted cursor returns no rows"
        cur.execute("CLOSE twice")

        # A cursor without HOLD closes when its transaction ends.
        cur.execute("BEGIN")
        cur.execute("DECLARE brief CURSOR FOR SELECT region FROM sales GROUP BY 1")
        cur.execute("COMMIT")
        with pytest.raises(psycopg2.errors.InvalidCursorName):
            cur.execute("FETCH 1 FROM brief")

        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    finally:
        conn.close()
