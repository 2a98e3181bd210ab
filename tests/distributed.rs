//! Distributed execution: two `semgate worker` processes on port 0 and a coordinator whose scans are cut into
//! partitions of one byte, so that even the small test demo is spread over both workers. Every query of the semantic
//! SQL suite must give the raw tables' answer (as the single-process engine does); EXPLAIN must show the network
//! stages; what cannot ship stays home; a worker refuses calls without the cluster's secret; a worker that dies in
//! the middle of a query fails that query with SQLSTATE 58000 naming it, and the next query runs on the other one.

mod common;

use std::time::{Duration, Instant};

use common::cluster::WorkerProcess;
use common::semantic_cases::cases;
use common::{assert_same, compare_rows, reference, reference_rows, rows};
use datafusion_distributed::grpc::DefaultChannelResolver;
use datafusion_distributed::{ChannelResolver, GetWorkerInfoRequest};
use semgate::Config;
use semgate::config::DistributedConfig;
use semgate::protocol::worker::SecretChannels;
use tokio_postgres::Client;

const SECRET: &str = "the-cluster-secret-of-this-test";

/// A coordinator of `workers` with `secret`, distributing queries that read `min_bytes` of files in `auto` mode:
/// the analyst's session, and the gateway's address.
async fn coordinator(workers: &[&WorkerProcess], secret: &str, min_bytes: u64) -> (Client, std::net::SocketAddr) {
    let mut config = Config::demo(common::data_dir(), common::TEST_SCALE);
    config.distributed = Some(DistributedConfig {
        workers: workers.iter().map(|w| w.url.clone()).collect(),
        min_bytes_for_distribution: min_bytes,
        // One-byte partitions: every file scan asks for as many tasks as there are workers.
        bytes_per_partition: 1,
        secret: secret.to_string(),
        listen: "127.0.0.1:0".parse().unwrap(),
        advertise: None,
    });
    let gateway = common::spawn_gateway(config);
    let client = common::connect_to(gateway.pg_addr).await;
    // Every query must run (the result cache would answer repeats from memory).
    client.simple_query("SET semgate.cache = off").await.unwrap();
    (client, gateway.pg_addr)
}

async fn explain(client: &Client, sql: &str) -> String {
    rows(client, &format!("EXPLAIN {sql}"))
        .await
        .into_iter()
        .map(|row| row.join("\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether some connection to `port` on this machine holds bytes its server has not read yet (from
/// /proc/net/tcp: state ESTABLISHED, a receive queue above zero): a stopped worker that was sent work.
fn unread_bytes_at(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local_port = fields[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        let unread = fields[4]
            .split(':')
            .nth(1)
            .and_then(|q| u64::from_str_radix(q, 16).ok())
            .unwrap_or(0);
        local_port == Some(port) && fields[3] == "01" && unread > 0
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_of_two_workers_answers_like_one_process() {
    let single = common::connect().await; // the demo's single-process gateway (and its data)
    // Three workers, so that two are left when one dies (one worker alone gets no stage: a stage's tasks are spread
    // over two at least).
    let (a, b, c) = (
        WorkerProcess::start(SECRET),
        WorkerProcess::start(SECRET),
        WorkerProcess::start(SECRET),
    );
    let client = std::sync::Arc::new(coordinator(&[&a, &b, &c], SECRET, 0).await.0);
    client.simple_query("SET semgate.distributed = on").await.unwrap();
    let reference = reference().await;

    // 1. The semantic SQL suite: the raw tables' answers, as the single process gives them.
    let mut failures = Vec::new();
    for (what, semantic, raw) in cases() {
        let expected = reference_rows(&reference, &raw).await;
        if !explain(&client, &semantic).await.contains("DistributedExec") {
            failures.push(format!("{what}: not distributed: {semantic}"));
        }
        match client.simple_query(&semantic).await {
            Ok(messages) => {
                let actual = common::message_rows(messages);
                if let Err(difference) = compare_rows(&actual, &expected) {
                    failures.push(format!("{what}: {semantic}\n{difference}"));
                }
                let alone = rows(&single, &semantic).await;
                if let Err(difference) = compare_rows(&actual, &alone) {
                    failures.push(format!(
                        "{what} differs from the single process: {semantic}\n{difference}"
                    ));
                }
            }
            Err(e) => failures.push(format!("{what}: {semantic}\n → {e:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed on the cluster:\n\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n\n")
    );

    // 2. EXPLAIN shows the stages, their tasks, and where they run.
    let query = "SELECT region, revenue, order_count FROM sales ORDER BY region";
    let plan = explain(&client, query).await;
    assert!(plan.contains("DistributedExec"), "{plan}");
    assert!(plan.contains("Stage 1") && plan.contains("tasks=3"), "{plan}");
    for worker in [&a, &b, &c] {
        assert!(plan.contains(worker.url.as_str()), "{plan}");
    }
    // Off for the session: one process, no stages.
    client.simple_query("SET semgate.distributed = off").await.unwrap();
    let plan = explain(&client, query).await;
    assert!(!plan.contains("DistributedExec") && !plan.contains("Stage"), "{plan}");
    client.simple_query("SET semgate.distributed = on").await.unwrap();
    // Catalog relations never leave the coordinator.
    let plan = explain(&client, "SELECT relname FROM pg_catalog.pg_class ORDER BY relname").await;
    assert!(!plan.contains("DistributedExec"), "{plan}");
    // A bad value fails the SET and says what is allowed.
    let error = client
        .simple_query("SET semgate.distributed = sometimes")
        .await
        .unwrap_err();
    let db = error.as_db_error().expect("a database error");
    assert_eq!(db.code().code(), "22023");
    assert!(db.message().contains("on, off or auto"), "{}", db.message());

    // 3. The same through the extended protocol (what JDBC and Npgsql send), with a parameter.
    let statement = client
        .prepare(
            "SELECT region, CAST(MEASURE(revenue) AS DOUBLE PRECISION) FROM sales WHERE region <> $1 \
             GROUP BY region ORDER BY region",
        )
        .await
        .unwrap();
    let prepared: Vec<Vec<String>> = client
        .query(&statement, &[&"ASIA"])
        .await
        .unwrap()
        .iter()
        .map(|row| vec![row.get::<_, String>(0), row.get::<_, f64>(1).to_string()])
        .collect();
    let expected = rows(
        &single,
        "SELECT region, CAST(MEASURE(revenue) AS DOUBLE PRECISION) FROM sales WHERE region <> 'ASIA' \
         GROUP BY region ORDER BY region",
    )
    .await;
    assert_same("extended protocol on the cluster", &prepared, &expected);

    // 4. A worker that stops answering in the middle of a query: stopped first, so that the query is planned on it
    //    and sends it work, then killed while the query waits for it.
    b.signal("STOP");
    let running = {
        let client = client.clone();
        tokio::spawn(async move { client.simple_query(query).await })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !unread_bytes_at(b.port()) {
        assert!(
            Instant::now() < deadline,
            "the query never sent the stopped worker any work"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.signal("KILL");
    let error = running
        .await
        .unwrap()
        .expect_err("the query whose worker died succeeded");
    let db = error.as_db_error().expect("a database error, the connection alive");
    assert_eq!(db.code().code(), "58000", "{}", db.message());
    assert!(db.message().contains(b.url.as_str()), "{}", db.message());
    // The connection is still usable, and the next query runs on the worker that answers.
    let plan = explain(&client, query).await;
    assert!(plan.contains("tasks=2"), "{plan}");
    assert!(plan.contains(a.url.as_str()) && plan.contains(c.url.as_str()), "{plan}");
    assert!(
        !plan.contains(b.url.as_str()),
        "a dead worker is still planned on:\n{plan}"
    );
    let actual = rows(&client, query).await;
    assert_same("after a worker died", &actual, &rows(&single, query).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_queries_stay_home_and_workers_serve_only_their_coordinator() {
    let single = common::connect().await;
    let (worker, other) = (WorkerProcess::start(SECRET), WorkerProcess::start(SECRET));
    let customers = "SELECT region, customer_count FROM customers ORDER BY region";
    let lines = "SELECT ship_mode, revenue FROM sales ORDER BY ship_mode";

    // `auto` (the default) distributes a query by the bytes of files it reads: the customer table stays under the
    // threshold, the line items do not.
    let sizes = |table: &str| {
        std::fs::metadata(common::demo_dir().join(format!("{table}.parquet")))
            .unwrap()
            .len()
    };
    let threshold = sizes("customer") + sizes("nation") + sizes("region") + 1;
    assert!(
        sizes("lineitem") > threshold,
        "the test needs line items larger than the customers"
    );
    let (client, addr) = coordinator(&[&worker, &other], SECRET, threshold).await;
    let plan = explain(&client, customers).await;
    assert!(
        !plan.contains("DistributedExec"),
        "a small query left the coordinator:\n{plan}"
    );
    let plan = explain(&client, lines).await;
    assert!(plan.contains("DistributedExec"), "a large query stayed home:\n{plan}");
    for sql in [customers, lines] {
        assert_same(sql, &rows(&client, sql).await, &rows(&single, sql).await);
    }

    // Row policies hold on the workers: they are part of the plan before it is cut into stages. User emea sees
    // EUROPE's rows only, distributed or not.
    let url = format!("postgres://emea:emea@{}:{}/semgate", addr.ip(), addr.port());
    let (emea, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    emea.simple_query("SET semgate.distributed = on").await.unwrap();
    let regional = "SELECT region, revenue FROM sales ORDER BY region";
    let plan = explain(&emea, regional).await;
    assert!(plan.contains("DistributedExec"), "{plan}");
    let europe = rows(&emea, regional).await;
    let expected = rows(&single, "SELECT region, revenue FROM sales WHERE region = 'EUROPE'").await;
    assert_same("emea on the cluster", &europe, &expected);

    // A call without the secret, or with another, is refused by the worker itself; with it, answered.
    let info = |channels: Box<dyn ChannelResolver + Send + Sync>| {
        let url = worker.url.clone();
        async move {
            let mut client = channels.get_worker_client_for_url(&url).await.unwrap();
            client.get_worker_info(GetWorkerInfoRequest {}).await
        }
    };
    let refusals = [
        info(Box::<DefaultChannelResolver>::default()).await,
        info(Box::new(SecretChannels::new("guessed").unwrap())).await,
    ];
    for refused in refusals {
        let error = refused
            .err()
            .expect("a call without the secret was answered")
            .to_string();
        assert!(
            error.contains("authentication credentials") && error.contains("cluster secret"),
            "{error}"
        );
    }
    info(Box::new(SecretChannels::new(SECRET).unwrap()))
        .await
        .expect("the coordinator's call is answered");

    // A coordinator that does not know the secret cannot use the worker: its distributed query fails, clearly.
    let (intruder, _) = coordinator(&[&worker, &other], "not-the-secret", 0).await;
    let error = intruder
        .simple_query(lines)
        .await
        .expect_err("a worker ran a stranger's query");
    let db = error.as_db_error().expect("a database error");
    assert!(
        db.message().contains("cluster secret"),
        "the error does not say why: {}",
        db.message()
    );
    // Its catalog queries, which never leave it, still work.
    intruder.simple_query("SELECT 1").await.unwrap();
    intruder
        .simple_query("SELECT relname FROM pg_catalog.pg_class LIMIT 1")
        .await
        .unwrap();
}
