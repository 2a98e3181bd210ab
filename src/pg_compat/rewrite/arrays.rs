//! Array constructors and set-returning array forms DataFusion spells as `unnest`.

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList,
    FunctionArguments, GroupByExpr, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, OneOrManyWithParens,
    OrderByExpr, OrderByKind, Query, SelectItem, SetExpr, TableFactor, Value, ValueWithSpan,
};

use super::ast::{call, function, function_call, number, text};
/// The query of an `ARRAY(subquery)` constructor (which the parser reads as a function named `array`).
fn array_constructor_query(expr: &Expr) -> Option<&Query> {
    match expr {
        Expr::Function(Function {
            name,
            args: FunctionArguments::Subquery(query),
            ..
        }) if name.to_string().eq_ignore_ascii_case("array") => Some(query),
        _ => None,
    }
}

/// `ARRAY(SELECT f(x) FROM unnest(a) x)` → `array_transform(a, x -> f(x))`: the element-wise map psql's `\d+`
/// builds `reloptions` with, which DataFusion cannot plan as a correlated subquery over `unnest`.
pub(super) fn array_of_unnest(expr: &Expr) -> Option<Expr> {
    let query = array_constructor_query(expr)?;
    if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if select.selection.is_some() || select.having.is_some() || select.distinct.is_some() || !ungrouped {
        return None;
    }
    let ([SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }], [from]) =
        (select.projection.as_slice(), select.from.as_slice())
    else {
        return None;
    };
    let TableFactor::Table {
        name: function,
        args: Some(args),
        alias: Some(alias),
        ..
    } = &from.relation
    else {
        return None;
    };
    let is_unnest = function.0.last()?.as_ident()?.value.eq_ignore_ascii_case("unnest");
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(array))] = args.args.as_slice() else {
        return None;
    };
    // `unnest(a) x` names the element `x`, as does `unnest(a) AS t(x)`.
    let element = match alias.columns.as_slice() {
        [] => alias.name.clone(),
        [column] => column.name.clone(),
        _ => return None,
    };
    if !is_unnest || !from.joins.is_empty() {
        return None;
    }
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: element,
            data_type: None,
        }),
        body: Box::new(item.clone()),
        syntax: LambdaSyntax::Arrow,
    });
    Some(call("array_transform", vec![array.clone(), lambda]))
}

/// `ARRAY(SELECT x FROM … ORDER BY y)` → `(SELECT array_agg(x ORDER BY y) FROM …)`, a form DataFusion plans
/// (also when correlated, as psql's `\du` and `\d+` use it).
pub(super) fn array_of_subquery(expr: &Expr) -> Option<Expr> {
    let mut query = Box::new(array_constructor_query(expr)?.clone());
    let order_by = query.order_by.take();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_mut_slice()
    else {
        return None;
    };
    let mut clauses = vec![];
    if let Some(OrderByKind::Expressions(order)) = order_by.map(|o| o.kind) {
        let order = order
            .into_iter()
            .map(|o| match &o.expr {
                // `ORDER BY 1` is the projected item.
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) if n == "1" => OrderByExpr {
                    expr: item.clone(),
                    ..o
                },
                _ => o,
            })
            .collect();
        clauses.push(FunctionArgumentClause::OrderBy(order));
    }
    *item = Expr::Function(Function {
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(item.clone()))],
            clauses,
        }),
        ..function("array_agg")
    });
    Some(Expr::Subquery(query))
}

/// `information_schema._pg_expandarray(a)`, the set-returning function pgjdbc, Metabase and Tableau unnest index
/// keys with: one `(x, n)` row per element, `x` the element and `n` its 1-based position.
pub(super) fn expand_array(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    let (true, [array]) = (name == "_pg_expandarray", args.as_slice()) else {
        return None;
    };
    Some(call(
        "named_struct",
        vec![
            text("x"),
            call("unnest", vec![array.clone()]),
            text("n"),
            subscripts(array),
        ],
    ))
}

/// `generate_subscripts(a, dim)`, SQLAlchemy's way to number index keys: the positions 1…n of `a`'s elements, one
/// row each (catalog arrays here are one-dimensional).
pub(super) fn generate_subscripts(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    match (name.as_str(), args.as_slice()) {
        ("generate_subscripts", [array, _dimension]) => Some(subscripts(array)),
        _ => None,
    }
}

/// `generate_series(a, b)` in an expression is PostgreSQL's set-returning function (one row per value, as psqlODBC
/// numbers foreign-key columns with it); DataFusion's scalar `generate_series` returns a list, so it is unnested.
pub(super) fn series_rows(expr: &Expr) -> Option<Expr> {
    let (name, _) = function_call(expr)?;
    (name == "generate_series").then(|| call("unnest", vec![expr.clone()]))
}

/// One `integer` row per element of `array`, counting from 1; zipped with `unnest(array)` in the same projection.
fn subscripts(array: &Expr) -> Expr {
    let positions = call(
        "generate_series",
        vec![number("1"), call("cardinality", vec![array.clone()])],
    );
    Expr::Cast {
        kind: CastKind::DoubleColon,
        expr: Box::new(call("unnest", vec![positions])),
        data_type: DataType::Integer(None),
        array: false,
        format: None,
    }
}
