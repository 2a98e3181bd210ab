//! `regtype[]`: arrays of type oids as type names.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, OneOrManyWithParens,
};

use super::ast::{call, function_call, null, type_name};
/// `x::regtype[]::text[]` (pgcli's argument types: `COALESCE(proallargtypes::regtype[],
/// proargtypes::regtype[])::text[]`): each type's name, where the `regtype[]` alone is an array of oids here.
pub(super) fn type_oids_as_names(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner, data_type, ..
    } = expr
    else {
        return None;
    };
    if !matches!(type_name(data_type).as_str(), "text[]" | "varchar[]" | "name[]") || !is_type_oid_array(inner) {
        return None;
    }
    let element = Ident::new("type_oid");
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: element.clone(),
            data_type: None,
        }),
        body: Box::new(call("format_type", vec![Expr::Identifier(element), null()])),
        syntax: LambdaSyntax::Arrow,
    });
    Some(call("array_transform", vec![(**inner).clone(), lambda]))
}

/// Whether `expr` is a `regtype[]`: a cast to it, or a COALESCE of them.
fn is_type_oid_array(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(inner) => is_type_oid_array(inner),
        Expr::Cast { data_type, .. } => type_name(data_type) == "regtype[]",
        _ => match function_call(expr) {
            Some((name, args)) if name == "coalesce" => !args.is_empty() && args.iter().all(is_type_oid_array),
            _ => false,
        },
    }
}
