"""pg8000 (pure-Python driver; Google Cloud SQL connector, AWS tools): native API and DB-API, both binding parameters
on the server with the extended protocol; checked against DuckDB."""
import datetime
from decimal import Decimal

import pg8000.dbapi
import pg8000.native

from test_psycopg2 import LINE_TO_REGION, assert_rows

CONNECT = dict(host="127.0.0.1", user="analyst", password="analyst", database="semgate")


def test_native_named_parameters(port, reference):
    con = pg8000.native.Connection(port=port, **CONNECT)
    try:
        rows = con.run(
            "SELECT nation, MEASURE(revenue), MEASURE(order_count) FROM sales WHERE region = :region "
            "AND order_date >= :since GROUP BY nation ORDER BY nation",
            region="AMERICA",
            since=datetime.date(1997, 1, 1),
        )
        types = [c["type_oid"] for c in con.columns]
    finally:
        con.close()
    assert types == [25, 1700, 20]
    assert isinstance(rows[0][1], Decimal) and isinstance(rows[0][2], int)
    expected = reference.execute(
        f"SELECT n_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
        "WHERE r_name = 'AMERICA' AND o_orderdate >= DATE '1997-01-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(rows, expected)


def test_native_prepared_statement(port, reference):
    con = pg8000.native.Connection(port=port, **CONNECT)
    try:
        ps = con.prepare("SELECT MEASURE(customer_count), MEASURE(total_account_balance) FROM customers "
                         "WHERE market_segment = :segment")
        results = {segment: ps.run(segment=segment)[0] for segment in ["AUTOMOBILE", "HOUSEHOLD"]}
        ps.close()
    finally:
        con.close()
    for segment, row in results.items():
        expected = reference.execute(
            f"SELECT COUNT(*), SUM(c_acctbal) FROM customer WHERE c_mktsegment = '{segment}'"
        ).fetchall()
        assert_rows([row], expected)


def test_dbapi_format_parameters(port, reference):
    con = pg8000.dbapi.connect(port=port, **CONNECT)
    try:
        cur = con.cursor()
        cur.execute(
            "SELECT date_trunc('month', order_date) AS m, MEASURE(line_items) FROM sales "
            "WHERE order_date >= %s AND order_date < %s AND ship_mode = %s GROUP BY 1 ORDER BY 1",
            (datetime.date(1995, 1, 1), datetime.date(1995, 4, 1), "RAIL"),
        )
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
        con.commit()
    finally:
        con.close()
    assert names == ["m", "measure"]
    assert isinstance(rows[0][0], datetime.datetime)
    expected = reference.execute(
        "SELECT date_trunc('month', o_orderdate), COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1995-04-01' AND l_shipmode = 'RAIL' "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [r[0].date() for r in rows] == [e[0] for e in expected]
    assert_rows([r[1:] for r in rows], [e[1:] for e in expected])
