//! The admin port: `/metrics` scraped before and after a known sequence of statements and logins moves by exactly
//! that much; `/healthz` and `/readyz` answer. A test binary of its own, with one test: the metrics are the
//! process's, and nothing else may run statements beside it.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The samples of a scrape, by series (`name{labels}`).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(admin: std::net::SocketAddr) -> BTreeMap<String, f64> {
    let (status, text) = common::http_get(admin, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
    samples(&text)
}

/// How much `series` moved between two scrapes.
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_by_exactly_what_was_done() {
    let mut config = semgate::Config::demo(common::data_dir(), common::TEST_SCALE);
    config.admin_addr = Some("127.0.0.1:0".parse().unwrap());
    let gateway = common::spawn_gateway(config);
    let admin = gateway.admin_addr.expect("an admin port");
    assert_eq!(common::http_get(admin, "/healthz").await, (200, "ok\n".to_string()));
    // The demo reads files only: ready once loaded.
    assert_eq!(common::http_get(admin, "/readyz").await, (200, "ready\n".to_string()));

    let url = |user: &str, password: &str| {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/semgate",
            gateway.pg_addr.port()
        )
    };
    let before = scrape(admin).await;

    // PostgreSQL wire: one connection, two queries that answer (the second from the cache), one that fails (42703),
    // a session command, one statement prepared twice and run twice (the second run from the cache); then a wrong
    // password.
    let (client, connection) = tokio_postgres::connect(&url("analyst", "analyst"), tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let sql = "SELECT ship_mode, line_items FROM sales ORDER BY ship_mode";
    let first = common::message_rows(client.simple_query(sql).await.unwrap());
    let second = common::message_rows(client.simple_query(sql).await.unwrap());
    assert_eq!(first.len(), 7);
    assert_eq!(first, second);
    let error = client
        .simple_query("SELECT no_such_member FROM sales")
        .await
        .unwrap_err();
    assert_eq!(error.code().map(|c| c.code()), Some("42703"));
    client.simple_query("SET statement_timeout = '5s'").await.unwrap();
    // The extended protocol: the second Parse of a text finds its plan, and its run finds the first one's answer.
    let by_region = "SELECT region, MEASURE(revenue) FROM sales WHERE region <> $1 GROUP BY region";
    let (prepared, again) = (
        client.prepare(by_region).await.unwrap(),
        client.prepare(by_region).await.unwrap(),
    );
    assert_eq!(client.query(&prepared, &[&"ASIA"]).await.unwrap().len(), 4);
    assert_eq!(client.query(&again, &[&"ASIA"]).await.unwrap().len(), 4);
    drop(client);
    connection.await.unwrap().unwrap();
    let refused = tokio_postgres::connect(&url("analyst", "wrong"), tokio_postgres::NoTls).await;
    assert_eq!(
        refused.err().and_then(|e| e.code().map(|c| c.code().to_string())),
        Some("28P01".into())
    );

    // Flight SQL: one query.
    let mut flight = common::flight_client(gateway.flight_addr, "analyst", "analyst").await;
    let rows = common::flight_rows(&mut flight, "SELECT MEASURE(line_items) FROM sales").await;
    assert_eq!(rows.len(), 1);

    // A statement is counted as its rows are dropped, which may be just after the client has them: wait until the
    // last one is (a hang detector, not a timing), then compare exactly.
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let after = scrape(admin).await;
        let flight_done = r#"semgate_statements_total{protocol="flight",kind="query",class="00"}"#;
        let open = r#"semgate_connections_active{protocol="pg"}"#;
        if moved(&before, &after, flight_done) >= 1.0 && after.get(open).copied().unwrap_or(0.0) == 0.0 {
            break after;
        }
        assert!(Instant::now() < deadline, "statements not counted:\n{after:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let expected = [
        (
            r#"semgate_statements_total{protocol="pg",kind="query",class="00"}"#,
            4.0,
        ),
        (
            r#"semgate_statements_total{protocol="pg",kind="query",class="42"}"#,
            1.0,
        ),
        (
            r#"semgate_statements_total{protocol="pg",kind="command",class="00"}"#,
            1.0,
        ),
        (
            r#"semgate_statements_total{protocol="flight",kind="query",class="00"}"#,
            1.0,
        ),
        (r#"semgate_statement_duration_seconds_count{kind="query"}"#, 6.0),
        (r#"semgate_rows_sent_total{protocol="pg"}"#, 22.0),
        (r#"semgate_rows_sent_total{protocol="flight"}"#, 1.0),
        // The second run of the same text, and of the same prepared plan, are answered from the cache.
        ("semgate_cache_hits_total", 2.0),
        // Parsed and planned: the first simple query (its second run is answered by text), the failing one, SET,
        // the first Parse of the prepared text, the Flight query; the second Parse found the plan.
        ("semgate_plan_cache_hits_total", 1.0),
        ("semgate_plan_cache_misses_total", 5.0),
        // Planned and run by the engine: the first simple query, the first run of the prepared text, the Flight query.
        (r#"semgate_planning_duration_seconds_count{stage="optimize"}"#, 3.0),
        (r#"semgate_planning_duration_seconds_count{stage="physical"}"#, 3.0),
        // The wrong password's connection and the good one.
        (r#"semgate_connections_total{protocol="pg"}"#, 2.0),
        (r#"semgate_connections_total{protocol="flight"}"#, 1.0),
        (
            r#"semgate_authentication_failures_total{protocol="pg",reason="password"}"#,
            1.0,
        ),
    ];
    for (series, delta) in expected {
        assert_eq!(moved(&before, &after, series), delta, "{series}");
    }
    // The query over Flight missed the cache (its text differs), as did the first over PostgreSQL and the first run
    // of the prepared one.
    assert_eq!(moved(&before, &after, "semgate_cache_misses_total"), 3.0);
    assert!(after["semgate_cache_entries"] >= 2.0, "{after:#?}");
    assert!(after["semgate_cache_size_bytes"] > 0.0, "{after:#?}");
    assert!(moved(&before, &after, r#"semgate_sent_bytes_total{protocol="pg"}"#) > 0.0);
}
