//! Subqueries selected over the semantic views kept as subqueries (the compatibility parser would null them).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement, VisitMut, VisitorMut};
/// `SELECT (SELECT …) FROM …` → `SELECT ((SELECT …)) FROM …` in a statement that reads no catalog relation: the
/// compatibility parser replaces a subquery that is a whole select item with NULL when it is correlated (and caps it
/// at one row otherwise), which would answer a query over the semantic views with silent NULLs. In parentheses
/// DataFusion plans it, or says why it cannot. Catalog queries keep the parser's rule: their correlated items (psql's
/// column defaults and collations) have no rows here, and DataFusion cannot decorrelate some of them.
pub(super) fn shield_projected_subqueries(statements: &mut [Statement]) -> bool {
    struct Shield<'a>(&'a mut bool);
    impl VisitorMut for Shield<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = query.body.as_mut() {
                for item in &mut select.projection {
                    if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item
                        && matches!(expr, Expr::Subquery(_))
                    {
                        *expr = Expr::Nested(Box::new(expr.clone()));
                        *self.0 = true;
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut changed = false;
    for statement in statements {
        if reads_catalog(statement) {
            continue;
        }
        let _ = statement.visit(&mut Shield(&mut changed));
    }
    changed
}

/// Whether the statement names a relation of `pg_catalog` or `information_schema` (qualified or not).
fn reads_catalog(statement: &Statement) -> bool {
    datafusion::sql::sqlparser::ast::visit_relations(statement, |name| {
        let parts: Vec<String> = name.0.iter().map(|p| p.to_string().to_lowercase()).collect();
        let catalog = parts.iter().any(|p| p == "pg_catalog" || p == "information_schema")
            || parts.last().is_some_and(|p| p.starts_with("pg_"));
        if catalog {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}
