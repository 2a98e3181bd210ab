//! Result columns named as PostgreSQL names them.

use std::collections::HashSet;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, CastKind, DataType, Expr, Function, FunctionArguments, Ident, SelectItem, SetExpr, Statement, Value,
    ValueWithSpan,
};

use super::ast::{function_name, outer_projection, type_name};
use super::{DUPLICATE_MARKER, client_column_name};
/// SQL's special value functions (`current_user`, `current_catalog`, …) are named after themselves, before the
/// compatibility parser swaps in the function that computes them (`session_user`, `current_database()`).
pub(super) fn name_value_functions(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let Some(projection) = outer_projection(statement) else {
            continue;
        };
        for item in projection.iter_mut() {
            let SelectItem::UnnamedExpr(expr) = item else { continue };
            let name = match expr {
                Expr::Identifier(ident) if ident.quote_style.is_none() => ident.value.to_lowercase(),
                Expr::Function(Function {
                    name,
                    args: FunctionArguments::None,
                    ..
                }) if name.0.len() == 1 => name.to_string().to_lowercase(),
                _ => continue,
            };
            if VALUE_FUNCTIONS.contains(&name.as_str()) {
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: Ident::with_quote('"', name),
                };
                changed = true;
            }
        }
    }
    changed
}

/// SQL's value functions written without parentheses, which PostgreSQL names after themselves.
const VALUE_FUNCTIONS: [&str; 6] = [
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
];

/// Name the result columns as PostgreSQL does, before other rewrites change the expressions: an expression gets
/// the name PostgreSQL gives it (a function's name, `?column?` for operators and literals, …) as an explicit alias,
/// an integer literal is typed `integer`, and duplicate names are made unique with a marker that
/// [`client_column_name`] removes again.
pub(super) fn name_result_columns(statement: &mut Statement) {
    let Some(projection) = outer_projection(statement) else {
        return;
    };
    let mut seen = HashSet::new();
    for (position, item) in projection.iter_mut().enumerate() {
        let (expr, name) = match std::mem::replace(item, SelectItem::Wildcard(Default::default())) {
            SelectItem::UnnamedExpr(expr @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_))) => {
                let name = output_name(&expr).unwrap_or_default();
                if seen.insert(name.clone()) {
                    *item = SelectItem::UnnamedExpr(expr);
                    continue;
                }
                (expr, name)
            }
            SelectItem::UnnamedExpr(expr) => {
                let name = output_name(&expr).unwrap_or_else(|| "?column?".to_string());
                (integer_literal(expr), name)
            }
            // The compatibility parser's own unique alias stays.
            marked @ SelectItem::ExprWithAlias { .. } if matches!(&marked, SelectItem::ExprWithAlias { alias, .. } if client_column_name(&alias.value) != alias.value) =>
            {
                *item = marked;
                continue;
            }
            // An unquoted alias is folded to lower case, as identifiers are.
            SelectItem::ExprWithAlias { expr, alias } => match alias.quote_style {
                Some(_) => (integer_literal(expr), client_column_name(&alias.value).to_string()),
                None => (integer_literal(expr), client_column_name(&alias.value).to_lowercase()),
            },
            other => {
                *item = other;
                continue;
            }
        };
        let alias = if seen.insert(name.clone()) {
            name
        } else {
            format!("{DUPLICATE_MARKER}{position}__{name}")
        };
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('"', alias),
        };
    }
}

/// PostgreSQL types an integer literal that fits as `integer` (DataFusion: bigint), which drivers map to their
/// 32-bit integer (node-postgres returns a bigint as a string).
fn integer_literal(expr: Expr) -> Expr {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(ref n, _),
            ..
        }) if n.parse::<i32>().is_ok() => Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: Box::new(expr),
            data_type: DataType::Integer(None),
            array: false,
            format: None,
        },
        other => other,
    }
}

/// The name PostgreSQL gives an unaliased result column; `None` where it says `?column?`.
fn output_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.to_lowercase()),
        Expr::CompoundIdentifier(idents) => idents.last().map(|i| i.value.to_lowercase()),
        Expr::Nested(inner) => output_name(inner),
        Expr::Cast {
            expr: inner, data_type, ..
        } => output_name(inner).or_else(|| type_column_name(data_type)),
        // A subscript keeps the name of what it indexes (`s[i]` is `s`).
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(AccessExpr::Dot(Expr::Identifier(field))) => Some(field.value.to_lowercase()),
            Some(AccessExpr::Subscript(_)) => output_name(root),
            _ => None,
        },
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::ExprWithAlias { alias, .. }] => Some(alias.value.clone()),
                [SelectItem::UnnamedExpr(expr)] => output_name(expr),
                _ => None,
            },
            _ => None,
        },
        // `ARRAY(SELECT …)` is named `array`.
        Expr::Function(Function {
            name,
            args: FunctionArguments::Subquery(_),
            ..
        }) => name.0.last()?.as_ident().map(|i| i.value.to_lowercase()),
        // The compatibility parser writes `x = ANY(y)` as this call; PostgreSQL names the operator `?column?`.
        Expr::Function(_) => function_name(expr).filter(|name| name != "array_contains"),
        _ => None,
    }
}

/// PostgreSQL names a cast of a constant after the type (`NULL::text` is `text`, `1::int` is `int4`).
fn type_column_name(data_type: &DataType) -> Option<String> {
    let name = match type_name(data_type).as_str() {
        "text" => "text",
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "boolean" | "bool" => "bool",
        "varchar" | "character varying" => "varchar",
        "numeric" => "numeric",
        "date" => "date",
        "name" => "name",
        "oid" => "oid",
        _ => return None,
    };
    Some(name.to_string())
}
