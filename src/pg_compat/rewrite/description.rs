//! Descriptions (`obj_description`, `col_description`) of relations named by text.

use datafusion::sql::sqlparser::ast::{CastKind, DataType, Expr, Value, ValueWithSpan};

use super::ast::{call, function_call, null, number, type_name};
use super::regclass::{computed_relation_name, last_name_part, relation_name};
use crate::pg_compat::functions::VIEW_DESCRIPTION;
/// `obj_description(oid, 'pg_class')` and `col_description(oid, attnum)`: the semantic model's descriptions of its
/// views and their columns; other objects have none.
pub(super) fn description(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    let (relation, column) = match (name.as_str(), args.as_slice()) {
        ("obj_description", [oid, catalog]) => {
            let is_relation = matches!(catalog, Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(c), .. }) if c == "pg_class");
            if !is_relation {
                return Some(Expr::Cast {
                    kind: CastKind::DoubleColon,
                    expr: Box::new(null()),
                    data_type: DataType::Text,
                    array: false,
                    format: None,
                });
            }
            (oid.clone(), number("0"))
        }
        ("col_description", [oid, attnum]) => (oid.clone(), attnum.clone()),
        _ => return None,
    };
    let column = Expr::Cast {
        kind: CastKind::DoubleColon,
        expr: Box::new(column),
        data_type: DataType::BigInt(None),
        array: false,
        format: None,
    };
    // The oid may be the cast of a name to `regclass`, under casts to `oid`.
    let mut oid = &relation;
    while let Expr::Cast { expr, data_type, .. } = oid
        && type_name(data_type) == "oid"
    {
        oid = expr;
    }
    let name = match computed_relation_name(oid) {
        Some(name) => last_name_part(name)?,
        None => relation_name(&relation)?,
    };
    Some(call(VIEW_DESCRIPTION, vec![name, column]))
}
