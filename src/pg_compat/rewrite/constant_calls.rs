//! Calls of functions whose answer does not depend on their arguments.

use datafusion::sql::sqlparser::ast::Expr;

use super::ast::{call, function_call};
use crate::pg_compat::functions::CONSTANT_FUNCTIONS;
/// A call of a function whose answer does not depend on its arguments, without them: arguments such as
/// `attrelid::regclass::text` would cost a catalog lookup each, or a nested subquery DataFusion cannot decorrelate.
pub(super) fn constant_call(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    (!args.is_empty() && CONSTANT_FUNCTIONS.iter().any(|(constant, _)| *constant == name)).then(|| call(&name, vec![]))
}
