//! Correlated subqueries reshaped into forms DataFusion decorrelates.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident, LimitClause,
    OrderBy, OrderByKind, Query, Select, SelectItem, SetExpr, SetOperator, TableAliasColumnDef, TableFactor, Visit,
    Visitor, With,
};

use super::ast::{and, call, conjuncts, contains_aggregate, contains_subquery, is_one, number, when};
/// A scalar subquery that refers to the outer query must, for DataFusion, be visibly one row: its single projected
/// expression is wrapped in `max()` unless it aggregates already, or in `first_value(e ORDER BY k)` when the subquery
/// picks its first row with `ORDER BY k LIMIT 1`. PostgreSQL raises an error when such a subquery returns several
/// rows; catalog queries are written so that it never does.
pub(super) fn aggregate_correlated_subquery(query: &mut Query) {
    let first_row_order = match (&query.order_by, &query.limit_clause) {
        (None, None) => None,
        (
            Some(OrderBy {
                kind: OrderByKind::Expressions(keys),
                ..
            }),
            Some(LimitClause::LimitOffset {
                limit: Some(limit),
                offset: None,
                limit_by,
            }),
        ) if limit_by.is_empty() && is_one(limit) => Some(keys.clone()),
        _ => return,
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if grouped || select.having.is_some() || select.distinct.is_some() {
        return;
    }
    let local = local_relations(select);
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_mut_slice()
    else {
        return;
    };
    if contains_aggregate(item) || !refers_outside(&select.selection, item, &local) {
        return;
    }
    *item = match first_row_order {
        None => call("max", vec![item.clone()]),
        Some(keys) => {
            let mut first = call("first_value", vec![item.clone()]);
            if let Expr::Function(Function {
                args: FunctionArguments::List(list),
                ..
            }) = &mut first
            {
                list.clauses.push(FunctionArgumentClause::OrderBy(keys));
            }
            query.order_by = None;
            query.limit_clause = None;
            first
        }
    };
}

/// `(WITH RECURSIVE r(c) AS (SELECT a FROM t WHERE t.k = o.x UNION ALL SELECT … FROM t, r AS s WHERE …) SELECT e FROM
/// r …)` → `(WITH RECURSIVE r(c, __outer_key) AS (SELECT a, t.k FROM t UNION ALL SELECT …, s.__outer_key FROM t, r AS
/// s WHERE …) SELECT e FROM r WHERE r.__outer_key = o.x …)`: DataFusion cannot plan a recursive CTE that refers to the
/// outer row (asyncpg resolves a domain's base type so), so the recursion runs from every start row at once, each row
/// carrying the key of the row it started from, and the correlation moves to the subquery's own condition, where
/// DataFusion decorrelates it into a join.
pub(super) fn carry_outer_key_through_recursion(query: &mut Query) {
    let Some(With {
        recursive: true,
        cte_tables,
        ..
    }) = &mut query.with
    else {
        return;
    };
    let SetExpr::Select(body) = query.body.as_mut() else {
        return;
    };
    for cte in cte_tables {
        let name = cte.alias.name.value.to_lowercase();
        let SetExpr::SetOperation {
            op: SetOperator::Union,
            left,
            right,
            ..
        } = cte.query.body.as_mut()
        else {
            continue;
        };
        let (SetExpr::Select(anchor), SetExpr::Select(step)) = (left.as_mut(), right.as_mut()) else {
            continue;
        };
        let (Some(step_reference), Some(body_reference)) =
            (relation_reference(step, &name), relation_reference(body, &name))
        else {
            continue;
        };
        let Some((start, outer)) = take_outer_equality(anchor) else {
            continue;
        };
        let key = Ident::new(OUTER_KEY);
        anchor.projection.push(SelectItem::ExprWithAlias {
            expr: start,
            alias: key.clone(),
        });
        if !cte.alias.columns.is_empty() {
            cte.alias.columns.push(TableAliasColumnDef::from_name(OUTER_KEY));
        }
        let column = |relation: Ident| Expr::CompoundIdentifier(vec![relation, key.clone()]);
        step.projection.push(SelectItem::UnnamedExpr(column(step_reference)));
        let correlation = Expr::BinaryOp {
            left: Box::new(column(body_reference)),
            op: BinaryOperator::Eq,
            right: Box::new(outer),
        };
        body.selection = Some(match body.selection.take() {
            Some(condition) => and(condition, correlation),
            None => correlation,
        });
        return;
    }
}

/// The column [`carry_outer_key_through_recursion`] adds to a recursive CTE.
const OUTER_KEY: &str = "__outer_key";

/// How a SELECT's FROM names the relation `name` (its alias, else its name), if it reads it.
fn relation_reference(select: &Select, name: &str) -> Option<Ident> {
    select
        .from
        .iter()
        .flat_map(|from| std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)))
        .find_map(|relation| match relation {
            TableFactor::Table { name: table, alias, .. }
                if table.0.len() == 1 && table.0[0].as_ident()?.value.eq_ignore_ascii_case(name) =>
            {
                Some(
                    alias
                        .as_ref()
                        .map_or_else(|| table.0[0].as_ident().cloned(), |a| Some(a.name.clone()))?,
                )
            }
            _ => None,
        })
}

/// Removes from the SELECT's condition an equality between its own expression and one of the outer row's, and
/// returns both sides (own, outer).
fn take_outer_equality(select: &mut Select) -> Option<(Expr, Expr)> {
    let local = local_relations(select);
    let mut conditions = conjuncts(select.selection.take()?);
    let found = conditions.iter().find_map(|condition| {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = condition
        else {
            return None;
        };
        let own = |e: &Expr| !refers_outside(&None, e, &local) && !contains_subquery(e);
        [(left, right), (right, left)]
            .into_iter()
            .find(|(own_side, outer_side)| own(own_side) && names_only_outer_columns(outer_side, &local))
            .map(|(own_side, outer_side)| (condition.clone(), (*own_side.clone(), *outer_side.clone())))
    });
    if let Some((condition, _)) = &found {
        conditions.retain(|c| c != condition);
    }
    select.selection = conditions.into_iter().reduce(and);
    found.map(|(_, sides)| sides)
}

/// `(SELECT e FROM t WHERE outer_condition AND rest)` → `CASE WHEN outer_condition THEN (SELECT e FROM t WHERE rest)
/// END`: a condition on the outer row alone (SQLAlchemy's `pg_attribute.attidentity != ''` in its identity lookup)
/// is one DataFusion cannot decorrelate, and it only decides whether the subquery has rows at all. Removes those
/// conditions from the subquery and returns them.
pub(super) fn take_outer_conditions(query: &mut Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let local = local_relations(select);
    let (outer, inner): (Vec<Expr>, Vec<Expr>) = conjuncts(select.selection.take()?)
        .into_iter()
        .partition(|condition| names_only_outer_columns(condition, &local));
    select.selection = inner.into_iter().reduce(and);
    outer.into_iter().reduce(and)
}

/// `(SELECT f(t.a, o.b) FROM t WHERE p)` → `CASE WHEN (SELECT count(*) FROM t WHERE p) > 0 THEN f((SELECT max(t.a)
/// FROM t WHERE p), o.b) END`: DataFusion cannot decorrelate an outer column in a subquery's result, only in its
/// condition, so each of the subquery's own columns becomes a subquery of its own (SQLAlchemy builds its identity
/// and collation options this way). Same answer for a subquery of at most one row, as a scalar subquery must be.
pub(super) fn spread_outer_projection(query: &Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if grouped || select.having.is_some() || select.distinct.is_some() {
        return None;
    }
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] = select.projection.as_slice()
    else {
        return None;
    };
    let local = local_relations(select);
    if contains_aggregate(item) || !refers_outside(&None, item, &local) {
        return None;
    }
    let with_projection = |projection: Expr| {
        let mut copy = query.clone();
        if let SetExpr::Select(select) = copy.body.as_mut() {
            select.projection = vec![SelectItem::UnnamedExpr(projection)];
        }
        Expr::Subquery(Box::new(copy))
    };
    let mut value = item.clone();
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(&mut value, |expr| {
        let own_column = match expr {
            Expr::Identifier(_) => true,
            Expr::CompoundIdentifier(idents) => local.contains(&qualifier(idents)),
            _ => false,
        };
        if own_column {
            *expr = with_projection(call("max", vec![expr.clone()]));
        }
        ControlFlow::<()>::Continue(())
    });
    let rows = with_projection(call("count", vec![Expr::Wildcard(AttachedToken::empty())]));
    let exists = Expr::BinaryOp {
        left: Box::new(rows),
        op: BinaryOperator::Gt,
        right: Box::new(number("0")),
    };
    Some(when(exists, value))
}

/// Whether `condition` names columns, all of them qualified by relations outside the subquery, and no subquery.
fn names_only_outer_columns(condition: &Expr, local: &HashSet<String>) -> bool {
    struct Columns<'a> {
        local: &'a HashSet<String>,
        outer: bool,
    }
    impl Visitor for Columns<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::CompoundIdentifier(idents) => {
                    if self.local.contains(&qualifier(idents)) {
                        return ControlFlow::Break(());
                    }
                    self.outer = true;
                }
                Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                    return ControlFlow::Break(());
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut columns = Columns { local, outer: false };
    condition.visit(&mut columns).is_continue() && columns.outer
}

/// What qualifies a compound column name (`pg_catalog.pg_class` in `pg_catalog.pg_class.oid`), lower case, as
/// [`relation_names`] spells it.
fn qualifier(idents: &[Ident]) -> String {
    idents[..idents.len() - 1]
        .iter()
        .map(|i| i.value.to_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// The names by which a SELECT's own FROM items can be referred to.
fn local_relations(select: &Select) -> HashSet<String> {
    select
        .from
        .iter()
        .flat_map(|from| std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)))
        .flat_map(relation_names)
        .collect()
}

/// How columns of a FROM item can be qualified: its alias, or its name with and without schema.
fn relation_names(relation: &TableFactor) -> Vec<String> {
    match relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
            vec![alias.name.value.to_lowercase()]
        }
        TableFactor::Table { name, .. } => {
            let parts: Vec<String> = name.0.iter().map(|p| p.to_string().to_lowercase()).collect();
            (0..parts.len()).map(|start| parts[start..].join(".")).collect()
        }
        _ => vec![],
    }
}

/// Whether the subquery's condition or item names a qualifier none of its own FROM items has.
fn refers_outside(selection: &Option<Expr>, item: &Expr, local: &HashSet<String>) -> bool {
    struct Outside<'a>(&'a HashSet<String>);
    impl Visitor for Outside<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(idents) = expr
                && !self.0.contains(&qualifier(idents))
            {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut outside = Outside(local);
    selection.visit(&mut outside).is_break() || item.visit(&mut outside).is_break()
}
