//! The semantic layer: YAML models and views ([`spec`], [`load`], [`model`]), their compilation into logical plans
//! ([`compile`]), and the DataFusion hooks that make views queryable tables ([`provider`], [`rewrite`]).

pub mod access;
pub mod compile;
pub mod inner_joins;
pub mod load;
pub mod model;
pub mod provider;
pub mod rewrite;
pub mod spec;
#[cfg(test)]
mod testing;

pub use load::{ModelText, load};
pub use model::{Diagnostic, Diagnostics, SemanticModel, View, WhenUnreachable};

/// A query that the semantic layer cannot answer as written.
#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    #[error("column \"{column}\" does not exist in view \"{view}\"; its columns are: {known}")]
    UnknownColumn {
        view: String,
        column: String,
        known: String,
    },
    #[error("measure \"{measure}\" cannot be used in {place}; select it, or aggregate it with MEASURE({measure})")]
    MeasureMisplaced { measure: String, place: String },
    #[error("dimension \"{0}\" must appear in GROUP BY to be used next to measures")]
    DimensionNotGrouped(String),
    #[error("permission denied for view {0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Plan(#[from] datafusion::error::DataFusionError),
}
