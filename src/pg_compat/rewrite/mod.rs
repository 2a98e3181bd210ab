//! Statement rewrites for catalog SQL that PostgreSQL accepts and DataFusion does not, applied around
//! `datafusion-pg-catalog`'s own rules. Each rewrite is general (it keys on a construct, never on a client's text).

mod arrays;
mod ast;
mod casts;
mod composite;
mod constant_calls;
mod correlated;
mod description;
mod function_relations;
mod in_subqueries;
mod operators;
mod order_by;
mod regclass;
mod regproc;
mod regtype;
mod result_names;
mod shield;

use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::sqlparser::ast::{Expr, Statement, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use arrays::{array_of_subquery, array_of_unnest, expand_array, generate_subscripts, series_rows};
use ast::{is_comparison, when};
use casts::{name_cast, rewrite_name_casts, unquote_type_names};
use composite::composite_field;
use constant_calls::constant_call;
use correlated::{
    aggregate_correlated_subquery, carry_outer_key_through_recursion, spread_outer_projection, take_outer_conditions,
};
use description::description;
use function_relations::functions_as_relations;
use in_subqueries::ProjectedInSubqueries;
use operators::{like_with_escape, qualified_operator};
use order_by::order_by_subqueries;
use regclass::{oid_as_name, relation_oid};
use regproc::compare_regproc_as_oid;
use regtype::type_oids_as_names;
use result_names::{name_result_columns, name_value_functions};
use shield::shield_projected_subqueries;

/// PostgreSQL's dialect plus the rewrites drivers' catalog queries need (`::regclass`, `= ANY(ARRAY[…])`, …).
static PARSER: LazyLock<PostgresCompatibilityParser> = LazyLock::new(PostgresCompatibilityParser::new);

/// Prefix of the aliases given to duplicate output columns (DataFusion needs unique names, PostgreSQL does not);
/// [`client_column_name`] removes it, so clients see PostgreSQL's names.
pub(super) const DUPLICATE_MARKER: &str = "__dup";

/// The prefix `datafusion-pg-catalog` gives `x.oid` in `SELECT x.oid, x.*`, for the same reason.
const CATALOG_DUPLICATE_MARKER: &str = "__alias_";

/// Parse a statement string the way PostgreSQL would accept it: rewrites that must see the client's own SQL run
/// first (and, when one applies, hand the compatibility parser their text), then `datafusion-pg-catalog`'s rules,
/// then the rewrites of the constructs those rules leave behind.
pub fn parse(sql: &str) -> Result<Vec<Statement>, ParserError> {
    let rewritten = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok().and_then(|mut raw| {
        let changed = unquote_type_names(&mut raw)
            | rewrite_name_casts(&mut raw)
            | name_value_functions(&mut raw)
            | functions_as_relations(&mut raw)
            | shield_projected_subqueries(&mut raw);
        changed.then(|| raw.iter().map(ToString::to_string).collect::<Vec<_>>().join(";\n"))
    });
    let mut statements = PARSER.parse(rewritten.as_deref().unwrap_or(sql))?;
    for statement in &mut statements {
        name_result_columns(statement);
        let _ = statement.visit(&mut ExpressionRewrites);
        if let Statement::Query(query) = statement {
            order_by_subqueries(query);
        }
        let _ = statement.visit(&mut ProjectedInSubqueries);
    }
    Ok(statements)
}

/// The name a client sees for a result column: the marker added to make names unique removed.
pub fn client_column_name(name: &str) -> &str {
    if let Some(rest) = name.strip_prefix(DUPLICATE_MARKER)
        && let Some((number, original)) = rest.split_once("__")
        && number.chars().all(|c| c.is_ascii_digit())
    {
        return original;
    }
    name.strip_prefix(CATALOG_DUPLICATE_MARKER).unwrap_or(name)
}

/// The rewrites of single expressions, bottom-up.
struct ExpressionRewrites;

impl VisitorMut for ExpressionRewrites {
    type Break = ();

    // Before the arguments are rewritten: a description of `name::regclass` reads the name itself.
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(replacement) = description(expr) {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(replacement) = constant_call(expr)
            .or_else(|| oid_as_name(expr))
            .or_else(|| type_oids_as_names(expr))
            .or_else(|| relation_oid(expr))
            .or_else(|| array_of_unnest(expr))
            .or_else(|| array_of_subquery(expr))
            .or_else(|| like_with_escape(expr))
            .or_else(|| expand_array(expr))
            .or_else(|| generate_subscripts(expr))
            .or_else(|| series_rows(expr))
            .or_else(|| name_cast(expr))
            .or_else(|| composite_field(expr))
            .or_else(|| qualified_operator(expr))
        {
            *expr = replacement;
        }
        match expr {
            Expr::BinaryOp { left, op, right } if is_comparison(op) => {
                compare_regproc_as_oid(left, right);
                compare_regproc_as_oid(right, left);
            }
            Expr::Subquery(query) => {
                carry_outer_key_through_recursion(query);
                let guard = take_outer_conditions(query);
                let value = spread_outer_projection(query);
                if value.is_none() {
                    aggregate_correlated_subquery(query);
                }
                if guard.is_some() || value.is_some() {
                    let value = value.unwrap_or_else(|| Expr::Subquery(query.clone()));
                    *expr = match guard {
                        Some(guard) => when(guard, value),
                        None => value,
                    };
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::in_subqueries::values_of;
    use super::regclass::{last_name_part, relation_name};
    use super::*;
    use datafusion::sql::sqlparser::ast::Ident;

    fn rewritten(sql: &str) -> String {
        parse(sql).unwrap().remove(0).to_string()
    }

    #[test]
    fn templates_parse_and_take_client_expressions_as_they_are() {
        let client = Expr::Identifier(Ident::with_quote('"', "a \" b"));
        let oid = relation_name(&client).unwrap().to_string();
        assert_eq!(
            oid,
            r#"(SELECT max(relname) FROM pg_catalog.pg_class WHERE oid = "a "" b")"#
        );
        assert!(
            last_name_part(&client)
                .unwrap()
                .to_string()
                .contains(r#"parse_ident("a "" b")"#)
        );
        let query = Parser::parse_sql(&PostgreSqlDialect {}, "SELECT 1")
            .unwrap()
            .pop()
            .unwrap();
        let Statement::Query(query) = query else { panic!() };
        assert_eq!(
            values_of(&query).unwrap().to_string(),
            "(SELECT array_agg(semgate_value) FROM (SELECT 1) AS semgate_values (semgate_value))"
        );
    }

    #[test]
    fn regproc_columns_compare_as_oids() {
        assert_eq!(
            rewritten("SELECT oid FROM pg_type WHERE typreceive != 0 AND typinput = 'pg_catalog.array_in'::regproc"),
            "SELECT oid FROM pg_catalog.pg_type WHERE to_regproc(typreceive) <> 0 AND to_regproc(typinput) = to_regproc('pg_catalog.array_in')"
        );
        assert_eq!(
            rewritten("SELECT oid FROM pg_type WHERE typreceive::TEXT != 'array_recv'"),
            "SELECT oid FROM pg_catalog.pg_type WHERE typreceive::TEXT <> 'array_recv'"
        );
    }

    #[test]
    fn correlated_scalar_subqueries_are_aggregated() {
        assert_eq!(
            rewritten(
                "SELECT t.oid FROM pg_type t WHERE t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid = t.typrelid)"
            ),
            "SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typrelid = 0 OR (SELECT max(c.relkind = 'c') FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid)"
        );
        // Uncorrelated and aggregated subqueries stay as they are.
        assert_eq!(
            rewritten("SELECT oid FROM pg_type WHERE oid = (SELECT count(*) FROM pg_class c WHERE c.oid = 1)"),
            "SELECT oid FROM pg_catalog.pg_type WHERE oid = (SELECT count(*) FROM pg_catalog.pg_class c WHERE c.oid = 1)"
        );
    }

    #[test]
    fn correlated_first_rows_are_first_values() {
        assert_eq!(
            rewritten(
                "SELECT n.nspname FROM pg_namespace n WHERE 'x' = (SELECT c.relname FROM pg_class c WHERE c.relnamespace = n.oid ORDER BY c.relname DESC LIMIT 1)"
            ),
            "SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE 'x' = (SELECT first_value(c.relname ORDER BY c.relname DESC) FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid)"
        );
        // Any other limit is left for DataFusion to refuse.
        assert!(rewritten("SELECT n.oid FROM pg_namespace n WHERE 1 = (SELECT c.oid FROM pg_class c WHERE c.relnamespace = n.oid ORDER BY 1 LIMIT 2)").ends_with("LIMIT 2)"));
    }

    #[test]
    fn subqueries_selected_over_views_are_planned_not_nulled() {
        assert_eq!(
            rewritten("SELECT (SELECT max(nation) FROM customers c WHERE c.region = s.region) FROM sales s"),
            r#"SELECT ((SELECT max(nation) FROM customers c WHERE c.region = s.region)) AS "max" FROM sales s"#
        );
        // Catalog queries keep the compatibility parser's rule (psql's column defaults have no rows here).
        assert!(
            rewritten("SELECT (SELECT d.adbin FROM pg_attrdef d WHERE d.adrelid = a.attrelid) FROM pg_attribute a")
                .starts_with("SELECT NULL AS ")
        );
    }

    #[test]
    fn correlated_recursion_carries_its_start_key() {
        assert_eq!(
            rewritten(
                "SELECT t.oid FROM pg_type t WHERE 0 < (WITH RECURSIVE b(oid, depth) AS (SELECT t2.typbasetype, 0 FROM pg_type t2 WHERE t2.oid = t.oid UNION ALL SELECT t2.typbasetype, tb.depth + 1 FROM pg_type t2, b tb WHERE tb.oid = t2.oid) SELECT oid FROM b ORDER BY depth DESC LIMIT 1)"
            ),
            "SELECT t.oid FROM pg_catalog.pg_type t WHERE 0 < (WITH RECURSIVE b (oid, depth, __outer_key) AS (SELECT t2.typbasetype, 0, t2.oid AS __outer_key FROM pg_catalog.pg_type t2 UNION ALL SELECT t2.typbasetype, tb.depth + 1, tb.__outer_key FROM pg_catalog.pg_type t2, b tb WHERE tb.oid = t2.oid) SELECT first_value(oid ORDER BY depth DESC) FROM b WHERE b.__outer_key = t.oid)"
        );
    }

    #[test]
    fn functions_in_from_are_relations_named_like_postgres() {
        assert_eq!(
            rewritten("SELECT s[i] FROM generate_series(1, 2) AS i, string_to_array('a,b', ',') s"),
            "SELECT s[i] AS \"s\" FROM generate_series(1, 2) AS i (i), (SELECT string_to_array('a,b', ',') AS \"s\") AS \"s\""
        );
        // A column list names the column.
        assert_eq!(
            rewritten("SELECT x FROM unnest(ARRAY[1]) x, upper('a') AS t(u)"),
            "SELECT x FROM UNNEST(ARRAY[1]) x (x), (SELECT upper('a') AS \"u\") AS \"t\""
        );
    }

    #[test]
    fn value_functions_keep_their_names() {
        assert_eq!(
            rewritten("SELECT current_user, current_catalog"),
            "SELECT session_user AS \"current_user\", current_database() AS \"current_catalog\""
        );
    }

    #[test]
    fn computed_names_cast_to_regclass_are_looked_up() {
        let sql = rewritten(
            "SELECT col_description(format('%I.%I', s, t)::regclass::oid, 1), format('%I', t)::regclass FROM x",
        );
        assert!(
            sql.starts_with("SELECT semgate_view_description(((parse_ident(format('%I.%I', s, t)))[cardinality(parse_ident(format('%I.%I', s, t)))::BIGINT]), 1::BIGINT) AS \"col_description\""),
            "{sql}"
        );
        assert!(
            sql.contains("(SELECT max(semgate_class.oid) FROM pg_catalog.pg_class semgate_class"),
            "{sql}"
        );
        // An oid column cast to regclass is an oid already.
        assert_eq!(
            rewritten("SELECT attrelid::regclass FROM a"),
            "SELECT attrelid::REGCLASS AS \"attrelid\" FROM a"
        );
    }

    #[test]
    fn result_columns_are_named_like_postgres() {
        assert_eq!(rewritten("SELECT 1"), "SELECT 1::INTEGER AS \"?column?\"");
        assert_eq!(
            rewritten("SELECT a, a, b AS a FROM t"),
            "SELECT a, a AS \"__dup1__a\", b AS \"__dup2__a\" FROM t"
        );
        assert_eq!(client_column_name("__dup2__a"), "a");
        assert_eq!(client_column_name("__alias_oid"), "oid");
        assert_eq!(client_column_name("__dupe"), "__dupe");
    }

    #[test]
    fn set_returning_forms_become_unnest() {
        assert_eq!(
            rewritten("SELECT array(select 'toast.' || x from pg_catalog.unnest(c.reloptions) x) FROM pg_class c"),
            "SELECT array_transform(c.reloptions, x -> 'toast.' || x) AS \"array\" FROM pg_catalog.pg_class c"
        );
        assert_eq!(
            rewritten("SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_index i"),
            "SELECT get_field((named_struct('x', unnest(i.indkey), 'n', unnest(generate_series(1, cardinality(i.indkey)))::INTEGER)), 'n') AS \"n\" FROM pg_catalog.pg_index i"
        );
        assert_eq!(
            rewritten("SELECT generate_series(1, 3) AS i, 'x'::name"),
            "SELECT unnest(generate_series(1, 3)) AS \"i\", 'x'::TEXT AS \"name\""
        );
    }

    #[test]
    fn like_escape_becomes_backslash() {
        assert_eq!(
            rewritten("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg/_' || '%' ESCAPE '/'"),
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
        );
    }
}
