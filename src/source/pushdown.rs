//! Which parts of a plan run inside a database: the largest sub-plans whose tables all live in one source and whose
//! operators and functions that database has, handed over whole — datafusion-federation turns each into one SQL
//! statement in the source's dialect. Runs after DataFusion's own rules, so filters and limits have already moved
//! down to the scans, also below joins between sources.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::NullEquality;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    Distinct, Expr, Extension, JoinType, LogicalPlan, LogicalPlanBuilder, Operator, Projection, SubqueryAlias,
    TableScan, TableScanBuilder,
};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion_federation::sql::{SQLFederationPlanner, SQLFederationProvider, SQLTableSource};
use datafusion_federation::{FederatedPlanNode, get_table_source};

use super::DatabaseKind;

#[derive(Debug, Default)]
pub struct PushDownToSources;

impl OptimizerRule for PushDownToSources {
    fn name(&self) -> &str {
        "push_down_to_sources"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        if !reads_a_database(&plan)? {
            return Ok(Transformed::no(plan));
        }
        let (plan, place) = place(plan)?;
        Ok(Transformed::yes(match place {
            Some(source) => hand_over(plan, &source)?,
            None => plan,
        }))
    }
}

/// Where a sub-plan can run: wholly inside this database, or (`None`) here, in DataFusion.
type Place = Option<Arc<SQLFederationProvider>>;

fn reads_a_database(plan: &LogicalPlan) -> Result<bool> {
    let mut found = false;
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && get_table_source(&scan.source)?.is_some()
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(found)
}

/// Place `plan` bottom-up; children that can run in a database while their parent cannot are handed over here.
fn place(plan: LogicalPlan) -> Result<(LogicalPlan, Place)> {
    match &plan {
        LogicalPlan::TableScan(scan) => {
            let source = get_table_source(&scan.source)?.and_then(|source| {
                (source.as_ref() as &dyn std::any::Any)
                    .downcast_ref::<SQLTableSource>()
                    .map(|sql| sql.provider.clone())
            });
            let Some(source) = source else {
                return Ok((plan, None));
            };
            let LogicalPlan::TableScan(scan) = plan else {
                unreachable!()
            };
            return Ok(match keep_filters_it_can_run(scan, &source)? {
                Transformed {
                    data,
                    transformed: false,
                    ..
                } => (data, Some(source)),
                // The scan went down with the filters the database can run; the others run here, above it.
                Transformed { data, .. } => (data, None),
            });
        }
        LogicalPlan::Extension(_) => return Ok((plan, None)),
        _ => {}
    }
    let mut places = Vec::new();
    let plan = plan
        .map_children(|child| {
            let (child, place) = place(child)?;
            places.push(place);
            Ok(Transformed::yes(child))
        })?
        .data;
    // A node whose inputs all run in one database may run there too (a leaf such as VALUES runs here).
    let common = match places.split_first() {
        Some((Some(first), rest)) if rest.iter().all(|p| p.as_ref().is_some_and(|s| same_source(first, s))) => {
            Some(first.clone())
        }
        _ => None,
    };
    if let Some(source) = common
        && runs_in(&plan, kind_of(&source))
    {
        return Ok((plan, Some(source)));
    }
    let mut places = places.into_iter();
    let plan = plan
        .map_children(|child| match places.next() {
            Some(Some(source)) => Ok(Transformed::yes(hand_over(child, &source)?)),
            _ => Ok(Transformed::no(child)),
        })?
        .data;
    Ok((plan, None))
}

/// DataFusion gives a scan every filter its provider accepts, and the providers accept what they can print, not what
/// the database computes alike (a date compared in SQLite). Filters the database cannot run move out of the scan into
/// a filter above it (with the columns they read, then the scan's own columns again), and a limit with them.
fn keep_filters_it_can_run(mut scan: TableScan, source: &SQLFederationProvider) -> Result<Transformed<LogicalPlan>> {
    let kind = kind_of(source);
    let (runnable, rest): (Vec<Expr>, Vec<Expr>) = std::mem::take(&mut scan.filters)
        .into_iter()
        .partition(|f| kind.is_some_and(|kind| expression_runs_in(f, kind)));
    let Some(predicate) = conjunction(rest) else {
        scan.filters = runnable;
        return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
    };
    let output: Vec<Expr> = scan.projected_schema.columns().into_iter().map(Expr::Column).collect();
    let mut projection = scan.projection.clone();
    if let Some(projection) = projection.as_mut() {
        let schema = scan.source.schema();
        for column in predicate.column_refs() {
            if let Ok(index) = schema.index_of(&column.name)
                && !projection.contains(&index)
            {
                projection.push(index);
            }
        }
    }
    let narrower = TableScanBuilder::new(scan.table_name.clone(), scan.source.clone())
        .with_projection(projection)
        .with_filters(runnable)
        .with_statistics_requests(scan.statistics_requests.clone())
        .build()?;
    let filtered = LogicalPlanBuilder::from(hand_over(LogicalPlan::TableScan(narrower), source)?)
        .filter(predicate)?
        .limit(0, scan.fetch)?
        .project(output)?
        .build()?;
    Ok(Transformed::yes(filtered))
}

fn same_source(a: &SQLFederationProvider, b: &SQLFederationProvider) -> bool {
    a.executor.compute_context() == b.executor.compute_context()
}

fn kind_of(source: &SQLFederationProvider) -> Option<DatabaseKind> {
    super::kind_of_context(source.executor.compute_context()?.as_str())
}

/// `plan`, to be run by the database as one statement.
fn hand_over(plan: LogicalPlan, source: &SQLFederationProvider) -> Result<LogicalPlan> {
    // DataFusion's unparser keeps only the inner name of an alias of an alias (the semantic layer aliases each model,
    // then each join path); the outer one is the only one visible above, so it is the one to keep.
    let plan = plan
        .transform_up(|node| match node {
            LogicalPlan::SubqueryAlias(outer) => match outer.input.as_ref() {
                LogicalPlan::SubqueryAlias(inner) => Ok(Transformed::yes(LogicalPlan::SubqueryAlias(
                    SubqueryAlias::try_new(inner.input.clone(), outer.alias)?,
                ))),
                _ => Ok(Transformed::no(LogicalPlan::SubqueryAlias(outer))),
            },
            other => Ok(Transformed::no(other)),
        })?
        .data;
    // A projection on top names every column, so the statement's select list matches the plan's schema.
    let plan = match plan {
        LogicalPlan::Projection(_) => plan,
        other => {
            let columns = other.schema().columns().into_iter().map(Expr::Column).collect();
            LogicalPlan::Projection(Projection::try_new(columns, Arc::new(other))?)
        }
    };
    let planner = Arc::new(SQLFederationPlanner::new(source.executor.clone()));
    Ok(LogicalPlan::Extension(Extension {
        node: Arc::new(FederatedPlanNode::new(plan, planner)),
    }))
}

/// Whether the database can run this operator with its expressions, with the same results.
fn runs_in(plan: &LogicalPlan, kind: Option<DatabaseKind>) -> bool {
    let Some(kind) = kind else { return false };
    let operator = match plan {
        // The unparser drops an alias's qualifier (`AS customers.nation`, how a compiled view keeps its columns'
        // names), so what reads it above could not find it in SQL; such a projection runs here, over the
        // database's already small answer.
        LogicalPlan::Projection(projection) => !projection
            .expr
            .iter()
            .any(|e| matches!(e, Expr::Alias(alias) if alias.relation.is_some())),
        LogicalPlan::Filter(_)
        | LogicalPlan::Aggregate(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Distinct(Distinct::All(_)) => true,
        // MySQL cannot say NULLS FIRST / LAST, and its default differs.
        LogicalPlan::Sort(_) => kind != DatabaseKind::MySql,
        LogicalPlan::Join(join) => {
            matches!(
                join.join_type,
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
            ) && join.null_equality == NullEquality::NullEqualsNothing
        }
        _ => false,
    };
    operator && plan.expressions().iter().all(|e| expression_runs_in(e, kind))
}

fn expression_runs_in(expr: &Expr, kind: DatabaseKind) -> bool {
    !expr
        .exists(|e| Ok(!node_runs_in(e, kind)))
        .expect("the check never fails")
}

/// One node of an expression (its children are checked on their own).
fn node_runs_in(expr: &Expr, kind: DatabaseKind) -> bool {
    match expr {
        Expr::Column(_)
        | Expr::Alias(_)
        | Expr::Not(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::Negative(_)
        | Expr::Between(_)
        | Expr::Case(_)
        | Expr::InList(_) => true,
        Expr::IsTrue(_) | Expr::IsFalse(_) | Expr::IsNotTrue(_) | Expr::IsNotFalse(_) => kind == DatabaseKind::Postgres,
        Expr::Literal(value, _) => type_runs_in(&value.data_type(), kind),
        Expr::BinaryExpr(binary) => operator_runs_in(binary.op, kind),
        Expr::Like(like) => !like.case_insensitive || kind == DatabaseKind::Postgres,
        Expr::Cast(cast) => type_runs_in(cast.field.data_type(), kind),
        Expr::ScalarFunction(function) => function_runs_in(function.name(), kind),
        Expr::AggregateFunction(aggregate) => {
            // Not avg: databases answer it at their own precision (PostgreSQL's numeric has 16 decimals where
            // DataFusion keeps 6), which does not fit DataFusion's result type.
            matches!(aggregate.func.name(), "sum" | "count" | "min" | "max")
                && aggregate.params.order_by.is_empty()
                && (aggregate.params.filter.is_none() || kind != DatabaseKind::MySql)
        }
        _ => false,
    }
}

/// SQLite has no date, time or decimal types: such values would compare as text or floats there.
fn type_runs_in(data_type: &DataType, kind: DatabaseKind) -> bool {
    match data_type {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::Utf8View
        | DataType::LargeUtf8 => true,
        DataType::Date32 | DataType::Timestamp(_, None) | DataType::Decimal128(_, _) => kind != DatabaseKind::Sqlite,
        _ => false,
    }
}

fn operator_runs_in(op: Operator, kind: DatabaseKind) -> bool {
    use Operator::*;
    match op {
        Eq | NotEq | Lt | LtEq | Gt | GtEq | Plus | Minus | Multiply | Modulo | And | Or => true,
        // MySQL's `/` gives decimals where DataFusion truncates integers; its `||` is OR.
        Divide => kind != DatabaseKind::MySql,
        StringConcat => kind != DatabaseKind::MySql,
        IsDistinctFrom | IsNotDistinctFrom | RegexMatch | RegexIMatch | RegexNotMatch | RegexNotIMatch => {
            kind == DatabaseKind::Postgres
        }
        _ => false,
    }
}

/// Functions that exist under the same name, with the same meaning, in the database.
fn function_runs_in(name: &str, kind: DatabaseKind) -> bool {
    const EVERYWHERE: &[&str] = &["abs", "coalesce", "nullif", "lower", "upper", "substr"];
    const POSTGRES: &[&str] = &[
        "date_trunc",
        "date_part",
        "btrim",
        "ltrim",
        "rtrim",
        "concat",
        "starts_with",
        "left",
        "right",
        "replace",
        "floor",
        "ceil",
        "sqrt",
    ];
    const MYSQL: &[&str] = &["concat", "floor", "ceil", "replace", "left", "right"];
    EVERYWHERE.contains(&name)
        || match kind {
            DatabaseKind::Postgres => POSTGRES.contains(&name),
            DatabaseKind::MySql => MYSQL.contains(&name),
            DatabaseKind::Sqlite => false,
        }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use datafusion::common::tree_node::Transformed;
    use datafusion::datasource::provider_as_source;
    use datafusion::functions::expr_fn::{btrim, upper};
    use datafusion::functions_aggregate::count::count_all;
    use datafusion::functions_aggregate::expr_fn::{avg, sum};
    use datafusion::logical_expr::{JoinType, LogicalPlan, LogicalPlanBuilder, col, lit};
    use datafusion::optimizer::{OptimizerContext, OptimizerRule};
    use datafusion::prelude::ident;
    use datafusion::scalar::ScalarValue;
    use datafusion_federation::FederatedPlanNode;

    use super::PushDownToSources;
    use crate::source::{Database, DatabaseKind, DatabaseSettings};

    /// A SQLite database file with `orders` and `customers`, connected as source `name`.
    async fn sqlite(dir: &Path, name: &str) -> Database {
        let path = dir.join(format!("{name}.db"));
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE orders (order_id INTEGER NOT NULL, customer_id INTEGER, amount REAL, status TEXT, \
             order_date DATE);
             INSERT INTO orders VALUES (1, 10, 100.5, 'F', '2024-01-02'), (2, 11, 20.0, 'O', '2024-02-03');
             CREATE TABLE customers (id INTEGER NOT NULL, region TEXT);
             INSERT INTO customers VALUES (10, 'EU'), (11, 'US');",
        )
        .unwrap();
        drop(conn);
        Database::connect(DatabaseSettings {
            name: name.into(),
            kind: DatabaseKind::Sqlite,
            host: String::new(),
            port: 0,
            database: String::new(),
            user: String::new(),
            password: None,
            tls: "disable".into(),
            pool_size: 1,
            path,
            connect_timeout: Duration::from_secs(5),
            query_timeout: Duration::from_secs(60),
        })
        .await
        .unwrap()
    }

    async fn scan(db: &Database, table: &str) -> LogicalPlanBuilder {
        let provider = db.table(table).await.unwrap();
        LogicalPlanBuilder::scan(table, provider_as_source(provider), None).unwrap()
    }

    fn push_down(plan: LogicalPlan) -> Transformed<LogicalPlan> {
        PushDownToSources.rewrite(plan, &OptimizerContext::new()).unwrap()
    }

    /// The plan after the rule, one node a line; what a database runs is shown under `Federated`.
    fn pushed(plan: LogicalPlan) -> String {
        let mut out = String::new();
        render(&push_down(plan).data, 0, &mut out);
        out
    }

    fn render(plan: &LogicalPlan, depth: usize, out: &mut String) {
        let indent = "  ".repeat(depth);
        if let LogicalPlan::Extension(extension) = plan
            && let Some(federated) = extension.node.as_any().downcast_ref::<FederatedPlanNode>()
        {
            out.push_str(&format!("{indent}Federated\n"));
            return render(federated.plan(), depth + 1, out);
        }
        out.push_str(&format!("{indent}{}\n", plan.display()));
        for input in plan.inputs() {
            render(input, depth + 1, out);
        }
    }

    /// A plan that reads no database is not touched (reported as not transformed).
    #[tokio::test]
    async fn plans_without_database_tables_are_unchanged() {
        let plan = LogicalPlanBuilder::values(vec![vec![lit(1i64)]])
            .unwrap()
            .filter(col("column1").gt(lit(0i64)))
            .unwrap()
            .build()
            .unwrap();
        let result = push_down(plan.clone());
        assert!(!result.transformed);
        assert_eq!(result.data, plan);
    }

    /// Filter, aggregate (SUM, COUNT), sort and limit over one SQLite table all run in SQLite: the whole plan is
    /// one federated statement, topped by a projection naming every column.
    #[tokio::test]
    async fn whole_query_over_one_database_is_handed_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .filter(col("status").eq(lit("F")))
            .unwrap()
            .aggregate(vec![col("customer_id")], vec![sum(col("amount")), count_all()])
            .unwrap()
            .sort(vec![col("customer_id").sort(true, false)])
            .unwrap()
            .limit(0, Some(5))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Federated
              Projection: orders.customer_id, sum(orders.amount), count(*)
                Limit: skip=0, fetch=5
                  Sort: orders.customer_id ASC NULLS LAST
                    Aggregate: groupBy=[[orders.customer_id]], aggr=[[sum(orders.amount), count(Int64(1)) AS count(*)]]
                      Filter: orders.status = Utf8("F")
                        TableScan: orders
            "#);
    }

    /// AVG is never pushed (databases answer it at another precision): the aggregate runs here, over the filtered
    /// rows the database sends.
    #[tokio::test]
    async fn avg_runs_here_over_the_databases_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .filter(col("status").eq(lit("F")))
            .unwrap()
            .aggregate(vec![col("customer_id")], vec![avg(col("amount"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Aggregate: groupBy=[[orders.customer_id]], aggr=[[avg(orders.amount)]]
              Federated
                Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                  Filter: orders.status = Utf8("F")
                    TableScan: orders
            "#);
    }

    /// Two tables of one database are joined inside it: one federated statement.
    #[tokio::test]
    async fn join_within_one_database_is_handed_over_together() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let customers = scan(&db, "customers").await.build().unwrap();
        let plan = scan(&db, "orders")
            .await
            .join(customers, JoinType::Inner, (vec!["customer_id"], vec!["id"]), None)
            .unwrap()
            .aggregate(vec![col("region")], vec![sum(col("amount"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r"
            Federated
              Projection: customers.region, sum(orders.amount)
                Aggregate: groupBy=[[customers.region]], aggr=[[sum(orders.amount)]]
                  Inner Join: orders.customer_id = customers.id
                    TableScan: orders
                    TableScan: customers
            ");
    }

    /// Tables of two sources are each read by their own database; the join between them (and everything above)
    /// runs here.
    #[tokio::test]
    async fn join_across_two_databases_runs_here() {
        let dir = tempfile::tempdir().unwrap();
        let shop = sqlite(dir.path(), "shop").await;
        let crm = sqlite(dir.path(), "crm").await;
        let customers = scan(&crm, "customers").await.build().unwrap();
        let plan = scan(&shop, "orders")
            .await
            .join(customers, JoinType::Inner, (vec!["customer_id"], vec!["id"]), None)
            .unwrap()
            .aggregate(vec![col("region")], vec![sum(col("amount"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r"
            Aggregate: groupBy=[[customers.region]], aggr=[[sum(orders.amount)]]
              Inner Join: orders.customer_id = customers.id
                Federated
                  Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                    TableScan: orders
                Federated
                  Projection: customers.id, customers.region
                    TableScan: customers
            ");
    }

    /// SQLite has no date type: a filter comparing a DATE stays here, above the database's scan.
    #[tokio::test]
    async fn date_filter_is_not_sent_to_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .filter(col("order_date").gt(lit(ScalarValue::Date32(Some(19_800)))))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Filter: orders.order_date > Date32("2024-03-18")
              Federated
                Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                  TableScan: orders
            "#);
    }

    /// Filters inside a scan that the database cannot run move out of it, with the limit the scan had: the scan
    /// keeps the filters it can run and reads the columns the moved ones need, and a projection restores the scan's
    /// own columns.
    #[tokio::test]
    async fn scan_filters_the_database_cannot_run_move_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let provider = db.table("orders").await.unwrap();
        let filters = vec![
            col("status").eq(lit("F")),
            col("order_date").gt(lit(ScalarValue::Date32(Some(19_800)))),
        ];
        let plan = LogicalPlanBuilder::scan_with_filters_fetch(
            "orders",
            provider_as_source(provider),
            Some(vec![0, 2]),
            filters,
            Some(5),
        )
        .unwrap()
        .build()
        .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Projection: orders.order_id, orders.amount
              Limit: skip=0, fetch=5
                Filter: orders.order_date > Date32("2024-03-18")
                  Federated
                    Projection: orders.order_id, orders.amount, orders.order_date
                      TableScan: orders projection=[order_id, amount, order_date], full_filters=[status = Utf8("F")]
            "#);
    }

    /// Scan filters the database can run all stay in the scan, handed over as they are.
    #[tokio::test]
    async fn scan_filters_the_database_can_run_stay_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let provider = db.table("orders").await.unwrap();
        let plan = LogicalPlanBuilder::scan_with_filters_fetch(
            "orders",
            provider_as_source(provider),
            None,
            vec![col("status").eq(lit("F"))],
            Some(5),
        )
        .unwrap()
        .build()
        .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Federated
              Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                TableScan: orders, full_filters=[status = Utf8("F")], fetch=5
            "#);
    }

    /// Functions SQLite lacks (btrim) run here; those every database has (upper) go down.
    #[tokio::test]
    async fn functions_the_database_lacks_run_here() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .filter(upper(col("status")).eq(lit("F")))
            .unwrap()
            .filter(btrim(vec![col("status")]).eq(lit("F")))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r#"
            Filter: btrim(orders.status) = Utf8("F")
              Federated
                Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                  Filter: upper(orders.status) = Utf8("F")
                    TableScan: orders
            "#);
    }

    /// A projection with a qualified alias (how a compiled view names its columns) runs here: the unparser would
    /// drop the qualifier.
    #[tokio::test]
    async fn projection_with_qualified_alias_runs_here() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .project(vec![col("status").alias_qualified(Some("sales"), "status")])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r"
            Projection: orders.status AS status
              Federated
                Projection: orders.order_id, orders.customer_id, orders.amount, orders.status, orders.order_date
                  TableScan: orders
            ");
    }

    /// An alias of an alias (the semantic layer aliases each model, then each join path) is handed over as one
    /// alias with the outer name, the only one visible above.
    #[tokio::test]
    async fn alias_of_an_alias_keeps_the_outer_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(dir.path(), "shop").await;
        let plan = scan(&db, "orders")
            .await
            .alias("orders_model")
            .unwrap()
            .alias("__root")
            .unwrap()
            .project(vec![ident("status")])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(pushed(plan), @r"
            Federated
              Projection: __root.status
                SubqueryAlias: __root
                  TableScan: orders
            ");
    }
}
