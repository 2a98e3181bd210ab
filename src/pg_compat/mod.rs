//! PostgreSQL compatibility beyond what `datafusion-pg-catalog` provides, for the SQL drivers and BI tools send while
//! connecting and reading the catalog:
//!
//! - [`rewrite`]: statement rewrites around the compatibility parser, one per file (regproc columns compared as oids,
//!   correlated scalar subqueries, `ARRAY(subquery)`, `x::regtype::text`, result column names), built as AST nodes.
//! - [`plannable_subqueries`]: subqueries reshaped on the logical plan where DataFusion cannot plan them as they stand.
//! - [`catalog`]: `pg_catalog` relations with PostgreSQL 15's columns where the crate's differ (`reloptions`,
//!   `nspacl`, `pg_index.indkey`, …).
//! - [`functions`]: the PostgreSQL functions clients call that the catalog crate lacks ([`format`] among them).
//! - [`datetime_format`]: `to_date`, `to_timestamp` and `to_char` with PostgreSQL's templates (`YYYY-MM-DD`).
//! - [`types`]: result columns described as `oid` / `oid[]` where PostgreSQL's are and Arrow cannot tell.
//! - [`type_parameters`]: parameter types PostgreSQL infers and DataFusion does not (`x = ANY($1)`, `$1::text[]`).
//! - [`LoginRoles`]: the configured users as the catalog's roles.

pub mod catalog;
mod datetime_format;
mod format;
pub mod functions;
pub mod rewrite;
pub mod types;

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::functions::expr_fn::{coalesce, nullif};
use datafusion::functions_aggregate::expr_fn::{count, first_value};
use datafusion::logical_expr::expr::{BinaryExpr, Cast, Exists, Placeholder, ScalarFunction};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF, col, lit};
use datafusion::logical_expr::{FetchType, LogicalPlanBuilder, SkipType, Subquery};
use datafusion_pg_catalog::pg_catalog::context::{PgCatalogContextProvider, Role};

pub use datetime_format::DatetimeFormatError;
pub use format::quote_ident;
pub use rewrite::{client_column_name, parse};

/// The users who may log in, as `pg_roles` / `pg_user` rows: login roles without superuser or DDL rights (semgate is
/// read-only), so `\du` and role trees in DBeaver show who can connect.
#[derive(Debug, Clone)]
pub struct LoginRoles(Arc<Vec<String>>);

impl LoginRoles {
    pub fn new(mut names: Vec<String>) -> Self {
        names.sort();
        Self(Arc::new(names))
    }
}

#[async_trait::async_trait]
impl PgCatalogContextProvider for LoginRoles {
    async fn roles(&self) -> Vec<String> {
        self.0.as_ref().clone()
    }

    async fn role(&self, name: &str) -> Option<Role> {
        self.0.iter().any(|n| n == name).then(|| Role {
            name: name.to_string(),
            is_superuser: false,
            can_login: true,
            can_create_db: false,
            can_create_role: false,
            can_create_user: false,
            can_replication: false,
            grants: vec![],
            inherited_roles: vec![],
        })
    }
}

/// Give untyped parameters the type PostgreSQL infers for them, so that Describe reports it and Bind decodes the
/// value with it: `$1::T` is a `T`, and in `x = ANY($1)` (planned as `array_has($1, x)`) `$1` is an array of `x`'s
/// type, which lets drivers bind a list (psycopg, asyncpg, pgcli, ADBC); a function's argument has the type the
/// function takes there (see [`argument_types`]). A quoted literal compared with a boolean
/// is a boolean, as PostgreSQL reads an untyped literal (`indisprimary = 't'`: Tableau, SQLAlchemy).
pub fn type_parameters(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        // Expressions refer to the columns of the node's inputs.
        let mut schema = DFSchema::empty();
        for input in node.inputs() {
            schema.merge(input.schema());
        }
        node.map_expressions(|expr| expr.transform_up(|expr| Ok(type_parameter(expr, &schema))))
    })
    .map(|t| t.data)
}

fn type_parameter(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    match expr {
        Expr::Cast(Cast { expr: inner, field }) => match *inner {
            Expr::Placeholder(placeholder @ Placeholder { field: None, .. }) => Transformed::yes(Expr::Cast(Cast {
                expr: Box::new(typed(placeholder, field.data_type().clone())),
                field,
            })),
            inner => Transformed::no(Expr::Cast(Cast {
                expr: Box::new(inner),
                field,
            })),
        },
        Expr::ScalarFunction(ScalarFunction { func, mut args })
            if func.name() == "array_has" && args.len() == 2 && is_untyped_placeholder(&args[0]) =>
        {
            match args[1].get_type(schema) {
                Ok(element) => {
                    let element = text_as_utf8(element);
                    if let Some(Expr::Placeholder(placeholder)) = args.first_mut() {
                        let list = DataType::List(Arc::new(Field::new_list_field(element, true)));
                        placeholder.field = Some(Arc::new(Field::new("", list, true)));
                    }
                    Transformed::yes(Expr::ScalarFunction(ScalarFunction { func, args }))
                }
                Err(_) => Transformed::no(Expr::ScalarFunction(ScalarFunction { func, args })),
            }
        }
        Expr::ScalarFunction(ScalarFunction { func, mut args }) if args.iter().any(is_untyped_placeholder) => {
            let inferred = argument_types(&func, &args, schema);
            let mut changed = false;
            for (arg, inferred) in args.iter_mut().zip(inferred) {
                if let (Expr::Placeholder(placeholder @ Placeholder { field: None, .. }), Some(data_type)) =
                    (arg, inferred)
                {
                    placeholder.field = Some(Arc::new(Field::new("", data_type, true)));
                    changed = true;
                }
            }
            let expr = Expr::ScalarFunction(ScalarFunction { func, args });
            if changed {
                Transformed::yes(expr)
            } else {
                Transformed::no(expr)
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(
                op,
                Operator::Eq | Operator::NotEq | Operator::IsDistinctFrom | Operator::IsNotDistinctFrom
            ) =>
        {
            let is_boolean = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Boolean));
            let (left, right) = match (boolean_literal(&right), boolean_literal(&left)) {
                (Some(value), _) if is_boolean(&left) => (left, Box::new(value)),
                (_, Some(value)) if is_boolean(&right) => (Box::new(value), right),
                _ => return Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right })),
            };
            Transformed::yes(Expr::BinaryExpr(BinaryExpr { left, op, right }))
        }
        other => Transformed::no(other),
    }
}

/// Correlated subqueries DataFusion cannot plan where they stand, reshaped into ones it decorrelates into joins:
///
/// - A scalar subquery that takes one row (`LIMIT 1`, perhaps after an ORDER BY) becomes the aggregate
///   `first_value` of its rows: DataFusion cannot plan a correlated LIMIT. The compatibility parser caps every
///   projected subquery of a catalog query at one row this way (sqlsmith's `(select nspname from pg_namespace where
///   oid = pronamespace)`). Without ORDER BY, LIMIT 1 answers any one row, and first_value does; without rows, both
///   are NULL.
/// - A scalar subquery that may have no rows is NULL then, whatever its column: it becomes `nullif(subquery, NULL)`,
///   nullable, which the optimizer cannot see through. DataFusion 55 takes the column's nullability
///   (apache/datafusion#24513, fixed after 55), so a NOT NULL catalog column read by a subquery without rows
///   (sqlsmith's `(SELECT seqstart FROM pg_sequence LIMIT 1)`) failed the statement with XX000, and `IS NULL` of it
///   was folded to false.
/// - `EXISTS (…)` outside a WHERE clause (Ibis' enum check in a CASE of its select list, `SELECT EXISTS (SELECT 1
///   FROM pg_enum)`), correlated or not, becomes `coalesce((SELECT count(*) > 0 FROM …), false)`: DataFusion plans
///   EXISTS only as a filter's condition.
pub fn plannable_subqueries(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let in_filter = matches!(node, LogicalPlan::Filter(_));
        let node = node.recompute_schema()?;
        node.map_expressions(|expr| {
            expr.transform_up(|expr| match expr {
                Expr::ScalarSubquery(subquery) => {
                    let first_row = match subquery.outer_ref_columns.is_empty() {
                        true => None,
                        false => first_row_as_aggregate(&subquery.subquery)?,
                    };
                    let reshaped = first_row.is_some();
                    let subquery = match first_row {
                        Some(plan) => Subquery {
                            subquery: Arc::new(plan),
                            ..subquery
                        },
                        None => subquery,
                    };
                    let plan = subquery.subquery.clone();
                    let value = Expr::ScalarSubquery(subquery);
                    Ok(match plan.schema().fields().first() {
                        Some(column) if !column.is_nullable() && !always_one_row(&plan) => {
                            let null = ScalarValue::try_from(column.data_type())?;
                            Transformed::yes(nullif(value, lit(null)))
                        }
                        _ if reshaped => Transformed::yes(value),
                        _ => Transformed::no(value),
                    })
                }
                Expr::Exists(Exists { subquery, negated }) if !in_filter => {
                    let counted = LogicalPlanBuilder::from(subquery.subquery.as_ref().clone())
                        .aggregate(Vec::<Expr>::new(), vec![count(lit(1i64)).alias("rows")])?
                        .project(vec![col("rows").gt(lit(0i64)).alias("exists")])?
                        .build()?;
                    let found = Expr::ScalarSubquery(Subquery {
                        subquery: Arc::new(counted),
                        ..subquery
                    });
                    let found = coalesce(vec![found, lit(false)]);
                    Ok(Transformed::yes(if negated { !found } else { found }))
                }
                other => Ok(Transformed::no(other)),
            })
        })?
        // A schema said what a replaced subquery's did (a NULL-free column may now be NULL: no rows), and nodes
        // above the one that changed repeat it.
        .map_data(LogicalPlan::recompute_schema)
    })
    .map(|t| t.data)
}

/// Whether a plan has exactly one row whatever its input: an aggregate without grouping, or a FROM-less SELECT.
fn always_one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Projection(projection) => always_one_row(&projection.input),
        LogicalPlan::SubqueryAlias(alias) => always_one_row(&alias.input),
        LogicalPlan::Aggregate(aggregate) => aggregate.group_expr.is_empty(),
        LogicalPlan::EmptyRelation(empty) => empty.produce_one_row,
        _ => false,
    }
}

/// `Limit 1 ← Projection: e ← [Sort: k ←] input` → `Aggregate: first_value(e [ORDER BY k]) ← input`.
fn first_row_as_aggregate(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let LogicalPlan::Limit(limit) = plan else {
        return Ok(None);
    };
    if !matches!(limit.get_fetch_type()?, FetchType::Literal(Some(1)))
        || !matches!(limit.get_skip_type()?, SkipType::Literal(0))
    {
        return Ok(None);
    }
    let LogicalPlan::Projection(projection) = limit.input.as_ref() else {
        return Ok(None);
    };
    let [value] = projection.expr.as_slice() else {
        return Ok(None);
    };
    let (input, order) = match projection.input.as_ref() {
        LogicalPlan::Sort(sort) if sort.fetch.is_none() => (sort.input.as_ref(), sort.expr.clone()),
        LogicalPlan::Sort(_) => return Ok(None),
        input => (input, vec![]),
    };
    let name = value.schema_name().to_string();
    let first = first_value(value.clone().unalias(), order).alias(name);
    LogicalPlanBuilder::from(input.clone())
        .aggregate(Vec::<Expr>::new(), vec![first])?
        .build()
        .map(Some)
}

/// The type PostgreSQL infers for each untyped parameter among a function's arguments (`None` where it infers none
/// here). An array subscript is an integer (pgbench's `(ARRAY['AIR','RAIL'])[$1]`); any other argument takes the
/// type the function's signature coerces an untyped NULL to (`substr(name, $1)`: an integer), as PostgreSQL resolves
/// an `unknown` argument against the function's declared one.
fn argument_types(func: &ScalarUDF, args: &[Expr], schema: &DFSchema) -> Vec<Option<DataType>> {
    if matches!(func.name(), "array_element" | "array_slice") {
        return (0..args.len()).map(|i| (i > 0).then_some(DataType::Int32)).collect();
    }
    let fields: Vec<FieldRef> = args
        .iter()
        .map(|arg| {
            let data_type = match arg {
                Expr::Placeholder(Placeholder { field: None, .. }) => Ok(DataType::Null),
                other => other.get_type(schema),
            };
            data_type.map(|t| Arc::new(Field::new("", t, true)))
        })
        .collect::<Result<_>>()
        .unwrap_or_default();
    let coerced = match fields_with_udf(&fields, func) {
        Ok(coerced) if coerced.len() == args.len() => coerced,
        _ => return vec![None; args.len()],
    };
    args.iter()
        .zip(coerced)
        .map(|(arg, field)| match field.data_type() {
            _ if !is_untyped_placeholder(arg) => None,
            DataType::Null => None,
            other => Some(text_as_utf8(other.clone())),
        })
        .collect()
}

/// Text of any Arrow layout as `Utf8`: a parameter's value is bound as one.
fn text_as_utf8(data_type: DataType) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        other => other,
    }
}

/// The elements of a one-dimensional PostgreSQL array literal in text form (`{"p", "f"}`, `{a,b}`,
/// `{NULL,"say \"hi\""}`), as PostgreSQL's `array_in` reads it: quotes and backslashes escape, spaces around
/// elements are not part of them, an unquoted NULL is NULL. `None` when it is not such a literal.
pub fn array_elements(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut elements = Vec::new();
    let mut chars = inner.chars().peekable();
    if inner.trim().is_empty() {
        return Some(elements);
    }
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let element = if chars.next_if_eq(&'"').is_some() {
            let mut quoted = String::new();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => quoted.push(chars.next()?),
                    c => quoted.push(c),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            Some(quoted)
        } else {
            let mut plain = String::new();
            while let Some(c) = chars.next_if(|&c| c != ',') {
                match c {
                    '{' | '}' | '"' => return None,
                    '\\' => plain.push(chars.next()?),
                    c => plain.push(c),
                }
            }
            let plain = plain.trim().to_string();
            (!plain.eq_ignore_ascii_case("null")).then_some(plain)
        };
        elements.push(element);
        match chars.next() {
            Some(',') => continue,
            None => return Some(elements),
            Some(_) => return None,
        }
    }
}

/// A string literal PostgreSQL accepts as a boolean (`'t'`, `'false'`, `'on'`, …), as a boolean literal.
fn boolean_literal(expr: &Expr) -> Option<Expr> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)), _) = expr else {
        return None;
    };
    match text.trim().to_lowercase().as_str() {
        "t" | "true" | "yes" | "on" | "1" => Some(lit(true)),
        "f" | "false" | "no" | "off" | "0" => Some(lit(false)),
        _ => None,
    }
}

fn is_untyped_placeholder(expr: &Expr) -> bool {
    matches!(expr, Expr::Placeholder(Placeholder { field: None, .. }))
}

fn typed(placeholder: Placeholder, data_type: DataType) -> Expr {
    Expr::Placeholder(Placeholder {
        id: placeholder.id,
        field: Some(Arc::new(Field::new("", data_type, true))),
    })
}

/// A function's answer as a scalar when every argument was one (DataFusion then keeps it a constant), else as the
/// column it is.
fn scalar_if_scalar(args: &[ColumnarValue], result: ArrayRef) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::Result;
    use datafusion::functions_aggregate::expr_fn::count;
    use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Subquery, col, logical_plan::table_scan};

    use super::{array_elements, plannable_subqueries};

    /// `SELECT (SELECT <column of t> [aggregated] FROM t) AS v`, t's column NOT NULL: the value's nullability.
    fn subquery_value_nullable(aggregated: bool) -> Result<bool> {
        let schema = Schema::new(vec![Field::new("a", DataType::Int32, false)]);
        let inner = table_scan(Some("t"), &schema, None)?;
        let inner = match aggregated {
            true => inner.aggregate(Vec::<Expr>::new(), vec![count(col("a")).alias("a")])?,
            false => inner.project(vec![col("a")])?,
        };
        let value = Expr::ScalarSubquery(Subquery {
            subquery: Arc::new(inner.build()?),
            outer_ref_columns: vec![],
            spans: Default::default(),
        });
        let plan: LogicalPlan = LogicalPlanBuilder::empty(true)
            .project(vec![value.alias("v")])?
            .build()?;
        Ok(plannable_subqueries(plan)?.schema().field(0).is_nullable())
    }

    #[test]
    fn a_scalar_subquery_that_may_have_no_rows_is_nullable() -> Result<()> {
        assert!(subquery_value_nullable(false)?);
        assert!(
            !subquery_value_nullable(true)?,
            "an ungrouped aggregate always has its row"
        );
        Ok(())
    }

    #[test]
    fn array_literals_read_like_postgres() {
        let some = |items: &[&str]| Some(items.iter().map(|i| Some(i.to_string())).collect::<Vec<_>>());
        assert_eq!(array_elements(r#"{"p", "f"}"#), some(&["p", "f"]));
        assert_eq!(array_elements("{r,v , m}"), some(&["r", "v", "m"]));
        assert_eq!(array_elements(r#"{"a,b","say \"hi\""}"#), some(&["a,b", "say \"hi\""]));
        assert_eq!(
            array_elements(r#"{NULL,"NULL"}"#),
            Some(vec![None, Some("NULL".to_string())])
        );
        assert_eq!(array_elements("{}"), Some(vec![]));
        assert_eq!(array_elements("{{1,2},{3,4}}"), None);
        assert_eq!(array_elements("not an array"), None);
    }
}
