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


def test_ask_prepared_and_described_first(jdbc_output, reference):
    assert not [r for r in jdbc_output if r[0] == "ask_error"]
    assert [r[1:] for r in jdbc_output if r[0] == "ask_md"] == [["nation", "revenue", "numeric"]]
    expected = reference.execute(
        f"SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    ).fetchall()
    rows = [r[1:] for r in jdbc_output if r[0] == "ask_row"]
    assert [r[0] for r in rows] == [e[0] for e in expected], "ranked like the reference"
    assert all(close(r[1], e[1]) for r, e in zip(rows, expected))
    (notice,) = [r[1] for r in jdbc_output if r[0] == "ask_notice"]
    assert notice.startswith("ASK → SELECT nation, MEASURE(revenue) AS revenue FROM sales"), notice


def metadata_errors(jdbc_output, call):
    return [r for r in jdbc_output if r[0] == "md_error" and r[1] == call]


def test_result_set_metadata_types(jdbc_output, reference):
    assert not metadata_errors(jdbc_output, "rsmd")
    columns = {r[1]: r[2:6] for r in jdbc_output if r[0] == "rsmd"}
    assert columns["region"][:3] == ["text", "12", "java.lang.String"]
    assert columns["first_order"][:3] == ["date", "91", "java.sql.Date"]
    assert columns["first_month"][1:3] == ["93", "java.sql.Timestamp"]  # timestamp or timestamptz
    assert columns["revenue"][:3] == ["numeric", "2", "java.math.BigDecimal"]
    assert columns["lines"][:3] == ["int8", "-5", "java.lang.Long"]
    (row,) = [r[1:] for r in jdbc_output if r[0] == "rsmd_row"]
    expected = reference.execute(
        f"SELECT r_name, MIN(o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert row[0] == expected[0] and row[1] == str(expected[1]) and row[2].startswith(str(expected[1]))
    assert close(row[3], expected[2]) and int(row[4]) == expected[3]


def test_metadata_schemas_and_tables(jdbc_output):
    assert not metadata_errors(jdbc_output, "getSchemas") and not metadata_errors(jdbc_output, "getTables")
    assert ["schema", "public"] in jdbc_output
    tables = sorted(r[1:] for r in jdbc_output if r[0] == "table")
    assert tables == [["public", "customers", "VIEW"], ["public", "sales", "VIEW"]]


def test_metadata_columns(jdbc_output):
    assert not metadata_errors(jdbc_output, "getColumns")
    columns = [r[2:] for r in jdbc_output if r[0] == "column" and r[1] == "sales"]
    assert len(columns) == 21 and [c[3] for c in columns] == [str(i) for i in range(1, 22)]
    by_name = {c[0]: (c[1], c[2]) for c in columns}
    assert by_name["order_date"] == ("date", "91")
    assert by_name["region"] == ("text", "12")
    assert by_name["revenue"] == ("numeric", "2")
    assert by_name["line_items"] == ("int8", "-5")


def test_metadata_primary_keys(jdbc_output):
    assert not metadata_errors(jdbc_output, "getPrimaryKeys")
    assert ["primary_keys", "0"] in jdbc_output, "views have no primary key"


def test_metadata_type_info(jdbc_output):
    assert not metadata_errors(jdbc_output, "getTypeInfo")
    types = {r[1]: r[2] for r in jdbc_output if r[0] == "type_info"}
    for name, jdbc_type in [("numeric", "2"), ("int8", "-5"), ("int4", "4"), ("text", "12"), ("date", "91"),
                            ("timestamp", "93"), ("bool", "-7")]:
        assert types.get(name) == jdbc_type, (name, types.get(name))
