"""The ADBC PostgreSQL driver (libpq; Arrow-native tools: Polars, pandas 2, DuckDB's postgres scanner style
clients): it reads pg_type at connect and fetches results as Arrow through COPY ... TO STDOUT (FORMAT binary);
checked against DuckDB."""
import datetime
from decimal import Decimal

import adbc_driver_postgresql.dbapi
import pyarrow as pa
import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows


@pytest.fixture
def conn(port):
    with adbc_driver_postgresql.dbapi.connect(
        f"postgresql://analyst:analyst@127.0.0.1:{port}/semgate", autocommit=True
    ) as connection:
        yield connection


def test_query_to_arrow(conn, reference):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT region, MIN(order_date) AS first_order, MEASURE(revenue) AS revenue, "
            "MEASURE(line_items) AS lines FROM sales GROUP BY region ORDER BY region"
        )
        table = cur.fetch_arrow_table()
    assert table.schema.field("region").type in (pa.string(), pa.large_string())
    assert table.schema.field("first_order").type == pa.date32()
    assert table.schema.field("lines").type == pa.int64()
    expected = reference.execute(
        f"SELECT r_name, MIN(o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    rows = list(zip(*(table.column(i).to_pylist() for i in range(table.num_columns))))
    assert [r[1] for r in rows] == [e[1] for e in expected]
    # numeric arrives as Arrow's opaque "numeric" extension (a string) unless the driver can map it; compare values.
    assert_rows([(r[0], Decimal(str(r[2])), r[3]) for r in rows], [(e[0], e[2], e[3]) for e in expected])


def test_query_with_parameter_to_arrow(conn, reference):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT ship_mode, MEASURE(line_items) AS lines FROM sales WHERE order_date >= $1 "
            "GROUP BY ship_mode ORDER BY ship_mode",
            parameters=(datetime.date(1998, 1, 1),),
        )
        table = cur.fetch_arrow_table()
    expected = reference.execute(
        "SELECT l_shipmode, COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderdate >= DATE '1998-01-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert table.column("ship_mode").to_pylist() == [e[0] for e in expected]
    assert table.column("lines").to_pylist() == [e[1] for e in expected]


def test_text_parameter_and_dbapi_fetch(conn, reference):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nation, MEASURE(customer_count) FROM customers WHERE region = $1 GROUP BY nation ORDER BY nation",
            parameters=("AFRICA",),
        )
        rows = cur.fetchall()
    expected = reference.execute(
        "SELECT n_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey WHERE r_name = 'AFRICA' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [tuple(e) for e in expected]


def test_adbc_get_objects(conn):
    # ADBC's catalog API (what Arrow-native tools use to list tables) reads pg_catalog.
    objects = conn.adbc_get_objects(depth="columns", db_schema_filter="public").read_all().to_pylist()
    schemas = {s["db_schema_name"]: s for c in objects for s in (c["catalog_db_schemas"] or [])}
    tables = {t["table_name"]: t for t in schemas["public"]["db_schema_tables"]}
    assert sorted(tables) == ["customers", "sales"]
    # The driver's column query has no ORDER BY (rows come in no promised order, on PostgreSQL too): it reports each
    # column's position, which is what must be right.
    columns = sorted(tables["customers"]["table_columns"], key=lambda c: c["ordinal_position"])
    assert [(c["ordinal_position"], c["column_name"]) for c in columns] == list(enumerate([
        "region", "nation", "market_segment", "customer_count", "total_account_balance", "avg_account_balance"
    ], start=1))
