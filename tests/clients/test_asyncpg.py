"""asyncpg (FastAPI and most async Python services): binary protocol only, prepared statements with typed parameters,
type introspection through pg_type; checked against DuckDB."""
import asyncio
import datetime
from decimal import Decimal

import asyncpg

from test_psycopg2 import LINE_TO_REGION, assert_rows


def run(port, body):
    async def main():
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="analyst", password="analyst", database="semgate"
        )
        try:
            return await body(conn)
        finally:
            await conn.close()

    return asyncio.run(asyncio.wait_for(main(), 30))


def test_binary_numeric_date_timestamp(port, reference):
    async def body(conn):
        return await conn.fetch(
            "SELECT region, date_trunc('year', order_date) AS y, MIN(order_date) AS first_day, "
            "MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines FROM sales GROUP BY 1, 2 ORDER BY 1, 2"
        )

    rows = run(port, body)
    first = rows[0]
    assert isinstance(first["y"], datetime.datetime), first
    assert isinstance(first["first_day"], datetime.date) and not isinstance(first["first_day"], datetime.datetime)
    assert isinstance(first["revenue"], Decimal) and isinstance(first["lines"], int)
    expected = reference.execute(
        f"SELECT r_name, year(o_orderdate), MIN(o_orderdate), SUM(l_extendedprice * (1 - l_discount)), COUNT(*) "
        f"FROM {LINE_TO_REGION} GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    assert [(r["region"], r["y"].year, r["first_day"]) for r in rows] == [(e[0], e[1], e[2]) for e in expected]
    assert_rows([(r["revenue"], r["lines"]) for r in rows], [(e[3], e[4]) for e in expected])


def test_date_parameter(port, reference):
    async def body(conn):
        stmt = await conn.prepare(
            "SELECT ship_mode, MEASURE(quantity), MEASURE(order_count) FROM sales "
            "WHERE order_date >= $1 AND order_date < $2 GROUP BY ship_mode ORDER BY ship_mode"
        )
        # asyncpg encodes parameters in binary with the types the server described, so a date needs a date.
        types = [t.name for t in stmt.get_parameters()]
        first = await stmt.fetch(datetime.date(1996, 1, 1), datetime.date(1996, 7, 1))
        second = await stmt.fetch(datetime.date(1997, 1, 1), datetime.date(1997, 7, 1))
        return types, first, second

    types, first, second = run(port, body)
    assert types == ["date", "date"]
    for rows, (lo, hi) in [(first, ("1996-01-01", "1996-07-01")), (second, ("1997-01-01", "1997-07-01"))]:
        expected = reference.execute(
            "SELECT l_shipmode, SUM(l_quantity), COUNT(DISTINCT l_orderkey) FROM lineitem "
            f"JOIN orders ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '{lo}' AND o_orderdate < DATE '{hi}' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert_rows([tuple(r) for r in rows], expected)


def test_text_and_numeric_parameters(port, reference):
    async def body(conn):
        return await conn.fetch(
            "SELECT nation, MEASURE(revenue) AS revenue FROM sales WHERE region = $1 GROUP BY nation "
            "HAVING MEASURE(revenue) > $2 ORDER BY nation",
            "EUROPE",
            Decimal("1000"),
        )

    rows = run(port, body)
    expected = reference.execute(
        f"SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} WHERE r_name = 'EUROPE' "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert_rows([tuple(r) for r in rows], expected)


def test_type_introspection(port):
    # asyncpg looks up in pg_catalog every type it has no built-in codec for (arrays other than oid[]/text[], ranges,
    # enums, domains, extension types): first `SELECT current_setting('jit'), set_config('jit', 'off', false)`, then
    # its recursive INTRO_LOOKUP_TYPES query (a domain's base type is a WITH RECURSIVE on the outer row); its own
    # parameter and columns must be types it can decode (oid, oid[], "char"), or it would introspect them with the
    # same query forever. set_type_codec outside pg_catalog sends TYPE_BY_NAME. These are the statements asyncpg
    # sends; the answers are checked against hand-written queries over pg_type.
    names = ["numeric", "date", "timestamp", "text", "_int4", "int4range", "_float8"]

    async def body(conn):
        oids = {r["typname"]: r["oid"] for r in await conn.fetch(
            "SELECT typname, oid FROM pg_type WHERE typname = any($1::text[])", names)}
        types, _ = await conn._introspect_types(list(oids.values()), None)
        by_name = await conn.fetch(asyncpg.introspection.TYPE_BY_NAME, "numeric", "pg_catalog")
        expected = await conn.fetch(
            "SELECT t.oid, t.typname, t.typtype AS kind, t.typelem, r.rngsubtype FROM pg_type t "
            "LEFT JOIN pg_range r ON r.rngtypid = t.oid WHERE t.oid = any($1::oid[]) "
            "OR t.oid IN (SELECT typelem FROM pg_type WHERE oid = any($1::oid[])) "
            "OR t.oid IN (SELECT rngsubtype FROM pg_range WHERE rngtypid = any($1::oid[]))",
            list(oids.values()))
        return oids, types, by_name, expected

    oids, types, by_name, expected = run(port, body)
    assert sorted(oids) == sorted(names)
    # The types asked for, plus what they are made of (an array's element, a range's subtype), each once.
    got = sorted({(r["oid"], r["ns"], r["name"], r["kind"], r["elemtype"], r["range_subtype"]) for r in types})
    want = sorted(
        (e["oid"], "pg_catalog", e["typname"], e["kind"], e["typelem"], e["rngsubtype"]) for e in expected
    )
    assert got == want
    assert {r["name"]: r["elemtype_name"] for r in types}["_int4"] == "integer"
    assert {r["name"]: r["range_subtype_name"] for r in types}["int4range"] == "integer"
    assert [(r["oid"], r["kind"]) for r in by_name] == [(1700, b"b")]


def test_integer_arrays_are_introspected_and_decoded(port, reference):
    # int8[] is not one of asyncpg's built-in codecs: reading it makes asyncpg introspect the type first.
    async def body(conn):
        return await conn.fetch(
            "SELECT region, array_agg(DISTINCT o_year ORDER BY o_year) AS years FROM "
            "(SELECT region, CAST(date_part('year', order_date) AS BIGINT) AS o_year FROM sales "
            "GROUP BY 1, 2) AS y GROUP BY region ORDER BY region"
        )

    rows = run(port, body)
    expected = reference.execute(
        f"SELECT r_name, list(DISTINCT year(o_orderdate) ORDER BY year(o_orderdate)) FROM {LINE_TO_REGION} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [(r["region"], list(r["years"])) for r in rows] == [(e[0], list(e[1])) for e in expected]


def test_cursor_fetches_in_batches(port, reference):
    # A scrollable cursor inside a transaction: Execute with a row limit, portal suspended and resumed.
    async def body(conn):
        async with conn.transaction():
            return [
                tuple(r)
                async for r in conn.cursor(
                    "SELECT nation, MEASURE(customer_count) FROM customers GROUP BY nation ORDER BY nation",
                    prefetch=7,
                )
            ]

    rows = run(port, body)
    expected = reference.execute(
        "SELECT n_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [tuple(e) for e in expected]


def test_copy_from_query_csv(port, reference):
    import io

    async def body(conn):
        buf = io.BytesIO()
        await conn.copy_from_query(
            "SELECT market_segment, MEASURE(customer_count) FROM customers GROUP BY 1 ORDER BY 1", output=buf,
            format="csv",
        )
        return buf.getvalue().decode()

    lines = run(port, body).splitlines()
    expected = reference.execute("SELECT c_mktsegment, COUNT(*) FROM customer GROUP BY 1 ORDER BY 1").fetchall()
    assert [tuple(line.split(",")) for line in lines] == [(s, str(n)) for s, n in expected]


def test_pool_acquire_release(port, reference):
    # A pool resets each connection it takes back (asyncpg's reset query) before handing it out again.
    async def main():
        pool = await asyncpg.create_pool(
            host="127.0.0.1", port=port, user="analyst", password="analyst", database="semgate",
            min_size=1, max_size=1,
        )
        try:
            counts = []
            for segment in ["BUILDING", "MACHINERY"]:
                async with pool.acquire() as conn:
                    counts.append(
                        await conn.fetchval(
                            "SELECT MEASURE(customer_count) FROM customers WHERE market_segment = $1", segment
                        )
                    )
            return counts
        finally:
            await pool.close()

    counts = asyncio.run(asyncio.wait_for(main(), 30))
    expected = [
        reference.execute(f"SELECT COUNT(*) FROM customer WHERE c_mktsegment = '{s}'").fetchone()[0]
        for s in ["BUILDING", "MACHINERY"]
    ]
    assert counts == expected


def test_array_parameter_with_any(port, reference):
    # The asyncpg idiom for IN lists: `= ANY($1)` (or `$1::text[]`) with a Python list, sent as a binary text[].
    async def body(conn):
        return [
            await conn.fetch(
                f"SELECT region, MEASURE(customer_count) FROM customers WHERE region = ANY({param}) GROUP BY 1 "
                "ORDER BY 1",
                ["ASIA", "EUROPE"],
            )
            for param in ["$1", "$1::text[]"]
        ]

    expected = reference.execute(
        "SELECT r_name, COUNT(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey WHERE r_name IN ('ASIA', 'EUROPE') GROUP BY 1 ORDER BY 1"
    ).fetchall()
    for rows in run(port, body):
        assert [tuple(r) for r in rows] == [tuple(e) for e in expected]


def test_catalog_columns_cast_are_what_they_were_cast_to(port):
    # Catalog oid columns are oids, "char" columns are "char"; cast, they are the cast's type (binary: an oid cast to
    # int8 is 8 bytes, which asyncpg checks). Values against the uncast columns of the same rows.
    async def body(conn):
        stmt = await conn.prepare(
            "SELECT c.oid, c.oid::int8 AS oid8, c.relnamespace, c.relnamespace::text AS ns_text, c.relkind, "
            "c.relkind::text AS kind_text FROM pg_class c WHERE c.relname = 'sales'"
        )
        return [a.type.name for a in stmt.get_attributes()], await stmt.fetch()

    types, rows = run(port, body)
    assert types == ["oid", "int8", "oid", "text", "char", "text"]
    [row] = rows
    assert row["oid8"] == row["oid"] and row["ns_text"] == str(row["relnamespace"])
    assert row["relkind"] == b"v" and row["kind_text"] == "v"
