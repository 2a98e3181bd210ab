//! Statement rewrites for catalog SQL that PostgreSQL accepts and DataFusion does not, applied around
//! `datafusion-pg-catalog`'s own rules. Each rewrite is general (it keys on a construct, never on a client's text).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, ArrayElemTypeDef, BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, Join,
    JoinConstraint, JoinOperator, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, LimitClause, ObjectName,
    OneOrManyWithParens, OrderBy, OrderByExpr, OrderByKind, Query, Select, SelectItem, SetExpr, SetOperator, Statement,
    TableAlias, TableAliasColumnDef, TableFactor, TableWithJoins, Value, ValueWithSpan, Visit, VisitMut, Visitor,
    VisitorMut, With,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use super::functions::{CONSTANT_FUNCTIONS, TO_REGPROC, TO_REGTYPE, VIEW_DESCRIPTION};

/// PostgreSQL's dialect plus the rewrites drivers' catalog queries need (`::regclass`, `= ANY(ARRAY[…])`, …).
static PARSER: LazyLock<PostgresCompatibilityParser> = LazyLock::new(PostgresCompatibilityParser::new);

/// Prefix of the aliases given to duplicate output columns (DataFusion needs unique names, PostgreSQL does not);
/// [`client_column_name`] removes it, so clients see PostgreSQL's names.
const DUPLICATE_MARKER: &str = "__dup";
/// The prefix `datafusion-pg-catalog` gives `x.oid` in `SELECT x.oid, x.*`, for the same reason.
const CATALOG_DUPLICATE_MARKER: &str = "__alias_";

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

/// SQL's value functions written without parentheses, which PostgreSQL names after themselves.
const VALUE_FUNCTIONS: [&str; 6] = [
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
];

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

/// Aggregate functions: a scalar subquery projecting one of them already returns at most one row.
const AGGREGATES: [&str; 17] = [
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "first_value",
    "last_value",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "median",
    "measure",
];

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

/// `'array_in'::regproc`, `'integer'::regtype` → `to_regproc('array_in')`, `to_regtype('integer')`: resolved by
/// name the way PostgreSQL resolves them (qualified names, SQL type spellings), before the compatibility parser
/// turns them into exact-name subqueries. Returns whether anything changed.
fn rewrite_name_casts(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(statement, |expr| {
            if let Expr::Cast {
                expr: operand,
                data_type,
                ..
            } = expr
                && matches!(
                    operand.as_ref(),
                    Expr::Value(ValueWithSpan {
                        value: Value::SingleQuotedString(_) | Value::Placeholder(_),
                        ..
                    })
                )
            {
                let function = match type_name(data_type).as_str() {
                    "regproc" | "regprocedure" => Some(TO_REGPROC),
                    "regtype" => Some(TO_REGTYPE),
                    _ => None,
                };
                if let Some(function) = function {
                    *expr = call(function, vec![(**operand).clone()]);
                    changed = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed
}

/// `CAST(x AS "timestamp")`, `x::pg_catalog.numeric`, `x::"int4"[]` → the type unquoted and unqualified: a quoted or
/// `pg_catalog`-qualified type name is the catalog's name of a built-in type (BI tools and ORMs quote or qualify
/// every identifier they emit), which DataFusion only knows bare; also `bpchar`. A quoted name is one only in lower
/// case, as the catalog spells it, and `"char"` is PostgreSQL's one-byte type, not `char`. Returns whether anything
/// changed.
fn unquote_type_names(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(statement, |expr| {
            if let Expr::Cast { data_type, .. } = expr
                && let Some(unquoted) = unquoted_type(data_type)
            {
                *data_type = unquoted;
                changed = true;
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed
}

/// The catalog's name of `character`, which pg_dump, PostgreSQL's own view definitions and sqlsmith cast to.
const BPCHAR: &str = "bpchar";

fn unquoted_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Array(ArrayElemTypeDef::SquareBracket(element, size)) => unquoted_type(element)
            .map(|element| DataType::Array(ArrayElemTypeDef::SquareBracket(Box::new(element), *size))),
        DataType::Custom(name, modifiers) if modifiers.is_empty() => {
            let parts: Vec<&Ident> = name.0.iter().map(|part| part.as_ident()).collect::<Option<_>>()?;
            let (type_name, schema) = parts.split_last()?;
            let built_in = match schema {
                [] => true,
                [schema] => schema.value.eq_ignore_ascii_case("pg_catalog"),
                _ => false,
            };
            let name = match (schema, type_name.quote_style) {
                _ if !built_in => return None,
                (_, Some('"')) if type_name.value == type_name.value.to_lowercase() && type_name.value != "char" => {
                    type_name.value.clone()
                }
                ([_], None) => type_name.value.to_lowercase(),
                ([], None) if type_name.value.eq_ignore_ascii_case(BPCHAR) => BPCHAR.to_string(),
                _ => return None,
            };
            // `bpchar` (blank-padded, no length), PostgreSQL's name for `character`, is text here like every
            // character type.
            let name = if name == BPCHAR { "text".to_string() } else { name };
            // The name alone, read as a type: exactly one type name, or nothing.
            let mut parser = Parser::new(&PostgreSqlDialect {}).try_with_sql(&name).ok()?;
            let parsed = parser.parse_data_type().ok()?;
            (parser.peek_token().token == Token::EOF).then_some(parsed)
        }
        _ => None,
    }
}

/// `SELECT (SELECT …) FROM …` → `SELECT ((SELECT …)) FROM …` in a statement that reads no catalog relation: the
/// compatibility parser replaces a subquery that is a whole select item with NULL when it is correlated (and caps it
/// at one row otherwise), which would answer a query over the semantic views with silent NULLs. In parentheses
/// DataFusion plans it, or says why it cannot. Catalog queries keep the parser's rule: their correlated items (psql's
/// column defaults and collations) have no rows here, and DataFusion cannot decorrelate some of them.
fn shield_projected_subqueries(statements: &mut [Statement]) -> bool {
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

/// SQL's special value functions (`current_user`, `current_catalog`, …) are named after themselves, before the
/// compatibility parser swaps in the function that computes them (`session_user`, `current_database()`).
fn name_value_functions(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let Some(projection) = outer_projection(statement) else {
            continue;
        };
        for item in projection.iter_mut() {
            let SelectItem::UnnamedExpr(expr) = item else { continue };
            let name = match expr {
                Expr::Identifier(ident) if ident.quote_style.is_none() => ident.value.to_lowercase(),
                Expr::Function(Function {
                    name,
                    args: FunctionArguments::None,
                    ..
                }) if name.0.len() == 1 => name.to_string().to_lowercase(),
                _ => continue,
            };
            if VALUE_FUNCTIONS.contains(&name.as_str()) {
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: Ident::with_quote('"', name),
                };
                changed = true;
            }
        }
    }
    changed
}

/// `SELECT a, b FROM … ORDER BY <expr with a subquery>, 1` → `SELECT a, b FROM (SELECT a, b, <expr> AS
/// "__order_by_0" FROM …) AS "__ordered" ORDER BY "__order_by_0", 1`: DataFusion computes subqueries in projections
/// and filters only, not in a sort (Grafana lists the tables on the search path first this way). Only for a plain
/// SELECT whose other sort keys are output columns, by position or name, so they mean the same outside.
fn order_by_subqueries(query: &mut Query) {
    let Some(OrderBy {
        kind: OrderByKind::Expressions(keys),
        ..
    }) = &query.order_by
    else {
        return;
    };
    if !keys.iter().any(|key| contains_subquery(&key.expr)) {
        return;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if !ungrouped || select.having.is_some() || select.distinct.is_some() {
        return;
    }
    let Some(names) = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(ident.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(idents)) => idents.last().cloned(),
            _ => None,
        })
        .collect::<Option<Vec<Ident>>>()
    else {
        return;
    };
    let is_output_column = |expr: &Expr| match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(..),
            ..
        }) => true,
        Expr::Identifier(ident) => names.iter().any(|name| name.value == ident.value),
        _ => false,
    };
    if !keys
        .iter()
        .all(|key| contains_subquery(&key.expr) || is_output_column(&key.expr))
    {
        return;
    }
    let mut inner = select.as_ref().clone();
    let mut keys = keys.clone();
    for (position, key) in keys.iter_mut().enumerate() {
        if contains_subquery(&key.expr) {
            let name = Ident::with_quote('"', format!("__order_by_{position}"));
            inner.projection.push(SelectItem::ExprWithAlias {
                expr: std::mem::replace(&mut key.expr, Expr::Identifier(name.clone())),
                alias: name,
            });
        }
    }
    let derived = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(Query {
            with: None,
            body: Box::new(SetExpr::Select(Box::new(inner))),
            order_by: None,
            limit_clause: None,
            fetch: None,
            locks: vec![],
            for_clause: None,
            settings: None,
            format_clause: None,
            pipe_operators: vec![],
        }),
        alias: Some(TableAlias {
            explicit: true,
            name: Ident::with_quote('"', "__ordered"),
            columns: vec![],
            at: None,
        }),
        sample: None,
    };
    let mut outer = select.as_ref().clone();
    outer.projection = names
        .into_iter()
        .map(|name| SelectItem::UnnamedExpr(Expr::Identifier(name)))
        .collect();
    outer.from = vec![TableWithJoins {
        relation: derived,
        joins: vec![],
    }];
    outer.selection = None;
    *query.body = SetExpr::Select(Box::new(outer));
    if let Some(OrderBy {
        kind: OrderByKind::Expressions(original),
        ..
    }) = &mut query.order_by
    {
        *original = keys;
    }
}

/// `x IN (SELECT c FROM …)` in a select list → `array_has((SELECT array_agg(c) FROM (SELECT c FROM …) AS s(c)), x)`:
/// DataFusion plans IN subqueries in filters, but not inside an expression it computes for each row (Grafana's
/// `CASE WHEN table_schema IN (…search path…)`). Same answer where it decides a CASE or a filter.
struct ProjectedInSubqueries;

impl VisitorMut for ProjectedInSubqueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item {
                    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(expr, |expr| {
                        if let Expr::InSubquery {
                            expr: needle,
                            subquery,
                            negated,
                        } = expr
                        {
                            let Some(values) = values_of(subquery) else {
                                return ControlFlow::<()>::Continue(());
                            };
                            let found = call("array_has", vec![values, (**needle).clone()]);
                            *expr = if *negated {
                                Expr::UnaryOp {
                                    op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
                                    expr: Box::new(Expr::Nested(Box::new(found))),
                                }
                            } else {
                                found
                            };
                        }
                        ControlFlow::<()>::Continue(())
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn contains_subquery(expr: &Expr) -> bool {
    struct Subqueries;
    impl Visitor for Subqueries {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    expr.visit(&mut Subqueries).is_break()
}

/// A function in FROM: PostgreSQL reads a scalar function (`string_to_array(…) s`) as a one-row relation whose
/// column is named after the alias, and names a set-returning function's single column after the alias too
/// (`generate_series(1, n) AS i` has column `i`; DataFusion's has `value`; `unnest(a) x` has `x`). Grafana's
/// search-path lookup uses both.
fn functions_as_relations(statements: &mut [Statement]) -> bool {
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
    let sql = format!(
        "SELECT * FROM (SELECT *, unnest({array}) AS {column} FROM {table}) AS {}",
        table_alias.name
    );
    let Ok(mut parsed) = Parser::parse_sql(&PostgreSqlDialect {}, &sql) else {
        return false;
    };
    let Statement::Query(query) = parsed.remove(0) else {
        return false;
    };
    let SetExpr::Select(select) = *query.body else {
        return false;
    };
    let Some(derived) = select.from.into_iter().next() else {
        return false;
    };
    from.relation = derived.relation;
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
    let arguments: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT * FROM (SELECT {name}({}) AS {}) AS {}",
        arguments.join(", "),
        Ident::with_quote('"', column),
        Ident::with_quote('"', relation)
    );
    let Statement::Query(query) = Parser::parse_sql(&PostgreSqlDialect {}, &sql).ok()?.remove(0) else {
        return None;
    };
    let SetExpr::Select(select) = *query.body else {
        return None;
    };
    select.from.into_iter().next().map(|from| from.relation)
}

/// The projection of a query's outermost SELECT (the first branch of a set operation), which names its result.
fn outer_projection(statement: &mut Statement) -> Option<&mut Vec<SelectItem>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    match body {
        SetExpr::Select(select) => Some(&mut select.projection),
        _ => None,
    }
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

/// `a OPERATOR(pg_catalog.>) b` (psqlODBC qualifies every operator so a user's own cannot shadow it) → `a > b`.
fn qualified_operator(expr: &Expr) -> Option<Expr> {
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

/// `x::regtype::text`, `x::regclass::text`, `x::regnamespace::text`: PostgreSQL prints the object's name, where the
/// oid alias types alone are plain integers here.
fn oid_as_name(expr: &Expr) -> Option<Expr> {
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

/// A call of a function whose answer does not depend on its arguments, without them: arguments such as
/// `attrelid::regclass::text` would cost a catalog lookup each, or a nested subquery DataFusion cannot decorrelate.
fn constant_call(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    (!args.is_empty() && CONSTANT_FUNCTIONS.iter().any(|(constant, _)| *constant == name)).then(|| call(&name, vec![]))
}

/// `name::regclass` for a computed name (Metabase: `format('%I.%I', schema, table)::regclass`): the oid of the
/// relation it names, schema-qualified or in the current schema. The compatibility parser resolves constant names.
fn relation_oid(expr: &Expr) -> Option<Expr> {
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
fn computed_relation_name(expr: &Expr) -> Option<&Expr> {
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
fn last_name_part(name: &Expr) -> Option<Expr> {
    let mut expr = Parser::new(&PostgreSqlDialect {})
        .try_with_sql("((parse_ident(semgate_name))[cardinality(parse_ident(semgate_name))::bigint])")
        .and_then(|mut parser| parser.parse_expr())
        .ok()?;
    fill_holes(&mut expr, &[("semgate_name", name)]);
    Some(expr)
}

/// `x::regtype[]::text[]` (pgcli's argument types: `COALESCE(proallargtypes::regtype[],
/// proargtypes::regtype[])::text[]`): each type's name, where the `regtype[]` alone is an array of oids here.
fn type_oids_as_names(expr: &Expr) -> Option<Expr> {
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

/// `obj_description(oid, 'pg_class')` and `col_description(oid, attnum)`: the semantic model's descriptions of its
/// views and their columns; other objects have none.
fn description(expr: &Expr) -> Option<Expr> {
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

/// The query of an `ARRAY(subquery)` constructor (which the parser reads as a function named `array`).
fn array_constructor_query(expr: &Expr) -> Option<&Query> {
    match expr {
        Expr::Function(Function {
            name,
            args: FunctionArguments::Subquery(query),
            ..
        }) if name.to_string().eq_ignore_ascii_case("array") => Some(query),
        _ => None,
    }
}

/// `ARRAY(SELECT f(x) FROM unnest(a) x)` → `array_transform(a, x -> f(x))`: the element-wise map psql's `\d+`
/// builds `reloptions` with, which DataFusion cannot plan as a correlated subquery over `unnest`.
fn array_of_unnest(expr: &Expr) -> Option<Expr> {
    let query = array_constructor_query(expr)?;
    if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let ungrouped = matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if select.selection.is_some() || select.having.is_some() || select.distinct.is_some() || !ungrouped {
        return None;
    }
    let ([SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }], [from]) =
        (select.projection.as_slice(), select.from.as_slice())
    else {
        return None;
    };
    let TableFactor::Table {
        name: function,
        args: Some(args),
        alias: Some(alias),
        ..
    } = &from.relation
    else {
        return None;
    };
    let is_unnest = function.0.last()?.as_ident()?.value.eq_ignore_ascii_case("unnest");
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(array))] = args.args.as_slice() else {
        return None;
    };
    // `unnest(a) x` names the element `x`, as does `unnest(a) AS t(x)`.
    let element = match alias.columns.as_slice() {
        [] => alias.name.clone(),
        [column] => column.name.clone(),
        _ => return None,
    };
    if !is_unnest || !from.joins.is_empty() {
        return None;
    }
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: element,
            data_type: None,
        }),
        body: Box::new(item.clone()),
        syntax: LambdaSyntax::Arrow,
    });
    Some(call("array_transform", vec![array.clone(), lambda]))
}

/// `ARRAY(SELECT x FROM … ORDER BY y)` → `(SELECT array_agg(x ORDER BY y) FROM …)`, a form DataFusion plans
/// (also when correlated, as psql's `\du` and `\d+` use it).
fn array_of_subquery(expr: &Expr) -> Option<Expr> {
    let mut query = Box::new(array_constructor_query(expr)?.clone());
    let order_by = query.order_by.take();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_mut_slice()
    else {
        return None;
    };
    let mut clauses = vec![];
    if let Some(OrderByKind::Expressions(order)) = order_by.map(|o| o.kind) {
        let order = order
            .into_iter()
            .map(|o| match &o.expr {
                // `ORDER BY 1` is the projected item.
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) if n == "1" => OrderByExpr {
                    expr: item.clone(),
                    ..o
                },
                _ => o,
            })
            .collect();
        clauses.push(FunctionArgumentClause::OrderBy(order));
    }
    *item = Expr::Function(Function {
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(item.clone()))],
            clauses,
        }),
        ..function("array_agg")
    });
    Some(Expr::Subquery(query))
}

/// `x LIKE 'pg/_%' ESCAPE '/'` → `x LIKE 'pg\_%'`: DataFusion only knows the backslash as escape character.
fn like_with_escape(expr: &Expr) -> Option<Expr> {
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

/// `information_schema._pg_expandarray(a)`, the set-returning function pgjdbc, Metabase and Tableau unnest index
/// keys with: one `(x, n)` row per element, `x` the element and `n` its 1-based position.
fn expand_array(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    let (true, [array]) = (name == "_pg_expandarray", args.as_slice()) else {
        return None;
    };
    Some(call(
        "named_struct",
        vec![
            text("x"),
            call("unnest", vec![array.clone()]),
            text("n"),
            subscripts(array),
        ],
    ))
}

/// `generate_subscripts(a, dim)`, SQLAlchemy's way to number index keys: the positions 1…n of `a`'s elements, one
/// row each (catalog arrays here are one-dimensional).
fn generate_subscripts(expr: &Expr) -> Option<Expr> {
    let (name, args) = function_call(expr)?;
    match (name.as_str(), args.as_slice()) {
        ("generate_subscripts", [array, _dimension]) => Some(subscripts(array)),
        _ => None,
    }
}

/// `generate_series(a, b)` in an expression is PostgreSQL's set-returning function (one row per value, as psqlODBC
/// numbers foreign-key columns with it); DataFusion's scalar `generate_series` returns a list, so it is unnested.
fn series_rows(expr: &Expr) -> Option<Expr> {
    let (name, _) = function_call(expr)?;
    (name == "generate_series").then(|| call("unnest", vec![expr.clone()]))
}

/// `x::name` → `x::text`: `name` is PostgreSQL's identifier type, text to every client, and unknown to DataFusion.
fn name_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        kind,
        expr: operand,
        data_type,
        array,
        format,
    } = expr
    else {
        return None;
    };
    (type_name(data_type) == "name").then(|| Expr::Cast {
        kind: kind.clone(),
        expr: operand.clone(),
        data_type: DataType::Text,
        array: *array,
        format: format.clone(),
    })
}

/// One `integer` row per element of `array`, counting from 1; zipped with `unnest(array)` in the same projection.
fn subscripts(array: &Expr) -> Expr {
    let positions = call(
        "generate_series",
        vec![number("1"), call("cardinality", vec![array.clone()])],
    );
    Expr::Cast {
        kind: CastKind::DoubleColon,
        expr: Box::new(call("unnest", vec![positions])),
        data_type: DataType::Integer(None),
        array: false,
        format: None,
    }
}

/// `(row).field` → `get_field(row, 'field')`: PostgreSQL's composite field access, which DataFusion's planner
/// only knows with brackets.
fn composite_field(expr: &Expr) -> Option<Expr> {
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

/// A text constant, also when written as a concatenation of literals (SQLAlchemy's `'pg/_' || '%'`).
fn constant_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s),
            ..
        }) => Some(s.clone()),
        Expr::Nested(inner) => constant_text(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => Some(constant_text(left)? + &constant_text(right)?),
        _ => None,
    }
}

/// `typreceive != 0`, `pg_proc.oid = t.typreceive`: a `regproc` column compared with anything but text compares
/// the function's oid.
fn compare_regproc_as_oid(column: &mut Expr, other: &Expr) {
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

/// A scalar subquery that refers to the outer query must, for DataFusion, be visibly one row: its single projected
/// expression is wrapped in `max()` unless it aggregates already, or in `first_value(e ORDER BY k)` when the subquery
/// picks its first row with `ORDER BY k LIMIT 1`. PostgreSQL raises an error when such a subquery returns several
/// rows; catalog queries are written so that it never does.
fn aggregate_correlated_subquery(query: &mut Query) {
    let first_row_order = match (&query.order_by, &query.limit_clause) {
        (None, None) => None,
        (
            Some(OrderBy {
                kind: OrderByKind::Expressions(keys),
                ..
            }),
            Some(LimitClause::LimitOffset {
                limit: Some(limit),
                offset: None,
                limit_by,
            }),
        ) if limit_by.is_empty() && is_one(limit) => Some(keys.clone()),
        _ => return,
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if grouped || select.having.is_some() || select.distinct.is_some() {
        return;
    }
    let local = local_relations(select);
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_mut_slice()
    else {
        return;
    };
    if contains_aggregate(item) || !refers_outside(&select.selection, item, &local) {
        return;
    }
    *item = match first_row_order {
        None => call("max", vec![item.clone()]),
        Some(keys) => {
            let mut first = call("first_value", vec![item.clone()]);
            if let Expr::Function(Function {
                args: FunctionArguments::List(list),
                ..
            }) = &mut first
            {
                list.clauses.push(FunctionArgumentClause::OrderBy(keys));
            }
            query.order_by = None;
            query.limit_clause = None;
            first
        }
    };
}

/// `(WITH RECURSIVE r(c) AS (SELECT a FROM t WHERE t.k = o.x UNION ALL SELECT … FROM t, r AS s WHERE …) SELECT e FROM
/// r …)` → `(WITH RECURSIVE r(c, __outer_key) AS (SELECT a, t.k FROM t UNION ALL SELECT …, s.__outer_key FROM t, r AS
/// s WHERE …) SELECT e FROM r WHERE r.__outer_key = o.x …)`: DataFusion cannot plan a recursive CTE that refers to the
/// outer row (asyncpg resolves a domain's base type so), so the recursion runs from every start row at once, each row
/// carrying the key of the row it started from, and the correlation moves to the subquery's own condition, where
/// DataFusion decorrelates it into a join.
fn carry_outer_key_through_recursion(query: &mut Query) {
    let Some(With {
        recursive: true,
        cte_tables,
        ..
    }) = &mut query.with
    else {
        return;
    };
    let SetExpr::Select(body) = query.body.as_mut() else {
        return;
    };
    for cte in cte_tables {
        let name = cte.alias.name.value.to_lowercase();
        let SetExpr::SetOperation {
            op: SetOperator::Union,
            left,
            right,
            ..
        } = cte.query.body.as_mut()
        else {
            continue;
        };
        let (SetExpr::Select(anchor), SetExpr::Select(step)) = (left.as_mut(), right.as_mut()) else {
            continue;
        };
        let (Some(step_reference), Some(body_reference)) =
            (relation_reference(step, &name), relation_reference(body, &name))
        else {
            continue;
        };
        let Some((start, outer)) = take_outer_equality(anchor) else {
            continue;
        };
        let key = Ident::new(OUTER_KEY);
        anchor.projection.push(SelectItem::ExprWithAlias {
            expr: start,
            alias: key.clone(),
        });
        if !cte.alias.columns.is_empty() {
            cte.alias.columns.push(TableAliasColumnDef::from_name(OUTER_KEY));
        }
        let column = |relation: Ident| Expr::CompoundIdentifier(vec![relation, key.clone()]);
        step.projection.push(SelectItem::UnnamedExpr(column(step_reference)));
        let correlation = Expr::BinaryOp {
            left: Box::new(column(body_reference)),
            op: BinaryOperator::Eq,
            right: Box::new(outer),
        };
        body.selection = Some(match body.selection.take() {
            Some(condition) => and(condition, correlation),
            None => correlation,
        });
        return;
    }
}

fn is_one(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if n == "1")
}

/// The column [`carry_outer_key_through_recursion`] adds to a recursive CTE.
const OUTER_KEY: &str = "__outer_key";

/// How a SELECT's FROM names the relation `name` (its alias, else its name), if it reads it.
fn relation_reference(select: &Select, name: &str) -> Option<Ident> {
    select
        .from
        .iter()
        .flat_map(|from| std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)))
        .find_map(|relation| match relation {
            TableFactor::Table { name: table, alias, .. }
                if table.0.len() == 1 && table.0[0].as_ident()?.value.eq_ignore_ascii_case(name) =>
            {
                Some(
                    alias
                        .as_ref()
                        .map_or_else(|| table.0[0].as_ident().cloned(), |a| Some(a.name.clone()))?,
                )
            }
            _ => None,
        })
}

/// Removes from the SELECT's condition an equality between its own expression and one of the outer row's, and
/// returns both sides (own, outer).
fn take_outer_equality(select: &mut Select) -> Option<(Expr, Expr)> {
    let local = local_relations(select);
    let mut conditions = conjuncts(select.selection.take()?);
    let found = conditions.iter().find_map(|condition| {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = condition
        else {
            return None;
        };
        let own = |e: &Expr| !refers_outside(&None, e, &local) && !contains_subquery(e);
        [(left, right), (right, left)]
            .into_iter()
            .find(|(own_side, outer_side)| own(own_side) && names_only_outer_columns(outer_side, &local))
            .map(|(own_side, outer_side)| (condition.clone(), (*own_side.clone(), *outer_side.clone())))
    });
    if let Some((condition, _)) = &found {
        conditions.retain(|c| c != condition);
    }
    select.selection = conditions.into_iter().reduce(and);
    found.map(|(_, sides)| sides)
}

/// `(SELECT e FROM t WHERE outer_condition AND rest)` → `CASE WHEN outer_condition THEN (SELECT e FROM t WHERE rest)
/// END`: a condition on the outer row alone (SQLAlchemy's `pg_attribute.attidentity != ''` in its identity lookup)
/// is one DataFusion cannot decorrelate, and it only decides whether the subquery has rows at all. Removes those
/// conditions from the subquery and returns them.
fn take_outer_conditions(query: &mut Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let local = local_relations(select);
    let (outer, inner): (Vec<Expr>, Vec<Expr>) = conjuncts(select.selection.take()?)
        .into_iter()
        .partition(|condition| names_only_outer_columns(condition, &local));
    select.selection = inner.into_iter().reduce(and);
    outer.into_iter().reduce(and)
}

/// `(SELECT f(t.a, o.b) FROM t WHERE p)` → `CASE WHEN (SELECT count(*) FROM t WHERE p) > 0 THEN f((SELECT max(t.a)
/// FROM t WHERE p), o.b) END`: DataFusion cannot decorrelate an outer column in a subquery's result, only in its
/// condition, so each of the subquery's own columns becomes a subquery of its own (SQLAlchemy builds its identity
/// and collation options this way). Same answer for a subquery of at most one row, as a scalar subquery must be.
fn spread_outer_projection(query: &Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
    if grouped || select.having.is_some() || select.distinct.is_some() {
        return None;
    }
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] = select.projection.as_slice()
    else {
        return None;
    };
    let local = local_relations(select);
    if contains_aggregate(item) || !refers_outside(&None, item, &local) {
        return None;
    }
    let with_projection = |projection: Expr| {
        let mut copy = query.clone();
        if let SetExpr::Select(select) = copy.body.as_mut() {
            select.projection = vec![SelectItem::UnnamedExpr(projection)];
        }
        Expr::Subquery(Box::new(copy))
    };
    let mut value = item.clone();
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(&mut value, |expr| {
        let own_column = match expr {
            Expr::Identifier(_) => true,
            Expr::CompoundIdentifier(idents) => local.contains(&qualifier(idents)),
            _ => false,
        };
        if own_column {
            *expr = with_projection(call("max", vec![expr.clone()]));
        }
        ControlFlow::<()>::Continue(())
    });
    let rows = with_projection(call("count", vec![Expr::Wildcard(AttachedToken::empty())]));
    let exists = Expr::BinaryOp {
        left: Box::new(rows),
        op: BinaryOperator::Gt,
        right: Box::new(number("0")),
    };
    Some(when(exists, value))
}

/// `CASE WHEN condition THEN value END`.
fn when(condition: Expr, value: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition,
            result: value,
        }],
        else_result: None,
    }
}

fn conjuncts(expr: Expr) -> Vec<Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut all = conjuncts(*left);
            all.extend(conjuncts(*right));
            all
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(*inner)
        }
        other => vec![other],
    }
}

fn and(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::And,
        right: Box::new(right),
    }
}

/// Whether `condition` names columns, all of them qualified by relations outside the subquery, and no subquery.
fn names_only_outer_columns(condition: &Expr, local: &HashSet<String>) -> bool {
    struct Columns<'a> {
        local: &'a HashSet<String>,
        outer: bool,
    }
    impl Visitor for Columns<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::CompoundIdentifier(idents) => {
                    if self.local.contains(&qualifier(idents)) {
                        return ControlFlow::Break(());
                    }
                    self.outer = true;
                }
                Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                    return ControlFlow::Break(());
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut columns = Columns { local, outer: false };
    condition.visit(&mut columns).is_continue() && columns.outer
}

/// What qualifies a compound column name (`pg_catalog.pg_class` in `pg_catalog.pg_class.oid`), lower case, as
/// [`relation_names`] spells it.
fn qualifier(idents: &[Ident]) -> String {
    idents[..idents.len() - 1]
        .iter()
        .map(|i| i.value.to_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// The names by which a SELECT's own FROM items can be referred to.
fn local_relations(select: &Select) -> HashSet<String> {
    select
        .from
        .iter()
        .flat_map(|from| std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)))
        .flat_map(relation_names)
        .collect()
}

/// How columns of a FROM item can be qualified: its alias, or its name with and without schema.
fn relation_names(relation: &TableFactor) -> Vec<String> {
    match relation {
        TableFactor::Table { alias: Some(alias), .. } | TableFactor::Derived { alias: Some(alias), .. } => {
            vec![alias.name.value.to_lowercase()]
        }
        TableFactor::Table { name, .. } => {
            let parts: Vec<String> = name.0.iter().map(|p| p.to_string().to_lowercase()).collect();
            (0..parts.len()).map(|start| parts[start..].join(".")).collect()
        }
        _ => vec![],
    }
}

/// Whether the subquery's condition or item names a qualifier none of its own FROM items has.
fn refers_outside(selection: &Option<Expr>, item: &Expr, local: &HashSet<String>) -> bool {
    struct Outside<'a>(&'a HashSet<String>);
    impl Visitor for Outside<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(idents) = expr
                && !self.0.contains(&qualifier(idents))
            {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut outside = Outside(local);
    selection.visit(&mut outside).is_break() || item.visit(&mut outside).is_break()
}

fn contains_aggregate(expr: &Expr) -> bool {
    struct Aggregates;
    impl Visitor for Aggregates {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match function_name(expr) {
                Some(name) if AGGREGATES.contains(&name.as_str()) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            // An aggregate inside a nested subquery does not aggregate this one.
            ControlFlow::Continue(())
        }
    }
    expr.visit(&mut Aggregates).is_break()
}

/// Name the result columns as PostgreSQL does, before other rewrites change the expressions: an expression gets
/// the name PostgreSQL gives it (a function's name, `?column?` for operators and literals, …) as an explicit alias,
/// an integer literal is typed `integer`, and duplicate names are made unique with a marker that
/// [`client_column_name`] removes again.
fn name_result_columns(statement: &mut Statement) {
    let Some(projection) = outer_projection(statement) else {
        return;
    };
    let mut seen = HashSet::new();
    for (position, item) in projection.iter_mut().enumerate() {
        let (expr, name) = match std::mem::replace(item, SelectItem::Wildcard(Default::default())) {
            SelectItem::UnnamedExpr(expr @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_))) => {
                let name = output_name(&expr).unwrap_or_default();
                if seen.insert(name.clone()) {
                    *item = SelectItem::UnnamedExpr(expr);
                    continue;
                }
                (expr, name)
            }
            SelectItem::UnnamedExpr(expr) => {
                let name = output_name(&expr).unwrap_or_else(|| "?column?".to_string());
                (integer_literal(expr), name)
            }
            // The compatibility parser's own unique alias stays.
            marked @ SelectItem::ExprWithAlias { .. } if matches!(&marked, SelectItem::ExprWithAlias { alias, .. } if client_column_name(&alias.value) != alias.value) =>
            {
                *item = marked;
                continue;
            }
            // An unquoted alias is folded to lower case, as identifiers are.
            SelectItem::ExprWithAlias { expr, alias } => match alias.quote_style {
                Some(_) => (integer_literal(expr), client_column_name(&alias.value).to_string()),
                None => (integer_literal(expr), client_column_name(&alias.value).to_lowercase()),
            },
            other => {
                *item = other;
                continue;
            }
        };
        let alias = if seen.insert(name.clone()) {
            name
        } else {
            format!("{DUPLICATE_MARKER}{position}__{name}")
        };
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('"', alias),
        };
    }
}

/// PostgreSQL types an integer literal that fits as `integer` (DataFusion: bigint), which drivers map to their
/// 32-bit integer (node-postgres returns a bigint as a string).
fn integer_literal(expr: Expr) -> Expr {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(ref n, _),
            ..
        }) if n.parse::<i32>().is_ok() => Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: Box::new(expr),
            data_type: DataType::Integer(None),
            array: false,
            format: None,
        },
        other => other,
    }
}

/// The name PostgreSQL gives an unaliased result column; `None` where it says `?column?`.
fn output_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.to_lowercase()),
        Expr::CompoundIdentifier(idents) => idents.last().map(|i| i.value.to_lowercase()),
        Expr::Nested(inner) => output_name(inner),
        Expr::Cast {
            expr: inner, data_type, ..
        } => output_name(inner).or_else(|| type_column_name(data_type)),
        // A subscript keeps the name of what it indexes (`s[i]` is `s`).
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(AccessExpr::Dot(Expr::Identifier(field))) => Some(field.value.to_lowercase()),
            Some(AccessExpr::Subscript(_)) => output_name(root),
            _ => None,
        },
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::ExprWithAlias { alias, .. }] => Some(alias.value.clone()),
                [SelectItem::UnnamedExpr(expr)] => output_name(expr),
                _ => None,
            },
            _ => None,
        },
        // `ARRAY(SELECT …)` is named `array`.
        Expr::Function(Function {
            name,
            args: FunctionArguments::Subquery(_),
            ..
        }) => name.0.last()?.as_ident().map(|i| i.value.to_lowercase()),
        // The compatibility parser writes `x = ANY(y)` as this call; PostgreSQL names the operator `?column?`.
        Expr::Function(_) => function_name(expr).filter(|name| name != "array_contains"),
        _ => None,
    }
}

/// PostgreSQL names a cast of a constant after the type (`NULL::text` is `text`, `1::int` is `int4`).
fn type_column_name(data_type: &DataType) -> Option<String> {
    let name = match type_name(data_type).as_str() {
        "text" => "text",
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "boolean" | "bool" => "bool",
        "varchar" | "character varying" => "varchar",
        "numeric" => "numeric",
        "date" => "date",
        "name" => "name",
        "oid" => "oid",
        _ => return None,
    };
    Some(name.to_string())
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// A type's bare lower-case name: `pg_catalog.regclass` and `REGCLASS` are both `regclass`.
fn type_name(data_type: &DataType) -> String {
    let name = data_type.to_string().to_lowercase();
    name.strip_prefix("pg_catalog.").unwrap_or(&name).to_string()
}

fn is_text_type(data_type: &DataType) -> bool {
    matches!(
        type_name(data_type).as_str(),
        "text" | "varchar" | "character varying" | "name"
    )
}

/// The name of the relation with oid `oid` (PostgreSQL's `oid::regclass::text` for relations on the search path).
fn relation_name(oid: &Expr) -> Option<Expr> {
    scalar_subquery(
        "SELECT max(relname) FROM pg_catalog.pg_class WHERE oid = semgate_oid",
        &[("semgate_oid", oid)],
    )
}

/// `x IN (subquery)` as a value: the subquery's answers as one array.
fn values_of(subquery: &Query) -> Option<Expr> {
    let Expr::Subquery(mut query) = scalar_subquery(
        "SELECT array_agg(semgate_value) FROM semgate_subquery AS semgate_values(semgate_value)",
        &[],
    )?
    else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let relation = &mut select.from.first_mut()?.relation;
    let TableFactor::Table { alias, .. } = relation else {
        return None;
    };
    *relation = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(subquery.clone()),
        alias: alias.take(),
        sample: None,
    };
    Some(Expr::Subquery(query))
}

/// A scalar subquery from a constant template whose holes (identifiers named in `holes`) receive the client's
/// expressions as they are: nothing a client wrote is printed and parsed again, so nothing it wrote can fail to.
/// `None` only if the template itself does not parse, which the tests rule out.
fn scalar_subquery(template: &str, holes: &[(&str, &Expr)]) -> Option<Expr> {
    let Statement::Query(mut query) = Parser::parse_sql(&PostgreSqlDialect {}, template).ok()?.pop()? else {
        return None;
    };
    fill_holes(query.as_mut(), holes);
    Some(Expr::Subquery(query))
}

/// Put each hole's expression where the identifier naming it stands.
fn fill_holes<T: VisitMut>(node: &mut T, holes: &[(&str, &Expr)]) {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(node, |expr| {
        if let Expr::Identifier(ident) = expr
            && let Some((_, value)) = holes.iter().find(|(name, _)| ident.value == *name)
        {
            *expr = (*value).clone();
        }
        ControlFlow::<()>::Continue(())
    });
}

/// A plain (not window) function call's lower-case unqualified name, whatever its arguments (`count(*)`).
fn function_name(expr: &Expr) -> Option<String> {
    let Expr::Function(Function { name, over: None, .. }) = expr else {
        return None;
    };
    Some(name.0.last()?.as_ident()?.value.to_lowercase())
}

/// A plain function call's lower-case unqualified name and arguments.
fn function_call(expr: &Expr) -> Option<(String, Vec<Expr>)> {
    let Expr::Function(Function {
        name, args, over: None, ..
    }) = expr
    else {
        return None;
    };
    let name = name.0.last()?.as_ident()?.value.to_lowercase();
    let args = match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        FunctionArguments::None => vec![],
        FunctionArguments::Subquery(_) => return None,
    };
    Some((name, args))
}

fn function(name: &str) -> Function {
    Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::None,
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        ..function(name)
    })
}

fn null() -> Expr {
    Expr::Value(Value::Null.into())
}

fn text(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.into()).into())
}

fn number(n: &str) -> Expr {
    Expr::Value(Value::Number(n.into(), false).into())
}

#[cfg(test)]
mod tests {
    use super::*;

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
