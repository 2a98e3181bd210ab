//! Sort keys with subqueries, computed in a projection below the sort.

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, OrderBy, OrderByKind, Query, SelectItem, SetExpr, TableAlias, TableFactor,
    TableWithJoins, Value, ValueWithSpan,
};

use super::ast::contains_subquery;
/// `SELECT a, b FROM … ORDER BY <expr with a subquery>, 1` → `SELECT a, b FROM (SELECT a, b, <expr> AS
/// "__order_by_0" FROM …) AS "__ordered" ORDER BY "__order_by_0", 1`: DataFusion computes subqueries in projections
/// and filters only, not in a sort (Grafana lists the tables on the search path first this way). Only for a plain
/// SELECT whose other sort keys are output columns, by position or name, so they mean the same outside.
pub(super) fn order_by_subqueries(query: &mut Query) {
    let Some(OrderBy {
        kind: OrderByKind::Expressions(keys),
        ..
    }) = &query.order_by
    else {
        return;
    };
    if !keys.iter().any(|key| contains_subquery(&key.expr)) {
        return;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if !ungrouped || select.having.is_some() || select.distinct.is_some() {
        return;
    }
    let Some(names) = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(ident.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(idents)) => idents.last().cloned(),
            _ => None,
        })
        .collect::<Option<Vec<Ident>>>()
    else {
        return;
    };
    let is_output_column = |expr: &Expr| match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(..),
            ..
        }) => true,
        Expr::Identifier(ident) => names.iter().any(|name| name.value == ident.value),
        _ => false,
    };
    if !keys
        .iter()
        .all(|key| contains_subquery(&key.expr) || is_output_column(&key.expr))
    {
        return;
    }
    let mut inner = select.as_ref().clone();
    let mut keys = keys.clone();
    for (position, key) in keys.iter_mut().enumerate() {
        if contains_subquery(&key.expr) {
            let name = Ident::with_quote('"', format!("__order_by_{position}"));
            inner.projection.push(SelectItem::ExprWithAlias {
                expr: std::mem::replace(&mut key.expr, Expr::Identifier(name.clone())),
                alias: name,
            });
        }
    }
    let derived = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(Query {
            with: None,
            body: Box::new(SetExpr::Select(Box::new(inner))),
            order_by: None,
            limit_clause: None,
            fetch: None,
            locks: vec![],
            for_clause: None,
            settings: None,
            format_clause: None,
            pipe_operators: vec![],
        }),
        alias: Some(TableAlias {
            explicit: true,
            name: Ident::with_quote('"', "__ordered"),
            columns: vec![],
            at: None,
        }),
        sample: None,
    };
    let mut outer = select.as_ref().clone();
    outer.projection = names
        .into_iter()
        .map(|name| SelectItem::UnnamedExpr(Expr::Identifier(name)))
        .collect();
    outer.from = vec![TableWithJoins {
        relation: derived,
        joins: vec![],
    }];
    outer.selection = None;
    *query.body = SetExpr::Select(Box::new(outer));
    if let Some(OrderBy {
        kind: OrderByKind::Expressions(original),
        ..
    }) = &mut query.order_by
    {
        *original = keys;
    }
}
