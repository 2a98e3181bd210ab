//! Casts PostgreSQL spells differently: to `regproc`/`regtype` by name, to quoted or qualified type names, to `name`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, DataType, Expr, Ident, Statement, Value, ValueWithSpan};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::ast::{call, type_name};
use crate::pg_compat::functions::{TO_REGPROC, TO_REGTYPE};
/// `'array_in'::regproc`, `'integer'::regtype` → `to_regproc('array_in')`, `to_regtype('integer')`: resolved by
/// name the way PostgreSQL resolves them (qualified names, SQL type spellings), before the compatibility parser
/// turns them into exact-name subqueries. Returns whether anything changed.
pub(super) fn rewrite_name_casts(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(statement, |expr| {
            if let Expr::Cast {
                expr: operand,
                data_type,
                ..
            } = expr
                && matches!(
                    operand.as_ref(),
                    Expr::Value(ValueWithSpan {
                        value: Value::SingleQuotedString(_) | Value::Placeholder(_),
                        ..
                    })
                )
            {
                let function = match type_name(data_type).as_str() {
                    "regproc" | "regprocedure" => Some(TO_REGPROC),
                    "regtype" => Some(TO_REGTYPE),
                    _ => None,
                };
                if let Some(function) = function {
                    *expr = call(function, vec![(**operand).clone()]);
                    changed = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed
}

/// `CAST(x AS "timestamp")`, `x::pg_catalog.numeric`, `x::"int4"[]` → the type unquoted and unqualified: a quoted or
/// `pg_catalog`-qualified type name is the catalog's name of a built-in type (BI tools and ORMs quote or qualify
/// every identifier they emit), which DataFusion only knows bare; also `bpchar`. A quoted name is one only in lower
/// case, as the catalog spells it, and `"char"` is PostgreSQL's one-byte type, not `char`. Returns whether anything
/// changed.
pub(super) fn unquote_type_names(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(statement, |expr| {
            if let Expr::Cast { data_type, .. } = expr
                && let Some(unquoted) = unquoted_type(data_type)
            {
                *data_type = unquoted;
                changed = true;
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed
}

/// The catalog's name of `character`, which pg_dump, PostgreSQL's own view definitions and sqlsmith cast to.
const BPCHAR: &str = "bpchar";

fn unquoted_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Array(ArrayElemTypeDef::SquareBracket(element, size)) => unquoted_type(element)
            .map(|element| DataType::Array(ArrayElemTypeDef::SquareBracket(Box::new(element), *size))),
        DataType::Custom(name, modifiers) if modifiers.is_empty() => {
            let parts: Vec<&Ident> = name.0.iter().map(|part| part.as_ident()).collect::<Option<_>>()?;
            let (type_name, schema) = parts.split_last()?;
            let built_in = match schema {
                [] => true,
                [schema] => schema.value.eq_ignore_ascii_case("pg_catalog"),
                _ => false,
            };
            let name = match (schema, type_name.quote_style) {
                _ if !built_in => return None,
                (_, Some('"')) if type_name.value == type_name.value.to_lowercase() && type_name.value != "char" => {
                    type_name.value.clone()
                }
                ([_], None) => type_name.value.to_lowercase(),
                ([], None) if type_name.value.eq_ignore_ascii_case(BPCHAR) => BPCHAR.to_string(),
                _ => return None,
            };
            // `bpchar` (blank-padded, no length), PostgreSQL's name for `character`, is text here like every
            // character type.
            let name = if name == BPCHAR { "text".to_string() } else { name };
            // The name alone, read as a type: exactly one type name, or nothing.
            let mut parser = Parser::new(&PostgreSqlDialect {}).try_with_sql(&name).ok()?;
            let parsed = parser.parse_data_type().ok()?;
            (parser.peek_token().token == Token::EOF).then_some(parsed)
        }
        _ => None,
    }
}

/// `x::name` → `x::text`: `name` is PostgreSQL's identifier type, text to every client, and unknown to DataFusion.
pub(super) fn name_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        kind,
        expr: operand,
        data_type,
        array,
        format,
    } = expr
    else {
        return None;
    };
    (type_name(data_type) == "name").then(|| Expr::Cast {
        kind: kind.clone(),
        expr: operand.clone(),
        data_type: DataType::Text,
        array: *array,
        format: format.clone(),
    })
}
