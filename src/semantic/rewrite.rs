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
            })
        }
        LogicalPlan::SubqueryAlias(alias) => relation(&alias.input)?,
        LogicalPlan::Filter(filter) => match relation(&filter.input)? {
            Some(mut rel) => {
                let predicate = rel.resolve(&filter.input, &filter.predicate)?;
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
    let mut outputs = Vec::new();
    for expr in &aggregate.group_expr {
        if matches!(expr, Expr::GroupingSet(_)) {
            return Err(unsupported("GROUPING SETS, CUBE and ROLLUP over a semantic view"));
        }
        outputs.push(Output::Group(rel.resolve(input, expr)?));
    }
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
            let uses_measure = expr.column_refs().iter().any(|c| rel.view.measure(&c.name).is_some());
            if uses_measure {
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
