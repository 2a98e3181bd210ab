"""Fixtures shared by the client suite: a connection URL for the running gateway and DuckDB over the raw Parquet."""
import os

import duckdb
import pytest

# Superset runs apart, in its own virtualenv (.venv-superset): scripts/client-tests.sh starts a second pytest for it.
collect_ignore = ["superset"]

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


def pytest_collection_modifyitems(config, items):
    """Mark the known gaps (tests/clients/known_gaps.txt) as strict expected failures, with the reason they fail."""
    path = os.path.join(os.path.dirname(__file__), "known_gaps.txt")
    gaps = {}
    with open(path) as listing:
        for line in listing:
            if line.strip() and not line.startswith("#"):
                node, reason = (part.strip() for part in line.split(" | ", 1))
                gaps[node] = reason
    for item in items:
        reason = gaps.pop(item.nodeid, None)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    if gaps and not config.getoption("-k") and not config.getoption("--lf"):
        collected = {item.nodeid.split("::")[0] for item in items}
        stale = [node for node in gaps if node.split("::")[0] in collected]
        if stale:
            raise pytest.UsageError(f"known_gaps.txt names tests that no longer exist: {stale}")
