//! `IN (subquery)` inside select-list expressions, as `array_has` over the subquery's values.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, SelectItem, SetExpr, TableFactor, VisitorMut};

use super::ast::{call, scalar_subquery};
/// `x IN (SELECT c FROM …)` in a select list → `array_has((SELECT array_agg(c) FROM (SELECT c FROM …) AS s(c)), x)`:
/// DataFusion plans IN subqueries in filters, but not inside an expression it computes for each row (Grafana's
/// `CASE WHEN table_schema IN (…search path…)`). Same answer where it decides a CASE or a filter.
pub(super) struct ProjectedInSubqueries;

impl VisitorMut for ProjectedInSubqueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item {
                    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(expr, |expr| {
                        if let Expr::InSubquery {
                            expr: needle,
                            subquery,
                            negated,
                        } = expr
                        {
                            let Some(values) = values_of(subquery) else {
                                return ControlFlow::<()>::Continue(());
                            };
                            let found = call("array_has", vec![values, (**needle).clone()]);
                            *expr = if *negated {
                                Expr::UnaryOp {
                                    op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
                                    expr: Box::new(Expr::Nested(Box::new(found))),
                                }
                            } else {
                                found
                            };
                        }
                        ControlFlow::<()>::Continue(())
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// `x IN (subquery)` as a value: the subquery's answers as one array.
pub(super) fn values_of(subquery: &Query) -> Option<Expr> {
    let Expr::Subquery(mut query) = scalar_subquery(
        "SELECT array_agg(semgate_value) FROM semgate_subquery AS semgate_values(semgate_value)",
        &[],
    )?
    else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let relation = &mut select.from.first_mut()?.relation;
    let TableFactor::Table { alias, .. } = relation else {
        return None;
    };
    *relation = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(subquery.clone()),
        alias: alias.take(),
        sample: None,
    };
    Some(Expr::Subquery(query))
}
