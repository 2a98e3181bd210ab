"""SQLAlchemy 2 on psycopg2 (Superset, pandas.read_sql, most Python apps): dialect initialisation, the Inspector's
pg_catalog reflection and a Core query over a reflected table; checked against DuckDB."""
import pytest
import sqlalchemy as sa

from test_psycopg2 import LINE_TO_REGION, assert_rows

SALES_COLUMNS = {
    "order_date": sa.Date,
    "ship_date": sa.Date,
    "region": sa.Text,
    "nation": sa.Text,
    "market_segment": sa.Text,
    "order_priority": sa.Text,
    "order_status": sa.Text,
    "ship_mode": sa.Text,
    "return_flag": sa.Text,
    "line_status": sa.Text,
    "brand": sa.Text,
    "part_type": sa.Text,
    "revenue": sa.Numeric,
    "gross_sales": sa.Numeric,
    "quantity": sa.Numeric,
    "line_items": sa.BigInteger,
    "order_count": sa.BigInteger,
    "avg_discount": sa.Numeric,
    "returned_revenue": sa.Numeric,
    "customer_count": sa.BigInteger,
    "avg_order_value": sa.Numeric,
}


@pytest.fixture(scope="module")
def engine(port):
    eng = sa.create_engine(f"postgresql+psycopg2://analyst:analyst@127.0.0.1:{port}/semgate", poolclass=sa.NullPool)
    yield eng
    eng.dispose()


def test_connect_and_plain_query(engine, reference):
    # The first connect runs the dialect's initialize(): version, current_schema, standard_conforming_strings, ...
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT region, MEASURE(revenue) FROM sales WHERE region = :r GROUP BY region"),
                            {"r": "EUROPE"}).all()
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE' "
        "GROUP BY 1"
    ).fetchall()
    assert_rows(rows, expected)
    assert engine.dialect.server_version_info[:1] == (15,)
    assert engine.dialect.default_schema_name == "public"


def test_inspector_schema_names(engine):
    assert "public" in sa.inspect(engine).get_schema_names()


def test_inspector_table_names(engine):
    assert sa.inspect(engine).get_table_names() == [], "semantic views are views, not tables"


def test_inspector_view_names(engine):
    insp = sa.inspect(engine)
    assert sorted(insp.get_view_names()) == ["customers", "sales"]
    assert sorted(insp.get_view_names(schema="public")) == ["customers", "sales"]


def test_inspector_columns(engine):
    columns = sa.inspect(engine).get_columns("sales")
    assert [c["name"] for c in columns] == list(SALES_COLUMNS)
    for column in columns:
        assert isinstance(column["type"], SALES_COLUMNS[column["name"]]), (column["name"], column["type"])
        assert column["nullable"] is True and column["default"] is None


def test_inspector_comments_are_the_model_descriptions(engine):
    # SQLAlchemy (and so Superset) reads comments from pg_description, not through col_description().
    inspector = sa.inspect(engine)
    comments = {c["name"]: c["comment"] for c in inspector.get_columns("sales")}
    assert comments["revenue"] == "Net revenue, extended price after discount."
    assert comments["region"] == "The customer's region."
    assert comments["customer_count"] == "Number of customers, counted at the customer grain."
    assert inspector.get_table_comment("sales")["text"] == (
        "Order lines with their order, customer, geography and part. One row per line item."
    )


def test_inspector_pk_constraint(engine):
    pk = sa.inspect(engine).get_pk_constraint("sales")
    assert pk["constrained_columns"] == [] and pk["name"] is None


def test_inspector_foreign_keys(engine):
    assert sa.inspect(engine).get_foreign_keys("sales") == []


def test_inspector_indexes(engine):
    assert sa.inspect(engine).get_indexes("sales") == []


def test_inspector_unique_constraints(engine):
    assert sa.inspect(engine).get_unique_constraints("sales") == []


def test_core_select_over_reflected_table(engine, reference):
    md = sa.MetaData()
    sales = sa.Table("sales", md, autoload_with=engine)
    assert isinstance(sales.c.revenue.type, sa.Numeric) and isinstance(sales.c.order_date.type, sa.Date)
    stmt = (
        sa.select(sales.c.region, sa.func.sum(sales.c.revenue).label("revenue"))
        .where(sales.c.order_date >= sa.literal("1996-01-01", sa.Date))
        .group_by(sales.c.region)
        .order_by(sales.c.region)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} "
        "WHERE o_orderdate >= DATE '1996-01-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(rows, expected)


def test_core_select_over_declared_table(engine, reference):
    # The same Core query with the table declared by hand, so that it does not depend on reflection.
    sales = sa.Table(
        "sales", sa.MetaData(), *(sa.Column(name, type_()) for name, type_ in SALES_COLUMNS.items()), schema="public"
    )
    stmt = (
        sa.select(sales.c.ship_mode, sa.func.sum(sales.c.quantity), sa.func.max(sales.c.order_count))
        .where(sales.c.region.in_(["ASIA", "EUROPE"]))
        .group_by(sales.c.ship_mode)
        .order_by(sales.c.ship_mode)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    expected = reference.execute(
        f"SELECT l_shipmode, SUM(l_quantity), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
        "WHERE r_name IN ('ASIA', 'EUROPE') GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(rows, expected)
