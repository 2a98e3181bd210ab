//! A semantic view as a DataFusion table: it gives the SQL planner the view's columns and types. It is never scanned:
//! the [`rewrite`](super::rewrite) rule replaces every use of it by a compiled plan before optimization. The views'
//! schema ([`ViewSchema`]) also answers for views that wait for a database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::access::Identity;
use super::{SemanticError, SemanticModel, View};
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
/// error naming that database (SQLSTATE 08001), a view its reader may not read is "permission denied" (42501), never
/// a missing table, and neither is listed.
#[derive(Debug)]
pub struct ViewSchema {
    views: MemorySchemaProvider,
    /// Why each view that is not served yet waits.
    unavailable: BTreeMap<String, SourceError>,
    /// Views that exist but not for this reader.
    forbidden: BTreeSet<String>,
    late: LateViews,
    /// Whose access policies late views are restricted by.
    reader: Identity,
}

impl ViewSchema {
    pub fn new(model: &SemanticModel, late: LateViews, reader: Identity) -> Self {
        Self {
            views: MemorySchemaProvider::new(),
            unavailable: model.unavailable.clone(),
            forbidden: model.forbidden.clone(),
            late,
            reader,
        }
    }

    /// A late view as the reader may read it: `Ok(None)` when there is none, an error when they may not read it.
    fn late_view(&self, name: &str) -> Result<Option<Arc<View>>> {
        let Some(view) = self.late.load().get(name).cloned() else {
            return Ok(None);
        };
        let Some(grant) = view.grant(&self.reader) else {
            return Err(DataFusionError::External(Box::new(SemanticError::PermissionDenied(
                name.to_string(),
            ))));
        };
        let restricted = view
            .restricted(&grant)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Some(Arc::new(restricted)))
    }

    fn readable_late_names(&self) -> Vec<String> {
        self.late
            .load()
            .iter()
            .filter(|(name, view)| !self.views.table_exist(name) && view.grant(&self.reader).is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }
}

#[async_trait]
impl SchemaProvider for ViewSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.views.table_names();
        names.extend(self.readable_late_names());
        // Sorted: the catalog numbers relations in this order (pg_class oids), the same every start.
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if let Some(table) = self.views.table(name).await? {
            return Ok(Some(table));
        }
        if let Some(view) = self.late_view(name)? {
            return Ok(Some(Arc::new(SemanticViewTable { view })));
        }
        if self.forbidden.contains(name) {
            return Err(DataFusionError::External(Box::new(SemanticError::PermissionDenied(
                name.to_string(),
            ))));
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
        self.views.table_exist(name) || self.readable_late_names().iter().any(|n| n == name)
    }
}
