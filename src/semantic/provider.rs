//! A semantic view as a DataFusion table: it gives the SQL planner the view's columns and types. It is never scanned:
//! the [`rewrite`](super::rewrite) rule replaces every use of it by a compiled plan before optimization. The views'
//! schema ([`ViewSchema`]) also answers for views that wait for a database.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::View;
use crate::source::SourceError;

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

/// Views that became available after their engine was built (a database that was down at start-up came back), by
/// lower-case name; shared by every engine of the gateway, so sessions opened before see them too.
pub type LateViews = Arc<ArcSwap<BTreeMap<String, Arc<View>>>>;

/// The schema the views live in: the engine's own views, then late ones; a view waiting for its database is an
/// error naming that database (SQLSTATE 08001), never a missing table.
#[derive(Debug)]
pub struct ViewSchema {
    views: MemorySchemaProvider,
    /// Why each view that is not served yet waits.
    unavailable: BTreeMap<String, SourceError>,
    late: LateViews,
}

impl ViewSchema {
    pub fn new(unavailable: BTreeMap<String, SourceError>, late: LateViews) -> Self {
        Self {
            views: MemorySchemaProvider::new(),
            unavailable,
            late,
        }
    }

    fn late_view(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        let view = self.late.load().get(name).cloned()?;
        Some(Arc::new(SemanticViewTable { view }))
    }
}

#[async_trait]
impl SchemaProvider for ViewSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.views.table_names();
        names.extend(self.late.load().keys().filter(|n| !self.views.table_exist(n)).cloned());
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if let Some(table) = self.views.table(name).await? {
            return Ok(Some(table));
        }
        if let Some(table) = self.late_view(name) {
            return Ok(Some(table));
        }
        match self.unavailable.get(name) {
            Some(why) => Err(DataFusionError::External(Box::new(why.clone()))),
            None => Ok(None),
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        self.views.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        self.views.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.views.table_exist(name) || self.late.load().contains_key(name)
    }
}
