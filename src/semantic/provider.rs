//! A semantic view as a DataFusion table: it gives the SQL planner the view's columns and types. It is never scanned:
//! the [`rewrite`](super::rewrite) rule replaces every use of it by a compiled plan before optimization.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::View;

#[derive(Debug)]
pub struct SemanticViewTable {
    /// The resolved view this table stands for; the rewrite rule compiles queries against it.
    pub view: Arc<View>,
}

#[async_trait]
impl TableProvider for SemanticViewTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_table_definition(&self) -> Option<&str> {
        None
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        datafusion::common::internal_err!(
            "semantic view {} reached execution without being compiled",
            self.view.name
        )
    }
}
