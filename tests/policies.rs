//! Access policies over a real gateway (the demo model's policies, real sockets): four worlds — full access (analyst),
//! EUROPE only (emea), ASIA only (asia), no matching group (nobody) — each checked against the raw tables restricted
//! by the same condition, and every way we could think of to read past a policy attacked on purpose: WHERE, OR 1=1,
//! subqueries, CTEs, joins between views, correlated subqueries, UNION, parameters, COPY, cursors, EXPLAIN, the
//! catalogs, the result cache, Flight SQL, ASK, template injection, raw tables and table functions.

mod common;

use std::sync::OnceLock;

use arrow_flight::sql::CommandGetTables;
use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{assert_same, message_rows, reference, reference_rows};
use futures::TryStreamExt;
use semgate::Config;
use tokio_postgres::{Client, NoTls};
use tonic::transport::Channel;

struct Gateway {
    pg: std::net::SocketAddr,
    flight: std::net::SocketAddr,
    /// The audit file this gateway appends to.
    audit: std::path::PathBuf,
}

/// The demo's users (analyst, emea, marketing) and a few more, each showing one rule.
fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let mut config = Config::demo(common::data_dir(), common::TEST_SCALE);
        config.users.add("asia", "asia", &["regional"]);
        config.users.set_attribute("asia", "region", &["ASIA"]);
        config.users.add("nobody", "nobody", &[]);
        // Regional without a region: the policy's condition fails, so no policy applies.
        config.users.add("noregion", "noregion", &["regional"]);
        // An attribute value written like SQL stays a value.
        config.users.add("injector", "injector", &["regional"]);
        config.users.set_attribute("injector", "region", &["x' OR '1'='1"]);
        // Two regions as a list attribute.
        config.users.add("americas", "americas", &["regional"]);
        config.users.set_attribute("americas", "region", &["AMERICA", "EUROPE"]);
        // Two groups: the union of what both grant.
        config.users.add("both", "both", &["regional", "marketing"]);
        config.users.set_attribute("both", "region", &["ASIA"]);
        // At most two sessions at once.
        config.users.add("limited", "limited", &["admin"]);
        config.users.set_max_connections("limited", 2);
        let audit = std::env::temp_dir().join(format!("semgate-audit-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&audit);
        config.audit = semgate::audit::AuditConfig {
            path: Some(audit.clone()),
            log: false,
            redact_literals: false,
        };
        let spawned = common::spawn_gateway(config);
        Gateway {
            pg: spawned.pg_addr,
            flight: spawned.flight_addr,
            audit,
        }
    })
}

async fn connect(user: &str) -> Client {
    let addr = gateway().pg;
    let url = format!("postgres://{user}:{user}@{}:{}/semgate", addr.ip(), addr.port());
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A Flight SQL client of the gateway, not signed in yet.
async fn flight_client() -> FlightSqlServiceClient<Channel> {
    let url = format!("http://{}", gateway().flight);
    FlightSqlServiceClient::new(Channel::from_shared(url).unwrap().connect().await.unwrap())
}

async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    common::rows(client, sql).await
}

/// The SQLSTATE a statement fails with over the simple protocol; the connection must stay usable.
async fn sqlstate(client: &Client, sql: &str) -> String {
    let error = client
        .simple_query(sql)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql} must fail"));
    assert_eq!(rows(client, "SELECT 1").await, vec![vec!["1"]], "usable after {sql}");
    error.code().map(|c| c.code().to_string()).unwrap_or_default()
}

/// Revenue, lines and orders per region from the raw tables, for the regions listed (all when empty).
async fn reference_by_region(regions: &[&str]) -> Vec<Vec<String>> {
    let filter = if regions.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = regions.iter().map(|r| format!("'{r}'")).collect();
        format!("WHERE r_name IN ({})", list.join(", "))
    };
    let ctx = reference().await;
    reference_rows(
        &ctx,
        &format!(
            "SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(*), COUNT(DISTINCT l_orderkey) \
             FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
             JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey {filter} \
             GROUP BY r_name ORDER BY r_name"
        ),
    )
    .await
}

const BY_REGION: &str = "SELECT region, MEASURE(revenue), MEASURE(line_items), MEASURE(order_count) FROM sales \
     GROUP BY region ORDER BY region";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_users_see_four_worlds_with_the_right_numbers() {
    let all = reference_by_region(&[]).await;
    assert_eq!(all.len(), 5);
    assert_same("analyst", &rows(&connect("analyst").await, BY_REGION).await, &all);
    let europe = reference_by_region(&["EUROPE"]).await;
    assert_same("emea", &rows(&connect("emea").await, BY_REGION).await, &europe);
    let asia = reference_by_region(&["ASIA"]).await;
    assert_same("asia", &rows(&connect("asia").await, BY_REGION).await, &asia);
    let two = reference_by_region(&["AMERICA", "EUROPE"]).await;
    assert_same(
        "list attribute",
        &rows(&connect("americas").await, BY_REGION).await,
        &two,
    );
    let nobody = connect("nobody").await;
    assert_eq!(sqlstate(&nobody, BY_REGION).await, "42501");
    assert_eq!(sqlstate(&nobody, "SELECT * FROM customers").await, "42501");
    // A failing condition (no region attribute) is no policy: the view does not exist for them.
    assert_eq!(sqlstate(&connect("noregion").await, BY_REGION).await, "42501");
}

/// What a restricted user gets for `sql` equals what a full-access user gets for the same question with the
/// policy's condition in its WHERE: the row filter holds at every grain, for every measure, in any SQL form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_filter_is_the_same_as_the_condition_in_the_where_clause() {
    let (emea, analyst) = (connect("emea").await, connect("analyst").await);
    let cases = [
        (
            "SELECT MEASURE(revenue), MEASURE(customer_count), MEASURE(order_count) FROM sales",
            "SELECT MEASURE(revenue), MEASURE(customer_count), MEASURE(order_count) FROM sales WHERE region = 'EUROPE'",
        ),
        (
            "SELECT nation, MEASURE(customer_count) FROM sales GROUP BY nation ORDER BY nation",
            "SELECT nation, MEASURE(customer_count) FROM sales WHERE region = 'EUROPE' GROUP BY nation ORDER BY nation",
        ),
        (
            "SELECT ship_mode, revenue FROM sales ORDER BY ship_mode",
            "SELECT ship_mode, revenue FROM sales WHERE region = 'EUROPE' ORDER BY ship_mode",
        ),
        (
            "SELECT COUNT(*) FROM sales",
            "SELECT COUNT(*) FROM sales WHERE region = 'EUROPE'",
        ),
        (
            "SELECT market_segment, SUM(revenue) FROM (SELECT * FROM sales) s GROUP BY 1 ORDER BY 1",
            "SELECT market_segment, SUM(revenue) FROM (SELECT * FROM sales WHERE region = 'EUROPE') s GROUP BY 1 ORDER BY 1",
        ),
        (
            "SELECT MEASURE(customer_count) FROM customers",
            "SELECT MEASURE(customer_count) FROM customers WHERE region = 'EUROPE'",
        ),
        (
            "SELECT MEASURE(avg_order_value) FROM sales",
            "SELECT MEASURE(avg_order_value) FROM sales WHERE region = 'EUROPE'",
        ),
    ];
    for (restricted, filtered) in cases {
        let expected = rows(&analyst, filtered).await;
        assert_same(restricted, &rows(&emea, restricted).await, &expected);
    }
}

/// Every SQL form we could think of that might read rows or members past the policy; each must give EUROPE's rows
/// only (or nothing), never another region's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sql_form_reads_past_the_row_filter() {
    let emea = connect("emea").await;
    let only_europe = |sql: &'static str| {
        let emea = &emea;
        async move {
            let got = rows(emea, sql).await;
            for row in &got {
                assert!(
                    row.iter()
                        .all(|cell| !["ASIA", "AMERICA", "AFRICA", "MIDDLE EAST"].contains(&cell.as_str())),
                    "{sql} read another region: {got:?}"
                );
            }
            got
        }
    };
    // A subquery over a view correlated with its outer query is not compiled yet (XX000 "reached execution without
    // being compiled"): an error, never another region's rows.
    for correlated in [
        "SELECT DISTINCT region FROM sales s1 WHERE EXISTS (SELECT 1 FROM sales s2 WHERE s2.region = s1.region)",
        "SELECT DISTINCT region FROM sales s1 WHERE region IN (SELECT region FROM sales s2 WHERE s2.nation = s1.nation)",
    ] {
        if let Ok(messages) = emea.simple_query(correlated).await {
            assert_eq!(message_rows(messages), vec![vec!["EUROPE"]], "{correlated}");
        }
    }
    for sql in [
        "SELECT region FROM sales WHERE region = 'ASIA'",
        "SELECT region, revenue FROM sales WHERE region = 'ASIA' OR 1 = 1",
        "SELECT region FROM (SELECT region, revenue FROM sales) s",
        "WITH s AS (SELECT region, revenue FROM sales) SELECT region FROM s",
        "SELECT s.region FROM sales s JOIN customers c ON s.region = c.region",
        "SELECT region FROM customers",
        "SELECT region FROM sales UNION ALL SELECT region FROM customers",
        "SELECT DISTINCT region FROM sales WHERE region IN (SELECT region FROM customers WHERE region <> 'EUROPE')",
        "SELECT (SELECT MAX(region) FROM sales) AS region",
    ] {
        only_europe(sql).await;
    }
    let all_filtered = rows(&emea, "SELECT COUNT(*) FROM sales WHERE region <> 'EUROPE'").await;
    assert_eq!(all_filtered, vec![vec!["0"]]);
    let asked_for_asia = rows(&emea, "SELECT MEASURE(revenue) FROM sales WHERE region = 'ASIA'").await;
    assert!(
        asked_for_asia.is_empty() || asked_for_asia == vec![vec!["NULL"]],
        "{asked_for_asia:?}"
    );

    // Extended protocol, with the other region as a parameter.
    let statement = emea
        .prepare("SELECT region, MEASURE(revenue) FROM sales WHERE region = $1 OR $2 GROUP BY region")
        .await
        .unwrap();
    let got = emea.query(&statement, &[&"ASIA", &true]).await.unwrap();
    let regions: Vec<String> = got.iter().map(|r| r.get(0)).collect();
    assert_eq!(regions, vec!["EUROPE"]);

    // COPY.
    let copied = emea
        .copy_out("COPY (SELECT region, MEASURE(revenue) FROM sales GROUP BY region) TO STDOUT")
        .await
        .unwrap();
    let bytes: Vec<u8> = copied.try_collect::<Vec<_>>().await.unwrap().concat().to_vec();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("EUROPE\t") && text.lines().count() == 1, "{text}");

    // A cursor.
    let fetched = message_rows(
        emea.simple_query(
            "BEGIN; DECLARE c CURSOR FOR SELECT region FROM sales GROUP BY region; FETCH ALL FROM c; COMMIT",
        )
        .await
        .unwrap(),
    );
    assert_eq!(fetched, vec![vec!["EUROPE"]]);

    // EXPLAIN shows the filter, not other rows.
    let plan = rows(&emea, "EXPLAIN SELECT MEASURE(revenue) FROM sales").await;
    let plan_text = format!("{plan:?}");
    assert!(plan_text.contains("EUROPE"), "{plan_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excluded_member_does_not_exist_and_a_masked_one_is_null() {
    let emea = connect("emea").await;
    assert_eq!(sqlstate(&emea, "SELECT MEASURE(gross_sales) FROM sales").await, "42703");
    assert_eq!(sqlstate(&emea, "SELECT gross_sales FROM sales").await, "42703");
    let columns = rows(
        &emea,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'sales' ORDER BY ordinal_position",
    )
    .await;
    let names: Vec<&str> = columns.iter().map(|r| r[0].as_str()).collect();
    assert!(
        names.contains(&"revenue") && !names.contains(&"gross_sales"),
        "{names:?}"
    );
    let attributes = rows(
        &emea,
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid WHERE c.relname = 'sales' \
         AND a.attnum > 0",
    )
    .await;
    assert!(!attributes.iter().any(|r| r[0] == "gross_sales"), "{attributes:?}");
    let star = emea.query("SELECT * FROM sales LIMIT 1", &[]).await.unwrap();
    assert!(star[0].columns().iter().all(|c| c.name() != "gross_sales"));

    // marketing: no finance members, nations masked, customers not there at all.
    let marketing = connect("marketing").await;
    assert_eq!(
        sqlstate(&marketing, "SELECT MEASURE(revenue) FROM sales").await,
        "42703"
    );
    // A derived metric over an excluded member is excluded too.
    assert_eq!(
        sqlstate(&marketing, "SELECT MEASURE(avg_order_value) FROM sales").await,
        "42703"
    );
    let nations = rows(&marketing, "SELECT DISTINCT nation FROM sales").await;
    assert_eq!(nations, vec![vec!["NULL"]]);
    let lines = rows(&marketing, "SELECT MEASURE(line_items) FROM sales").await;
    let ctx = reference().await;
    assert_same(
        "marketing lines",
        &lines,
        &reference_rows(&ctx, "SELECT COUNT(*) FROM lineitem").await,
    );
    assert_eq!(sqlstate(&marketing, "SELECT * FROM customers").await, "42501");

    // Two groups: the union of their members and rows (marketing grants every row).
    let both = connect("both").await;
    let regions = rows(
        &both,
        "SELECT region, MEASURE(revenue) FROM sales GROUP BY region ORDER BY region",
    )
    .await;
    assert_same(
        "two groups",
        &regions,
        &reference_by_region(&[])
            .await
            .into_iter()
            .map(|r| r[..2].to_vec())
            .collect::<Vec<_>>(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_view_is_in_no_catalog() {
    let nobody = connect("nobody").await;
    for sql in [
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        "SELECT relname FROM pg_class WHERE relname IN ('sales', 'customers')",
        "SELECT table_name FROM information_schema.columns WHERE table_name IN ('sales', 'customers')",
    ] {
        assert_eq!(rows(&nobody, sql).await, Vec::<Vec<String>>::new(), "{sql}");
    }
    let marketing = connect("marketing").await;
    let listed = rows(
        &marketing,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(listed, vec![vec!["sales"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribute_values_are_values_not_sql() {
    let injector = connect("injector").await;
    assert_eq!(rows(&injector, BY_REGION).await, Vec::<Vec<String>>::new());
    assert_eq!(rows(&injector, "SELECT COUNT(*) FROM sales").await, vec![vec!["0"]]);
}

/// A full-access user's cached answer never reaches a restricted user, and back; users of one policy context share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_stay_in_their_policy_context() {
    let sql = "SELECT region, MEASURE(quantity) FROM sales GROUP BY region ORDER BY region";
    let (analyst, emea, asia) = (connect("analyst").await, connect("emea").await, connect("asia").await);
    for _ in 0..2 {
        assert_eq!(rows(&analyst, sql).await.len(), 5);
        assert_eq!(
            rows(&emea, sql).await.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            vec!["EUROPE"]
        );
        assert_eq!(
            rows(&asia, sql).await.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            vec!["ASIA"]
        );
    }
    // Prepared (extended protocol) too.
    assert_eq!(analyst.query(sql, &[]).await.unwrap().len(), 5);
    assert_eq!(emea.query(sql, &[]).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_tables_and_files_are_not_reachable() {
    let analyst = connect("analyst").await;
    for sql in [
        "SELECT * FROM lineitem",
        "SELECT * FROM tpch.lineitem",
        "SELECT * FROM datafusion.tpch.lineitem",
        "SELECT * FROM semgate.tpch.lineitem",
    ] {
        assert_eq!(sqlstate(&analyst, sql).await, "42P01", "{sql}");
    }
    let path = common::demo_dir().join("lineitem.parquet");
    for sql in [
        format!("SELECT * FROM read_parquet('{}')", path.display()),
        format!("SELECT * FROM '{}'", path.display()),
        format!(
            "CREATE EXTERNAL TABLE raw STORED AS PARQUET LOCATION '{}'",
            path.display()
        ),
    ] {
        let state = sqlstate(&analyst, &sql).await;
        assert!(
            ["42P01", "42883", "25006", "0A000"].contains(&state.as_str()),
            "{sql}: {state}"
        );
    }
    let schemas = rows(
        &analyst,
        "SELECT DISTINCT table_schema FROM information_schema.tables ORDER BY 1",
    )
    .await;
    assert!(!schemas.iter().any(|r| r[0] == "tpch"), "{schemas:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_serves_the_same_worlds() {
    let mut client = flight_client().await;
    client.handshake("emea", "emea").await.unwrap();
    let info = client.execute(BY_REGION.into(), None).await.unwrap();
    let batches = common::flight_batches(&mut client, info).await;
    assert_same(
        "flight emea",
        &common::batch_rows(&batches),
        &reference_by_region(&["EUROPE"]).await,
    );
    let denied = client
        .execute("SELECT MEASURE(gross_sales) FROM sales".into(), None)
        .await;
    assert!(denied.is_err());

    let mut nobody = flight_client().await;
    nobody.handshake("nobody", "nobody").await.unwrap();
    let error = nobody.execute("SELECT * FROM sales".into(), None).await.unwrap_err();
    assert!(error.to_string().contains("permission denied"), "{error}");

    // GetTables lists what each may read, with the columns they may read.
    for (user, expected) in [
        ("nobody", vec![]),
        ("marketing", vec!["sales"]),
        ("emea", vec!["customers", "sales"]),
    ] {
        let mut client = flight_client().await;
        client.handshake(user, user).await.unwrap();
        let info = client
            .get_tables(CommandGetTables {
                include_schema: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let tables = common::flight_batches(&mut client, info).await;
        let rows = common::batch_rows(&tables);
        let names: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
        assert_eq!(names, expected, "{user}");
        if user == "emea" {
            let column = tables[0].column_by_name("table_schema").unwrap();
            let binary = column
                .as_any()
                .downcast_ref::<datafusion::arrow::array::BinaryArray>()
                .unwrap();
            let schema = datafusion::arrow::ipc::convert::try_schema_from_ipc_buffer(binary.value(1)).unwrap();
            assert!(schema.field_with_name("revenue").is_ok() && schema.field_with_name("gross_sales").is_err());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_within_the_policy() {
    let emea = connect("emea").await;
    let answered = rows(&emea, "ASK revenue by region").await;
    assert_eq!(
        answered.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec!["EUROPE"]
    );
    // A member they cannot read is not in ASK's vocabulary: never part of a reading.
    if let Ok(messages) = emea.simple_query("EXPLAIN ASK gross sales by region").await {
        let reading = format!("{:?}", message_rows(messages));
        assert!(!reading.contains("gross_sales"), "{reading}");
    }
    // Values they cannot see are not in the value index: ASIA is unknown to them.
    match emea.simple_query("ASK revenue in ASIA").await {
        Err(_) => {}
        Ok(messages) => {
            let got = message_rows(messages);
            assert!(got.iter().all(|r| !r.contains(&"ASIA".to_string())), "{got:?}");
        }
    }
    let explained = rows(&emea, "EXPLAIN ASK revenue by nation").await;
    assert!(!format!("{explained:?}").contains("JAPAN"), "{explained:?}");
}

/// The audit lines written so far that satisfy `wanted`, waiting until one does: a line is written when its
/// statement's rows are dropped, which may be just after the client has them. The wait only detects a hang.
async fn audit_line(wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&gateway().audit).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
            .collect();
        if let Some(found) = lines.into_iter().find(|line| wanted(line)) {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "no such audit line in:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_and_failed_login_leaves_an_audit_line() {
    let emea = connect("emea").await;
    let marker = "SELECT region, MEASURE(revenue) AS audited FROM sales GROUP BY region";
    assert_eq!(rows(&emea, marker).await.len(), 1);
    let line = audit_line(|l| l["statement"] == marker).await;
    assert_eq!(line["user"], "emea");
    assert_eq!(line["groups"], serde_json::json!(["regional"]));
    assert_eq!(line["protocol"], "pg");
    assert_eq!(line["tls"], false);
    assert_eq!(line["kind"], "query");
    assert_eq!(line["rows"], 1);
    assert_eq!(line["sqlstate"], "00000");
    assert_eq!(line["cache"], "miss");
    assert!(line["client_addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(line["bytes"].as_u64().unwrap() > 0);
    assert!(line["session"].as_str().unwrap().len() == 16);
    let views = &line["views"][0];
    assert_eq!(views["view"], "sales");
    let members: Vec<&str> = views["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        members.contains(&"region") && members.contains(&"revenue"),
        "{members:?}"
    );
    assert!(line["row_filters"][0].as_str().unwrap().contains("EUROPE"), "{line}");

    // The same text again: from the cache, still with the views it read.
    rows(&emea, marker).await;
    let hit = audit_line(|l| l["statement"] == marker && l["cache"] == "hit").await;
    assert_eq!(hit["views"][0]["view"], "sales");

    // An error, with its SQLSTATE.
    let failing = "SELECT MEASURE(gross_sales) AS audited_error FROM sales";
    assert_eq!(sqlstate(&emea, failing).await, "42703");
    let failed = audit_line(|l| l["statement"] == failing).await;
    assert_eq!(failed["sqlstate"], "42703");
    assert!(failed["error"].as_str().unwrap().contains("gross_sales"));

    // Parameters, COPY, a command, a catalog query, ASK.
    let statement = "SELECT MEASURE(quantity) AS audited_param FROM sales WHERE nation = $1";
    emea.query(statement, &[&"FRANCE"]).await.unwrap();
    let bound = audit_line(|l| l["statement"] == statement).await;
    assert_eq!(bound["parameters"], serde_json::json!(["FRANCE"]));
    let copy = "COPY (SELECT nation AS audited_copy FROM sales GROUP BY nation) TO STDOUT";
    let _ = emea
        .copy_out(copy)
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(audit_line(|l| l["statement"] == copy).await["kind"], "copy");
    rows(&emea, "SET application_name = 'audited'").await;
    assert_eq!(
        audit_line(|l| l["statement"] == "SET application_name = 'audited'").await["kind"],
        "command"
    );
    let catalog = "SELECT relname AS audited_catalog FROM pg_class LIMIT 1";
    rows(&emea, catalog).await;
    assert_eq!(audit_line(|l| l["statement"] == catalog).await["kind"], "catalog");
    rows(&emea, "ASK revenue by nation").await;
    let asked = audit_line(|l| l["statement"] == "ASK revenue by nation").await;
    assert_eq!(asked["kind"], "ask");
    assert_eq!(asked["ask"]["question"], "revenue by nation");
    assert!(
        asked["ask"]["sql"].as_str().unwrap().contains("MEASURE(revenue)"),
        "{asked}"
    );

    // Flight SQL statements too.
    let mut flight = flight_client().await;
    flight.handshake("emea", "emea").await.unwrap();
    let over_flight = "SELECT MEASURE(order_count) AS audited_flight FROM sales";
    let info = flight.execute(over_flight.into(), None).await.unwrap();
    common::flight_batches(&mut flight, info).await;
    let line = audit_line(|l| l["statement"] == over_flight).await;
    assert_eq!(
        (line["protocol"].as_str(), line["rows"].as_u64()),
        (Some("flight"), Some(1))
    );

    // Failed logins, on both wires.
    let addr = gateway().pg;
    let wrong = format!("postgres://emea:wrong@{}:{}/semgate", addr.ip(), addr.port());
    assert!(tokio_postgres::connect(&wrong, NoTls).await.is_err());
    let login = audit_line(|l| l["event"] == "login_failed" && l["protocol"] == "pg").await;
    assert_eq!(
        (login["user"].as_str(), login["sqlstate"].as_str()),
        (Some("emea"), Some("28P01"))
    );
    assert!(flight_client().await.handshake("emea", "wrong").await.is_err());
    audit_line(|l| l["event"] == "login_failed" && l["protocol"] == "flight").await;
}

/// A Flight client that goes away mid-query stops it: the DoGet's messages are made by a task of their own, which
/// must end with the call even while the query computes. The query reads no view (so no cache fills it first) and
/// never finishes; its audit line is written when its rows are dropped, so it appears only if the query was stopped
/// (the wait in `audit_line` only detects a hang).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flight_client_that_goes_away_stops_its_query() {
    let never_finishing = "SELECT COUNT(*) AS abandoned FROM generate_series(1, 100000) AS a(x), \
                           generate_series(1, 1000000000000) AS b(y) WHERE x + y = 0";
    let mut flight = flight_client().await;
    flight.handshake("analyst", "analyst").await.unwrap();
    let info = flight.execute(never_finishing.into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let rows = flight.do_get(ticket).await.unwrap();
    drop(rows);
    drop(flight);
    let line = audit_line(|l| l["statement"] == never_finishing).await;
    assert_eq!(
        (line["protocol"].as_str(), line["rows"].as_u64()),
        (Some("flight"), Some(0))
    );
}

/// A reload of users and policies reaches open sessions at their next statement (prepared statements too), ends
/// the sessions of a removed user, and refuses their next login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_narrows_open_sessions_and_ends_removed_users() {
    let dir = tempfile::tempdir().unwrap();
    let shop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for file in ["model.yml", "data/orders.csv", "data/customers.csv"] {
        std::fs::copy(shop.join(file), dir.path().join(file)).unwrap();
    }
    let model = std::fs::read_to_string(shop.join("model.yml")).unwrap();
    let policed = model.replacen(
        "      - name: average_order\n        sql: amount / NULLIF(order_count, 0)\n",
        "      - name: average_order\n        sql: amount / NULLIF(order_count, 0)\n    access_policy:\n      \
         - group: admin\n      - group: country\n        row_level:\n          filters:\n            \
         - member: country\n              operator: equals\n              values: [\"{ userAttributes.country }\"]\n",
        1,
    );
    assert_ne!(policed, model);
    std::fs::write(dir.path().join("model.yml"), policed).unwrap();
    let config_file = |fr_country: &str, with_gone: bool| {
        let gone = if with_gone {
            "  - {name: gone, password: gone, groups: [admin]}\n"
        } else {
            ""
        };
        format!(
            "database: shop\ndata_dir: data\nsemantic: [model.yml]\nusers:\n  \
             - {{name: owner, password: owner, groups: [admin], statement_timeout: 1s}}\n  \
             - {{name: fr, password: fr, groups: [country], attributes: {{country: {fr_country}}}}}\n{gone}"
        )
    };
    let path = dir.path().join("semgate.yml");
    std::fs::write(&path, config_file("FR", true)).unwrap();
    let gateway = common::spawn_gateway(semgate::Config::from_file(&path).unwrap());
    let open = |user: &'static str| {
        let url = format!("postgres://{user}:{user}@127.0.0.1:{}/shop", gateway.pg_addr.port());
        async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        }
    };
    // A user's own statement_timeout is their sessions' default, and what RESET returns to.
    let owner = open("owner").await.unwrap();
    assert_eq!(rows(&owner, "SHOW statement_timeout").await, vec![vec!["1s"]]);
    rows(&owner, "SET statement_timeout = 0").await;
    rows(&owner, "RESET statement_timeout").await;
    assert_eq!(rows(&owner, "SHOW statement_timeout").await, vec![vec!["1s"]]);
    let timed_out = owner
        .simple_query("SELECT COUNT(*) FROM generate_series(1, 1000000000000)")
        .await
        .unwrap_err();
    assert_eq!(timed_out.code().map(|c| c.code()), Some("57014"), "{timed_out}");

    let fr = open("fr").await.unwrap();
    let gone = open("gone").await.unwrap();
    let count = "SELECT MEASURE(order_count) FROM shop_orders";
    assert_eq!(rows(&fr, count).await, vec![vec!["3"]], "orders 1, 2 and 4 are French");
    let prepared = fr
        .prepare("SELECT country, MEASURE(amount) FROM shop_orders GROUP BY country")
        .await
        .unwrap();
    let amounts =
        |rows: Vec<tokio_postgres::Row>| -> Vec<String> { rows.iter().map(|r| r.get::<_, String>(0)).collect() };
    assert_eq!(amounts(fr.query(&prepared, &[]).await.unwrap()), vec!["FR"]);
    assert_eq!(rows(&gone, "SELECT 1").await, vec![vec!["1"]]);

    // fr now reads Germany's rows, and gone is removed.
    std::fs::write(&path, config_file("DE", false)).unwrap();
    gateway.reloader.reload().await.expect("the new configuration loads");
    assert_eq!(
        rows(&fr, count).await,
        vec![vec!["1"]],
        "the open session reads the narrowed rows"
    );
    assert_eq!(
        amounts(fr.query(&prepared, &[]).await.unwrap()),
        vec!["DE"],
        "the prepared statement too"
    );
    let ended = gone.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(ended.code().map(|c| c.code()), Some("57P01"), "{ended}");
    assert!(open("gone").await.is_err(), "a removed user cannot log in");
}

/// A user's max_connections: one more session is refused with 53300 at login; closing one makes room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_beyond_their_connection_limit_is_refused() {
    let addr = gateway().pg;
    let url = format!("postgres://limited:limited@{}:{}/semgate", addr.ip(), addr.port());
    // The refusal is a FATAL error right after the login (as PostgreSQL sends it after authentication); the
    // connection task ends with it.
    let open = || async {
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
        let task = tokio::spawn(connection);
        match client.simple_query("SELECT 1").await {
            Ok(_) => Ok((client, task)),
            // The FATAL reaches either the query or, when the query was not sent yet, the connection task.
            Err(query_error) => {
                let task_error = task.await.ok().and_then(Result::err);
                Err(match task_error {
                    Some(task_error) if query_error.code().is_none() => task_error,
                    _ => query_error,
                })
            }
        }
    };
    let first = open().await.unwrap();
    let _second = open().await.unwrap();
    let Err(refused) = open().await else {
        panic!("a third session is refused")
    };
    assert_eq!(refused.code().map(|c| c.code()), Some("53300"), "{refused}");
    drop(first.0);
    let _ = first.1.await;
    // The server frees the place when it sees the connection close; wait for that (a hang detector, not a timing).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match open().await {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(e.code().map(|c| c.code()), Some("53300"), "{e}");
                assert!(
                    std::time::Instant::now() < deadline,
                    "the closed session's place was never freed"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
}
