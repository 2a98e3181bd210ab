"""Fixtures shared by the client suite: a connection URL for the running gateway and DuckDB over the raw Parquet."""
import os

import duckdb
import pytest

TABLES = ["region", "nation", "customer", "orders", "lineitem", "part", "supplier"]


@pytest.fixture(scope="session")
def port():
    return int(os.environ["SEMGATE_PORT"])


@pytest.fixture(scope="session")
def flight_port():
    """The gateway's Arrow Flight (SQL) port (`semgate serve --flight-addr`)."""
    return int(os.environ["SEMGATE_FLIGHT_PORT"])


@pytest.fixture(scope="session")
def reference():
    """DuckDB over the same Parquet files: an engine independent of semgate and of DataFusion."""
    tpch = os.environ["SEMGATE_TPCH_DIR"]
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{tpch}/{table}.parquet')")
    return con
