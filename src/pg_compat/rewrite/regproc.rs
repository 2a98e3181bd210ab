//! `regproc` columns compared with oids.

use datafusion::sql::sqlparser::ast::{Expr, Value, ValueWithSpan};

use super::ast::{call, is_text_type};
use crate::pg_compat::functions::TO_REGPROC;
/// `typreceive != 0`, `pg_proc.oid = t.typreceive`: a `regproc` column compared with anything but text compares
/// the function's oid.
pub(super) fn compare_regproc_as_oid(column: &mut Expr, other: &Expr) {
    let name = match column {
        Expr::Identifier(ident) => &ident.value,
        Expr::CompoundIdentifier(idents) => match idents.last() {
            Some(ident) => &ident.value,
            None => return,
        },
        _ => return,
    };
    let other_is_text = matches!(
        other,
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(_),
            ..
        })
    ) || matches!(other, Expr::Cast { data_type, .. } if is_text_type(data_type));
    if REGPROC_COLUMNS.contains(&name.to_lowercase().as_str()) && !other_is_text {
        *column = call(TO_REGPROC, vec![column.clone()]);
    }
}

/// Columns of type `regproc`. The catalog stores them as function names (what PostgreSQL displays), so comparing
/// one with an oid compares [`TO_REGPROC`] of it.
const REGPROC_COLUMNS: [&str; 23] = [
    "typinput",
    "typoutput",
    "typreceive",
    "typsend",
    "typmodin",
    "typmodout",
    "typanalyze",
    "typsubscript",
    "aggfnoid",
    "aggtransfn",
    "aggfinalfn",
    "aggcombinefn",
    "aggserialfn",
    "aggdeserialfn",
    "aggmtransfn",
    "aggminvtransfn",
    "aggmfinalfn",
    "oprcode",
    "oprrest",
    "oprjoin",
    "rngcanonical",
    "rngsubdiff",
    "prosupport",
];
