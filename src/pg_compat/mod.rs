//! PostgreSQL compatibility beyond what `datafusion-pg-catalog` provides, for the SQL drivers and BI tools send while
//! connecting and reading the catalog:
//!
//! - [`rewrite`]: statement rewrites around the compatibility parser (regproc columns compared as oids, correlated
//!   scalar subqueries, `ARRAY(subquery)`, `x::regtype::text`, result column names).
//! - [`catalog`]: `pg_catalog` relations with PostgreSQL 15's columns where the crate's differ (`reloptions`,
//!   `nspacl`, `pg_index.indkey`, …).
//! - [`functions`]: the PostgreSQL functions clients call that the catalog crate lacks.
//! - [`type_parameters`]: parameter types PostgreSQL infers and DataFusion does not (`x = ANY($1)`, `$1::text[]`).
//! - [`LoginRoles`]: the configured users as the catalog's roles.

pub mod catalog;
pub mod functions;
pub mod rewrite;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{Cast, Placeholder, ScalarFunction};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion_pg_catalog::pg_catalog::context::{PgCatalogContextProvider, Role};

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
/// type, which lets drivers bind a list (psycopg, asyncpg, pgcli, ADBC).
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
        Expr::Cast(Cast { expr: inner, field }) if is_untyped_placeholder(&inner) => {
            let Expr::Placeholder(placeholder) = *inner else {
                unreachable!("checked above")
            };
            Transformed::yes(Expr::Cast(Cast {
                expr: Box::new(typed(placeholder, field.data_type().clone())),
                field,
            }))
        }
        Expr::ScalarFunction(ScalarFunction { func, mut args })
            if func.name() == "array_has" && args.len() == 2 && is_untyped_placeholder(&args[0]) =>
        {
            match args[1].get_type(schema) {
                Ok(element) => {
                    let element = match element {
                        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
                        other => other,
                    };
                    let Expr::Placeholder(placeholder) = args.remove(0) else {
                        unreachable!("checked above")
                    };
                    args.insert(
                        0,
                        typed(
                            placeholder,
                            DataType::List(Arc::new(Field::new_list_field(element, true))),
                        ),
                    );
                    Transformed::yes(Expr::ScalarFunction(ScalarFunction { func, args }))
                }
                Err(_) => Transformed::no(Expr::ScalarFunction(ScalarFunction { func, args })),
            }
        }
        other => Transformed::no(other),
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
