"""Ibis 12 on its PostgreSQL backend (psycopg 3 underneath, SQL compiled by sqlglot): table listing, a view's schema
from pg_catalog, and dataframe expressions compiled to SQL over the semantic views; every number checked against
DuckDB."""
import datetime

import ibis
import ibis.expr.datatypes as dt
import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

SALES_TYPES = {
    "order_date": dt.Date,
    "ship_date": dt.Date,
    "region": dt.String,
    "nation": dt.String,
    "revenue": dt.Decimal,
    "quantity": dt.Decimal,
    "line_items": dt.Int64,
    "order_count": dt.Int64,
    "customer_count": dt.Int64,
}


@pytest.fixture(scope="module")
def con(port):
    connection = ibis.postgres.connect(
        host="127.0.0.1", port=port, user="analyst", password="analyst", database="semgate"
    )
    yield connection
    connection.disconnect()


def test_connect_and_list_tables(con):
    """ibis sets the session time zone on connect, reads the server version and lists relations from
    information_schema.tables."""
    assert con.version.split(".")[0] == "15"
    assert con.current_database == "public"
    assert sorted(con.list_tables()) == ["customers", "sales"]


def test_view_schema(con):
    """`con.table()` reads the columns and their types from pg_attribute with format_type (ibis' get_schema)."""
    schema = con.table("sales").schema()
    assert list(schema.names)[:3] == ["order_date", "ship_date", "region"]
    for name, kind in SALES_TYPES.items():
        assert isinstance(schema[name], kind), (name, schema[name])
    assert set(con.table("customers").schema().names) >= {"region", "nation", "customer_count"}


def test_group_by_aggregate(con, reference):
    """A group-by with aggregates written around measures, compiled by ibis to `SUM("t0"."revenue")` over an alias."""
    sales = con.table("sales")
    expr = (
        sales.filter(sales.region != "AFRICA")
        .group_by("region")
        .aggregate(revenue=sales.revenue.sum(), quantity=sales.quantity.sum(), orders=sales.order_count.max())
        .order_by("region")
    )
    actual = expr.execute()
    assert list(actual.columns) == ["region", "revenue", "quantity", "orders"]
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), SUM(l_quantity), COUNT(DISTINCT l_orderkey) "
        f"FROM {LINE_TO_REGION} WHERE r_name <> 'AFRICA' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(list(actual.itertuples(index=False, name=None)), expected)


def test_monthly_truncate_in_one_year(con, reference):
    """`order_date.truncate("M")` and `.year() == 1996`: ibis' DATE_TRUNC and EXTRACT over the time dimension."""
    sales = con.table("sales")
    expr = (
        sales.filter(sales.order_date.year() == 1996)
        .group_by(month=sales.order_date.truncate("M"))
        .aggregate(revenue=sales.revenue.sum(), lines=sales.line_items.sum())
        .order_by("month")
    )
    actual = list(expr.execute().itertuples(index=False, name=None))
    expected = reference.execute(
        f"SELECT date_trunc('month', o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) "
        f"FROM {LINE_TO_REGION} WHERE year(o_orderdate) = 1996 GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert len(actual) == 12
    assert [month.date() for month, *_ in actual] == [datetime.date(1996, m, 1) for m in range(1, 13)]
    assert_rows([row[1:] for row in actual], [row[1:] for row in expected])


def test_to_pyarrow_and_customers_view(con, reference):
    """The same expression machinery over the `customers` view, fetched as an Arrow table."""
    customers = con.table("customers")
    expr = (
        customers.group_by(["region", "market_segment"])
        .aggregate(customers=customers.customer_count.sum())
        .order_by(["region", "market_segment"])
    )
    table = expr.to_pyarrow()
    assert table.column_names == ["region", "market_segment", "customers"]
    expected = reference.execute(
        "SELECT r_name, c_mktsegment, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    assert_rows(list(zip(*(table.column(i).to_pylist() for i in range(3)))), expected)


def test_sql_over_a_semantic_query(con, reference):
    """`con.sql()` wraps hand-written SQL in an expression; ibis learns its schema by creating a temporary view."""
    query = con.sql("SELECT region, MEASURE(revenue) AS revenue FROM sales GROUP BY region")
    actual = query.order_by("region").execute()
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(list(actual.itertuples(index=False, name=None)), expected)
