//! Building and reading sqlparser's AST: calls, literals, templates with holes, and the questions rewrites ask of
//! expressions. Nothing here prints a client's SQL to parse it again.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Query, SelectItem, SetExpr, Statement, TableAlias, TableFactor, Value,
    ValueWithSpan, Visit, VisitMut, Visitor,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
/// A scalar subquery from a constant template whose holes (identifiers named in `holes`) receive the client's
/// expressions as they are: see [`query_template`].
pub(super) fn scalar_subquery(template: &str, holes: &[(&str, &Expr)]) -> Option<Expr> {
    query_template(template, holes).map(Expr::Subquery)
}

/// A query from a constant template whose holes (identifiers named in `holes`) receive the client's expressions as
/// they are: nothing a client wrote is printed and parsed again, so nothing it wrote can fail to. `None` only if the
/// template itself does not parse, which the tests rule out.
pub(super) fn query_template(template: &str, holes: &[(&str, &Expr)]) -> Option<Box<Query>> {
    let Statement::Query(mut query) = Parser::parse_sql(&PostgreSqlDialect {}, template).ok()?.pop()? else {
        return None;
    };
    fill_holes(query.as_mut(), holes);
    Some(query)
}

/// `(query) AS alias`: a derived table.
pub(super) fn derived(query: Box<Query>, alias: Ident) -> TableFactor {
    TableFactor::Derived {
        lateral: false,
        subquery: query,
        alias: Some(TableAlias {
            explicit: true,
            name: alias,
            columns: vec![],
            at: None,
        }),
        sample: None,
    }
}

/// The alias of a query's first select item (one the template names: `SELECT … AS semgate_column`) set to `alias`,
/// and its FROM set to `relation` (the template's `FROM semgate_relation`) when given.
pub(super) fn name_first_item(query: &mut Query, alias: Ident, relation: Option<TableFactor>) -> Option<()> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let named = select.projection.iter_mut().find_map(|item| match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias),
        _ => None,
    })?;
    *named = alias;
    if let Some(relation) = relation {
        select.from.first_mut()?.relation = relation;
    }
    Some(())
}

/// Put each hole's expression where the identifier naming it stands.
pub(super) fn fill_holes<T: VisitMut>(node: &mut T, holes: &[(&str, &Expr)]) {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(node, |expr| {
        if let Expr::Identifier(ident) = expr
            && let Some((_, value)) = holes.iter().find(|(name, _)| ident.value == *name)
        {
            *expr = (*value).clone();
        }
        ControlFlow::<()>::Continue(())
    });
}

/// A plain (not window) function call's lower-case unqualified name, whatever its arguments (`count(*)`).
pub(super) fn function_name(expr: &Expr) -> Option<String> {
    let Expr::Function(Function { name, over: None, .. }) = expr else {
        return None;
    };
    Some(name.0.last()?.as_ident()?.value.to_lowercase())
}

/// A plain function call's lower-case unqualified name and arguments.
pub(super) fn function_call(expr: &Expr) -> Option<(String, Vec<Expr>)> {
    let Expr::Function(Function {
        name, args, over: None, ..
    }) = expr
    else {
        return None;
    };
    let name = name.0.last()?.as_ident()?.value.to_lowercase();
    let args = match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        FunctionArguments::None => vec![],
        FunctionArguments::Subquery(_) => return None,
    };
    Some((name, args))
}

pub(super) fn function(name: &str) -> Function {
    function_named(ObjectName::from(vec![Ident::new(name)]))
}

/// A call of `name` without arguments or clauses, to fill in.
fn function_named(name: ObjectName) -> Function {
    Function {
        name,
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::None,
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }
}

pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    let args = args
        .into_iter()
        .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
        .collect();
    call_with(ObjectName::from(vec![Ident::new(name)]), args)
}

/// A call of the function `name` (perhaps schema-qualified) with `args` as written.
pub(super) fn call_with(name: ObjectName, args: Vec<FunctionArg>) -> Expr {
    Expr::Function(Function {
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        ..function_named(name)
    })
}

pub(super) fn null() -> Expr {
    Expr::Value(Value::Null.into())
}

pub(super) fn text(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.into()).into())
}

pub(super) fn number(n: &str) -> Expr {
    Expr::Value(Value::Number(n.into(), false).into())
}

/// A type's bare lower-case name: `pg_catalog.regclass` and `REGCLASS` are both `regclass`.
pub(super) fn type_name(data_type: &DataType) -> String {
    let name = data_type.to_string().to_lowercase();
    name.strip_prefix("pg_catalog.").unwrap_or(&name).to_string()
}

pub(super) fn is_text_type(data_type: &DataType) -> bool {
    matches!(
        type_name(data_type).as_str(),
        "text" | "varchar" | "character varying" | "name"
    )
}

pub(super) fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// `CASE WHEN condition THEN value END`.
pub(super) fn when(condition: Expr, value: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition,
            result: value,
        }],
        else_result: None,
    }
}

pub(super) fn conjuncts(expr: Expr) -> Vec<Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut all = conjuncts(*left);
            all.extend(conjuncts(*right));
            all
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(*inner)
        }
        other => vec![other],
    }
}

pub(super) fn and(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::And,
        right: Box::new(right),
    }
}

/// A text constant, also when written as a concatenation of literals (SQLAlchemy's `'pg/_' || '%'`).
pub(super) fn constant_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s),
            ..
        }) => Some(s.clone()),
        Expr::Nested(inner) => constant_text(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => Some(constant_text(left)? + &constant_text(right)?),
        _ => None,
    }
}

pub(super) fn contains_subquery(expr: &Expr) -> bool {
    struct Subqueries;
    impl Visitor for Subqueries {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    expr.visit(&mut Subqueries).is_break()
}

pub(super) fn contains_aggregate(expr: &Expr) -> bool {
    struct Aggregates;
    impl Visitor for Aggregates {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match function_name(expr) {
                Some(name) if AGGREGATES.contains(&name.as_str()) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            // An aggregate inside a nested subquery does not aggregate this one.
            ControlFlow::Continue(())
        }
    }
    expr.visit(&mut Aggregates).is_break()
}

/// Aggregate functions: a scalar subquery projecting one of them already returns at most one row.
const AGGREGATES: [&str; 17] = [
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "first_value",
    "last_value",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "median",
    "measure",
];

pub(super) fn is_one(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n == "1")
}

/// The projection of a query's outermost SELECT (the first branch of a set operation), which names its result.
pub(super) fn outer_projection(statement: &mut Statement) -> Option<&mut Vec<SelectItem>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    match body {
        SetExpr::Select(select) => Some(&mut select.projection),
        _ => None,
    }
}
