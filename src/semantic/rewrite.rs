//! The analyzer rule that compiles semantic SQL inside DataFusion's planner.
//!
//! The SQL planner sees each view as a table of dimension and measure columns. Before type coercion and optimization,
//! this rule finds every place a view is read — a chain of projections, filters and aliases over its scan — and
//! replaces it by a compiled plan (see [`compile`](super::compile)) with the same output schema, so everything around
//! it (CTEs, subqueries, joins, functions, ORDER BY, LIMIT) plans and runs as usual:
//! - an `Aggregate` over such a chain: `MEASURE(m)`, `SUM(m)`, `MAX(m)`, … give the measure itself; `COUNT(*)` and
//!   aggregates over dimensions run over the view's rows;
//! - a chain read any other way (`SELECT ship_mode, revenue FROM sales`, `SELECT * … LIMIT 10`): implicit aggregation
//!   by the selected dimensions.
//!
//! A subquery's SELECT list fixes its rows: one per combination of the dimensions it selects. A query around it that
//! keeps that grain (groups or selects by all of them) reads the measures as above; one that drops a dimension, or
//! filters on a measure, works on the subquery's rows, as SQL says (`SELECT MAX(revenue) FROM (SELECT region,
//! revenue FROM sales) q` is the largest region's revenue). A SELECT list with every dimension of the view is the
//! view's finest grain, where an aggregate wrapper can only mean the measure (BI tools' `SUM(x) FROM (SELECT * …)`).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchemaRef};
use datafusion::datasource::source_as_provider;
use datafusion::error::{DataFusionError, Result};
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::utils::split_conjunction_owned;
use datafusion::logical_expr::{Aggregate, BinaryExpr, Expr, LogicalPlan, LogicalPlanBuilder, Operator, cast, col};
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::ident;

use super::compile::{self, Output, Request};
use super::provider::SemanticViewTable;
use super::{SemanticError, View};

/// Aggregate functions that, written around a measure column, mean the measure itself (as BI tools write them).
const MEASURE_WRAPPERS: [&str; 8] = [
    "measure",
    "sum",
    "avg",
    "min",
    "max",
    "any_value",
    "first_value",
    "last_value",
];

#[derive(Debug, Default)]
pub struct SemanticRewrite;

impl AnalyzerRule for SemanticRewrite {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan.transform_down_with_subqueries(rewrite_node)?.data)
    }

    fn name(&self) -> &str {
        "semantic_rewrite"
    }
}

fn rewrite_node(node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let compiled = match &node {
        LogicalPlan::Aggregate(aggregate) => match relation(&aggregate.input)? {
            Some(rel) => compile_aggregate(aggregate, rel)?,
            None => None,
        },
        _ => match relation(&node)? {
            Some(rel) => Some(compile_relation(&node, rel)?),
            None => None,
        },
    };
    Ok(match compiled {
        // Subqueries in the view's filters (`region IN (SELECT … FROM customers)`) moved into the compiled plan:
        // the views they read are compiled there.
        Some(plan) => Transformed::new(
            plan.transform_down_with_subqueries(rewrite_node)?.data,
            true,
            TreeNodeRecursion::Jump,
        ),
        None => Transformed::no(node),
    })
}

/// A view read through projections, filters and aliases: what each output column and predicate means in terms of
/// the view's own (unqualified) columns.
struct Relation {
    view: Arc<View>,
    columns: Vec<Expr>,
    filters: Vec<Expr>,
    /// Read through a subquery's SELECT list: its rows are that SELECT's (one per dimension combination), not the
    /// view's, which is what `COUNT(*)` around it must count (BI tools' row-count wrappers).
    projected: bool,
    /// The dimension expressions of a subquery's SELECT list that leaves out some of the view's dimensions: an outer
    /// query that does not keep all of them works on the subquery's rows, not on the measures.
    partial_grain: Option<Vec<Expr>>,
}

impl Relation {
    /// `expr` over `input`'s output columns, rewritten over the view's columns.
    fn resolve(&self, input: &LogicalPlan, expr: &Expr) -> Result<Expr> {
        let schema = input.schema();
        Ok(expr
            .clone()
            .unalias_nested()
            .data
            .transform(|e| match e {
                Expr::Column(c) => {
                    let index = schema.index_of_column(&c)?;
                    Ok(Transformed::yes(self.columns[index].clone()))
                }
                other => Ok(Transformed::no(other)),
            })?
            .data)
    }

    /// Whether `expr` (over the view's columns) reads a measure.
    fn uses_measure(&self, expr: &Expr) -> bool {
        expr.column_refs().iter().any(|c| self.view.measure(&c.name).is_some())
    }

    /// Whether `exprs` keep the grain of the subquery this relation was read through (always, when it has none).
    fn keeps_grain(&self, exprs: &[Expr]) -> bool {
        self.partial_grain
            .as_ref()
            .is_none_or(|grain| grain.iter().all(|g| exprs.contains(g)))
    }

    /// The grain of a SELECT list `columns`: its dimension expressions, or `None` when it selects every dimension.
    fn grain_of(&self, columns: &[Expr]) -> Option<Vec<Expr>> {
        let every_dimension = self.view.dimensions.iter().all(|d| {
            columns
                .iter()
                .any(|c| matches!(c, Expr::Column(column) if column.name == d.name))
        });
        (!every_dimension).then(|| columns.iter().filter(|c| !self.uses_measure(c)).cloned().collect())
    }
}

fn relation(plan: &LogicalPlan) -> Result<Option<Relation>> {
    Ok(match plan {
        LogicalPlan::TableScan(scan) => {
            let Ok(provider) = source_as_provider(&scan.source) else {
                return Ok(None);
            };
            let Some(table) = provider.downcast_ref::<SemanticViewTable>() else {
                return Ok(None);
            };
            let view = table.view.clone();
            let fields = view.schema.fields();
            let columns = match &scan.projection {
                Some(indices) => indices.iter().map(|&i| ident(fields[i].name())).collect(),
                None => fields.iter().map(|f| ident(f.name())).collect(),
            };
            if scan.fetch.is_some() {
                return Err(unsupported("a row limit pushed into a semantic view scan"));
            }
            let filters = scan.filters.iter().map(|f| strip_qualifiers(f.clone())).collect();
            Some(Relation {
                view,
                columns,
                filters,
                projected: false,
                partial_grain: None,
            })
        }
        LogicalPlan::SubqueryAlias(alias) => relation(&alias.input)?,
        LogicalPlan::Filter(filter) => match relation(&filter.input)? {
            Some(mut rel) => {
                let predicate = rel.resolve(&filter.input, &filter.predicate)?;
                // On a measure of a subquery's rows: a filter over those rows (the subquery's HAVING).
                if rel.projected && rel.uses_measure(&predicate) {
                    return Ok(None);
                }
                rel.filters.push(predicate);
                Some(rel)
            }
            None => None,
        },
        LogicalPlan::Projection(projection) => match relation(&projection.input)? {
            Some(mut rel) => {
                let columns = projection
                    .expr
                    .iter()
                    .map(|e| rel.resolve(&projection.input, e))
                    .collect::<Result<Vec<_>>>()?;
                if !rel.keeps_grain(&columns) {
                    return Ok(None);
                }
                rel.partial_grain = rel.grain_of(&columns);
                rel.columns = columns;
                rel.projected = true;
                Some(rel)
            }
            None => None,
        },
        _ => None,
    })
}

/// The aggregate compiled as one semantic request; `None` when it must run over a subquery's rows instead (the
/// subquery is then compiled on its own as the traversal goes on).
fn compile_aggregate(aggregate: &Aggregate, rel: Relation) -> Result<Option<LogicalPlan>> {
    let input = aggregate.input.as_ref();
    let mut groups = Vec::new();
    for expr in &aggregate.group_expr {
        if matches!(expr, Expr::GroupingSet(_)) {
            return Err(unsupported("GROUPING SETS, CUBE and ROLLUP over a semantic view"));
        }
        groups.push(rel.resolve(input, expr)?);
    }
    if !rel.keeps_grain(&groups) {
        return Ok(None);
    }
    let mut outputs = groups.into_iter().map(Output::Group).collect::<Vec<_>>();
    for expr in &aggregate.aggr_expr {
        let Expr::AggregateFunction(function) = expr.clone().unalias_nested().data else {
            return Err(unsupported(&format!("aggregate expression {expr}")));
        };
        outputs.push(aggregate_output(&rel, input, function)?);
    }
    if rel.projected && outputs.iter().any(|o| matches!(o, Output::RowAggregate(_))) {
        return Ok(None);
    }
    let width = outputs.len();
    let (compiled, correlated) = compile_correlated(&rel, outputs)?;
    // A correlated subquery with no GROUP BY is one aggregate row per outer row, as DataFusion requires to see it:
    // each key's row, aggregated again over the one row its key selects.
    let compiled = if correlated && aggregate.group_expr.is_empty() {
        let values = (0..width)
            .map(|i| max(col(compile::output_name(i))).alias(compile::output_name(i)))
            .collect::<Vec<_>>();
        LogicalPlanBuilder::from(compiled)
            .aggregate(Vec::<Expr>::new(), values)?
            .build()?
    } else {
        compiled
    };
    project_onto(compiled, &aggregate.schema).map(Some)
}

/// The request compiled with the relation's filters, except those on the outer row of a correlated subquery: a
/// condition `dimension = outer column` becomes an extra grouping key (after `outputs`), selected by a filter above
/// the compiled plan, where DataFusion can pull it up into a join. Whether there were such conditions.
fn compile_correlated(rel: &Relation, mut outputs: Vec<Output>) -> Result<(LogicalPlan, bool)> {
    let mut filters = Vec::new();
    let mut keys = Vec::new();
    for condition in rel.filters.iter().cloned().flat_map(split_conjunction_owned) {
        if !condition.contains_outer() {
            filters.push(condition);
            continue;
        }
        let Some((inner, outer)) = dimension_equals_outer(&condition) else {
            return Err(unsupported(&format!(
                "the correlated condition {condition} on a semantic view (only `dimension = outer column` is)"
            )));
        };
        keys.push((outputs.len(), outer));
        outputs.push(Output::Group(inner));
    }
    let request = Request {
        view: &rel.view,
        outputs,
        filters,
    };
    let compiled = compile::compile(&request).map_err(external)?;
    let Some(selection) = keys
        .iter()
        .map(|(i, outer)| col(compile::output_name(*i)).eq(outer.clone()))
        .reduce(Expr::and)
    else {
        return Ok((compiled, false));
    };
    Ok((LogicalPlanBuilder::from(compiled).filter(selection)?.build()?, true))
}

fn aggregate_output(rel: &Relation, input: &LogicalPlan, function: AggregateFunction) -> Result<Output> {
    let name = function.func.name().to_lowercase();
    let args = function
        .params
        .args
        .iter()
        .map(|a| rel.resolve(input, a))
        .collect::<Result<Vec<_>>>()?;
    let measure_arg = match args.as_slice() {
        [Expr::Column(c)] if rel.view.measure(&c.name).is_some() => Some(c.name.clone()),
        _ => None,
    };
    if let Some(measure) = measure_arg {
        if !MEASURE_WRAPPERS.contains(&name.as_str()) || function.params.filter.is_some() {
            return Err(external(SemanticError::Unsupported(format!(
                "{}({measure}) is not supported on a measure: a measure is already aggregated; use MEASURE({measure}) or SUM({measure})",
                name.to_uppercase()
            ))));
        }
        return Ok(Output::Value(ident(measure)));
    }
    if name == "measure" {
        return Err(external(SemanticError::Invalid(
            "MEASURE() takes one measure column of a semantic view".into(),
        )));
    }
    let mut function = function;
    function.params.args = args;
    if let Some(filter) = function.params.filter.take() {
        function.params.filter = Some(Box::new(rel.resolve(input, &filter)?));
    }
    for sort in &mut function.params.order_by {
        sort.expr = rel.resolve(input, &sort.expr)?;
    }
    Ok(Output::RowAggregate(Expr::AggregateFunction(function)))
}

/// `inner = outer` (either way round), where `inner` reads only the view and `outer` only the outer row.
fn dimension_equals_outer(condition: &Expr) -> Option<(Expr, Expr)> {
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Eq,
        right,
    }) = condition
    else {
        return None;
    };
    let is_outer = |e: &Expr| e.contains_outer() && e.column_refs().is_empty();
    [(left, right), (right, left)]
        .into_iter()
        .find(|(inner, outer)| !inner.contains_outer() && is_outer(outer))
        .map(|(inner, outer)| (inner.as_ref().clone(), outer.as_ref().clone()))
}

fn compile_relation(node: &LogicalPlan, rel: Relation) -> Result<LogicalPlan> {
    let outputs = rel
        .columns
        .iter()
        .map(|expr| {
            if rel.uses_measure(expr) {
                Output::Value(expr.clone())
            } else {
                Output::Group(expr.clone())
            }
        })
        .collect();
    project_onto(compile_correlated(&rel, outputs)?.0, node.schema())
}

/// Rename and cast the compiled columns to exactly the schema the replaced node had, so its parents are unaffected.
fn project_onto(compiled: LogicalPlan, schema: &DFSchemaRef) -> Result<LogicalPlan> {
    let compiled_schema = compiled.schema().clone();
    let projection = schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let source = col(Column::new_unqualified(compile::output_name(i)));
            let value = if compiled_schema.field(i).data_type() == field.data_type() {
                source
            } else {
                cast(source, field.data_type().clone())
            };
            value.alias_qualified(qualifier.cloned(), field.name())
        })
        .collect::<Vec<_>>();
    LogicalPlanBuilder::from(compiled).project(projection)?.build()
}

fn strip_qualifiers(expr: Expr) -> Expr {
    expr.transform(|e| match e {
        Expr::Column(c) => Ok(Transformed::yes(ident(c.name))),
        other => Ok(Transformed::no(other)),
    })
    .expect("infallible")
    .data
}

fn unsupported(what: &str) -> DataFusionError {
    external(SemanticError::Unsupported(format!("{what} is not supported")))
}

fn external(error: SemanticError) -> DataFusionError {
    match error {
        SemanticError::Plan(e) => e,
        other => DataFusionError::External(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::DataType;
    use datafusion::common::Column;
    use datafusion::common::config::ConfigOptions;
    use datafusion::datasource::provider_as_source;
    use datafusion::error::Result;
    use datafusion::functions_aggregate::count::count_all;
    use datafusion::functions_aggregate::expr_fn::{avg, count, max, min, sum};
    use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, in_subquery, lit, out_ref_col, rollup};
    use datafusion::optimizer::AnalyzerRule;

    use super::SemanticRewrite;
    use crate::semantic::View;
    use crate::semantic::provider::SemanticViewTable;
    use crate::semantic::testing::{measure, sales, scan, text};

    fn rewrite(plan: LogicalPlan) -> Result<LogicalPlan> {
        SemanticRewrite.analyze(plan, &ConfigOptions::default())
    }

    /// `(SELECT <columns> FROM <view>) q`, to build a query around.
    fn subquery(view: &Arc<View>, columns: &[&str]) -> LogicalPlanBuilder {
        scan(view)
            .project(columns.iter().map(|c| col(*c)))
            .unwrap()
            .alias("q")
            .unwrap()
    }

    /// The rewritten plan's text, after checking that it kept the replaced plan's column names and types.
    fn compiled(plan: LogicalPlan) -> String {
        let before = columns(&plan);
        let rewritten = rewrite(plan).unwrap();
        assert_eq!(columns(&rewritten), before, "the rewrite changed the plan's columns");
        text(&rewritten)
    }

    fn columns(plan: &LogicalPlan) -> Vec<(String, String)> {
        plan.schema()
            .iter()
            .map(|(q, f)| {
                let name = q.map_or(f.name().clone(), |q| format!("{q}.{}", f.name()));
                (name, f.data_type().to_string())
            })
            .collect()
    }

    fn error(plan: LogicalPlan) -> String {
        rewrite(plan).expect_err("the rewrite accepted the plan").to_string()
    }

    fn aggregate(view: &Arc<View>, group: Vec<Expr>, aggregates: Vec<Expr>) -> LogicalPlan {
        scan(view).aggregate(group, aggregates).unwrap().build().unwrap()
    }

    /// The compiled plan under the projection that renames its columns to the client's.
    fn below_renaming(plan: &LogicalPlan) -> String {
        let LogicalPlan::Projection(projection) = plan else {
            panic!("not a renaming projection:\n{plan}")
        };
        text(&projection.input)
    }

    /// `MEASURE(m) … GROUP BY d` becomes one aggregate of the measure's model at its own grain, renamed back to the
    /// client's columns (`status`, `measure(sales.revenue)`) with the same types.
    #[tokio::test]
    async fn measure_by_a_dimension_of_the_root_model_is_one_aggregate() {
        let view = sales().await;
        let plan = aggregate(&view, vec![col("status")], vec![measure(col("revenue"))]);
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS status, __o1 AS measure(sales.revenue)
              Projection: __g0 AS __o0, __m_revenue AS __o1
                Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
            ");
    }

    /// SUM, AVG, MIN, MAX around a measure column mean the measure itself (as BI tools write them), exactly like
    /// MEASURE: the same compiled plan under the renaming projection.
    #[tokio::test]
    async fn aggregate_wrappers_around_a_measure_mean_the_measure() {
        let view = sales().await;
        let expected = rewrite(aggregate(&view, vec![col("status")], vec![measure(col("revenue"))])).unwrap();
        for wrapper in [sum, avg, min, max] {
            let wrapped = aggregate(&view, vec![col("status")], vec![wrapper(col("revenue"))]);
            let rewritten = rewrite(wrapped).unwrap();
            assert_eq!(below_renaming(&rewritten), below_renaming(&expected));
        }
    }

    /// COUNT of a measure is not one of the wrappers: a measure is already aggregated, so it is an error that says
    /// what to write instead.
    #[tokio::test]
    async fn count_of_a_measure_is_an_error() {
        let view = sales().await;
        let plan = aggregate(&view, vec![col("status")], vec![count(col("revenue"))]);
        insta::assert_snapshot!(error(plan), @r"External error: COUNT(revenue) is not supported on a measure: a measure is already aggregated; use MEASURE(revenue) or SUM(revenue)");
    }

    /// MEASURE() takes a measure column; around a dimension it is an error.
    #[tokio::test]
    async fn measure_of_a_dimension_is_an_error() {
        let view = sales().await;
        let plan = aggregate(&view, vec![], vec![measure(col("status"))]);
        insta::assert_snapshot!(error(plan), @r"External error: MEASURE() takes one measure column of a semantic view");
    }

    /// A WHERE on a dimension of a joined model is applied to the rows before aggregation, over the join that
    /// reaches that model (left join along the many-to-one relationship).
    #[tokio::test]
    async fn filter_on_a_joined_dimension_is_applied_before_aggregation() {
        let view = sales().await;
        let plan = scan(&view)
            .filter(col("region").eq(lit("EU")))
            .unwrap()
            .aggregate(vec![col("status")], vec![measure(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r#"
            Projection: __o0 AS status, __o1 AS measure(sales.revenue)
              Projection: __g0 AS __o0, __m_revenue AS __o1
                Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                      Filter: __root__customer.region = Utf8("EU")
                        Left Join: __root.customer_id = __root__customer.id
                          SubqueryAlias: __root
                            SubqueryAlias: orders
                              TableScan: shop.orders
                          SubqueryAlias: __root__customer
                            SubqueryAlias: customers
                              TableScan: shop.customers
            "#);
    }

    /// Filters DataFusion pushed into the view's scan (qualified by the view's name) mean the same as a Filter node
    /// above it.
    #[tokio::test]
    async fn filters_inside_the_view_scan_are_applied_like_a_filter_node() {
        let view = sales().await;
        let table = provider_as_source(Arc::new(SemanticViewTable { view: view.clone() }));
        let in_scan =
            LogicalPlanBuilder::scan_with_filters("sales", table, None, vec![col("sales.region").eq(lit("EU"))])
                .unwrap()
                .aggregate(vec![col("status")], vec![measure(col("revenue"))])
                .unwrap()
                .build()
                .unwrap();
        let above = scan(&view)
            .filter(col("region").eq(lit("EU")))
            .unwrap()
            .aggregate(vec![col("status")], vec![measure(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(compiled(in_scan), compiled(above));
    }

    /// A measure in WHERE is an error pointing to HAVING: measures exist only after aggregation.
    #[tokio::test]
    async fn filter_on_a_measure_is_an_error() {
        let view = sales().await;
        let plan = scan(&view)
            .filter(col("revenue").gt(lit(10.0)))
            .unwrap()
            .aggregate(vec![col("status")], vec![measure(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(error(plan), @r#"External error: measure "revenue" cannot be used in WHERE (filter measures with HAVING); select it, or aggregate it with MEASURE(revenue)"#);
    }

    /// A measure cannot be a grouping key.
    #[tokio::test]
    async fn grouping_by_a_measure_is_an_error() {
        let view = sales().await;
        let plan = aggregate(&view, vec![col("revenue")], vec![count_all()]);
        insta::assert_snapshot!(error(plan), @r#"External error: measure "revenue" cannot be used in GROUP BY; select it, or aggregate it with MEASURE(revenue)"#);
    }

    /// Measures of two grains (orders' revenue, customers' customer_count) are aggregated apart, each at its own
    /// model's grain, then full-joined on the group key (NULL keys match), so neither is multiplied by the join.
    #[tokio::test]
    async fn measures_of_two_grains_are_aggregated_apart_then_joined() {
        let view = sales().await;
        let plan = aggregate(
            &view,
            vec![col("region")],
            vec![measure(col("revenue")), measure(col("customer_count"))],
        );
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS region, __o1 AS measure(sales.revenue), __o2 AS measure(sales.customer_count)
              Projection: __g0 AS __o0, __m_revenue AS __o1, coalesce(__m_customer_count, Int64(0)) AS __o2
                Projection: __g0 AS __g0, __acc1.__m_revenue AS __m_revenue, __p1.__m_customer_count AS __m_customer_count
                  Projection: coalesce(__acc1.__g0, __p1.__g0) AS __g0, __acc1.__m_revenue, __p1.__m_customer_count
                    Full Join: __acc1.__g0 = __p1.__g0
                      SubqueryAlias: __acc1
                        SubqueryAlias: __p0
                          Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                            Left Join: __root.customer_id = __root__customer.id
                              SubqueryAlias: __root
                                SubqueryAlias: orders
                                  TableScan: shop.orders
                              SubqueryAlias: __root__customer
                                SubqueryAlias: customers
                                  TableScan: shop.customers
                      SubqueryAlias: __p1
                        Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[count(Int64(1)) AS __m_customer_count]]
                          SubqueryAlias: __root__customer
                            SubqueryAlias: customers
                              TableScan: shop.customers
            ");
    }

    /// A derived metric (`revenue / order_count`) is expanded into its base measures, aggregated together.
    #[tokio::test]
    async fn derived_metric_is_expanded_into_its_measures() {
        let view = sales().await;
        let plan = aggregate(&view, vec![col("status")], vec![measure(col("avg_order_value"))]);
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS status, __o1 AS measure(sales.avg_order_value)
              Projection: __g0 AS __o0, __m_revenue / __m_order_count AS __o1
                Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue, __p0.__m_order_count AS __m_order_count
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue, count(Int64(1)) AS __m_order_count]]
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
            ");
    }

    /// A view read without GROUP BY (`SELECT status, revenue FROM sales`) is aggregated implicitly by the selected
    /// dimensions.
    #[tokio::test]
    async fn plain_select_is_aggregated_by_its_dimensions() {
        let view = sales().await;
        let plan = scan(&view)
            .project(vec![col("status"), col("revenue")])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS status, __o1 AS revenue
              Projection: __g0 AS __o0, __m_revenue AS __o1
                Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
            ");
    }

    /// `SELECT * FROM sales` with no projection at all: the bare scan is one row per dimension combination with
    /// every measure.
    #[tokio::test]
    async fn bare_scan_is_aggregated_by_every_dimension() {
        let view = sales().await;
        let plan = scan(&view).build().unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS status, __o1 AS region, __o2 AS revenue, __o3 AS order_count, __o4 AS big_revenue, __o5 AS customer_count, __o6 AS avg_order_value
              Projection: __g0 AS __o0, __g1 AS __o1, __m_revenue AS __o2, coalesce(__m_order_count, Int64(0)) AS __o3, __m_big_revenue AS __o4, coalesce(__m_customer_count, Int64(0)) AS __o5, __m_revenue / coalesce(__m_order_count, Int64(0)) AS __o6
                Projection: __g0 AS __g0, __g1 AS __g1, __acc1.__m_revenue AS __m_revenue, __acc1.__m_order_count AS __m_order_count, __acc1.__m_big_revenue AS __m_big_revenue, __p1.__m_customer_count AS __m_customer_count
                  Projection: coalesce(__acc1.__g0, __p1.__g0) AS __g0, coalesce(__acc1.__g1, __p1.__g1) AS __g1, __acc1.__m_revenue, __acc1.__m_order_count, __acc1.__m_big_revenue, __p1.__m_customer_count
                    Full Join: __acc1.__g0 = __p1.__g0, __acc1.__g1 = __p1.__g1
                      SubqueryAlias: __acc1
                        SubqueryAlias: __p0
                          Aggregate: groupBy=[[__root.status AS __g0, __root__customer.region AS __g1]], aggr=[[sum(__root.amount) AS __m_revenue, count(Int64(1)) AS __m_order_count, sum(__root.amount) FILTER (WHERE __root.amount > Int64(50)) AS __m_big_revenue]]
                            Left Join: __root.customer_id = __root__customer.id
                              SubqueryAlias: __root
                                SubqueryAlias: orders
                                  TableScan: shop.orders
                              SubqueryAlias: __root__customer
                                SubqueryAlias: customers
                                  TableScan: shop.customers
                      SubqueryAlias: __p1
                        Aggregate: groupBy=[[__g0, __g1]], aggr=[[count(Int64(1)) AS __m_customer_count]]
                          Distinct:
                            Projection: __root.status AS __g0, __root__customer.region AS __g1, __root__customer.id AS __pk0
                              Filter: __root__customer.id IS NOT NULL
                                Left Join: __root.customer_id = __root__customer.id
                                  SubqueryAlias: __root
                                    SubqueryAlias: orders
                                      TableScan: shop.orders
                                  SubqueryAlias: __root__customer
                                    SubqueryAlias: customers
                                      TableScan: shop.customers
            ");
    }

    /// COUNT(*) over the view counts the view's rows (the root model joined to the grouped dimensions), not the
    /// measures' groups.
    #[tokio::test]
    async fn count_star_counts_the_views_rows() {
        let view = sales().await;
        let plan = aggregate(&view, vec![col("region")], vec![count_all(), measure(col("revenue"))]);
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS region, __o1 AS count(*), __o2 AS measure(sales.revenue)
              Projection: __g0 AS __o0, __r0 AS __o1, __m_revenue AS __o2
                Projection: __g0 AS __g0, __acc1.__m_revenue AS __m_revenue, __p1.__r0 AS __r0
                  Projection: coalesce(__acc1.__g0, __p1.__g0) AS __g0, __acc1.__m_revenue, __p1.__r0
                    Full Join: __acc1.__g0 = __p1.__g0
                      SubqueryAlias: __acc1
                        SubqueryAlias: __p0
                          Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                            Left Join: __root.customer_id = __root__customer.id
                              SubqueryAlias: __root
                                SubqueryAlias: orders
                                  TableScan: shop.orders
                              SubqueryAlias: __root__customer
                                SubqueryAlias: customers
                                  TableScan: shop.customers
                      SubqueryAlias: __p1
                        Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[count(Int64(1)) AS __r0]]
                          Left Join: __root.customer_id = __root__customer.id
                            SubqueryAlias: __root
                              SubqueryAlias: orders
                                TableScan: shop.orders
                            SubqueryAlias: __root__customer
                              SubqueryAlias: customers
                                TableScan: shop.customers
            ");
    }

    /// COUNT(*) around a subquery that selects from the view counts the subquery's rows (one per dimension
    /// combination, BI tools' row-count wrappers): the aggregate stays and the subquery below it is compiled.
    #[tokio::test]
    async fn count_star_over_a_selecting_subquery_counts_its_rows() {
        let view = sales().await;
        let plan = subquery(&view, &["status", "revenue"])
            .aggregate(Vec::<Expr>::new(), vec![count_all()])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Aggregate: groupBy=[[]], aggr=[[count(Int64(1)) AS count(*)]]
              Projection: __o0 AS status, __o1 AS revenue
                Projection: __g0 AS __o0, __m_revenue AS __o1
                  Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                    SubqueryAlias: __p0
                      Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                        SubqueryAlias: __root
                          SubqueryAlias: orders
                            TableScan: shop.orders
            ");
    }

    /// `MAX(revenue)` around a subquery with one row per status is the largest status's revenue: the aggregate stays
    /// over the compiled subquery.
    #[tokio::test]
    async fn aggregate_dropping_a_subquerys_dimension_reads_its_rows() {
        let view = sales().await;
        let plan = subquery(&view, &["status", "revenue"])
            .aggregate(Vec::<Expr>::new(), vec![max(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Aggregate: groupBy=[[]], aggr=[[max(q.revenue)]]
              Projection: __o0 AS status, __o1 AS revenue
                Projection: __g0 AS __o0, __m_revenue AS __o1
                  Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                    SubqueryAlias: __p0
                      Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                        SubqueryAlias: __root
                          SubqueryAlias: orders
                            TableScan: shop.orders
            ");
    }

    /// Grouped by every dimension the subquery selects, a wrapper around a measure is the measure at that grain.
    #[tokio::test]
    async fn aggregate_keeping_a_subquerys_grain_is_the_measure() {
        let view = sales().await;
        let plan = subquery(&view, &["status", "order_count"])
            .aggregate(vec![col("status")], vec![sum(col("order_count"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS status, __o1 AS sum(q.order_count)
              Projection: __g0 AS __o0, __m_order_count AS __o1
                Projection: __p0.__g0 AS __g0, __p0.__m_order_count AS __m_order_count
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[count(Int64(1)) AS __m_order_count]]
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
            ");
    }

    /// A subquery selecting every dimension is the view's finest grain: `SUM(order_count)` around it is the measure,
    /// compiled as one aggregate (not summed over dimension combinations, which a distinct count would not survive).
    #[tokio::test]
    async fn aggregate_over_every_dimension_is_the_measure() {
        let view = sales().await;
        let plan = subquery(&view, &["region", "status", "order_count"])
            .aggregate(Vec::<Expr>::new(), vec![sum(col("order_count"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS sum(q.order_count)
              Projection: __m_order_count AS __o0
                Projection: __p0.__m_order_count AS __m_order_count
                  SubqueryAlias: __p0
                    Aggregate: groupBy=[[]], aggr=[[count(Int64(1)) AS __m_order_count]]
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
            ");
    }

    /// A SELECT around a subquery that leaves out one of its dimensions keeps the subquery's rows.
    #[tokio::test]
    async fn select_dropping_a_subquerys_dimension_keeps_its_rows() {
        let view = sales().await;
        let plan = subquery(&view, &["status", "revenue"])
            .project(vec![col("revenue")])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: q.revenue
              Projection: __o0 AS status, __o1 AS revenue
                Projection: __g0 AS __o0, __m_revenue AS __o1
                  Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                    SubqueryAlias: __p0
                      Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                        SubqueryAlias: __root
                          SubqueryAlias: orders
                            TableScan: shop.orders
            ");
    }

    /// A filter on a measure of a subquery's rows is that subquery's HAVING.
    #[tokio::test]
    async fn filter_on_a_subquerys_measure_filters_its_rows() {
        let view = sales().await;
        let plan = subquery(&view, &["status", "revenue"])
            .filter(col("revenue").gt(lit(10)))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Filter: q.revenue > Int32(10)
              Projection: __o0 AS status, __o1 AS revenue
                Projection: __g0 AS __o0, __m_revenue AS __o1
                  Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                    SubqueryAlias: __p0
                      Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                        SubqueryAlias: __root
                          SubqueryAlias: orders
                            TableScan: shop.orders
            ");
    }

    /// A row limit inside the view's scan cannot be compiled (the view's rows are not the scan's): an error, not a
    /// silently dropped limit.
    #[tokio::test]
    async fn limit_inside_the_view_scan_is_an_error() {
        let view = sales().await;
        let table = provider_as_source(Arc::new(SemanticViewTable { view }));
        let plan = LogicalPlanBuilder::scan_with_filters_fetch("sales", table, None, vec![], Some(10))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(error(plan), @r"External error: a row limit pushed into a semantic view scan is not supported");
    }

    /// GROUPING SETS, CUBE and ROLLUP over a view are rejected.
    #[tokio::test]
    async fn rollup_is_an_error() {
        let view = sales().await;
        let plan = aggregate(&view, vec![rollup(vec![col("status")])], vec![measure(col("revenue"))]);
        insta::assert_snapshot!(error(plan), @r"External error: GROUPING SETS, CUBE and ROLLUP over a semantic view is not supported");
    }

    /// A correlated subquery over a view (`… WHERE status = outer.status`, no GROUP BY): the condition's dimension
    /// becomes an extra grouping key, selected by a filter on the outer column above the compiled plan, then
    /// aggregated again into the one row per outer row DataFusion expects of such a subquery.
    #[tokio::test]
    async fn correlated_dimension_condition_becomes_a_grouping_key() {
        let view = sales().await;
        let outer = out_ref_col(DataType::Utf8, Column::new(Some("o"), "status"));
        let plan = scan(&view)
            .filter(col("status").eq(outer))
            .unwrap()
            .aggregate(Vec::<Expr>::new(), vec![measure(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r"
            Projection: __o0 AS measure(sales.revenue)
              Aggregate: groupBy=[[]], aggr=[[max(__o0) AS __o0]]
                Filter: __o1 = outer_ref(o.status)
                  Projection: __m_revenue AS __o0, __g0 AS __o1
                    Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                      SubqueryAlias: __p0
                        Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                          SubqueryAlias: __root
                            SubqueryAlias: orders
                              TableScan: shop.orders
            ");
    }

    /// Correlated conditions other than `dimension = outer column` are rejected.
    #[tokio::test]
    async fn other_correlated_conditions_are_an_error() {
        let view = sales().await;
        let outer = out_ref_col(DataType::Utf8, Column::new(Some("o"), "status"));
        let plan = scan(&view)
            .filter(col("status").gt(outer))
            .unwrap()
            .aggregate(Vec::<Expr>::new(), vec![measure(col("revenue"))])
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(error(plan), @r"External error: the correlated condition status > outer_ref(o.status) on a semantic view (only `dimension = outer column` is) is not supported");
    }

    /// A view read inside a subquery expression (`x IN (SELECT status FROM sales)`) is compiled there too.
    #[tokio::test]
    async fn views_in_subquery_expressions_are_compiled() {
        let view = sales().await;
        let subquery = scan(&view).project(vec![col("status")]).unwrap().build().unwrap();
        let plan = LogicalPlanBuilder::values(vec![vec![lit("F")]])
            .unwrap()
            .filter(in_subquery(col("column1"), Arc::new(subquery)))
            .unwrap()
            .build()
            .unwrap();
        insta::assert_snapshot!(compiled(plan), @r#"
            Filter: column1 IN (<subquery>)
              Subquery:
                Projection: __o0 AS status
                  Projection: __g0 AS __o0
                    Projection: __p0.__g0 AS __g0
                      SubqueryAlias: __p0
                        Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[]]
                          SubqueryAlias: __root
                            SubqueryAlias: orders
                              TableScan: shop.orders
              Values: (Utf8("F"))
            "#);
    }

    /// Plans that read no semantic view are returned as they are.
    #[tokio::test]
    async fn plans_without_views_are_unchanged() {
        let plan = LogicalPlanBuilder::values(vec![vec![lit(1i64), lit("a")]])
            .unwrap()
            .aggregate(vec![col("column2")], vec![sum(col("column1"))])
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(rewrite(plan.clone()).unwrap(), plan);
    }
}
