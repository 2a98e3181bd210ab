"""Apache Superset 6.1 (SQLAlchemy 1.4 on psycopg2) driven through its REST API: a database connection to the gateway,
schema and view listing, a dataset synced from the `sales` view, SQL Lab, and charts through the chart data API, the
monthly one with Superset's own time-range filter; every number checked against DuckDB."""
import datetime
import json
import uuid

import pytest

from test_psycopg2 import LINE_TO_REGION, assert_rows

REVENUE_BY_REGION = (
    f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
    "GROUP BY 1 ORDER BY 1"
)
SUM_REVENUE = {"expressionType": "SIMPLE", "column": {"column_name": "revenue"}, "aggregate": "SUM",
               "label": "SUM(revenue)"}
MAX_ORDERS = {"expressionType": "SIMPLE", "column": {"column_name": "order_count"}, "aggregate": "MAX",
              "label": "MAX(order_count)"}


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:3000])
    return response.json()


@pytest.fixture(scope="module")
def database_id(api, port):
    """What a user does in "Connect a database": a SQLAlchemy URI that Superset tests, then stores."""
    uri = f"postgresql+psycopg2://analyst:analyst@127.0.0.1:{port}/semgate"
    ok(api.post("database/test_connection/", json={"sqlalchemy_uri": uri, "database_name": "semgate"}))
    created = ok(api.post("database/", json={"database_name": "semgate", "sqlalchemy_uri": uri,
                                            "expose_in_sqllab": True}), 201)
    return created["id"]


@pytest.fixture(scope="module")
def dataset_id(api, database_id):
    """A dataset on the `sales` view: Superset reflects its columns (SQLAlchemy's Inspector) when it creates it."""
    created = ok(api.post("dataset/", json={"database": database_id, "schema": "public", "table_name": "sales"}), 201)
    return created["id"]


def chart_data(api, dataset_id, query):
    body = {"datasource": {"id": dataset_id, "type": "table"}, "queries": [query], "result_format": "json",
            "result_type": "full", "force": True}
    [result] = ok(api.post("chart/data", json=body))["result"]
    assert result["status"] == "success" and not result.get("error"), result
    return result


def test_database_schemas_and_views(api, database_id):
    """The database's catalogs (PostgreSQL databases) and schemas, and the views of `public` in the dataset picker."""
    assert "semgate" in ok(api.get(f"database/{database_id}/catalogs/"))["result"]
    assert "public" in ok(api.get(f"database/{database_id}/schemas/"))["result"]
    tables = ok(api.get(f"database/{database_id}/tables/", params={"q": "(schema_name:public,force:!t)"}))["result"]
    assert sorted((t["value"], t["type"]) for t in tables) == [("customers", "view"), ("sales", "view")]


def test_dataset_columns_are_typed(api, dataset_id):
    """The synced dataset's columns: types from the catalog, dates marked temporal, descriptions from the comments."""
    columns = {c["column_name"]: c for c in ok(api.get(f"dataset/{dataset_id}"))["result"]["columns"]}
    assert {"order_date", "region", "revenue", "line_items", "customer_count"} <= set(columns)
    assert columns["order_date"]["type"] == "DATE" and columns["order_date"]["is_dttm"]
    assert columns["ship_date"]["is_dttm"] and not columns["region"]["is_dttm"]
    assert columns["region"]["type"] in ("TEXT", "VARCHAR")
    assert columns["revenue"]["type"] == "NUMERIC" and columns["line_items"]["type"] == "BIGINT"
    assert columns["revenue"]["description"] == "Net revenue, extended price after discount."


def test_sql_lab(api, database_id, reference):
    """SQL Lab's Run button: `/sqllab/execute/` runs the statement synchronously and returns the rows as JSON."""
    body = {
        "database_id": database_id,
        "sql": "SELECT region, MEASURE(revenue) AS revenue, MEASURE(order_count) AS orders FROM sales "
               "GROUP BY region ORDER BY region",
        "schema": "public", "runAsync": False, "queryLimit": 1000, "client_id": uuid.uuid4().hex[:10],
        "tab": "semgate",
    }
    result = ok(api.post("sqllab/execute/", json=body))
    assert result["status"] == "success", result
    assert [c["column_name"] for c in result["columns"]] == ["region", "revenue", "orders"]
    rows = [(r["region"], r["revenue"], r["orders"]) for r in result["data"]]
    assert_rows(rows, reference.execute(REVENUE_BY_REGION).fetchall())


def test_saved_chart_by_region(api, dataset_id, reference):
    """A bar chart by region saved with its query context, then its data read as a dashboard does
    (`/chart/{id}/data/`): Superset writes `SUM(revenue)` and `MAX(order_count)` around the measures, and the dataset's
    default metric `count` is `COUNT(*)`, the view's rows (line items)."""
    metrics = [SUM_REVENUE, MAX_ORDERS, "count"]
    query = {"columns": ["region"], "metrics": metrics, "orderby": [[SUM_REVENUE, False]], "row_limit": 100}
    form_data = {"datasource": f"{dataset_id}__table", "viz_type": "echarts_timeseries_bar", "x_axis": "region",
                 "metrics": metrics, "row_limit": 100}
    query_context = {"datasource": {"id": dataset_id, "type": "table"}, "queries": [query], "form_data": form_data,
                     "result_format": "json", "result_type": "full"}
    chart = ok(api.post("chart/", json={
        "slice_name": "Revenue by region", "viz_type": "echarts_timeseries_bar", "datasource_id": dataset_id,
        "datasource_type": "table", "params": json.dumps(form_data), "query_context": json.dumps(query_context),
    }), 201)
    [result] = ok(api.get(f"chart/{chart['id']}/data/", params={"force": "true"}))["result"]
    assert result["status"] == "success", result
    rows = [(r["region"], r["SUM(revenue)"], r["MAX(order_count)"], r["count"]) for r in result["data"]]
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey), COUNT(*) "
        f"FROM {LINE_TO_REGION} GROUP BY 1"
    ).fetchall()
    assert_rows(rows, sorted(expected, key=lambda row: row[1], reverse=True))


def test_chart_with_series_limit(api, dataset_id, reference):
    """A chart by region and ship mode limited to the two regions of highest revenue: Superset joins the view to a
    subquery over the same view (`JOIN (SELECT region AS region__ … LIMIT 2) AS series_limit ON region = region__`)."""
    result = chart_data(api, dataset_id, {
        "columns": ["region", "ship_mode"], "metrics": [SUM_REVENUE], "series_columns": ["region"],
        "series_limit": 2, "series_limit_metric": SUM_REVENUE, "orderby": [[SUM_REVENUE, False]], "row_limit": 100,
    })
    assert "series_limit" in result["query"], result["query"]
    rows = sorted((r["region"], r["ship_mode"], r["SUM(revenue)"]) for r in result["data"])
    expected = reference.execute(
        f"""WITH top AS (SELECT r_name FROM {LINE_TO_REGION} GROUP BY 1
                         ORDER BY SUM(l_extendedprice * (1 - l_discount)) DESC LIMIT 2)
            SELECT r_name, l_shipmode, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION}
            WHERE r_name IN (SELECT r_name FROM top) GROUP BY 1, 2 ORDER BY 1, 2"""
    ).fetchall()
    assert_rows(rows, expected)


def test_monthly_chart_in_1996(api, dataset_id, reference):
    """A time-series chart: month grain on order_date (`DATE_TRUNC('month', order_date)`) and a time range for 1996,
    which Superset writes as `order_date >= TO_DATE('1996-01-01', 'YYYY-MM-DD') AND order_date < TO_DATE(…)`."""
    axis = {"label": "order_date", "sqlExpression": "order_date", "columnType": "BASE_AXIS", "timeGrain": "P1M",
            "expressionType": "SQL"}
    lines = {"expressionType": "SIMPLE", "column": {"column_name": "line_items"}, "aggregate": "SUM",
             "label": "SUM(line_items)"}
    result = chart_data(api, dataset_id, {
        "columns": [axis], "metrics": [SUM_REVENUE, lines], "orderby": [[axis, True]], "row_limit": 100,
        "filters": [{"col": "order_date", "op": "TEMPORAL_RANGE", "val": "1996-01-01 : 1997-01-01"}],
    })
    assert "TO_DATE('1996-01-01', 'YYYY-MM-DD')" in result["query"], result["query"]
    assert "TO_DATE('1997-01-01', 'YYYY-MM-DD')" in result["query"], result["query"]
    rows = [
        (datetime.datetime.fromtimestamp(r["order_date"] / 1000, datetime.timezone.utc).date(), r["SUM(revenue)"],
         r["SUM(line_items)"])
        for r in result["data"]
    ]
    assert [r[0] for r in rows] == [datetime.date(1996, m, 1) for m in range(1, 13)]
    expected = reference.execute(
        f"SELECT date_trunc('month', o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) "
        f"FROM {LINE_TO_REGION} WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows([r[1:] for r in rows], [e[1:] for e in expected])
