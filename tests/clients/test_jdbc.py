"""pgjdbc, Debian's libpostgresql-jdbc-java, run from Java; its reads are checked against DuckDB."""
import glob
import subprocess

import pytest

from test_psycopg2 import LINE_TO_REGION, close

JARS = sorted(glob.glob("/usr/share/java/postgresql-4*.jar")) or sorted(glob.glob("/usr/share/java/postgresql.jar"))


@pytest.fixture(scope="module")
def jdbc_output(port, tmp_path_factory):
    if not JARS:
        pytest.fail("pgjdbc is missing: scripts/test.sh installs libpostgresql-jdbc-java")
    classes = tmp_path_factory.mktemp("jdbc")
    subprocess.run(["javac", "-d", str(classes), "tests/clients/jdbc/JdbcSmoke.java"], check=True)
    run = subprocess.run(
        ["java", "-cp", f"{JARS[0]}:{classes}", "JdbcSmoke", str(port)], check=True, capture_output=True, text=True
    )
    return [line.split("\t") for line in run.stdout.splitlines()]


def test_prepared_statement_reused_past_the_threshold(jdbc_output, reference):
    rows = [r for r in jdbc_output if r[0] == "row"]
    assert [int(r[1]) for r in rows] == list(range(7)), "one row per execution, seven executions"
    revenue, lines = reference.execute(
        f"SELECT SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} WHERE r_name = 'ASIA'"
    ).fetchone()
    for _, _, region, rev, count, rev_type, count_type in rows:
        assert region == "ASIA" and close(rev, revenue) and int(count) == lines
        assert (rev_type, count_type) == ("numeric", "int8")


def test_date_parameter_and_timestamps(jdbc_output, reference):
    years = [(int(r[1]), int(r[2])) for r in jdbc_output if r[0] == "year"]
    expected = reference.execute(
        "SELECT year(o_orderdate), COUNT(DISTINCT l_orderkey) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderdate >= DATE '1997-01-01' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert years == [tuple(r) for r in expected]


def test_errors_keep_the_connection(jdbc_output):
    assert ["error", "42703"] in jdbc_output
    assert ["after_error", "1"] in jdbc_output
