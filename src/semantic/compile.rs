//! Semantic compilation: a request over a view's columns (group expressions, measure outputs, filters) becomes a
//! logical plan over the models' sources. Each measure is aggregated at its own model's grain, then the per-model
//! aggregates are joined on the group keys, so a measure is never multiplied by a one-to-many join (no fan-out).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, NullEquality, TableReference};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::{Expr, ExprFunctionExt, JoinType, LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::prelude::ident;

use super::SemanticError;
use super::access::RowFilter;
use super::model::{Aggregation, JoinPath, Measure, MeasureDefinition, View};

/// One output column of a compiled request, over the view's columns (unqualified).
#[derive(Debug, Clone)]
pub enum Output {
    /// A grouping key: an expression over dimensions only.
    Group(Expr),
    /// An expression over measures (and over dimensions that are themselves grouping keys).
    Value(Expr),
    /// An ordinary aggregate over dimensions (`COUNT(*)`, `MIN(order_date)`), computed over the view's rows.
    RowAggregate(Expr),
}

/// What a query asks of one view.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub view: &'a View,
    pub outputs: Vec<Output>,
    /// Predicates over dimensions, applied before aggregation.
    pub filters: Vec<Expr>,
}

/// The name of output column `i` in a compiled plan.
pub fn output_name(i: usize) -> String {
    format!("__o{i}")
}

/// The type a measure has when selected alone; it becomes the view column's type.
pub fn measure_type(view: &View, name: &str) -> Result<DataType, SemanticError> {
    let request = Request {
        view,
        outputs: vec![Output::Value(ident(name))],
        filters: vec![],
    };
    let plan = compile(&request)?;
    Ok(plan.schema().field(0).data_type().clone())
}

/// Compile a request; the plan's columns are [`output_name`]`(i)` for each output in order.
pub fn compile(request: &Request<'_>) -> Result<LogicalPlan, SemanticError> {
    let view = request.view;
    let mut group_keys: Vec<Expr> = Vec::new();
    let mut row_aggregates: Vec<Expr> = Vec::new();
    let mut outputs = Vec::with_capacity(request.outputs.len());
    for output in &request.outputs {
        match output {
            Output::Group(expr) => {
                check_no_measures(view, expr, "GROUP BY")?;
                let index = group_keys.iter().position(|k| k == expr).unwrap_or_else(|| {
                    group_keys.push(expr.clone());
                    group_keys.len() - 1
                });
                outputs.push(col(group_name(index)));
            }
            Output::RowAggregate(expr) => {
                check_no_measures(view, expr, "an aggregate over dimensions")?;
                row_aggregates.push(expr.clone());
                outputs.push(col(row_aggregate_name(row_aggregates.len() - 1)));
            }
            Output::Value(expr) => outputs.push(expand_derived(view, expr.clone())?),
        }
    }
    for filter in &request.filters {
        check_no_measures(view, filter, "WHERE (filter measures with HAVING)")?;
    }
    // Dimensions used inside a value must be grouping keys themselves.
    let outputs = outputs
        .into_iter()
        .map(|expr| replace_dimension_refs(view, expr, &group_keys))
        .collect::<Result<Vec<_>, _>>()?;

    // Base measures needed, grouped by the model (path) that owns them.
    let mut by_path: BTreeMap<JoinPath, Vec<(String, Measure)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for expr in &outputs {
        for column in columns_in_order(expr) {
            if let Some(measure) = view.measure(&column.name)
                && let MeasureDefinition::Base { path, measure: m, .. } = &measure.definition
                && seen.insert(measure.name.clone())
            {
                by_path
                    .entry(path.clone())
                    .or_default()
                    .push((measure.name.clone(), m.as_ref().clone()));
            }
        }
    }

    let mut dimension_paths: BTreeSet<JoinPath> = BTreeSet::new();
    if let Some(rows) = &view.row_filter {
        dimension_paths.extend(rows.paths.iter().cloned());
    }
    for expr in group_keys.iter().chain(&request.filters).chain(&row_aggregates) {
        for column in expr.column_refs() {
            if let Some(dim) = view.dimension(&column.name) {
                dimension_paths.insert(dim.path.clone());
            }
        }
    }

    let mut parts = Vec::new();
    for (path, measures) in &by_path {
        parts.push(measure_part(request, path, measures, &group_keys, &dimension_paths)?);
    }
    if !row_aggregates.is_empty() || parts.is_empty() {
        parts.push(row_part(request, &group_keys, &row_aggregates, &dimension_paths)?);
    }
    let several = parts.len() > 1;
    let combined = combine(parts, group_keys.len())?;

    let projection = outputs
        .into_iter()
        .enumerate()
        .map(|(i, expr)| {
            let expr = if several { zero_missing_counts(view, expr) } else { expr };
            measure_columns_to_parts(view, expr).alias(output_name(i))
        })
        .collect::<Vec<_>>();
    Ok(LogicalPlanBuilder::from(combined).project(projection)?.build()?)
}

/// A condition over `view`'s dimensions as the row filter of a restricted view (see [`View::restricted`]).
pub fn row_filter(view: &View, condition: Expr) -> Result<RowFilter, SemanticError> {
    let mut paths = BTreeSet::new();
    for column in condition.column_refs() {
        match view.dimension(&column.name) {
            Some(dimension) => {
                paths.insert(dimension.path.clone());
            }
            None => return Err(unknown_column(view, &column.name)),
        }
    }
    Ok(RowFilter {
        predicate: dimensions_at_paths(view, &condition),
        condition,
        paths,
    })
}

/// Column references in order of appearance, so compiled plans are the same every time (snapshots, cache keys).
fn columns_in_order(expr: &Expr) -> Vec<&Column> {
    let mut columns = Vec::new();
    expr.apply(|e| {
        if let Expr::Column(c) = e {
            columns.push(c);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("infallible");
    columns
}

fn group_name(i: usize) -> String {
    format!("__g{i}")
}

fn row_aggregate_name(i: usize) -> String {
    format!("__r{i}")
}

fn measure_name(name: &str) -> String {
    format!("__m_{name}")
}

fn path_alias(path: &[String]) -> String {
    if path.is_empty() {
        "__root".to_string()
    } else {
        format!("__root__{}", path.join("__"))
    }
}

fn check_no_measures(view: &View, expr: &Expr, place: &str) -> Result<(), SemanticError> {
    for column in expr.column_refs() {
        if view.measure(&column.name).is_some() {
            return Err(SemanticError::MeasureMisplaced {
                measure: column.name.clone(),
                place: place.to_string(),
            });
        }
        if view.dimension(&column.name).is_none() {
            return Err(unknown_column(view, &column.name));
        }
    }
    Ok(())
}

pub fn unknown_column(view: &View, name: &str) -> SemanticError {
    let mut known: Vec<&str> = view.dimensions.iter().map(|d| d.name.as_str()).collect();
    known.extend(view.measures.iter().map(|m| m.name.as_str()));
    SemanticError::UnknownColumn {
        view: view.name.clone(),
        column: name.to_string(),
        known: known.join(", "),
    }
}

/// Replace derived metrics by their definitions, recursively, so only base measures remain.
fn expand_derived(view: &View, expr: Expr) -> Result<Expr, SemanticError> {
    let mut depth = 0;
    let mut expr = expr;
    loop {
        let mut changed = false;
        expr = expr
            .transform(|e| match e {
                Expr::Column(c) => match view.measure(&c.name).map(|m| &m.definition) {
                    Some(MeasureDefinition::Derived { expr }) => {
                        changed = true;
                        Ok(Transformed::yes(expr.clone()))
                    }
                    _ => Ok(Transformed::no(Expr::Column(c))),
                },
                other => Ok(Transformed::no(other)),
            })?
            .data;
        depth += 1;
        if !changed {
            return Ok(expr);
        }
        if depth > 32 {
            return Err(SemanticError::Invalid(
                "derived metrics refer to each other in a cycle".into(),
            ));
        }
    }
}

fn replace_dimension_refs(view: &View, expr: Expr, group_keys: &[Expr]) -> Result<Expr, SemanticError> {
    Ok(expr
        .transform(|e| match e {
            Expr::Column(c) if view.dimension(&c.name).is_some() => {
                let key = Expr::Column(Column::new_unqualified(&c.name));
                match group_keys.iter().position(|k| *k == key) {
                    Some(i) => Ok(Transformed::yes(col(group_name(i)))),
                    None => Err(datafusion::error::DataFusionError::External(Box::new(
                        SemanticError::DimensionNotGrouped(c.name.clone()),
                    ))),
                }
            }
            Expr::Column(c) if !c.name.starts_with("__") && view.measure(&c.name).is_none() => Err(
                datafusion::error::DataFusionError::External(Box::new(unknown_column(view, &c.name))),
            ),
            other => Ok(Transformed::no(other)),
        })?
        .data)
}

fn measure_columns_to_parts(view: &View, expr: Expr) -> Expr {
    expr.transform(|e| match e {
        Expr::Column(c) if view.measure(&c.name).is_some() => Ok(Transformed::yes(col(measure_name(&c.name)))),
        other => Ok(Transformed::no(other)),
    })
    .expect("infallible")
    .data
}

/// A count missing from one side of the join of parts is zero, not unknown.
fn zero_missing_counts(view: &View, expr: Expr) -> Expr {
    expr.transform(|e| match e {
        Expr::Column(c) => match view.measure(&c.name).map(|m| &m.definition) {
            Some(MeasureDefinition::Base { measure, .. })
                if matches!(measure.aggregation, Aggregation::Count | Aggregation::CountDistinct) =>
            {
                Ok(Transformed::yes(coalesce(vec![Expr::Column(c), lit(0i64)])))
            }
            _ => Ok(Transformed::no(Expr::Column(c))),
        },
        other => Ok(Transformed::no(other)),
    })
    .expect("infallible")
    .data
}

/// Qualify a model member's columns by the alias of the join-tree node at `path`.
fn at_path(expr: &Expr, path: &[String]) -> Expr {
    let alias = path_alias(path);
    expr.clone()
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new(
                Some(TableReference::bare(alias.as_str())),
                c.name,
            )))),
            other => Ok(Transformed::no(other)),
        })
        .expect("infallible")
        .data
}

/// A view-level expression (dimension columns) rewritten over the join tree's aliases.
fn dimensions_at_paths(view: &View, expr: &Expr) -> Expr {
    expr.clone()
        .transform(|e| match e {
            Expr::Column(c) => match view.dimension(&c.name) {
                Some(dim) => Ok(Transformed::yes(at_path(&dim.dimension.expr, &dim.path))),
                None => Ok(Transformed::no(Expr::Column(c))),
            },
            other => Ok(Transformed::no(other)),
        })
        .expect("infallible")
        .data
}

/// Whether every relationship between `from` and each of `targets` keeps at most one row per `from` row.
fn all_to_one(view: &View, from: &[String], targets: &BTreeSet<JoinPath>) -> bool {
    targets.iter().all(|target| {
        let common = from.iter().zip(target).take_while(|(a, b)| a == b).count();
        let up = (common..from.len()).all(|i| {
            view.model_at(&from[..i]).relationships[&from[i]]
                .cardinality
                .is_to_one_reversed()
        });
        let down = (common..target.len()).all(|i| {
            view.model_at(&target[..i]).relationships[&target[i]]
                .cardinality
                .is_to_one()
        });
        up && down
    })
}

/// Left-join the models at `nodes` (and their ancestors) into one relation, starting from `start`.
fn join_tree(view: &View, start: &JoinPath, nodes: &BTreeSet<JoinPath>) -> Result<LogicalPlanBuilder, SemanticError> {
    // The tree spans `start` and every node: from `start` up to their common ancestor, then down to the node.
    let mut all: BTreeSet<JoinPath> = BTreeSet::from([start.clone()]);
    for node in nodes {
        let common = start.iter().zip(node).take_while(|(a, b)| a == b).count();
        all.extend((common..=start.len()).map(|len| start[..len].to_vec()));
        all.extend((common..=node.len()).map(|len| node[..len].to_vec()));
    }
    let scan = |path: &JoinPath| LogicalPlanBuilder::from(view.model_at(path).plan.clone()).alias(path_alias(path));
    let mut builder = scan(start)?;
    let mut visited: HashSet<JoinPath> = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start.clone()]);
    while let Some(node) = queue.pop_front() {
        let parent = (!node.is_empty()).then(|| node[..node.len() - 1].to_vec());
        let children = all
            .iter()
            .filter(|p| p.len() == node.len() + 1 && p.starts_with(&node))
            .cloned();
        for next in parent.into_iter().chain(children.collect::<Vec<_>>()) {
            if !all.contains(&next) || !visited.insert(next.clone()) {
                continue;
            }
            let (owner, child) = if next.len() > node.len() {
                (&node, &next)
            } else {
                (&next, &node)
            };
            let relationship = &view.model_at(owner).relationships[&child[child.len() - 1]];
            let owner_keys: Vec<Expr> = relationship.keys.iter().map(|(o, _)| at_path(o, owner)).collect();
            let child_keys: Vec<Expr> = relationship.keys.iter().map(|(_, t)| at_path(t, child)).collect();
            let (here, there) = if next.len() > node.len() {
                (owner_keys, child_keys)
            } else {
                (child_keys, owner_keys)
            };
            builder = builder.join_with_expr_keys(scan(&next)?.build()?, JoinType::Left, (here, there), None)?;
            queue.push_back(next);
        }
    }
    Ok(builder)
}

/// The rows a request reads: its filters and the rows the view grants its reader.
fn filtered(view: &View, builder: LogicalPlanBuilder, filters: &[Expr]) -> Result<LogicalPlanBuilder, SemanticError> {
    let granted = view.row_filter.as_ref().map(|rows| rows.predicate.clone());
    match filters
        .iter()
        .map(|f| dimensions_at_paths(view, f))
        .chain(granted)
        .reduce(Expr::and)
    {
        Some(predicate) => Ok(builder.filter(predicate)?),
        None => Ok(builder),
    }
}

fn aggregate(measure: &Measure, input: Option<Expr>, filter: Option<Expr>) -> Result<Expr, SemanticError> {
    let input_or_row = || input.clone().unwrap_or_else(|| lit(1i64));
    let expr = match measure.aggregation {
        Aggregation::Sum => sum(input_or_row()),
        Aggregation::Avg => avg(input_or_row()),
        Aggregation::Min => min(input_or_row()),
        Aggregation::Max => max(input_or_row()),
        Aggregation::Count => count(input_or_row()),
        Aggregation::CountDistinct => count_distinct(input_or_row()),
    };
    Ok(match filter {
        Some(f) => expr.filter(f).build()?,
        None => expr,
    })
}

/// The measures owned by the model at `path`, aggregated per group key at that model's grain.
fn measure_part(
    request: &Request<'_>,
    path: &JoinPath,
    measures: &[(String, Measure)],
    group_keys: &[Expr],
    dimension_paths: &BTreeSet<JoinPath>,
) -> Result<LogicalPlan, SemanticError> {
    let view = request.view;
    let keys: Vec<Expr> = group_keys
        .iter()
        .enumerate()
        .map(|(i, k)| dimensions_at_paths(view, k).alias(group_name(i)))
        .collect();
    if all_to_one(view, path, dimension_paths) {
        // Every requested dimension is functionally dependent on this model's rows: aggregate them directly.
        let builder = filtered(view, join_tree(view, path, dimension_paths)?, &request.filters)?;
        let aggregates = measures
            .iter()
            .map(|(name, m)| {
                let input = m.expr.as_ref().map(|e| at_path(e, path));
                let filter = m.filter.as_ref().map(|e| at_path(e, path));
                Ok(aggregate(m, input, filter)?.alias(measure_name(name)))
            })
            .collect::<Result<Vec<_>, SemanticError>>()?;
        return Ok(builder.aggregate(keys, aggregates)?.build()?);
    }
    // Some dimension lies across a one-to-many step: keep each (group, model row) once, then aggregate.
    let mut nodes = dimension_paths.clone();
    nodes.insert(path.clone());
    let builder = filtered(view, join_tree(view, &Vec::new(), &nodes)?, &request.filters)?;
    let model = view.model_at(path);
    let mut columns = keys;
    let pk: Vec<Expr> = model
        .primary_key
        .iter()
        .map(|c| at_path(&Expr::Column(c.clone()), path))
        .collect();
    columns.extend(pk.iter().enumerate().map(|(i, e)| e.clone().alias(format!("__pk{i}"))));
    for (name, m) in measures {
        if let Some(e) = &m.expr {
            columns.push(at_path(e, path).alias(format!("__in_{name}")));
        }
        if let Some(f) = &m.filter {
            columns.push(at_path(f, path).alias(format!("__f_{name}")));
        }
    }
    let deduped = builder
        .filter(pk[0].clone().is_not_null())?
        .project(columns)?
        .distinct()?;
    let aggregates = measures
        .iter()
        .map(|(name, m)| {
            let input = m.expr.as_ref().map(|_| col(format!("__in_{name}")));
            let filter = m.filter.as_ref().map(|_| col(format!("__f_{name}")));
            Ok(aggregate(m, input, filter)?.alias(measure_name(name)))
        })
        .collect::<Result<Vec<_>, SemanticError>>()?;
    let group_columns: Vec<Expr> = (0..group_keys.len()).map(|i| col(group_name(i))).collect();
    Ok(deduped.aggregate(group_columns, aggregates)?.build()?)
}

/// Group keys and ordinary aggregates over the view's own rows (the root model joined to the dimensions' models).
fn row_part(
    request: &Request<'_>,
    group_keys: &[Expr],
    row_aggregates: &[Expr],
    dimension_paths: &BTreeSet<JoinPath>,
) -> Result<LogicalPlan, SemanticError> {
    let view = request.view;
    let builder = filtered(view, join_tree(view, &Vec::new(), dimension_paths)?, &request.filters)?;
    let keys: Vec<Expr> = group_keys
        .iter()
        .enumerate()
        .map(|(i, k)| dimensions_at_paths(view, k).alias(group_name(i)))
        .collect();
    let aggregates: Vec<Expr> = row_aggregates
        .iter()
        .enumerate()
        .map(|(i, a)| dimensions_at_paths(view, a).alias(row_aggregate_name(i)))
        .collect();
    Ok(builder.aggregate(keys, aggregates)?.build()?)
}

/// Join the parts on their group keys (NULL keys match), so each key appears once with every part's values.
fn combine(parts: Vec<LogicalPlan>, key_count: usize) -> Result<LogicalPlan, SemanticError> {
    let mut parts = parts.into_iter().enumerate();
    let (_, first) = parts.next().expect("at least one part");
    let mut acc = LogicalPlanBuilder::from(first).alias("__p0")?.build()?;
    for (k, part) in parts {
        let right_alias = format!("__p{k}");
        let left_alias = format!("__acc{k}");
        let left = LogicalPlanBuilder::from(acc).alias(left_alias.as_str())?;
        let right = LogicalPlanBuilder::from(part).alias(right_alias.as_str())?.build()?;
        if key_count == 0 {
            acc = left.cross_join(right)?.build()?;
            continue;
        }
        let qualified = |alias: &str, i: usize| Column::new(Some(TableReference::bare(alias)), group_name(i));
        let left_keys: Vec<Column> = (0..key_count).map(|i| qualified(&left_alias, i)).collect();
        let right_keys: Vec<Column> = (0..key_count).map(|i| qualified(&right_alias, i)).collect();
        let joined = left.join_detailed(
            right,
            JoinType::Full,
            (left_keys, right_keys),
            None,
            NullEquality::NullEqualsNull,
        )?;
        let mut projection: Vec<Expr> = (0..key_count)
            .map(|i| {
                coalesce(vec![
                    Expr::Column(qualified(&left_alias, i)),
                    Expr::Column(qualified(&right_alias, i)),
                ])
                .alias(group_name(i))
            })
            .collect();
        let schema = joined.schema().clone();
        projection.extend(
            schema
                .iter()
                .filter(|(_, f)| !f.name().starts_with("__g"))
                .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name()))),
        );
        acc = joined.project(projection)?.build()?;
    }
    // Strip part qualifiers so later references by bare name resolve.
    let schema = acc.schema().clone();
    let unqualified: Vec<Expr> = schema
        .iter()
        .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())).alias(f.name()))
        .collect();
    Ok(LogicalPlanBuilder::from(acc).project(unqualified)?.build()?)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::functions_aggregate::count::count_all;
    use datafusion::logical_expr::{col, lit};

    use super::{Output, Request, compile, measure_type, row_filter};
    use crate::semantic::testing::{sales, text};
    use crate::semantic::{SemanticError, View};

    fn request(view: &View, outputs: Vec<Output>, filters: Vec<datafusion::logical_expr::Expr>) -> Request<'_> {
        Request { view, outputs, filters }
    }

    fn compiled(view: &View, outputs: Vec<Output>) -> String {
        text(&compile(&request(view, outputs, vec![])).unwrap())
    }

    fn error(view: &View, outputs: Vec<Output>, filters: Vec<datafusion::logical_expr::Expr>) -> SemanticError {
        compile(&request(view, outputs, filters)).expect_err("the request compiled")
    }

    /// The compiled plan's columns are `__o0, __o1, …`, one per output in the request's order, whatever their kind.
    #[tokio::test]
    async fn outputs_are_named_by_position() {
        let view = sales().await;
        let outputs = vec![
            Output::Value(col("revenue")),
            Output::Group(col("status")),
            Output::RowAggregate(count_all()),
        ];
        let plan = compile(&request(&view, outputs, vec![])).unwrap();
        let names: Vec<_> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["__o0", "__o1", "__o2"]);
    }

    /// A grouping key asked for twice is grouped by once; both outputs read it.
    #[tokio::test]
    async fn repeated_group_key_is_grouped_once() {
        let view = sales().await;
        let outputs = vec![
            Output::Group(col("status")),
            Output::Value(col("revenue")),
            Output::Group(col("status")),
        ];
        insta::assert_snapshot!(compiled(&view, outputs), @r"
            Projection: __g0 AS __o0, __m_revenue AS __o1, __g0 AS __o2
              Projection: __p0.__g0 AS __g0, __p0.__m_revenue AS __m_revenue
                SubqueryAlias: __p0
                  Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) AS __m_revenue]]
                    SubqueryAlias: __root
                      SubqueryAlias: orders
                        TableScan: shop.orders
            ");
    }

    /// A measure's own filter (`filter: amount > 50`) becomes the aggregate's FILTER clause, not a WHERE: other
    /// measures of the same model still see every row.
    #[tokio::test]
    async fn measure_filter_is_an_aggregate_filter() {
        let view = sales().await;
        let outputs = vec![
            Output::Group(col("status")),
            Output::Value(col("big_revenue")),
            Output::Value(col("revenue")),
        ];
        insta::assert_snapshot!(compiled(&view, outputs), @r"
            Projection: __g0 AS __o0, __m_big_revenue AS __o1, __m_revenue AS __o2
              Projection: __p0.__g0 AS __g0, __p0.__m_big_revenue AS __m_big_revenue, __p0.__m_revenue AS __m_revenue
                SubqueryAlias: __p0
                  Aggregate: groupBy=[[__root.status AS __g0]], aggr=[[sum(__root.amount) FILTER (WHERE __root.amount > Int64(50)) AS __m_big_revenue, sum(__root.amount) AS __m_revenue]]
                    SubqueryAlias: __root
                      SubqueryAlias: orders
                        TableScan: shop.orders
            ");
    }

    /// A measure at the grain of a many-to-one target (customers' count) grouped by a dimension of the root (order
    /// status) crosses a one-to-many step: each (group, customer) pair is kept once (DISTINCT over the group key and
    /// the customer's primary key) before counting.
    #[tokio::test]
    async fn measure_across_a_one_to_many_step_is_deduplicated() {
        let view = sales().await;
        let outputs = vec![Output::Group(col("status")), Output::Value(col("customer_count"))];
        insta::assert_snapshot!(compiled(&view, outputs), @r"
            Projection: __g0 AS __o0, __m_customer_count AS __o1
              Projection: __p0.__g0 AS __g0, __p0.__m_customer_count AS __m_customer_count
                SubqueryAlias: __p0
                  Aggregate: groupBy=[[__g0]], aggr=[[count(Int64(1)) AS __m_customer_count]]
                    Distinct:
                      Projection: __root.status AS __g0, __root__customer.id AS __pk0
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

    /// When parts of two grains are joined, a count that one side lacks for a key is 0, not NULL.
    #[tokio::test]
    async fn counts_missing_from_one_part_are_zero() {
        let view = sales().await;
        let outputs = vec![
            Output::Group(col("region")),
            Output::Value(col("order_count")),
            Output::Value(col("customer_count")),
            Output::Value(col("revenue")),
        ];
        insta::assert_snapshot!(compiled(&view, outputs), @r"
            Projection: __g0 AS __o0, coalesce(__m_order_count, Int64(0)) AS __o1, coalesce(__m_customer_count, Int64(0)) AS __o2, __m_revenue AS __o3
              Projection: __g0 AS __g0, __acc1.__m_order_count AS __m_order_count, __acc1.__m_revenue AS __m_revenue, __p1.__m_customer_count AS __m_customer_count
                Projection: coalesce(__acc1.__g0, __p1.__g0) AS __g0, __acc1.__m_order_count, __acc1.__m_revenue, __p1.__m_customer_count
                  Full Join: __acc1.__g0 = __p1.__g0
                    SubqueryAlias: __acc1
                      SubqueryAlias: __p0
                        Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[count(Int64(1)) AS __m_order_count, sum(__root.amount) AS __m_revenue]]
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

    /// Request filters are dimension predicates over the join tree's aliases, applied before aggregation, and they
    /// bring in the models they read even when no output needs them.
    #[tokio::test]
    async fn filters_join_the_models_they_read() {
        let view = sales().await;
        let outputs = vec![Output::Value(col("revenue"))];
        let plan = compile(&request(&view, outputs, vec![col("region").eq(lit("EU"))])).unwrap();
        insta::assert_snapshot!(text(&plan), @r#"
            Projection: __m_revenue AS __o0
              Projection: __p0.__m_revenue AS __m_revenue
                SubqueryAlias: __p0
                  Aggregate: groupBy=[[]], aggr=[[sum(__root.amount) AS __m_revenue]]
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

    /// Row aggregates alone (`COUNT(*)` by a dimension) read the view's rows: no measure part.
    #[tokio::test]
    async fn row_aggregates_alone_read_the_rows() {
        let view = sales().await;
        let outputs = vec![Output::Group(col("region")), Output::RowAggregate(count_all())];
        insta::assert_snapshot!(compiled(&view, outputs), @r"
            Projection: __g0 AS __o0, __r0 AS __o1
              Projection: __p0.__g0 AS __g0, __p0.__r0 AS __r0
                SubqueryAlias: __p0
                  Aggregate: groupBy=[[__root__customer.region AS __g0]], aggr=[[count(Int64(1)) AS count(*) AS __r0]]
                    Left Join: __root.customer_id = __root__customer.id
                      SubqueryAlias: __root
                        SubqueryAlias: orders
                          TableScan: shop.orders
                      SubqueryAlias: __root__customer
                        SubqueryAlias: customers
                          TableScan: shop.customers
            ");
    }

    /// An unknown column is an error that lists the view's columns (dimensions, then measures).
    #[tokio::test]
    async fn unknown_column_lists_the_views_columns() {
        let view = sales().await;
        let group = error(&view, vec![Output::Group(col("nope"))], vec![]);
        insta::assert_snapshot!(group, @r#"column "nope" does not exist in view "sales"; its columns are: status, region, revenue, order_count, big_revenue, customer_count, avg_order_value"#);
        let value = error(&view, vec![Output::Value(col("nope"))], vec![]);
        insta::assert_snapshot!(value, @r#"External error: column "nope" does not exist in view "sales"; its columns are: status, region, revenue, order_count, big_revenue, customer_count, avg_order_value"#);
    }

    /// Measures belong in values only: as a grouping key, in a filter or inside a row aggregate they are
    /// [`SemanticError::MeasureMisplaced`], naming the place.
    #[tokio::test]
    async fn measures_outside_values_are_misplaced() {
        let view = sales().await;
        let grouped = error(&view, vec![Output::Group(col("revenue"))], vec![]);
        let filtered = error(
            &view,
            vec![Output::Value(col("revenue"))],
            vec![col("order_count").gt(lit(1i64))],
        );
        let counted = error(
            &view,
            vec![Output::RowAggregate(datafusion::functions_aggregate::expr_fn::count(
                col("revenue"),
            ))],
            vec![],
        );
        for (error, place) in [
            (grouped, "GROUP BY"),
            (filtered, "WHERE (filter measures with HAVING)"),
            (counted, "an aggregate over dimensions"),
        ] {
            assert!(
                matches!(&error, SemanticError::MeasureMisplaced { place: p, .. } if p == place),
                "{error:?}"
            );
        }
    }

    /// A dimension used in a value must be a grouping key of the request.
    #[tokio::test]
    async fn dimension_in_a_value_must_be_grouped() {
        let view = sales().await;
        let error = error(&view, vec![Output::Value(col("status"))], vec![]);
        insta::assert_snapshot!(error, @r#"External error: dimension "status" must appear in GROUP BY to be used next to measures"#);
    }

    /// The type of a measure column is that of its compiled aggregate: SUM of a float is a float, COUNT an Int64,
    /// a derived ratio a float.
    #[tokio::test]
    async fn measure_types_are_their_aggregates_types() {
        let view = sales().await;
        assert_eq!(measure_type(&view, "revenue").unwrap(), DataType::Float64);
        assert_eq!(measure_type(&view, "order_count").unwrap(), DataType::Int64);
        assert_eq!(measure_type(&view, "avg_order_value").unwrap(), DataType::Float64);
    }

    /// A row filter's condition over view dimensions is rewritten over the join tree's aliases and records the
    /// join paths it needs; a condition on a non-dimension is an unknown column.
    #[tokio::test]
    async fn row_filter_is_over_the_join_tree() {
        let view = sales().await;
        let rows = row_filter(&view, col("region").eq(lit("EU"))).unwrap();
        assert_eq!(rows.predicate.to_string(), "__root__customer.region = Utf8(\"EU\")");
        assert_eq!(
            rows.paths.into_iter().collect::<Vec<_>>(),
            [vec!["customer".to_string()]]
        );
        let error = row_filter(&view, col("revenue").gt(lit(1.0))).unwrap_err();
        assert!(matches!(error, SemanticError::UnknownColumn { .. }), "{error:?}");
    }
}
