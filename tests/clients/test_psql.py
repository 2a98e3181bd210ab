"""psql 15 meta-commands against semgate, run as a subprocess the way a person types them.

tests/pg_protocol.rs already covers \\l, \\dn, \\d, \\dv and \\d sales; this covers the rest of what an analyst uses
to explore the semantic layer: \\dt, \\d+ (member descriptions as column comments), \\dv+ (view descriptions),
\\conninfo, \\x, \\copy, \\df, \\dT and \\du. Expected output is what psql 15 prints for the same command against a
PostgreSQL 15 that has the same views with the YAML descriptions as comments.
Each psql call uses -X (no ~/.psqlrc); the SQL psql sends for a command can be seen with `psql -E`.
"""
import os
import shutil
import subprocess

PSQL = shutil.which("psql")


def psql(port, *commands, extra=()):
    """Runs psql with one -c per command; returns the CompletedProcess (stdout and stderr as text)."""
    assert PSQL, "psql is not installed (scripts/test.sh installs postgresql-client)"
    args = [PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", "analyst", *extra]
    for command in commands:
        args += ["-c", command]
    args.append("semgate")
    env = dict(os.environ, PGPASSWORD="analyst", PGCONNECT_TIMEOUT="10", PAGER="", PSQL_PAGER="",
               PGCLIENTENCODING="UTF8", LC_ALL="C.UTF-8")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


def ok(port, *commands):
    """Runs the commands and returns stdout; on failure the message shows the hidden SQL psql -E echoed."""
    result = psql(port, *commands)
    if result.returncode != 0 or "ERROR" in result.stderr:
        echoed = psql(port, *commands, extra=("-E",))
        raise AssertionError(f"psql exited {result.returncode}\nstderr:\n{result.stderr}\n"
                             f"hidden SQL (psql -E), the failing query is the last one:\n{echoed.stdout}")
    return result.stdout


def row(output, first_cell):
    """The table line whose first cell is first_cell, split into stripped cells."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row starting with {first_cell!r} in:\n{output}")


def header(output):
    for line in output.splitlines():
        if "|" in line:
            return [c.strip() for c in line.split("|")]
    raise AssertionError(f"no table header in:\n{output}")


def test_dt_lists_no_tables(port):
    # semgate serves views only: psql 15 says so on stderr and exits 0, as with a PostgreSQL database without tables.
    result = psql(port, "\\dt")
    assert result.returncode == 0, result.stderr
    assert "Did not find any relations." in result.stderr, (result.stdout, result.stderr)


def test_d_plus_sales_shows_member_descriptions(port):
    output = ok(port, "\\d+ sales")
    assert 'View "public.sales"' in output
    assert header(output) == ["Column", "Type", "Collation", "Nullable", "Default", "Storage", "Description"]
    assert row(output, "revenue")[1] == "numeric"
    assert row(output, "revenue")[-1] == "Net revenue, extended price after discount."
    assert row(output, "region")[-1] == "The customer's region."
    assert row(output, "nation")[-1] == "The customer's nation."
    assert row(output, "avg_order_value")[-1] == "Net revenue per order."
    assert row(output, "customer_count")[-1] == "Number of customers, counted at the customer grain."
    assert row(output, "order_date")[1] == "date"


def test_d_plus_customers(port):
    output = ok(port, "\\d+ customers")
    assert 'View "public.customers"' in output
    assert row(output, "nation")[-1] == "The customer's nation."
    assert row(output, "customer_count")[1] == "bigint"


def test_dv_plus_shows_view_descriptions(port):
    output = ok(port, "\\dv+")
    assert header(output) == ["Schema", "Name", "Type", "Owner", "Persistence", "Size", "Description"]
    sales = row(output, "public")  # first view in name order is customers
    assert sales[1] == "customers" and sales[-1] == "Customers with their geography. One row per customer."
    assert "Order lines with their order, customer, geography and part. One row per line item." in output
    assert "(2 rows)" in output


def test_conninfo(port):
    output = ok(port, "\\conninfo")
    assert f'You are connected to database "semgate" as user "analyst" on host "127.0.0.1" at port "{port}".' in output


def test_expanded_display(port):
    output = ok(port, "\\x", "SELECT region, MEASURE(order_count) AS orders FROM sales GROUP BY region "
                            "ORDER BY region LIMIT 2")
    assert "Expanded display is on." in output
    lines = [line.rstrip() for line in output.splitlines()]
    assert lines[1].startswith("-[ RECORD 1 ]")
    assert lines[2].startswith("region") and lines[2].endswith("| AFRICA")
    assert lines[3].startswith("orders")
    assert any(line.startswith("-[ RECORD 2 ]") for line in lines)
    assert any(line.endswith("| AMERICA") for line in lines)


def test_copy_query_to_csv_file(port, tmp_path):
    target = tmp_path / "orders_by_region.csv"
    output = ok(port, f"\\copy (SELECT region, MEASURE(order_count) AS orders FROM sales GROUP BY region "
                      f"ORDER BY region) TO '{target}' CSV")
    lines = target.read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
    assert all(int(line.split(",")[1]) > 0 for line in lines)
    assert output.strip() == "COPY 5"


def test_copy_with_header_counts_data_rows_only(port, tmp_path):
    # PostgreSQL's COPY tag counts data rows; the CSV header line is not a row (PG15: "COPY 5" here).
    target = tmp_path / "with_header.csv"
    output = ok(port, f"\\copy (SELECT region, MEASURE(order_count) AS orders FROM sales GROUP BY region "
                      f"ORDER BY region) TO '{target}' CSV HEADER")
    lines = target.read_text().splitlines()
    assert lines[0] == "region,orders" and len(lines) == 6
    assert output.strip() == "COPY 5"


def test_df_lists_functions(port):
    output = ok(port, "\\df")
    assert "List of functions" in output
    assert header(output) == ["Schema", "Name", "Result data type", "Argument data types", "Type"]


def test_dT_lists_types(port):
    output = ok(port, "\\dT")
    assert "List of data types" in output
    assert header(output) == ["Schema", "Name", "Description"]


def test_du_lists_roles(port):
    output = ok(port, "\\du")
    assert "List of roles" in output
    assert header(output) == ["Role name", "Attributes", "Member of"]
    assert row(output, "analyst")[0] == "analyst"


def test_dn_plus(port):
    output = ok(port, "\\dn+")
    assert header(output) == ["Name", "Owner", "Access privileges", "Description"]
    assert row(output, "public")[0] == "public"


def typed(port, script):
    """Runs psql reading `script` from standard input, as if typed at its prompt; returns the CompletedProcess."""
    assert PSQL, "psql is not installed (scripts/test.sh installs postgresql-client)"
    args = [PSQL, "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "analyst", "-f", "-", "semgate"]
    env = dict(os.environ, PGPASSWORD="analyst", PGCONNECT_TIMEOUT="10", PAGER="", PSQL_PAGER="",
               PGCLIENTENCODING="UTF8", LC_ALL="C.UTF-8")
    return subprocess.run(args, input=script, capture_output=True, text=True, env=env, timeout=60)


def test_ask_prints_rows_and_the_sql_it_ran(port, reference):
    result = typed(port, "ASK revenue by region in 1996;\n")
    assert result.returncode == 0, result.stderr
    assert ("NOTICE:  ASK → SELECT region, MEASURE(revenue) AS revenue FROM sales WHERE order_date >= DATE "
            "'1996-01-01' AND order_date < DATE '1997-01-01' GROUP BY region ORDER BY region") in result.stderr
    expected = reference.execute(
        "SELECT r_name, SUM(l_extendedprice * (1 - l_discount)) FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' GROUP BY r_name").fetchall()
    for region, revenue in expected:
        cells = row(result.stdout, region)
        assert abs(float(cells[1]) - float(revenue)) < 0.01, (region, cells, revenue)
    assert "(5 rows)" in result.stdout


def test_ask_with_an_apostrophe_follow_up_and_explain(port, reference):
    script = ("ASK $$what's the average order value per market segment?$$;\n"
              "ASK only AUTOMOBILE;\n"
              "EXPLAIN ASK top 5 nations by revenue;\n"
              "ASK RESET;\n"
              "ASK drop table sales;\n"
              "SELECT 'still here' AS status;\n")
    result = typed(port, script)
    expected = dict(reference.execute(
        "SELECT c_mktsegment, SUM(l_extendedprice * (1 - l_discount)) / COUNT(DISTINCT l_orderkey) FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey GROUP BY c_mktsegment"
    ).fetchall())
    for segment, value in expected.items():
        assert abs(float(row(result.stdout, segment)[1]) - float(value)) < 0.01, segment
    assert "WHERE market_segment = 'AUTOMOBILE'" in result.stderr, "the follow-up keeps the question, adds the filter"
    assert row(result.stdout, "sql")[1] == ("SELECT nation, MEASURE(revenue) AS revenue FROM sales GROUP BY nation "
                                             "ORDER BY revenue DESC LIMIT 5")
    assert 'ERROR:  cannot tell what "drop", "table" means' in result.stderr
    assert "still here" in result.stdout
