//! Composite field access `(row).field`.

use datafusion::sql::sqlparser::ast::{AccessExpr, Expr};

use super::ast::{call, text};
/// `(row).field` → `get_field(row, 'field')`: PostgreSQL's composite field access, which DataFusion's planner
/// only knows with brackets.
pub(super) fn composite_field(expr: &Expr) -> Option<Expr> {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return None;
    };
    access_chain
        .iter()
        .try_fold((**root).clone(), |row, access| match access {
            AccessExpr::Dot(Expr::Identifier(field)) => Some(call("get_field", vec![row, text(&field.value)])),
            _ => None,
        })
}
