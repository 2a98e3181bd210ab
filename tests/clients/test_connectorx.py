"""connectorx 0.4 (Rust, rust-postgres underneath): whole results read into pandas, Arrow and polars over its binary
and CSV COPY, cursor and simple-query protocols, and a partitioned read; values checked against DuckDB."""
import connectorx as cx
import polars as pl
import pyarrow as pa
import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

BY_REGION = (
    "SELECT region, MEASURE(revenue) AS revenue, MEASURE(order_count) AS orders FROM sales GROUP BY region "
    "ORDER BY region"
)
EXPECTED_BY_REGION = (
    f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
    "GROUP BY 1 ORDER BY 1"
)
BY_YEAR = (
    "SELECT CAST(EXTRACT(YEAR FROM order_date) AS INT) AS year, MEASURE(quantity) AS quantity, "
    "MEASURE(line_items) AS lines FROM sales GROUP BY 1"
)
EXPECTED_BY_YEAR = (
    "SELECT year(o_orderdate), SUM(l_quantity), COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
    "GROUP BY 1 ORDER BY 1"
)


@pytest.fixture(scope="module")
def uri(port):
    return f"postgresql://analyst:analyst@127.0.0.1:{port}/semgate"


@pytest.mark.parametrize("protocol", ["binary", "csv", "cursor", "simple"])
def test_read_sql_pandas(uri, reference, protocol):
    """`cx.read_sql` into pandas (counts as nullable Int64, numeric as float64): connectorx prepares the query for its
    schema, then reads it with `COPY … TO STDOUT (FORMAT binary)` or `WITH CSV`, a `DECLARE … CURSOR` or the simple
    query protocol."""
    df = cx.read_sql(uri, BY_REGION, protocol=protocol)
    assert list(df.columns) == ["region", "revenue", "orders"]
    assert str(df["orders"].dtype) == "Int64" and str(df["revenue"].dtype) == "float64"
    assert_rows(list(df.itertuples(index=False, name=None)), reference.execute(EXPECTED_BY_REGION).fetchall())


def test_read_sql_arrow_types(uri, reference):
    """`return_type="arrow"`: a pyarrow Table whose date column is date32 and counts int64, a month of 1996 by day."""
    table = cx.read_sql(
        uri,
        "SELECT order_date, MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines FROM sales "
        "WHERE order_date >= DATE '1996-03-01' AND order_date < DATE '1996-04-01' GROUP BY order_date "
        "ORDER BY order_date",
        return_type="arrow",
    )
    assert table.column_names == ["order_date", "revenue", "lines"]
    assert table.schema.field("order_date").type == pa.date32()
    assert table.schema.field("lines").type == pa.int64()
    expected = reference.execute(
        f"SELECT o_orderdate, SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} "
        "WHERE o_orderdate >= DATE '1996-03-01' AND o_orderdate < DATE '1996-04-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows([tuple(row.values()) for row in table.to_pylist()], expected)


def test_read_sql_polars(uri, reference):
    """`return_type="polars"`: the customers view by nation into a polars DataFrame."""
    df = cx.read_sql(
        uri,
        "SELECT nation, MEASURE(customer_count) AS customers FROM customers GROUP BY nation ORDER BY nation",
        return_type="polars",
    )
    assert isinstance(df, pl.DataFrame) and df.schema["customers"] == pl.Int64
    expected = reference.execute(
        "SELECT n_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert df.rows() == [tuple(row) for row in expected]


def test_partitioned_read(uri, reference):
    """`partition_on`/`partition_num`: connectorx asks `SELECT MIN(year), MAX(year) FROM (query)`, then runs one
    range-filtered copy of the wrapped query per partition, on as many connections, and concatenates them."""
    df = cx.read_sql(uri, BY_YEAR, partition_on="year", partition_num=3)
    rows = sorted(df.itertuples(index=False, name=None))
    expected = reference.execute(EXPECTED_BY_YEAR).fetchall()
    assert [row[0] for row in rows] == [row[0] for row in expected]
    assert_rows(rows, expected)


def test_polars_read_database_uri(uri, reference):
    """polars' `read_database_uri(engine="connectorx")`, the way polars users reach a database."""
    df = pl.read_database_uri(BY_YEAR + " ORDER BY year", uri, engine="connectorx")
    assert df.columns == ["year", "quantity", "lines"]
    assert_rows(df.rows(), reference.execute(EXPECTED_BY_YEAR).fetchall())
