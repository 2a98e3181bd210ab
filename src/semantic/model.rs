//! The resolved semantic model: models bound to logical plans over their sources, members as typed expressions, and
//! views whose columns are reached through relationship paths. Built once per model version; read-only afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan};

use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::ObjectStore;

use super::access::{AccessPolicy, RowFilter};
use crate::source::SourceError;

/// Everything clients can query: the views, by lower-case name.
#[derive(Debug)]
pub struct SemanticModel {
    /// Views by lower-case name; what `public.<name>` resolves to.
    pub views: BTreeMap<String, Arc<View>>,
    /// Views that need a database that was unreachable when the model was loaded (only when loading with
    /// [`WhenUnreachable::Defer`]), by lower-case name, with why: queries of them fail with that error until the
    /// database is back.
    pub unavailable: BTreeMap<String, SourceError>,
    /// Changes whenever any model file changes; part of cache keys and translations.
    pub version: u64,
    /// Views that exist but not for this model's reader (see [`SemanticModel::restricted`]): naming one is
    /// "permission denied", listing never shows it.
    pub forbidden: BTreeSet<String>,
    /// The databases the views read, connected: `/readyz` checks that they still answer.
    pub databases: Vec<Arc<crate::source::Database>>,
    /// The buckets file tables live in (`location: s3://…`), with their stores: every engine registers them on its
    /// runtime, where the tables' scans look them up.
    pub object_stores: Vec<(ObjectStoreUrl, Arc<dyn ObjectStore>)>,
}

/// What loading a model does about a database it cannot reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnreachable {
    /// Report it, like any other error in the model (`semgate check`, a reload).
    Fail,
    /// Load the rest: the views that need it are listed in [`SemanticModel::unavailable`] (start-up: one database
    /// down must not keep the others from being served).
    Defer,
}

/// A business entity: a plan over its source and the members defined on it.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    /// The model's rows, aliased by the model's name so member expressions can name its columns.
    pub plan: LogicalPlan,
    /// Identifies one row; needed to aggregate this model's measures without fan-out.
    pub primary_key: Vec<Column>,
    pub dimensions: BTreeMap<String, Dimension>,
    pub measures: BTreeMap<String, Measure>,
    pub relationships: BTreeMap<String, Relationship>,
}

#[derive(Debug, Clone)]
pub struct Dimension {
    /// Over the model's columns, qualified by the model name.
    pub expr: Expr,
    pub data_type: DataType,
    pub kind: DimensionKind,
    pub description: Option<String>,
    pub synonyms: Vec<String>,
    pub searchable: bool,
    /// Words for values (`R` → `returned`), by value as stored.
    pub value_synonyms: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    Categorical,
    Numeric,
    Boolean,
    Time,
}

impl DimensionKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "categorical" | "string" => Some(Self::Categorical),
            "numeric" | "number" => Some(Self::Numeric),
            "boolean" => Some(Self::Boolean),
            "time" => Some(Self::Time),
            _ => None,
        }
    }

    pub fn of_type(data_type: &DataType) -> Self {
        if data_type.is_temporal() {
            Self::Time
        } else if data_type.is_numeric() {
            Self::Numeric
        } else if *data_type == DataType::Boolean {
            Self::Boolean
        } else {
            Self::Categorical
        }
    }

    /// Whether an expression of `data_type` can serve as a dimension of this kind.
    pub fn accepts(self, data_type: &DataType) -> bool {
        match self {
            Self::Categorical => true,
            Self::Numeric => data_type.is_numeric(),
            Self::Boolean => *data_type == DataType::Boolean,
            Self::Time => data_type.is_temporal(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub aggregation: Aggregation,
    /// The aggregated expression, qualified by the model name; `None` counts rows.
    pub expr: Option<Expr>,
    /// Rows outside this predicate do not contribute.
    pub filter: Option<Expr>,
    pub description: Option<String>,
    pub synonyms: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Count,
    CountDistinct,
    Avg,
    Min,
    Max,
}

impl Aggregation {
    pub const NAMES: &'static str = "sum, count, count_distinct, avg, min, max";

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sum" => Some(Self::Sum),
            "count" => Some(Self::Count),
            "count_distinct" => Some(Self::CountDistinct),
            "avg" | "average" => Some(Self::Avg),
            "min" => Some(Self::Min),
            "max" => Some(Self::Max),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Relationship {
    pub target: String,
    pub cardinality: Cardinality,
    /// Equal pairs: (this model's side, the target's side), each qualified by its model's name.
    pub keys: Vec<(Expr, Expr)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    ManyToOne,
    OneToMany,
    OneToOne,
}

impl Cardinality {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "many_to_one" => Some(Self::ManyToOne),
            "one_to_many" => Some(Self::OneToMany),
            "one_to_one" => Some(Self::OneToOne),
            _ => None,
        }
    }

    /// Following the relationship from its owner keeps at most one target row per owner row.
    pub fn is_to_one(self) -> bool {
        matches!(self, Self::ManyToOne | Self::OneToOne)
    }

    /// Following the relationship backwards (target to owner) keeps at most one owner row per target row.
    pub fn is_to_one_reversed(self) -> bool {
        matches!(self, Self::OneToMany | Self::OneToOne)
    }
}

/// Relationship names walked from a view's root model; empty for the root itself.
pub type JoinPath = Vec<String>;

/// What a SQL client sees as a table.
#[derive(Debug)]
pub struct View {
    pub name: String,
    pub description: Option<String>,
    /// How long answers over this view may be cached (`cache_ttl_secs`); `None`: the cache's default.
    pub cache_ttl: Option<std::time::Duration>,
    /// What relative dates in questions count from (`anchor_date` in the view's YAML); `None` means today.
    pub anchor_date: Option<chrono::NaiveDate>,
    /// The root model's name: the view's grain.
    pub root: String,
    /// All models of the semantic model, by name (shared between views).
    pub models: Arc<BTreeMap<String, Model>>,
    pub dimensions: Vec<ViewDimension>,
    pub measures: Vec<ViewMeasure>,
    /// Dimensions then measures, as relation columns.
    pub schema: SchemaRef,
    /// Who may read what of this view (empty: everyone, everything); applied by [`View::restricted`].
    pub policies: Vec<AccessPolicy>,
    /// The rows its reader may see, in a view restricted for one reader: ANDed into every compiled query.
    pub row_filter: Option<RowFilter>,
}

#[derive(Debug, Clone)]
pub struct ViewDimension {
    pub name: String,
    pub path: JoinPath,
    pub model: String,
    pub dimension: Dimension,
}

#[derive(Debug, Clone)]
pub struct ViewMeasure {
    pub name: String,
    pub definition: MeasureDefinition,
    pub data_type: DataType,
    pub description: Option<String>,
    pub synonyms: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum MeasureDefinition {
    /// A model's measure reached by `path` from the view's root.
    Base {
        path: JoinPath,
        model: String,
        measure: Box<Measure>,
    },
    /// An expression over the view's other measures (unqualified columns).
    Derived { expr: Expr },
}

impl View {
    pub fn dimension(&self, name: &str) -> Option<&ViewDimension> {
        self.dimensions.iter().find(|d| d.name == name)
    }

    pub fn measure(&self, name: &str) -> Option<&ViewMeasure> {
        self.measures.iter().find(|m| m.name == name)
    }

    pub fn model_at(&self, path: &[String]) -> &Model {
        let mut model = &self.models[&self.root];
        for step in path {
            model = &self.models[&model.relationships[step].target];
        }
        model
    }
}

/// A problem in the model files, reported as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Every problem found while loading a model.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
