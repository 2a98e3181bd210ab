//! Operators PostgreSQL clients qualify or spell differently (`OPERATOR(pg_catalog.>)`, `LIKE … ESCAPE`).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value};

use super::ast::constant_text;
/// `a OPERATOR(pg_catalog.>) b` (psqlODBC qualifies every operator so a user's own cannot shadow it) → `a > b`.
pub(super) fn qualified_operator(expr: &Expr) -> Option<Expr> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::PGCustomBinaryOperator(parts),
        right,
    } = expr
    else {
        return None;
    };
    let (symbol, schema) = parts.split_last()?;
    if !(schema.is_empty() || schema.len() == 1 && schema[0].eq_ignore_ascii_case("pg_catalog")) {
        return None;
    }
    let op = match symbol.as_str() {
        "=" => BinaryOperator::Eq,
        "<>" | "!=" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        "<=" => BinaryOperator::LtEq,
        ">" => BinaryOperator::Gt,
        ">=" => BinaryOperator::GtEq,
        "+" => BinaryOperator::Plus,
        "-" => BinaryOperator::Minus,
        "*" => BinaryOperator::Multiply,
        "/" => BinaryOperator::Divide,
        "%" => BinaryOperator::Modulo,
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        _ => return None,
    };
    Some(Expr::BinaryOp {
        left: left.clone(),
        op,
        right: right.clone(),
    })
}

/// `x LIKE 'pg/_%' ESCAPE '/'` → `x LIKE 'pg\_%'`: DataFusion only knows the backslash as escape character.
pub(super) fn like_with_escape(expr: &Expr) -> Option<Expr> {
    let Expr::Like {
        negated,
        any,
        expr: subject,
        pattern,
        escape_char: Some(escape),
    } = expr
    else {
        return None;
    };
    let Value::SingleQuotedString(escape) = &escape.value else {
        return None;
    };
    let mut escape_chars = escape.chars();
    let (Some(escape), None) = (escape_chars.next(), escape_chars.next()) else {
        return None;
    };
    let pattern = constant_text(pattern)?;
    let mut translated = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => match chars.next() {
                Some(next @ ('%' | '_' | '\\')) => {
                    translated.push('\\');
                    translated.push(next);
                }
                Some(next) => translated.push(next),
                None => {}
            },
            '\\' => translated.push_str("\\\\"),
            c => translated.push(c),
        }
    }
    Some(Expr::Like {
        negated: *negated,
        any: *any,
        expr: subject.clone(),
        pattern: Box::new(Expr::Value(Value::SingleQuotedString(translated).into())),
        escape_char: None,
    })
}
