//! Federation over real databases: `examples/federated/setup.sh` splits the demo's tables across a throwaway
//! PostgreSQL (customer, nation, region), MariaDB (part, supplier), a SQLite file (orders) and Parquet (lineitem).
//! The federated gateway must answer like the embedded demo; pushdown is read from the databases' own statement logs;
//! a stopped database fails only the queries that need it (SQLSTATE class 08, naming the source) and serves again
//! once it is back, without a restart.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::example::ExampleServers;
use semgate::Config;
use tokio_postgres::Client;

/// Semantic queries over every source and every join between them, checked against the embedded demo.
const QUERIES: &[&str] = &[
    // lineitem (Parquet) → orders (SQLite) → customer, nation, region (PostgreSQL)
    "SELECT region, revenue, order_count FROM sales ORDER BY region",
    "SELECT nation, SUM(revenue) AS revenue, MEASURE(customer_count) AS customers FROM sales \
     WHERE region = 'EUROPE' GROUP BY nation ORDER BY nation",
    // part (MariaDB)
    "SELECT brand, quantity, line_items FROM sales WHERE brand IN ('Brand#12', 'Brand#45') ORDER BY brand",
    "SELECT part_type, avg_discount FROM sales ORDER BY avg_discount DESC, part_type LIMIT 5",
    // dates in SQLite
    "SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, order_count, avg_order_value FROM sales \
     WHERE order_date >= DATE '1996-01-01' AND order_date < DATE '1997-01-01' ORDER BY month",
    "SELECT order_status, order_priority, gross_sales FROM sales WHERE order_date < DATE '1993-06-01' \
     ORDER BY order_status, order_priority",
    // Parquet alone
    "SELECT ship_mode, return_flag, revenue, returned_revenue FROM sales ORDER BY ship_mode, return_flag",
    // PostgreSQL alone
    "SELECT region, nation, customer_count, total_account_balance FROM customers ORDER BY region, nation",
    "SELECT market_segment, avg_account_balance FROM customers WHERE nation LIKE 'A%' ORDER BY market_segment",
    // BI-style wrapping
    "SELECT t.region, SUM(t.revenue) FROM (SELECT region, market_segment, revenue FROM sales) t \
     GROUP BY t.region HAVING SUM(t.revenue) > 0 ORDER BY 1",
    "SELECT COUNT(*) FROM (SELECT DISTINCT nation FROM customers) n",
];

/// The databases of examples/federated, set up by its own script; stopped when dropped.
struct Databases {
    servers: ExampleServers,
    pg_port: u16,
    mysql_port: u16,
}

impl Databases {
    fn setup() -> Self {
        let (pg_port, mysql_port) = (common::free_port(), common::free_port());
        let env = vec![
            ("FEDERATED_PG_PORT", pg_port.to_string()),
            ("FEDERATED_MYSQL_PORT", mysql_port.to_string()),
            ("FEDERATED_SCALE", common::TEST_SCALE.to_string()),
        ];
        Self {
            servers: ExampleServers::setup("federated", env),
            pg_port,
            mysql_port,
        }
    }

    /// Stop or start only PostgreSQL, as the script does it.
    fn postgres(&self, action: &str) {
        self.servers.script(&["--postgres", action]);
    }

    fn postgres_log(&self) -> String {
        self.servers.read("postgres.log")
    }

    fn mariadb_log(&self) -> String {
        self.servers.read("mariadb-queries.log")
    }
}

/// Wait until `sql` answers `expected` again on `client` after a database came back; `bound` only detects a gateway
/// that never recovers.
async fn answers_again(client: &Client, sql: &str, expected: &[Vec<String>], bound: Duration) {
    let deadline = Instant::now() + bound;
    loop {
        match client.simple_query(sql).await {
            Ok(messages) => return common::assert_same(sql, &common::message_rows(messages), expected),
            Err(e) if Instant::now() < deadline => {
                eprintln!("not answered yet: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("the database is back but {sql} is not answered: {e}"),
        }
    }
}

/// The SQL statements a database logged after `before` (its log's length then).
fn logged_since(log: &str, before: usize) -> &str {
    log.get(before..).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)] // Setting the environment the example's model reads; see the SAFETY note.
async fn federated_sources_answer_like_the_demo_push_work_down_and_survive_outages() {
    let demo = common::connect().await;
    let databases = Databases::setup();
    // SAFETY: set before the gateway reads its model, while no other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("FEDERATED_PG_PORT", databases.pg_port.to_string());
        std::env::set_var("FEDERATED_MYSQL_PORT", databases.mysql_port.to_string());
    }
    let mut config =
        Config::from_file(&common::repo().join("examples/federated/semgate.yml")).expect("example config loads");
    config.data_dir = databases.servers.state.clone();
    config.admin_addr = Some("127.0.0.1:0".parse().unwrap());
    let gateway = common::spawn_gateway(config);
    let (addr, admin) = (gateway.pg_addr, gateway.admin_addr.expect("an admin port"));
    assert_eq!(common::http_get(admin, "/readyz").await, (200, "ready\n".to_string()));
    let client = common::connect_to(addr).await;
    // Every query reaches the sources (the cache would answer repeats from memory).
    client.simple_query("SET semgate.cache = off").await.unwrap();

    // 1. Same answers as the embedded demo over Parquet.
    for sql in QUERIES {
        let expected = common::rows(&demo, sql).await;
        let actual = common::rows(&client, sql).await;
        assert!(!expected.is_empty(), "{sql}: the demo returned no rows");
        common::assert_same(sql, &actual, &expected);
    }

    // 1b. The same on a cluster: the line items' scans go to two workers, the database scans stay on the coordinator
    //     (they cannot ship), and the plan is distributed around them.
    let config_file = common::repo().join("examples/federated/semgate.yml");
    let config_arg = config_file.to_string_lossy().into_owned();
    let workers = [0, 1].map(|_| {
        common::cluster::WorkerProcess::start_with("federated", &["--config", &config_arg], &databases.servers.state)
    });
    let mut config = Config::from_file(&config_file).unwrap();
    config.data_dir = databases.servers.state.clone();
    config.distributed = Some(semgate::config::DistributedConfig {
        workers: workers.iter().map(|w| w.url.clone()).collect(),
        min_bytes_for_distribution: 0,
        bytes_per_partition: 1,
        secret: "federated".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        advertise: None,
    });
    let cluster = common::connect_to(common::spawn_gateway(config).pg_addr).await;
    cluster
        .simple_query("SET semgate.cache = off; SET semgate.distributed = on")
        .await
        .unwrap();
    for sql in QUERIES {
        let expected = common::rows(&demo, sql).await;
        common::assert_same(
            &format!("{sql} (distributed)"),
            &common::rows(&cluster, sql).await,
            &expected,
        );
    }
    let mixed = "SELECT region, revenue FROM sales ORDER BY region";
    let plan = format!("{:?}", common::rows(&cluster, &format!("EXPLAIN {mixed}")).await);
    assert!(plan.contains("DistributedExec") && plan.contains("name=crm"), "{plan}");
    drop(workers);

    // 2. Pushdown, as PostgreSQL itself logged it: a view wholly in PostgreSQL runs there, filter and grouping included.
    let before = databases.postgres_log().len();
    let sql = "SELECT nation, customer_count FROM customers WHERE region = 'EUROPE' ORDER BY nation";
    let rows = common::rows(&client, sql).await;
    assert_eq!(rows.len(), 5, "{rows:?}");
    let log = databases.postgres_log();
    let statement = logged_since(&log, before)
        .lines()
        .find(|line| (line.contains("statement:") || line.contains("execute")) && line.contains("EUROPE"))
        .unwrap_or_else(|| panic!("PostgreSQL never saw the filter:\n{}", logged_since(&log, before)))
        .to_string();
    assert!(statement.contains("WHERE"), "{statement}");
    assert!(statement.contains("GROUP BY"), "{statement}");
    assert!(statement.contains("count("), "{statement}");
    // A filter over a join across sources still reaches the database that can apply it.
    let before = databases.mariadb_log().len();
    let sql = "SELECT brand, revenue FROM sales WHERE brand = 'Brand#23'";
    common::rows(&client, sql).await;
    let log = databases.mariadb_log();
    assert!(
        logged_since(&log, before).contains("Brand#23"),
        "MariaDB never saw the brand filter:\n{}",
        logged_since(&log, before)
    );
    // EXPLAIN names the source and the SQL it gets.
    let explain = common::rows(&client, &format!("EXPLAIN {sql}")).await;
    let text = format!("{explain:?}");
    assert!(text.contains("name=procurement"), "{text}");
    assert!(text.contains("Brand#23"), "{text}");

    // 3. PostgreSQL goes down: queries that need it fail clearly, the others keep working.
    databases.postgres("stop");
    let started = Instant::now();
    let error = client
        .simple_query("SELECT market_segment, customer_count FROM customers")
        .await
        .expect_err("customers live in the stopped PostgreSQL");
    let db = error.as_db_error().expect("a server error");
    assert!(db.code().code().starts_with("08"), "{db:?}");
    assert!(db.message().contains("`crm`"), "{}", db.message());
    // Told apart from the pool's 30 s checkout wait, with room for a loaded machine: the source's 2 s
    // connect_timeout is what ends it.
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}",
        started.elapsed()
    );
    let parquet_only = common::rows(&client, "SELECT ship_mode, revenue FROM sales ORDER BY ship_mode").await;
    assert_eq!(parquet_only.len(), 7);
    let mariadb_only = common::rows(&client, "SELECT brand FROM sales GROUP BY brand").await;
    assert_eq!(mariadb_only.len(), 25);
    // Readiness says which source is down (the process itself is healthy).
    let (status, body) = common::http_get(admin, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("source crm") && !body.contains("procurement"), "{body}");
    assert_eq!(common::http_get(admin, "/healthz").await.0, 200);

    // 4. It comes back: the same connection works again, no restart.
    databases.postgres("start");
    let sql = "SELECT market_segment, customer_count FROM customers ORDER BY market_segment";
    let expected = common::rows(&demo, sql).await;
    answers_again(&client, sql, &expected, Duration::from_secs(20)).await;
    // Ready again once a round trip succeeds (the pool may first hand out a connection the restart broke).
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::http_get(admin, "/readyz").await.0 != 200 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            common::http_get(admin, "/readyz").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 5. A gateway started while PostgreSQL is down serves what does not need it, says what waits, and serves that
    //    too once PostgreSQL is back, on the same connection.
    databases.postgres("stop");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shipping.yml"),
        "views:\n  - name: shipping\n    model: lineitem\n    dimensions:\n      - member: ship_mode\n    measures:\n      \
         - member: line_items\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("semgate.yml"),
        format!(
            "semantic: [{}, {}, shipping.yml]\nusers:\n  - name: analyst\n    password: analyst\n    groups: [admin]\n",
            common::repo().join("examples/federated/sources.yml").display(),
            common::repo().join("semantic/tpch.yml").display()
        ),
    )
    .unwrap();
    let mut config = Config::from_file(&dir.path().join("semgate.yml")).unwrap();
    config.data_dir = databases.servers.state.clone();
    let started_while_down = common::connect_to(common::spawn_gateway(config).pg_addr).await;
    let sql = "SELECT ship_mode, line_items FROM shipping ORDER BY ship_mode";
    let expected = common::reference_rows(
        &common::reference().await,
        "SELECT l_shipmode, COUNT(*) FROM lineitem GROUP BY l_shipmode ORDER BY l_shipmode",
    )
    .await;
    common::assert_same(sql, &common::rows(&started_while_down, sql).await, &expected);
    let sql = "SELECT market_segment, customer_count FROM customers ORDER BY market_segment";
    let error = started_while_down
        .simple_query(sql)
        .await
        .expect_err("customers wait for PostgreSQL");
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "08001", "{db:?}");
    assert!(db.message().contains("source `crm`"), "{}", db.message());
    databases.postgres("start");
    let expected = common::rows(&demo, sql).await;
    // Retried in the background with a growing pause.
    answers_again(&started_while_down, sql, &expected, Duration::from_secs(90)).await;

    // 6. Credentials the database refuses are reported as such, at the source's line.
    let model = format!(
        "sources:\n  - name: warehouse\n    kind: postgres\n    host: 127.0.0.1\n    port: {}\n    database: tpch\n    user: nobody\n    tls: disable\n    tables:\n      t: customer\n",
        databases.pg_port
    );
    std::fs::write(dir.path().join("model.yml"), model).unwrap();
    let stdout = check(dir.path());
    assert!(stdout.contains("model.yml:2:"), "{stdout}");
    assert!(
        stdout.contains("source `warehouse` refused semgate's credentials"),
        "{stdout}"
    );
    drop(databases);
}

/// `semgate check` on the model in `dir`; what it printed.
fn check(dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_semgate"))
        .args(["check", "--config"])
        .arg(write_config(dir))
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_database_source_that_cannot_connect_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    std::fs::write(
        dir.path().join("model.yml"),
        format!(
            "sources:\n  - name: warehouse\n    kind: postgres\n    host: 127.0.0.1\n    port: {port}\n    database: x\n    user: x\n    connect_timeout_secs: 1\n    tables:\n      t: t\n"
        ),
    )
    .unwrap();
    let stdout = check(dir.path());
    assert!(stdout.contains("model.yml:2:"), "{stdout}");
    assert!(stdout.contains("source `warehouse`"), "{stdout}");
    assert!(stdout.contains("unreachable"), "{stdout}");
}

fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("semgate.yml");
    std::fs::write(&path, "semantic: [model.yml]\n").unwrap();
    path
}
