"""Access policies through real clients, as the demo's users: analyst (everything), emea (region EUROPE, no
gross_sales) and marketing (no finance members, nations masked, no customers view). Every number is compared with
DuckDB over the raw Parquet, restricted by the same condition."""
import glob
import subprocess

import adbc_driver_flightsql.dbapi
import psycopg
import psycopg2
import pytest

from test_psql import PSQL
from test_psycopg2 import LINE_TO_REGION, assert_rows

JARS = sorted(glob.glob("/usr/share/java/postgresql-4*.jar")) or sorted(glob.glob("/usr/share/java/postgresql.jar"))

BY_REGION = "SELECT region, MEASURE(revenue), MEASURE(line_items) FROM sales GROUP BY region ORDER BY region"


def reference_by_region(reference, where=""):
    return reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(*) FROM {LINE_TO_REGION} {where} "
        "GROUP BY r_name ORDER BY r_name"
    ).fetchall()


def pg(port, user):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=user, dbname="semgate")
    connection.autocommit = True
    return connection


def query(connection, sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.parametrize("user,where", [("analyst", ""), ("emea", "WHERE r_name = 'EUROPE'")])
def test_psycopg2_each_user_sees_their_rows(port, reference, user, where):
    with pg(port, user) as connection:
        assert_rows(query(connection, BY_REGION), reference_by_region(reference, where))


def test_psycopg3_prepared_statement_keeps_the_row_filter(port, reference):
    expected = reference_by_region(reference, "WHERE r_name = 'EUROPE'")
    with psycopg.connect(host="127.0.0.1", port=port, user="emea", password="emea", dbname="semgate",
                         autocommit=True) as connection:
        for _ in range(3):
            rows = connection.execute(
                "SELECT region, MEASURE(revenue), MEASURE(line_items) FROM sales WHERE region = %s OR %s "
                "GROUP BY region ORDER BY region", ("ASIA", True), prepare=True).fetchall()
            assert_rows(rows, expected)


def test_excluded_member_and_hidden_view(port):
    with pg(port, "emea") as connection:
        with pytest.raises(psycopg2.Error) as error:
            query(connection, "SELECT MEASURE(gross_sales) FROM sales")
        assert error.value.pgcode == "42703"
        assert query(connection, "SELECT 1") == [(1,)]
    with pg(port, "marketing") as connection:
        with pytest.raises(psycopg2.Error) as error:
            query(connection, "SELECT * FROM customers")
        assert error.value.pgcode == "42501"
        assert query(connection, "SELECT DISTINCT nation FROM sales") == [(None,)]


def psql(port, user, *commands):
    args = [PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", user]
    for command in commands:
        args += ["-c", command]
    args.append("semgate")
    env = {"PGPASSWORD": user, "PGCONNECT_TIMEOUT": "10", "PAGER": "", "LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_psql_describe_and_copy(port):
    described = psql(port, "emea", "\\d sales")
    assert "revenue" in described and "gross_sales" not in described
    listed = psql(port, "marketing", "\\dv")
    assert "sales" in listed and "customers" not in listed
    copied = psql(port, "emea", "\\copy (SELECT region, MEASURE(line_items) FROM sales GROUP BY region) TO STDOUT")
    assert [line.split("\t")[0] for line in copied.splitlines()] == ["EUROPE"]


def test_pgjdbc_metadata_and_prepared_rows(port, reference, tmp_path):
    if not JARS:
        pytest.fail("pgjdbc is missing: scripts/test.sh installs libpostgresql-jdbc-java")
    subprocess.run(["javac", "-d", str(tmp_path), "tests/clients/jdbc/JdbcPolicies.java"], check=True)
    run = subprocess.run(["java", "-cp", f"{JARS[0]}:{tmp_path}", "JdbcPolicies", str(port), "emea"],
                         check=True, capture_output=True, text=True)
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    tables = {line[1] for line in lines if line[0] == "table"}
    columns = [line[1] for line in lines if line[0] == "column"]
    assert tables == {"sales", "customers"}
    assert "revenue" in columns and "gross_sales" not in columns
    europe = reference.execute(f"SELECT COUNT(*) FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE'").fetchone()[0]
    rows = [line for line in lines if line[0] == "row"]
    assert len(rows) == 7 and all(row[2:] == ["EUROPE", str(europe)] for row in rows), rows


def test_adbc_flight_sql_as_a_restricted_user(flight_port, reference):
    with adbc_driver_flightsql.dbapi.connect(f"grpc://127.0.0.1:{flight_port}",
                                             db_kwargs={"username": "emea", "password": "emea"},
                                             autocommit=True) as connection:
        with connection.cursor() as cursor:
            cursor.execute(BY_REGION)
            assert_rows(cursor.fetchall(), reference_by_region(reference, "WHERE r_name = 'EUROPE'"))
        objects = connection.adbc_get_objects(depth="columns", db_schema_filter="public").read_all().to_pylist()
        sales = [table for catalog in objects for schema in catalog["catalog_db_schemas"]
                 for table in schema["db_schema_tables"] if table["table_name"] == "sales"][0]
        names = [column["column_name"] for column in sales["table_columns"]]
        assert "revenue" in names and "gross_sales" not in names


def test_ask_answers_within_the_policy(port, reference):
    with pg(port, "emea") as connection:
        rows = query(connection, "ASK revenue by region")
    expected = reference_by_region(reference, "WHERE r_name = 'EUROPE'")
    assert_rows(rows, [row[:2] for row in expected])
