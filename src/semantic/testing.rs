//! A tiny semantic model for the unit tests of the semantic layer: two CSV tables (orders and their customers) written
//! to a temporary directory, loaded from YAML like any model, and plan helpers around its views.

use std::sync::Arc;

use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{AggregateUDF, Expr, LogicalPlan, LogicalPlanBuilder};

use super::provider::SemanticViewTable;
use super::{ModelText, SemanticModel, View, WhenUnreachable};

/// Orders at one grain, customers at another: `sales` (rooted at orders) reaches the customer's region and the
/// customer-grain `customer_count` through a many-to-one relationship.
const SHOP: &str = r#"
sources:
  - name: shop
    kind: csv
    location: ${data_dir}
    tables:
      orders: orders.csv
      customers: customers.csv

models:
  - name: customers
    source: shop
    table: customers
    primary_key: [id]
    dimensions:
      - name: region
    measures:
      - name: customer_count
        agg: count

  - name: orders
    source: shop
    table: orders
    primary_key: [order_id]
    relationships:
      - name: customer
        model: customers
        type: many_to_one
        on: customer_id = id
    dimensions:
      - name: status
    measures:
      - name: revenue
        agg: sum
        sql: amount
      - name: order_count
        agg: count
      - name: big_revenue
        agg: sum
        sql: amount
        filter: amount > 50

views:
  - name: sales
    model: orders
    dimensions:
      - member: status
      - name: region
        member: customer.region
    measures:
      - member: revenue
      - member: order_count
      - member: big_revenue
      - name: avg_order_value
        sql: revenue / order_count
      - member: customer.customer_count
"#;

/// The shop model; its files are only read to infer the tables' schemas, so the directory goes away here.
pub(crate) async fn shop() -> SemanticModel {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orders.csv"),
        "order_id,customer_id,amount,status\n1,10,100.5,F\n2,10,20.0,O\n3,11,5.25,F\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("customers.csv"), "id,region\n10,EU\n11,US\n").unwrap();
    let files = [ModelText {
        name: "shop.yml".into(),
        text: SHOP.into(),
        base_dir: dir.path().to_path_buf(),
    }];
    super::load(&files, dir.path(), WhenUnreachable::Fail)
        .await
        .unwrap_or_else(|e| panic!("the test model does not load:\n{e}"))
}

/// The `sales` view of the shop model.
pub(crate) async fn sales() -> Arc<View> {
    shop().await.views["sales"].clone()
}

/// A scan of `view` as the SQL planner makes it (table `sales`, every column).
pub(crate) fn scan(view: &Arc<View>) -> LogicalPlanBuilder {
    let table = Arc::new(SemanticViewTable { view: view.clone() });
    LogicalPlanBuilder::scan(view.name.as_str(), provider_as_source(table), None).unwrap()
}

/// `MEASURE(expr)`, the aggregate function the engine registers.
pub(crate) fn measure(expr: Expr) -> Expr {
    AggregateUDF::from(crate::engine::MeasureFunction::new()).call(vec![expr])
}

/// The plan's indented text, one node a line, without trailing whitespace.
pub(crate) fn text(plan: &LogicalPlan) -> String {
    plan.display_indent().to_string()
}
