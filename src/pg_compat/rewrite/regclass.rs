//! `regclass`: relation names and oids.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::ast::{call, fill_holes, function_call, is_text_type, null, scalar_subquery, type_name};
/// `x::regtype::text`, `x::regclass::text`, `x::regnamespace::text`: PostgreSQL prints the object's name, where the
/// oid alias types alone are plain integers here.
pub(super) fn oid_as_name(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner, data_type, ..
    } = expr
    else {
        return None;
    };
    if !is_text_type(data_type) {
        return None;
    }
    let Expr::Cast {
        expr: oid,
        data_type: alias,
        ..
    } = inner.as_ref()
    else {
        return None;
    };
    match type_name(alias).as_str() {
        "regtype" => Some(call("format_type", vec![(**oid).clone(), null()])),
        "regclass" => relation_name(oid),
        "regnamespace" => scalar_subquery(
            "SELECT max(nspname) FROM pg_catalog.pg_namespace WHERE oid = semgate_oid",
            &[("semgate_oid", oid)],
        ),
        _ => None,
    }
}

/// `name::regclass` for a computed name (Metabase: `format('%I.%I', schema, table)::regclass`): the oid of the
/// relation it names, schema-qualified or in the current schema. The compatibility parser resolves constant names.
pub(super) fn relation_oid(expr: &Expr) -> Option<Expr> {
    let name = computed_relation_name(expr)?;
    scalar_subquery(
        "SELECT max(semgate_class.oid) FROM pg_catalog.pg_class semgate_class \
         JOIN pg_catalog.pg_namespace semgate_namespace ON semgate_class.relnamespace = semgate_namespace.oid \
         WHERE semgate_class.relname = (parse_ident(semgate_name))[cardinality(parse_ident(semgate_name))::bigint] \
         AND semgate_namespace.nspname = \
         coalesce((parse_ident(semgate_name))[cardinality(parse_ident(semgate_name))::bigint - 1], current_schema())",
        &[("semgate_name", name)],
    )
}

/// The text `x` of `x::regclass` when it is computed (a function of text, a concatenation, a cast to text).
pub(super) fn computed_relation_name(expr: &Expr) -> Option<&Expr> {
    let Expr::Cast {
        expr: operand,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    (type_name(data_type) == "regclass" && is_text_expr(operand)).then_some(operand)
}

fn is_text_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(inner) => is_text_expr(inner),
        Expr::Cast { data_type, .. } => is_text_type(data_type),
        Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            ..
        } => true,
        _ => function_call(expr)
            .is_some_and(|(name, _)| matches!(name.as_str(), "format" | "concat" | "concat_ws" | "quote_ident")),
    }
}

/// The relation name in a possibly schema-qualified, possibly quoted name (`public."Sales"` → `Sales`).
pub(super) fn last_name_part(name: &Expr) -> Option<Expr> {
    let mut expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql("((parse_ident(semgate_name))[cardinality(parse_ident(semgate_name))::bigint])")
        .and_then(|mut parser| parser.parse_expr())
        .ok()?;
    fill_holes(&mut expr, &[("semgate_name", name)]);
    Some(expr)
}

/// The name of the relation with oid `oid` (PostgreSQL's `oid::regclass::text` for relations on the search path).
pub(super) fn relation_name(oid: &Expr) -> Option<Expr> {
    scalar_subquery(
        "SELECT max(relname) FROM pg_catalog.pg_class WHERE oid = semgate_oid",
        &[("semgate_oid", oid)],
    )
}
