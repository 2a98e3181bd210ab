//! The result cache over the wire: hits return the same rows, spellings of one query share an entry, parameters and
//! users are part of the key, non-deterministic plans and `SET semgate.cache = off` bypass it, and concurrent
//! identical misses execute once. Counters come from `semgate_cache_stats()`.

mod common;

use std::sync::Arc;

use common::{assert_same, connect, connect_as, reference, reference_rows, rows};
use tokio_postgres::Client;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stats {
    hits: u64,
    misses: u64,
    entries: u64,
}

async fn stats(client: &Client) -> Stats {
    let row = &rows(client, "SELECT hits, misses, entries FROM semgate_cache_stats()").await[0];
    let number = |i: usize| row[i].parse::<u64>().unwrap();
    Stats {
        hits: number(0),
        misses: number(1),
        entries: number(2),
    }
}

const ASIA: &str = "SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM lineitem \
    JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
    JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey \
    WHERE r_name = 'ASIA' GROUP BY n_name ORDER BY n_name";

/// One test, run in order: the counters are the gateway's, shared by everything this binary does.
#[tokio::test]
async fn result_cache() {
    let client = connect().await;
    let expected = reference_rows(&reference().await, ASIA).await;
    let query = "SELECT nation, MEASURE(revenue) FROM sales WHERE region = 'ASIA' GROUP BY nation ORDER BY nation";

    // A miss, then a hit with identical rows.
    let start = stats(&client).await;
    assert_same("miss", &rows(&client, query).await, &expected);
    assert_same("hit", &rows(&client, query).await, &expected);
    let after = stats(&client).await;
    assert_eq!(
        (after.misses - start.misses, after.hits - start.hits),
        (1, 1),
        "{start:?} → {after:?}"
    );
    assert_eq!(after.entries, start.entries + 1);

    // SUM(revenue) is MEASURE(revenue): the same entry, under the column name this query asked for.
    let summed = client
        .simple_query("SELECT nation, SUM(revenue) FROM sales WHERE region = 'ASIA' GROUP BY nation ORDER BY nation")
        .await
        .unwrap();
    let named = summed.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::RowDescription(columns) => Some(columns[1].name().to_string()),
        _ => None,
    });
    assert_eq!(named.as_deref(), Some("sum"));
    let spelled = stats(&client).await;
    assert_eq!(
        (spelled.hits - after.hits, spelled.misses),
        (1, after.misses),
        "one entry for both spellings"
    );

    // Parameters are part of the key: another value is a miss, the same value again a hit.
    let by_region = client
        .prepare("SELECT MEASURE(order_count) FROM sales WHERE region = $1")
        .await
        .unwrap();
    let count = |region: &'static str| {
        let (client, statement) = (&client, &by_region);
        async move { client.query_one(statement, &[&region]).await.unwrap().get::<_, i64>(0) }
    };
    let before = stats(&client).await;
    let (europe, africa, europe_again) = (count("EUROPE").await, count("AFRICA").await, count("EUROPE").await);
    assert_ne!(europe, africa);
    assert_eq!(europe, europe_again);
    let params = stats(&client).await;
    assert_eq!((params.misses - before.misses, params.hits - before.hits), (2, 1));

    // Another user who may read the same (the same policy context) shares the entry: keys are contexts, not names.
    // Users of other contexts never do (tests/policies.rs).
    let other = connect_as("auditor", "auditor", "semgate").await.unwrap();
    assert_same("other user", &rows(&other, query).await, &expected);
    let users = stats(&client).await;
    assert_eq!((users.misses - params.misses, users.hits - params.hits), (0, 1));

    // Bypassed: functions whose value changes, and a session that turns the cache off.
    rows(
        &client,
        "SELECT nation, MEASURE(revenue), now() FROM sales GROUP BY nation",
    )
    .await;
    rows(&client, "SET semgate.cache = off").await;
    assert_same("cache off", &rows(&client, query).await, &expected);
    rows(&client, "RESET semgate.cache").await;
    let bypassed = stats(&client).await;
    assert_eq!(
        (bypassed.misses, bypassed.hits),
        (users.misses, users.hits),
        "nothing counted"
    );

    // Single flight: 16 connections ask a new question at once; it executes once.
    let mut clients = Vec::new();
    for _ in 0..16 {
        clients.push(connect().await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for client in clients {
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            rows(
                &client,
                "SELECT part_type, MEASURE(quantity), MEASURE(avg_discount) FROM sales GROUP BY part_type",
            )
            .await
        });
    }
    let answers: Vec<_> = tasks.join_all().await;
    assert!(answers.windows(2).all(|w| w[0] == w[1]) && answers[0].len() == 150);
    let flight = stats(&client).await;
    assert_eq!(
        (flight.misses - bypassed.misses, flight.hits - bypassed.hits),
        (1, 15),
        "16 identical misses ran once"
    );
}

/// Plans are kept by statement text and shared by the sessions of a user, but a plan never carries one session's
/// state into another: its parameters (`current_setting`) or its user (`current_user`).
#[tokio::test]
async fn kept_plans_never_carry_one_sessions_state_into_another() {
    let (first, second) = (connect().await, connect().await);
    let auditor = connect_as("auditor", "auditor", "semgate").await.unwrap();
    rows(&first, "SET application_name = 'first'").await;
    rows(&second, "SET application_name = 'second'").await;
    rows(&auditor, "SET application_name = 'third'").await;
    let sql = "SELECT current_setting('application_name'), current_user, MEASURE(order_count) > 0 FROM sales";
    for (client, expected) in [
        (&first, ["first", "analyst"]),
        (&second, ["second", "analyst"]),
        (&auditor, ["third", "auditor"]),
    ] {
        // Twice each: the second Parse of the text in a session may find a kept plan.
        for _ in 0..2 {
            let statement = client.prepare(sql).await.unwrap();
            let row = client.query_one(&statement, &[]).await.unwrap();
            assert_eq!([row.get::<_, String>(0), row.get::<_, String>(1)], expected);
            assert!(row.get::<_, bool>(2));
        }
    }
    // Without the session's parameters the plan is kept, and still answers with each user's own name.
    let sql = "SELECT current_user, MEASURE(order_count) > 0 FROM sales";
    for (client, user) in [
        (&first, "analyst"),
        (&second, "analyst"),
        (&auditor, "auditor"),
        (&first, "analyst"),
    ] {
        let statement = client.prepare(sql).await.unwrap();
        assert_eq!(
            client.query_one(&statement, &[]).await.unwrap().get::<_, String>(0),
            user
        );
    }
}

/// The sum of the shop example's order amounts, read from its CSV file (in cents, to compare exactly).
fn shop_amount_cents(dir: &std::path::Path) -> i64 {
    let text = std::fs::read_to_string(dir.join("data/orders.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let amount = line.split(',').nth(2).unwrap();
            (amount.parse::<f64>().unwrap() * 100.0).round() as i64
        })
        .sum()
}

fn cents(text: &str) -> i64 {
    (text.parse::<f64>().unwrap() * 100.0).round() as i64
}

/// A reload swaps in the edited model with an empty cache (the old model's answer is not served again); a broken
/// model is refused and the running one keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_reload_drops_cached_answers_and_refuses_a_broken_model() {
    let dir = tempfile::tempdir().unwrap();
    let shop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for file in ["semgate.yml", "model.yml", "data/orders.csv", "data/customers.csv"] {
        std::fs::copy(shop.join(file), dir.path().join(file)).unwrap();
    }
    let config = semgate::Config::from_file(&dir.path().join("semgate.yml")).unwrap();
    let gateway = common::spawn_gateway(config);
    let url = format!(
        "postgres://owner:owner-secret@127.0.0.1:{}/shop",
        gateway.pg_addr.port()
    );
    let open = || async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    };
    let sql = "SELECT MEASURE(amount) FROM shop_orders";
    let total = shop_amount_cents(dir.path());

    let client = open().await;
    assert_eq!(cents(&rows(&client, sql).await[0][0]), total);
    assert_eq!(cents(&rows(&client, sql).await[0][0]), total);
    assert_eq!(stats(&client).await.hits, 1, "the repeat is a hit before the reload");

    // The measure now doubles the amount.
    let model = dir.path().join("model.yml");
    let text = std::fs::read_to_string(&model).unwrap();
    let edited = text.replacen(
        "agg: sum\n        sql: amount\n",
        "agg: sum\n        sql: amount * 2\n",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&model, edited).unwrap();
    gateway.reloader.reload().await.expect("the edited model loads");
    let client = open().await;
    assert_eq!(
        cents(&rows(&client, sql).await[0][0]),
        2 * total,
        "answered by the new model"
    );
    let after = stats(&client).await;
    assert_eq!(
        (after.hits, after.misses),
        (0, 1),
        "a miss: nothing cached under the old model"
    );

    // A broken model is refused; the reloaded one keeps serving new sessions.
    std::fs::write(&model, "models: [[[").unwrap();
    let error = gateway.reloader.reload().await.expect_err("a broken model is refused");
    assert!(error.to_string().contains("model.yml"), "{error}");
    let client = open().await;
    assert_eq!(cents(&rows(&client, sql).await[0][0]), 2 * total);
}

/// A table that is a directory: a file added to it (a new day's partition) is read once the model is reloaded, and
/// without a reload once the directory's listing is older than its time to live (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_added_to_a_table_directory_are_read_after_a_reload_or_ten_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let shop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let orders = dir.path().join("data/orders");
    std::fs::create_dir_all(&orders).unwrap();
    std::fs::copy(shop.join("semgate.yml"), dir.path().join("semgate.yml")).unwrap();
    std::fs::copy(shop.join("data/customers.csv"), dir.path().join("data/customers.csv")).unwrap();
    let model = std::fs::read_to_string(shop.join("model.yml")).unwrap();
    let model = model.replacen("orders: orders.csv", "orders: orders/", 1);
    std::fs::write(dir.path().join("model.yml"), model).unwrap();
    // Each part holds the example's orders under ids of its own.
    let original = std::fs::read_to_string(shop.join("data/orders.csv")).unwrap();
    let (header, body) = original.split_once('\n').unwrap();
    let per_part = body.lines().count();
    let add_part = |part: usize| {
        let renumbered: String = body.lines().map(|line| format!("{part}{line}\n")).collect();
        std::fs::write(
            orders.join(format!("part-{part}.csv")),
            format!("{header}\n{renumbered}"),
        )
        .unwrap();
    };
    add_part(1);

    let config = semgate::Config::from_file(&dir.path().join("semgate.yml")).unwrap();
    let gateway = common::spawn_gateway(config);
    let url = format!(
        "postgres://owner:owner-secret@127.0.0.1:{}/shop",
        gateway.pg_addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.simple_query("SET semgate.cache = off").await.unwrap();
    let count = || async {
        rows(&client, "SELECT MEASURE(order_count) FROM shop_orders").await[0][0]
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(count().await, per_part);

    add_part(2);
    gateway.reloader.reload().await.expect("the model loads again");
    assert_eq!(count().await, 2 * per_part, "the reload listed the directory again");

    add_part(3);
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert_eq!(count().await, 3 * per_part, "the listing expired");
}
