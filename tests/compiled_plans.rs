//! Snapshots of what the semantic rewrite compiles a few queries into (the logical plan right after the rule).

use datafusion::arrow::array::AsArray;
use semgate::engine::Engine;
use semgate::semantic::{self, ModelText};

async fn compiled(sql: &str) -> String {
    let data_dir = std::env::var_os("SEMGATE_TEST_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("semgate-test-data"));
    let tpch = semgate::demo::ensure_tpch(&data_dir, 0.01).await.unwrap();
    let files = semgate::demo::DEMO_MODEL.map(|(name, text)| ModelText {
        name: name.into(),
        text: text.into(),
        base_dir: ".".into(),
    });
    let model = semantic::load(&files, &tpch, semantic::WhenUnreachable::Fail)
        .await
        .unwrap();
    let engine = Engine::new(
        &model,
        "semgate",
        vec!["analyst".into()],
        vec![],
        Default::default(),
        Default::default(),
        &Default::default(),
    )
    .unwrap();
    let ctx = engine.session_context("analyst");
    let batches = ctx
        .sql(&format!("EXPLAIN VERBOSE {sql}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    for batch in batches {
        let (kinds, plans) = (batch.column(0).as_string::<i32>(), batch.column(1).as_string::<i32>());
        for row in 0..batch.num_rows() {
            if kinds.value(row) == "logical_plan after semantic_rewrite" {
                return plans.value(row).to_string();
            }
        }
    }
    panic!("the semantic rewrite did not change the plan of {sql}");
}

#[tokio::test]
async fn measure_by_dimension_of_a_joined_model() {
    insta::assert_snapshot!(compiled("SELECT region, MEASURE(revenue) FROM sales GROUP BY region").await);
}

#[tokio::test]
async fn measures_of_two_grains_are_aggregated_apart_then_joined() {
    insta::assert_snapshot!(
        compiled("SELECT nation, MEASURE(revenue), MEASURE(customer_count) FROM sales GROUP BY nation").await
    );
}

#[tokio::test]
async fn customer_count_across_a_one_to_many_step_is_deduplicated() {
    insta::assert_snapshot!(compiled("SELECT ship_mode, MEASURE(customer_count) FROM sales GROUP BY ship_mode").await);
}

#[tokio::test]
async fn implicit_aggregation_with_filter_and_derived_metric() {
    insta::assert_snapshot!(
        compiled("SELECT date_trunc('month', order_date), avg_order_value FROM sales WHERE region = 'ASIA'").await
    );
}
