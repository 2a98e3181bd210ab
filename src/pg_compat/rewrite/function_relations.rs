//! Functions in FROM read as PostgreSQL reads them (one-row relations, columns named after the alias).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, Join, JoinConstraint, JoinOperator, Query, SetExpr, Statement, TableAlias, TableAliasColumnDef, TableFactor,
    TableWithJoins, VisitMut, VisitorMut,
};

use super::ast::{call_with, derived, name_first_item, query_template};
/// A function in FROM: PostgreSQL reads a scalar function (`string_to_array(…) s`) as a one-row relation whose
/// column is named after the alias, and names a set-returning function's single column after the alias too
/// (`generate_series(1, n) AS i` has column `i`; DataFusion's has `value`; `unnest(a) x` has `x`). Grafana's
/// search-path lookup uses both.
pub(super) fn functions_as_relations(statements: &mut [Statement]) -> bool {
    struct Relations(bool);
    impl VisitorMut for Relations {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let Some(replacement) = function_relation(factor) {
                *factor = replacement;
                self.0 = true;
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = query.body.as_mut() {
                for from in &mut select.from {
                    self.0 |= unnest_beside_its_table(from);
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut relations = Relations(false);
    for statement in statements {
        let _ = statement.visit(&mut relations);
    }
    relations.0
}

/// `t AS x CROSS JOIN UNNEST(x.a) AS u` → `(SELECT *, unnest(x.a) AS u FROM t AS x) AS x`: PostgreSQL reads the
/// function as LATERAL, seeing the row beside it; DataFusion cannot, but unnests in a projection (ADBC's constraint
/// query). Returns whether it rewrote.
fn unnest_beside_its_table(from: &mut TableWithJoins) -> bool {
    let Some(Join {
        relation:
            TableFactor::UNNEST {
                alias: Some(unnest_alias),
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            },
        join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
        ..
    }) = from.joins.first()
    else {
        return false;
    };
    let TableFactor::Table {
        alias: Some(table_alias),
        args: None,
        ..
    } = &from.relation
    else {
        return false;
    };
    let ([array], [] | [_]) = (array_exprs.as_slice(), unnest_alias.columns.as_slice()) else {
        return false;
    };
    let column = unnest_alias
        .columns
        .first()
        .map_or_else(|| unnest_alias.name.clone(), |c| c.name.clone());
    let mut table = from.relation.clone();
    if let TableFactor::Table { alias, .. } = &mut table {
        *alias = Some(table_alias.clone());
    }
    let Some(mut query) = query_template(
        "SELECT *, unnest(semgate_array) AS semgate_column FROM semgate_relation",
        &[("semgate_array", array)],
    ) else {
        return false;
    };
    if name_first_item(&mut query, column, Some(table)).is_none() {
        return false;
    }
    from.relation = derived(query, table_alias.name.clone());
    from.joins.remove(0);
    true
}

fn function_relation(factor: &TableFactor) -> Option<TableFactor> {
    // `UNNEST(a) AS x`: one column, `x` (ADBC's constraint query joins on it).
    if let TableFactor::UNNEST {
        alias: Some(alias),
        array_exprs,
        with_offset: false,
        with_ordinality: false,
        ..
    } = factor
        && alias.columns.is_empty()
        && array_exprs.len() == 1
    {
        let mut named = factor.clone();
        if let TableFactor::UNNEST { alias: Some(alias), .. } = &mut named {
            alias.columns = vec![TableAliasColumnDef::from_name(alias.name.value.clone())];
        }
        return Some(named);
    }
    let TableFactor::Table {
        name,
        alias,
        args: Some(args),
        with_ordinality: false,
        ..
    } = factor
    else {
        return None;
    };
    let function = name.0.last()?.as_ident()?.value.to_lowercase();
    let relation = alias
        .as_ref()
        .map_or_else(|| function.clone(), |a| a.name.value.clone());
    let column = match alias.as_ref().map(|a| a.columns.as_slice()) {
        None | Some([]) => relation.clone(),
        Some([column]) => column.name.value.clone(),
        Some(_) => return None,
    };
    if SERIES_FUNCTIONS.contains(&function.as_str()) {
        if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
            return None;
        }
        let mut named = factor.clone();
        if let TableFactor::Table { alias, .. } = &mut named {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::new(relation),
                columns: vec![TableAliasColumnDef::from_name(column)],
                at: None,
            });
        }
        return Some(named);
    }
    if TABLE_FUNCTIONS.contains(&function.as_str()) {
        return None;
    }
    let value = call_with(name.clone(), args.args.clone());
    let mut query = query_template("SELECT semgate_value AS semgate_column", &[("semgate_value", &value)])?;
    name_first_item(&mut query, Ident::with_quote('"', column), None)?;
    Some(derived(query, Ident::with_quote('"', relation)))
}

/// Set-returning functions of one column, which PostgreSQL names after the relation's alias.
const SERIES_FUNCTIONS: [&str; 1] = ["generate_series"];

/// The engine's table functions; any other function in FROM is a scalar function.
const TABLE_FUNCTIONS: [&str; 5] = [
    "generate_series",
    "range",
    "unnest",
    "pg_get_keywords",
    "semgate_cache_stats",
];
