//! Semantic SQL over the PostgreSQL wire, each answer checked against hand-written SQL over the raw TPC-H tables.

mod common;

use common::semantic_cases::cases;
use common::{assert_same, connect, reference, reference_rows, rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_queries_match_hand_written_sql() {
    let client = connect().await;
    let reference = reference().await;
    let mut failures = Vec::new();
    for (what, semantic, raw) in cases() {
        let expected = reference_rows(&reference, &raw).await;
        let outcome = match client.simple_query(&semantic).await {
            Ok(_) => {
                let actual = rows(&client, &semantic).await;
                std::panic::catch_unwind(|| assert_same(what, &actual, &expected))
                    .err()
                    .map(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .unwrap_or_else(|| "comparison failed".into())
                    })
            }
            Err(e) => Some(format!("{what}: {semantic}\n → {e:?}")),
        };
        if let Some(failure) = outcome {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_never_multiplies_customer_count() {
    let client = connect().await;
    let reference = reference().await;
    let total = reference_rows(&reference, "SELECT COUNT(*) FROM customer").await[0][0]
        .parse::<i64>()
        .unwrap();
    let by_nation = rows(
        &client,
        "SELECT nation, MEASURE(customer_count) FROM sales GROUP BY nation",
    )
    .await;
    let sum: i64 = by_nation.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert_eq!(
        sum, total,
        "customer_count by nation must add up to the number of customers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_star_preview_returns_rows() {
    let client = connect().await;
    let preview = rows(&client, "SELECT * FROM sales LIMIT 10").await;
    assert_eq!(preview.len(), 10);
    assert_eq!(preview[0].len(), 12 + 9, "12 dimensions and 9 measures");
    let wrapped = rows(&client, "SELECT * FROM (SELECT * FROM customers) t LIMIT 10").await;
    assert!(!wrapped.is_empty() && wrapped.len() <= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_expressions_and_functions() {
    let client = connect().await;
    assert_eq!(rows(&client, "SELECT 1").await, vec![vec!["1".to_string()]]);
    let row = &rows(
        &client,
        "SELECT version(), current_database(), current_user, upper('x') || 'y'",
    )
    .await[0];
    assert!(row[0].starts_with("PostgreSQL 15.0 (semgate "), "{}", row[0]);
    assert_eq!(&row[1..], ["semgate", "analyst", "Xy"]);
}
