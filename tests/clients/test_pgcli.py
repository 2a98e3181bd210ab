"""pgcli (psycopg 3 + pgspecial): non-interactive commands, backslash commands, and the completion refresh that pgcli
runs in a background thread at start-up (every catalog query it sends must succeed, or completion silently dies)."""
import os
import re
import subprocess
import sys
import threading

import pytest
from prompt_toolkit.document import Document

from test_psycopg2 import LINE_TO_REGION, assert_rows

PGCLI = os.path.join(os.path.dirname(sys.executable), "pgcli")


def pgcli(port, tmp_path, *args):
    env = dict(os.environ, PGPASSWORD="analyst", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    run = subprocess.run(
        [PGCLI, "-h", "127.0.0.1", "-p", str(port), "-U", "analyst", "-d", "semgate", "--less-chatty", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert "error" not in run.stderr.lower(), run.stderr
    return run.stdout


def test_command_mode(port, tmp_path, reference):
    out = pgcli(port, tmp_path, "-t", "-c",
                "SELECT region, MEASURE(revenue), MEASURE(order_count) FROM sales GROUP BY 1 ORDER BY 1")
    # pgcli may first say which time zone it uses ("Using local time zone …"): keep the three-column lines.
    rows = [row for row in (tuple(re.split(r"\s{2,}", line.strip())) for line in out.splitlines()) if len(row) == 3]
    expected = reference.execute(
        f"SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows(rows, expected)


def test_backslash_commands(port, tmp_path):
    views = pgcli(port, tmp_path, "-c", r"\dv")
    assert re.search(r"\|\s*public\s*\|\s*customers\s*\|\s*view\s*\|", views), views
    assert re.search(r"\|\s*public\s*\|\s*sales\s*\|\s*view\s*\|", views), views
    columns = pgcli(port, tmp_path, "-c", r"\d sales")
    for column, type_ in [("order_date", "date"), ("region", "text"), ("revenue", "numeric"), ("line_items", "bigint")]:
        assert re.search(rf"\|\s*{column}\s*\|\s*{type_}\s*\|", columns), columns
    assert "SELECT 0" in pgcli(port, tmp_path, "-c", r"\dt"), "semantic views are not tables"


@pytest.fixture
def cli(port, tmp_path, monkeypatch):
    """A PGCli as `pgcli -h … -p …` builds it, with a private config directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from pgcli.main import PGCli

    app = PGCli(pgclirc_file=str(tmp_path / "pgclirc"))
    app.connect(database="semgate", host="127.0.0.1", user="analyst", port=str(port), passwd="analyst")
    yield app
    app.pgexecute.conn.close()


@pytest.mark.parametrize("name", ["schemata", "tables", "views", "types", "databases", "functions"])
def test_completion_refresher_queries(cli, name):
    # The refreshers pgcli's background thread runs one after the other (casing only runs with generate_casing_file).
    from pgcli.completion_refresher import CompletionRefresher
    from pgcli.pgcompleter import PGCompleter

    completer = PGCompleter(smart_completion=True, pgspecial=cli.pgspecial, settings=cli.settings)
    if name != "schemata":
        # The others file what they find under the schemas found first.
        completer.extend_schemata(cli.pgexecute.schemata())
    CompletionRefresher.refreshers[name](completer, cli.pgexecute)
    if name == "functions":
        # Argument types come from pg_proc's oidvector/oid[] columns cast to regtype[] and then text[].
        (int4pl,) = completer.dbmetadata["functions"]["pg_catalog"]["int4pl"]
        assert (int4pl.arg_types, int4pl.return_type) == (("integer", "integer"), "integer")
        (explode,) = completer.dbmetadata["functions"]["pg_catalog"]["aclexplode"]
        assert explode.arg_names == ("acl", "grantor", "grantee", "privilege_type", "is_grantable")
        assert explode.arg_modes == ("i", "o", "o", "o", "o")


def test_completion_refresh_at_startup(cli):
    # What `pgcli` does right after connecting: refresh completions in a thread, then swap the new completer in.
    errors = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(f"{args.exc_type.__name__}: {args.exc_value}")
    try:
        cli.refresh_completions(persist_priorities="none")
        cli.completion_refresher._completer_thread.join(30)
    finally:
        threading.excepthook = previous_hook
    assert not errors, errors
    tables = {c.text for c in cli.completer.get_completions(Document("SELECT * FROM "), None)}
    assert {"sales", "customers"} <= tables, tables
    columns = {c.text for c in cli.completer.get_completions(Document("SELECT  FROM sales", cursor_position=7), None)}
    assert {"revenue", "order_date", "region"} <= columns, columns
    # pgcli shows each column's type (att.atttypid::regtype::text) next to the completion.
    sales = cli.completer.dbmetadata["views"]["public"]["sales"]
    assert (sales["revenue"].datatype, sales["order_date"].datatype, sales["line_items"].datatype) == (
        "numeric", "date", "bigint")
