//! PostgreSQL types of result columns that Arrow cannot tell apart from others: an `oid` is an Arrow `Int32` like an
//! `integer`, and `array_agg` of oids is a list of `Int32` like an `integer[]`. Catalog columns carry their oid-ness as
//! field metadata, which DataFusion keeps through column references but drops at `CASE`, subqueries and aggregates;
//! asyncpg's type introspection needs `oid` and `oid[]` there (it only has built-in decoders for those arrays, so an
//! `integer[]` would send it to introspect `integer[]` with the same query, forever).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow_pg::datatypes::{PG_OID_ALIAS_KEY, is_pg_char_field};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, JoinType, Result};
use datafusion::logical_expr::expr::{AggregateFunction, Alias, Case, Cast};
use datafusion::logical_expr::{Distinct, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Subquery};
use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType as SqlDataType, Expr as SqlExpr, Statement, Value, ValueWithSpan, visit_expressions,
};

/// Field metadata on a list column naming the PostgreSQL array type it is (`oid[]`), where the element's Arrow type
/// alone would name another.
const ARRAY_TYPE_KEY: &str = "semgate.pg_array";

/// What [`wire_type`] tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OidType {
    Oid,
    OidArray,
}

/// The plan with a final projection that marks the columns whose PostgreSQL type is `oid` or `oid[]` but whose
/// field no longer says so; unchanged when there is none.
pub fn with_oid_types(plan: LogicalPlan) -> Result<LogicalPlan> {
    let types = column_types(&plan);
    let schema = Arc::clone(plan.schema());
    let marked = |i: usize, field: &Field| match types[i] {
        Some(OidType::Oid) if matches!(field.data_type(), DataType::Int32) && !is_oid(field) => {
            Some(HashMap::from([(PG_OID_ALIAS_KEY.to_string(), "oid".to_string())]))
        }
        Some(OidType::OidArray)
            if matches!(field.data_type(), DataType::List(e) if e.data_type() == &DataType::Int32)
                && !field.metadata().contains_key(ARRAY_TYPE_KEY) =>
        {
            Some(HashMap::from([(ARRAY_TYPE_KEY.to_string(), "oid[]".to_string())]))
        }
        _ => None,
    };
    if !schema.fields().iter().enumerate().any(|(i, f)| marked(i, f).is_some()) {
        return Ok(plan);
    }
    let projection: Vec<Expr> = schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            match marked(i, field) {
                Some(metadata) => column.alias_with_metadata(field.name(), Some(metadata.into())),
                None => column,
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(projection)?.build()
}

/// The PostgreSQL type a result field is described as, where Arrow's type would describe it otherwise: any oid alias
/// (`regclass`, `regtype`, … as the catalog crate marks its columns) is an `oid` on the wire, as PostgreSQL's catalog
/// columns are; a list marked by [`with_oid_types`] is an `oid[]`. A cast keeps its column's marker (`attrelid::int8`,
/// `typtype::text`), so a marked field of another Arrow type than the marker's is what it was cast to.
pub fn wire_type(field: &Field) -> Option<WireType> {
    match field.data_type() {
        DataType::Int32 if is_oid(field) => Some(WireType::Oid(OID)),
        DataType::List(_) if field.metadata().get(ARRAY_TYPE_KEY).map(String::as_str) == Some("oid[]") => {
            Some(WireType::Oid(OID_ARRAY))
        }
        DataType::Utf8 => None,
        _ if is_oid(field) || is_pg_char_field(field) => Some(WireType::OfArrowType),
        _ => None,
    }
}

/// How a field is described to PostgreSQL clients where its metadata says more than its Arrow type (see
/// [`wire_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// This PostgreSQL type (by OID).
    Oid(u32),
    /// The type its Arrow type maps to, whatever the metadata says.
    OfArrowType,
}

/// PostgreSQL's type OIDs that Arrow types cannot tell apart from others (`pg_type.oid`).
pub const OID: u32 = 26;
pub const OID_ARRAY: u32 = 1028;

/// Whether a field carries the `"char"` marker but was cast to another type (see [`wire_type`]).
pub fn is_cast_char(field: &Field) -> bool {
    is_pg_char_field(field) && field.data_type() != &DataType::Utf8
}

fn is_oid(field: &Field) -> bool {
    field.metadata().contains_key(PG_OID_ALIAS_KEY)
}

/// For each output column of `plan`, whether it is an oid or an array of oids.
fn column_types(plan: &LogicalPlan) -> Vec<Option<OidType>> {
    let width = plan.schema().fields().len();
    let types = match plan {
        LogicalPlan::TableScan(scan) => scan
            .projected_schema
            .fields()
            .iter()
            .map(|f| (matches!(f.data_type(), DataType::Int32) && is_oid(f)).then_some(OidType::Oid))
            .collect(),
        LogicalPlan::Projection(projection) => {
            let inner = column_types(&projection.input);
            projection
                .expr
                .iter()
                .map(|e| expr_type(e, &projection.input, &inner))
                .collect()
        }
        LogicalPlan::Aggregate(aggregate) => {
            let inner = column_types(&aggregate.input);
            aggregate
                .group_expr
                .iter()
                .chain(&aggregate.aggr_expr)
                .map(|e| expr_type(e, &aggregate.input, &inner))
                .collect()
        }
        LogicalPlan::Window(window) => {
            let mut types = column_types(&window.input);
            types.extend(window.window_expr.iter().map(|_| None));
            types
        }
        LogicalPlan::Join(join) => {
            let (left, right) = (column_types(&join.left), column_types(&join.right));
            match join.join_type {
                JoinType::LeftSemi | JoinType::LeftAnti => left,
                JoinType::RightSemi | JoinType::RightAnti => right,
                JoinType::LeftMark => left.into_iter().chain([None]).collect(),
                JoinType::RightMark => right.into_iter().chain([None]).collect(),
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                    left.into_iter().chain(right).collect()
                }
            }
        }
        LogicalPlan::Union(union) => union.inputs.first().map(|i| column_types(i)).unwrap_or_default(),
        LogicalPlan::RecursiveQuery(recursive) => column_types(&recursive.static_term),
        LogicalPlan::Distinct(Distinct::All(inner)) => column_types(inner),
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Subquery(_) => plan.inputs().first().map(|i| column_types(i)).unwrap_or_default(),
        _ => vec![],
    };
    // Anything not understood, or whose columns do not line up with its schema, is of no special type.
    if types.len() == width { types } else { vec![None; width] }
}

fn expr_type(expr: &Expr, input: &LogicalPlan, input_types: &[Option<OidType>]) -> Option<OidType> {
    let of = |e: &Expr| expr_type(e, input, input_types);
    match expr {
        Expr::Column(column) => input
            .schema()
            .index_of_column(column)
            .ok()
            .and_then(|i| input_types.get(i).copied().flatten()),
        Expr::Alias(Alias { expr, .. }) => of(expr),
        Expr::Cast(Cast { expr: inner, field }) => {
            let same = inner.get_type(input.schema()).is_ok_and(|t| &t == field.data_type());
            if same { of(inner) } else { None }
        }
        // The branches agree, NULLs aside (`CASE WHEN t.typtype = 'd' THEN (subquery) ELSE NULL END`).
        Expr::Case(Case {
            when_then_expr,
            else_expr,
            ..
        }) => {
            let mut branches = when_then_expr
                .iter()
                .map(|(_, then)| then.as_ref())
                .chain(else_expr.as_deref())
                .filter(|e| !matches!(e, Expr::Literal(value, _) if value.is_null()))
                .map(of);
            let first = branches.next()??;
            branches.all(|t| t == Some(first)).then_some(first)
        }
        Expr::ScalarSubquery(Subquery { subquery, .. }) => column_types(subquery).first().copied().flatten(),
        Expr::AggregateFunction(AggregateFunction { func, params }) => {
            let argument = params.args.first().and_then(of);
            match func.name() {
                "array_agg" => (argument == Some(OidType::Oid)).then_some(OidType::OidArray),
                "first_value" | "last_value" | "min" | "max" => argument,
                _ => None,
            }
        }
        _ => None,
    }
}

/// Parameters whose type a cast declares as one Arrow cannot tell apart (`$1::oid[]` in asyncpg's type
/// introspection): PostgreSQL describes such a parameter with the cast's type, and the client encodes its value so.
/// By position (0 for `$1`).
pub fn declared_parameter_types(statement: &Statement) -> HashMap<usize, u32> {
    let mut declared = HashMap::new();
    let _ = visit_expressions(statement, |expr| {
        if let SqlExpr::Cast { expr, data_type, .. } = expr
            && let SqlExpr::Value(ValueWithSpan {
                value: Value::Placeholder(placeholder),
                ..
            }) = expr.as_ref()
            && let Some(position) = placeholder.strip_prefix('$').and_then(|n| n.parse::<usize>().ok())
            && let Some(wire_type) = oid_type(data_type)
        {
            declared.insert(position.saturating_sub(1), wire_type);
        }
        ControlFlow::<()>::Continue(())
    });
    declared
}

/// `oid` or `oid[]` (also `pg_catalog.oid`).
fn oid_type(data_type: &SqlDataType) -> Option<u32> {
    let is_oid = |data_type: &SqlDataType| {
        matches!(data_type, SqlDataType::Custom(name, args)
            if args.is_empty() && name.0.last().and_then(|part| part.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("oid")))
    };
    match data_type {
        SqlDataType::Array(ArrayElemTypeDef::SquareBracket(element, _)) if is_oid(element) => Some(OID_ARRAY),
        element if is_oid(element) => Some(OID),
        _ => None,
    }
}
