//! The PostgreSQL wire protocol with real clients: tokio-postgres (simple, extended, binary, parameters, errors) and psql.

mod common;

use common::{assert_same, connect, connect_as, reference, reference_rows, rows};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_with_parameters_and_binary_results() {
    let client = connect().await;
    let statement = client
        .prepare("SELECT region, MEASURE(revenue) AS revenue, MEASURE(line_items) AS lines FROM sales WHERE region = $1 GROUP BY region")
        .await
        .unwrap();
    assert_eq!(statement.params(), &[Type::TEXT]);
    let types: Vec<_> = statement.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, vec![Type::TEXT, Type::NUMERIC, Type::INT8]);

    let reference = reference().await;
    let expected = reference_rows(
        &reference,
        "SELECT COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
         JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey WHERE r_name = 'ASIA'",
    )
    .await;
    // tokio-postgres asks for binary results; reuse the statement several times as pgjdbc does after 5 executions.
    for _ in 0..6 {
        let rows = client.query(&statement, &[&"ASIA"]).await.unwrap();
        assert_eq!(rows.len(), 1);
        let region: &str = rows[0].get(0);
        let lines: i64 = rows[0].get(2);
        assert_eq!(region, "ASIA");
        assert_eq!(lines.to_string(), expected[0][0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_dates_timestamps_and_numbers() {
    let client = connect().await;
    let row = client
        .query_one(
            "SELECT MIN(order_date) AS first_day, date_trunc('month', MIN(order_date)) AS first_month, COUNT(*) AS n, \
             CAST(1.5 AS DOUBLE) AS f, true AS b, CAST(7 AS SMALLINT) AS s, CAST(8 AS INT) AS i FROM sales",
            &[],
        )
        .await
        .unwrap();
    let first_day: chrono_like::Date = row.get(0);
    assert_eq!(first_day.0, "1992-01-01");
    let n: i64 = row.get(2);
    assert!(n > 0);
    let f: f64 = row.get(3);
    let b: bool = row.get(4);
    let s: i16 = row.get(5);
    let i: i32 = row.get(6);
    assert_eq!((f, b, s, i), (1.5, true, 7, 8));
    assert!(matches!(
        row.columns()[1].type_(),
        &Type::TIMESTAMP | &Type::TIMESTAMPTZ
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_of_several_types() {
    let client = connect().await;
    let limited = client
        .query(
            "SELECT nation FROM sales GROUP BY nation ORDER BY nation LIMIT $1",
            &[&3i64],
        )
        .await
        .unwrap();
    assert_eq!(limited.len(), 3);
    let europe = client
        .query(
            "SELECT nation FROM sales WHERE region = $1 AND ship_mode <> $2 GROUP BY nation",
            &[&"EUROPE", &"AIR"],
        )
        .await
        .unwrap();
    assert_eq!(europe.len(), 5, "TPC-H has five nations per region");
}

async fn sqlstate_of(client: &tokio_postgres::Client, sql: &str) -> SqlState {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{sql} should fail"),
        Err(e) => e
            .code()
            .cloned()
            .unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_sqlstate_and_the_connection_stays_usable() {
    let client = connect().await;
    let cases = [
        ("SELEC region FROM sales", SqlState::SYNTAX_ERROR),
        ("SELECT no_such_column FROM sales", SqlState::UNDEFINED_COLUMN),
        ("SELECT region FROM no_such_view", SqlState::UNDEFINED_TABLE),
        (
            "INSERT INTO sales (region) VALUES ('x')",
            SqlState::READ_ONLY_SQL_TRANSACTION,
        ),
        ("DROP TABLE sales", SqlState::READ_ONLY_SQL_TRANSACTION),
        ("CREATE TABLE t (a INT)", SqlState::READ_ONLY_SQL_TRANSACTION),
        ("SELECT revenue FROM sales GROUP BY revenue", SqlState::GROUPING_ERROR),
        ("SELECT region FROM sales WHERE revenue > 0", SqlState::GROUPING_ERROR),
        ("SELECT COUNT(revenue) FROM sales", SqlState::FEATURE_NOT_SUPPORTED),
        ("SELECT 1/0", SqlState::DIVISION_BY_ZERO),
        ("SELECT no_such_function(1)", SqlState::UNDEFINED_FUNCTION),
    ];
    for (sql, expected) in cases {
        assert_eq!(sqlstate_of(&client, sql).await, expected, "{sql}");
        assert_eq!(
            rows(&client, "SELECT 42").await,
            vec![vec!["42".to_string()]],
            "connection usable after: {sql}"
        );
    }
    // Errors in the extended protocol too.
    let e = client.prepare("SELECT nope FROM sales").await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_COLUMN));
    let message = e.as_db_error().unwrap().message().to_string();
    assert!(
        message.contains("nope") && message.contains("revenue"),
        "the message lists the view's columns: {message}"
    );
    assert_eq!(client.query_one("SELECT 7", &[]).await.unwrap().get::<_, i32>(0), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_database_errors() {
    let cases = [
        ("analyst", "wrong", "semgate", SqlState::INVALID_PASSWORD),
        ("nobody", "analyst", "semgate", SqlState::INVALID_PASSWORD),
        ("analyst", "analyst", "nodb", SqlState::INVALID_CATALOG_NAME),
    ];
    for (user, password, database, expected) in cases {
        let Err(error) = connect_as(user, password, database).await else {
            panic!("{user}/{password}@{database} must be refused");
        };
        assert_eq!(error.code(), Some(&expected), "{user}/{password}@{database}: {error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_commands() {
    let mut client = connect().await;
    client
        .batch_execute("SET application_name = 'tests'; SET extra_float_digits TO 3")
        .await
        .unwrap();
    assert_eq!(
        rows(&client, "SHOW application_name").await,
        vec![vec!["tests".to_string()]]
    );
    assert_eq!(
        rows(&client, "SHOW extra_float_digits").await,
        vec![vec!["3".to_string()]]
    );
    assert_eq!(
        rows(&client, "SHOW server_version").await[0][0],
        semgate::engine::SERVER_VERSION
    );
    assert_eq!(rows(&client, "SHOW TimeZone").await, vec![vec!["UTC".to_string()]]);
    client.batch_execute("RESET extra_float_digits").await.unwrap();
    assert_eq!(
        rows(&client, "SHOW extra_float_digits").await,
        vec![vec!["1".to_string()]]
    );
    assert_eq!(
        sqlstate_of(&client, "SHOW no_such_setting").await,
        SqlState::UNDEFINED_OBJECT
    );
    client
        .batch_execute("BEGIN READ ONLY; SELECT 1; COMMIT; BEGIN; ROLLBACK; DISCARD ALL; DEALLOCATE ALL")
        .await
        .unwrap();
    let e = client.simple_query("SET server_version = '1'").await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::CANT_CHANGE_RUNTIME_PARAM));
    // A transaction block behaves like PostgreSQL's read-only transactions: reads work, writes are refused.
    let tx = client.build_transaction().read_only(true).start().await.unwrap();
    assert_eq!(tx.query_one("SELECT 5", &[]).await.unwrap().get::<_, i32>(0), 5);
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_statement_simple_query_streams_every_result() {
    let client = connect().await;
    let messages = client
        .simple_query("SELECT 1; SELECT region FROM sales GROUP BY region ORDER BY region")
        .await
        .unwrap();
    let rows: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(rows, vec!["1", "AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]);
}

/// psql's unaligned, tuples-only output of one command.
fn psql(command: &str) -> String {
    let addr = common::addr();
    let output = std::process::Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &addr.ip().to_string(),
            "-p",
            &addr.port().to_string(),
        ])
        .args(["-U", "analyst", "-d", "semgate", "-c", command])
        .env("PGPASSWORD", "analyst")
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "psql {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn psql_lists_and_describes_the_views() {
    assert_eq!(psql("\\dn"), "public|postgres\n");
    assert_eq!(
        psql("\\d"),
        "public|customers|view|postgres\npublic|sales|view|postgres\n"
    );
    assert!(psql("\\l").lines().any(|l| l.starts_with("semgate|")));
    let sales = psql("\\d sales");
    for column in [
        "order_date|date",
        "region|text",
        "revenue|numeric",
        "line_items|bigint",
        "avg_order_value|numeric",
    ] {
        assert!(
            sales.lines().any(|l| l.starts_with(column)),
            "\\d sales lacks {column}:\n{sales}"
        );
    }
}

#[test]
fn psql_runs_semantic_queries() {
    let stdout = psql("SELECT region, MEASURE(order_count) FROM sales GROUP BY region ORDER BY region");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let expected = runtime.block_on(async {
        let reference = reference().await;
        reference_rows(
            &reference,
            "SELECT r_name, COUNT(DISTINCT l_orderkey) FROM lineitem JOIN orders ON l_orderkey = o_orderkey \
             JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey \
             JOIN region ON n_regionkey = r_regionkey GROUP BY r_name ORDER BY r_name",
        )
        .await
    });
    let actual: Vec<Vec<String>> = stdout
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect();
    assert_same("psql order_count by region", &actual, &expected);
}

/// DATE decoded from the binary wire format without pulling a date crate into the tests.
mod chrono_like {
    use tokio_postgres::types::{FromSql, Type};

    pub struct Date(pub String);

    impl<'a> FromSql<'a> for Date {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            let days = i32::from_be_bytes(raw.try_into()?);
            // PostgreSQL dates count days from 2000-01-01.
            let unix_days = days as i64 + 10957;
            let (y, m, d) = civil_from_days(unix_days);
            Ok(Date(format!("{y:04}-{m:02}-{d:02}")))
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::DATE
        }
    }

    fn civil_from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (if m <= 2 { y + 1 } else { y }, m, d)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_cancels_with_57014() {
    let client = connect().await;
    client.batch_execute("SET statement_timeout = '200ms'").await.unwrap();
    // The query cannot finish: only the timeout can end it, and it must say so.
    assert_eq!(
        sqlstate_of(&client, common::NEVER_FINISHING_QUERY).await,
        SqlState::QUERY_CANCELED
    );
    client.batch_execute("SET statement_timeout = 0").await.unwrap();
    assert_eq!(rows(&client, "SELECT 3").await, vec![vec!["3".to_string()]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_the_running_statement() {
    let client = connect().await;
    let token = client.cancel_token();
    // A CancelRequest that arrives before the query starts cancels nothing (as in PostgreSQL), so keep sending one
    // until the query has ended: however slow the machine, one lands while it runs.
    let finished = tokio_util::sync::CancellationToken::new();
    let canceller = tokio::spawn({
        let finished = finished.clone();
        async move {
            while !finished.is_cancelled() {
                token.cancel_query(tokio_postgres::NoTls).await.unwrap();
                tokio::select! {
                    _ = finished.cancelled() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                }
            }
        }
    });
    let outcome = sqlstate_of(&client, common::NEVER_FINISHING_QUERY).await;
    finished.cancel();
    canceller.await.unwrap();
    assert_eq!(outcome, SqlState::QUERY_CANCELED);
    assert_eq!(rows(&client, "SELECT 4").await, vec![vec!["4".to_string()]]);
}

async fn copy_out(client: &tokio_postgres::Client, sql: &str) -> Vec<u8> {
    use futures::TryStreamExt;
    let stream = client.copy_out(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let chunks: Vec<_> = stream.try_collect().await.unwrap();
    chunks.concat()
}

/// Large batches are encoded on runtime workers, several at once: the rows must still arrive whole and in order, on
/// COPY and on both query protocols.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_results_arrive_whole_and_in_order() {
    let client = connect().await;
    let query = "SELECT n FROM generate_series(1, 100000) AS t(n)";
    let expected: Vec<i64> = (1..=100_000).collect();

    for format in ["text", "csv"] {
        let copied =
            String::from_utf8(copy_out(&client, &format!("COPY ({query}) TO STDOUT (FORMAT {format})")).await).unwrap();
        let copied: Vec<i64> = copied.lines().map(|line| line.parse().unwrap()).collect();
        assert!(
            copied == expected,
            "COPY {format}: {} rows, not 1..=100000 in order",
            copied.len()
        );
    }
    let simple: Vec<i64> = client
        .simple_query(query)
        .await
        .unwrap()
        .iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(|n| n.parse().unwrap()),
            _ => None,
        })
        .collect();
    assert!(
        simple == expected,
        "simple protocol: {} rows, not 1..=100000 in order",
        simple.len()
    );
    let extended: Vec<i64> = client
        .query(query, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        extended == expected,
        "extended protocol: {} rows, not 1..=100000 in order",
        extended.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_stdout_in_text_csv_and_binary() {
    let client = connect().await;
    let reference = reference().await;
    let expected = reference_rows(
        &reference,
        "SELECT l_shipmode, COUNT(*) FROM lineitem GROUP BY l_shipmode ORDER BY l_shipmode",
    )
    .await;
    let query = "SELECT ship_mode, MEASURE(line_items) FROM sales GROUP BY ship_mode ORDER BY ship_mode";

    let csv =
        String::from_utf8(copy_out(&client, &format!("COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)")).await)
            .unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("ship_mode,measure"));
    let actual: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_same("COPY csv", &actual, &expected);

    let text = String::from_utf8(copy_out(&client, &format!("COPY ({query}) TO STDOUT")).await).unwrap();
    let actual: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert_same("COPY text", &actual, &expected);

    let binary = copy_out(
        &client,
        "COPY (SELECT CAST(7 AS BIGINT) AS n, CAST(NULL AS BIGINT) AS missing) TO STDOUT (FORMAT binary)",
    )
    .await;
    let mut expected_binary = b"PGCOPY\n\xff\r\n\x00".to_vec();
    expected_binary.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // flags, header extension
    expected_binary.extend_from_slice(&[0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff]); // one row
    expected_binary.extend_from_slice(&[0xff, 0xff]); // trailer
    assert_eq!(binary, expected_binary);

    let view = String::from_utf8(copy_out(&client, "COPY customers (market_segment) TO STDOUT").await).unwrap();
    let mut segments: Vec<&str> = view.lines().collect();
    segments.sort();
    assert_eq!(
        segments,
        ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
    );

    assert_eq!(
        sqlstate_of(&client, "COPY sales FROM STDIN").await,
        SqlState::READ_ONLY_SQL_TRANSACTION
    );
}

/// Catalog SQL that drivers send while connecting or introspecting (ADBC, pgjdbc, Npgsql, psycopg, asyncpg, psql),
/// answered as PostgreSQL answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_catalog_queries() {
    let client = connect().await;
    // ADBC's connect query: regproc columns compare with 0 as oids and read as function names.
    let types = rows(
        &client,
        "SELECT oid, typname, typreceive FROM pg_catalog.pg_type WHERE (typreceive != 0 OR typsend != 0) \
         AND typtype != 'r' AND typreceive::TEXT != 'array_recv' ORDER BY oid LIMIT 1",
    )
    .await;
    assert_eq!(types, vec![vec!["16", "bool", "boolrecv"]]);
    // pgjdbc's TypeInfoCache: a qualified regproc literal.
    let arrays = rows(
        &client,
        "SELECT typname, typinput = 'pg_catalog.array_in'::regproc FROM pg_type WHERE typname IN ('int4', '_int4') \
         ORDER BY typname",
    )
    .await;
    assert_eq!(arrays, vec![vec!["_int4", "t"], vec!["int4", "f"]]);
    // Npgsql and Power BI join pg_proc on a regproc column.
    let receive = rows(
        &client,
        "SELECT p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typreceive WHERE t.typname = 'numeric'",
    )
    .await;
    assert_eq!(receive, vec![vec!["numeric_recv"]]);
    // pgjdbc getTypeInfo: a correlated scalar subquery in WHERE.
    let composite_or_plain = rows(
        &client,
        "SELECT t.typname FROM pg_catalog.pg_type t WHERE t.typname = 'bool' \
         AND (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))",
    )
    .await;
    assert_eq!(composite_or_plain, vec![vec!["bool"]]);
    // psycopg's TypeInfo.fetch and SQLAlchemy: type names by name and back.
    let regtype = rows(
        &client,
        "SELECT oid, oid::regtype::text FROM pg_type WHERE oid = to_regtype('integer') OR oid = to_regtype('numeric') \
         ORDER BY oid",
    )
    .await;
    assert_eq!(regtype, vec![vec!["23", "integer"], vec!["1700", "numeric"]]);
    // asyncpg and Grafana read settings with functions.
    let settings = rows(
        &client,
        "SELECT current_setting('server_version_num')::int / 100, set_config('application_name', 'x', false)",
    )
    .await;
    assert_eq!(settings, vec![vec!["1500", "x"]]);
    assert_eq!(rows(&client, "SHOW application_name").await, vec![vec!["x"]]);
    // psql \d+ and \dv+: the semantic model's descriptions.
    let descriptions = rows(
        &client,
        "SELECT obj_description(c.oid, 'pg_class'), col_description(c.oid, 3) FROM pg_class c WHERE c.relname = 'sales'",
    )
    .await;
    assert_eq!(
        descriptions,
        vec![vec![
            "Order lines with their order, customer, geography and part. One row per line item.",
            "The customer's region.",
        ]]
    );
    // SQLAlchemy's schema list: LIKE with another escape character.
    let schemas = rows(
        &client,
        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg/_' || '%' ESCAPE '/' ORDER BY nspname",
    )
    .await;
    assert!(schemas.contains(&vec!["public".to_string()]) && !schemas.iter().any(|s| s[0].starts_with("pg_")));
    // psql \du and \d+: ARRAY(subquery), correlated and ordered.
    let views = rows(
        &client,
        "SELECT n.nspname, ARRAY(SELECT c.relname FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'v' \
         ORDER BY 1) FROM pg_namespace n WHERE n.nspname = 'public'",
    )
    .await;
    assert_eq!(views, vec![vec!["public", "{customers,sales}"]]);
    assert_eq!(
        rows(&client, "SELECT pg_size_pretty(123456789)").await,
        vec![vec!["118 MB"]]
    );
}

/// Result columns carry PostgreSQL's names and types, duplicates included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_columns_are_named_and_typed_like_postgres() {
    let client = connect().await;
    let statement = client
        .prepare("SELECT 1, 'a' = 'b', n.oid, n.* FROM pg_namespace n")
        .await
        .unwrap();
    let names: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
    assert_eq!(&names[..4], ["?column?", "?column?", "oid", "oid"]);
    assert_eq!(statement.columns()[0].type_(), &Type::INT4);
    let row = client
        .query_one("SELECT 7 AS seven, region, region FROM customers LIMIT 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["seven", "region", "region"]);
}

/// `x = ANY($1)` takes an array: Describe says text[], and a list binds (psycopg, asyncpg, pgcli).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn array_parameter_in_any() {
    let client = connect().await;
    let statement = client
        .prepare("SELECT region, MEASURE(customer_count) FROM customers WHERE region = ANY($1) GROUP BY 1 ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(statement.params(), &[Type::TEXT_ARRAY]);
    let regions: Vec<String> = client
        .query(&statement, &[&vec!["ASIA", "EUROPE"]])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(regions, ["ASIA", "EUROPE"]);
    let cast = client.prepare("SELECT $1::text[]").await.unwrap();
    assert_eq!(cast.params(), &[Type::TEXT_ARRAY]);
}

/// Untyped parameters take the type PostgreSQL infers from where they stand: an array subscript is an integer
/// (pgbench's `(ARRAY['AIR','RAIL'])[:r]`), a function's argument the type the function takes there, LIMIT a bigint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_types_from_context() {
    let client = connect().await;
    let subscript = client.prepare("SELECT (ARRAY['AIR','RAIL'])[$1]").await.unwrap();
    assert_eq!(subscript.params(), &[Type::INT4]);
    let row = client.query_one(&subscript, &[&2i32]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "RAIL");
    let slice = client.prepare("SELECT (ARRAY[1, 2, 3])[$1:$2]").await.unwrap();
    assert_eq!(slice.params(), &[Type::INT4, Type::INT4]);
    let argument = client
        .prepare("SELECT substr(region, $1, $2) FROM customers LIMIT $3")
        .await
        .unwrap();
    assert_eq!(argument.params(), &[Type::INT8, Type::INT8, Type::INT8]);
    let row = client.query_one(&argument, &[&1i64, &2i64, &1i64]).await.unwrap();
    assert_eq!(row.get::<_, String>(0).len(), 2);
    let text = client.prepare("SELECT upper($1)").await.unwrap();
    assert_eq!(text.params(), &[Type::TEXT]);
}

/// Catalog relations with PostgreSQL 15's columns and types, and the set-returning helpers key queries use (psql
/// `\d+`/`\dn+`, pgjdbc getPrimaryKeys, SQLAlchemy get_indexes, Grafana/Metabase/Power BI over information_schema).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_shaped_catalog_relations() {
    let client = connect().await;
    // psql \d+ maps reloptions through ARRAY(SELECT … FROM unnest(…)); \dn+ joins nspacl.
    let options = rows(
        &client,
        "SELECT coalesce(array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(c.reloptions) x), ', '), ''), \
         array_to_string(n.nspacl, ',') IS NULL FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = 'sales'",
    )
    .await;
    assert_eq!(options, vec![vec!["", "t"]]);
    // Semantic views have no indexes or constraints, but the relations have PostgreSQL's array columns.
    let keys = rows(
        &client,
        "SELECT count(*) FROM pg_index i, pg_constraint c WHERE i.indkey[1] = c.conkey[1] AND i.indisprimary",
    )
    .await;
    assert_eq!(keys, vec![vec!["0"]]);
    let expanded = rows(
        &client,
        "SELECT (information_schema._pg_expandarray(ARRAY[5, 7])).x, (information_schema._pg_expandarray(ARRAY[5, 7])).n, \
         generate_subscripts(ARRAY['a', 'b'], 1) AS ord",
    )
    .await;
    assert_eq!(expanded, vec![vec!["5", "1", "1"], vec!["7", "2", "2"]]);
    let columns = rows(
        &client,
        "SELECT column_name, ordinal_position, data_type, udt_name FROM information_schema.columns \
         WHERE table_name = 'sales' AND column_name IN ('order_date', 'region', 'revenue', 'line_items') \
         ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        vec![
            vec!["order_date", "1", "date", "date"],
            vec!["region", "3", "text", "text"],
            vec!["revenue", "13", "numeric", "numeric"],
            vec!["line_items", "16", "bigint", "int8"],
        ]
    );
    let constraints = rows(
        &client,
        "SELECT count(*) FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kc ON tc.constraint_name = kc.constraint_name",
    )
    .await;
    assert_eq!(constraints, vec![vec!["0"]]);
}
