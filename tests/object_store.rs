//! File sources in object storage: `examples/object_store/setup.sh` puts the demo's Parquet files in a bucket on a
//! real S3 server on this machine (moto, from PyPI), once as files and once split Hive-style by ship year. The
//! gateway reading the bucket must answer like the embedded demo over local files; a filter on the partition column
//! must read only its directory (EXPLAIN's file list and the server's request log); a bucket that is not there is
//! reported by `semgate check`, naming the table.

mod common;

use std::process::Command;

use common::example::ExampleServers;
use semgate::Config;

/// Semantic queries over every table of the demo, checked against the embedded demo.
const QUERIES: &[&str] = &[
    "SELECT region, revenue, order_count FROM sales ORDER BY region",
    "SELECT nation, SUM(revenue) AS revenue, MEASURE(customer_count) AS customers FROM sales \
     GROUP BY nation ORDER BY nation",
    "SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, order_count, avg_order_value FROM sales \
     WHERE order_date >= DATE '1996-01-01' AND order_date < DATE '1997-01-01' ORDER BY month",
    "SELECT ship_mode, return_flag, revenue, returned_revenue FROM sales ORDER BY ship_mode, return_flag",
    "SELECT region, nation, customer_count, total_account_balance FROM customers ORDER BY region, nation",
    "SELECT t.region, SUM(t.revenue) FROM (SELECT region, market_segment, revenue FROM sales) t \
     GROUP BY t.region ORDER BY 1",
];

/// Line items shipped in 1996, from the partitioned copy through the semantic layer.
const ONE_YEAR: &str = "SELECT ship_year, MEASURE(lines), MEASURE(quantity) FROM shipments WHERE ship_year = '1996' \
     GROUP BY ship_year";

/// The S3 server of examples/object_store with the demo's files uploaded; stopped when dropped.
struct S3Server {
    servers: ExampleServers,
    port: u16,
}

impl S3Server {
    fn setup() -> Self {
        let port = common::free_port();
        let env = vec![
            ("OBJECT_STORE_PORT", port.to_string()),
            ("OBJECT_STORE_SCALE", common::TEST_SCALE.to_string()),
        ];
        Self {
            servers: ExampleServers::setup("object_store", env),
            port,
        }
    }

    fn log(&self) -> String {
        self.servers.read("s3.log")
    }
}

/// The objects the server was asked for (GET) in `log`, their keys decoded (`ship_year%3D1996` is `ship_year=1996`).
/// The server colours some lines, so the method is found inside the quoted request, not right after the quote.
fn objects_read(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split_once("GET /semgate-demo/")?.1.split_once(' '))
        .map(|(object, _)| object.replace("%3D", "=").replace("%3d", "="))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)] // Setting the environment the example's model reads; see the SAFETY note.
async fn demo_in_a_bucket_answers_like_local_files_and_reads_only_the_partitions_it_needs() {
    let demo = common::connect().await;
    let server = S3Server::setup();
    // SAFETY: set before the gateway reads its model, while no other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("OBJECT_STORE_PORT", server.port.to_string());
        std::env::set_var("OBJECT_STORE_KEY_ID", "semgate");
        std::env::set_var("OBJECT_STORE_SECRET", "semgate");
    }
    let config =
        Config::from_file(&common::repo().join("examples/object_store/semgate.yml")).expect("example config loads");
    let gateway = common::spawn_gateway(config);
    let client = common::connect_to(gateway.pg_addr).await;
    // Every query reads the bucket (the cache would answer repeats from memory).
    client.simple_query("SET semgate.cache = off").await.unwrap();

    // 1. Same answers as the embedded demo over local files.
    for sql in QUERIES {
        let expected = common::rows(&demo, sql).await;
        let actual = common::rows(&client, sql).await;
        assert!(!expected.is_empty(), "{sql}: the demo returned no rows");
        common::assert_same(sql, &actual, &expected);
    }

    // 2. A filter on the partition column reads one directory, with the right numbers.
    let reference = common::reference().await;
    let expected = common::reference_rows(
        &reference,
        "SELECT '1996', COUNT(*), SUM(l_quantity) FROM lineitem WHERE EXTRACT(YEAR FROM l_shipdate) = 1996",
    )
    .await;
    let before = server.log().len();
    let actual = common::rows(&client, ONE_YEAR).await;
    common::assert_same(ONE_YEAR, &actual, &expected);
    let log = server.log();
    let read = objects_read(log.get(before..).unwrap_or_default());
    let partitions: Vec<_> = read.iter().filter(|o| o.contains("lineitem_by_year/")).collect();
    assert!(!partitions.is_empty(), "the query read no partition: {read:?}");
    assert!(
        partitions.iter().all(|o| o.contains("ship_year=1996/")),
        "a filter on ship_year read other years: {partitions:?}"
    );
    let explain = format!("{:?}", common::rows(&client, &format!("EXPLAIN {ONE_YEAR}")).await);
    assert!(explain.contains("ship_year=1996/"), "{explain}");
    assert!(
        !explain.contains("ship_year=1995/"),
        "EXPLAIN lists other years' files: {explain}"
    );
    // Without the filter every year is read.
    let all_years = format!(
        "{:?}",
        common::rows(&client, "EXPLAIN SELECT MEASURE(quantity) FROM shipments").await
    );
    assert!(
        all_years.contains("ship_year=1995/") && all_years.contains("ship_year=1996/"),
        "{all_years}"
    );

    // 3. A bucket that is not there fails `semgate check`, naming the table and the bucket.
    let dir = tempfile::tempdir().unwrap();
    let sources = std::fs::read_to_string(common::repo().join("examples/object_store/sources.yml"))
        .unwrap()
        .replace("s3://semgate-demo/", "s3://no-such-bucket/");
    std::fs::write(dir.path().join("sources.yml"), sources).unwrap();
    std::fs::write(
        dir.path().join("semgate.yml"),
        format!(
            "semantic: [sources.yml, {}]\nusers: [{{name: analyst, password: analyst}}]\n",
            common::repo().join("semantic/tpch.yml").display()
        ),
    )
    .unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_semgate"))
        .args(["check", "--config"])
        .arg(dir.path().join("semgate.yml"))
        .env("OBJECT_STORE_PORT", server.port.to_string())
        .env("OBJECT_STORE_KEY_ID", "semgate")
        .env("OBJECT_STORE_SECRET", "semgate")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stderr).into_owned() + &String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "check passed over a missing bucket:\n{report}");
    assert!(
        report.contains("table `orders`") && report.contains("no-such-bucket"),
        "{report}"
    );
}
