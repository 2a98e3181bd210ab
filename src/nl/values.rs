//! Distinct values of the searchable dimensions, read from the sources once: how "EUROPE", "urgent" or "Brand#12"
//! in a question become filters, and how a filter value an LLM proposes is checked before anything runs.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use datafusion::prelude::{SessionContext, ident};

use crate::semantic::SemanticModel;
use crate::semantic::compile::{Output, Request, compile};

/// A dimension with more distinct values than this is not indexed (its values are not names people type).
const MAX_VALUES: usize = 1000;

#[derive(Debug, Default)]
pub struct ValueIndex {
    /// (view, dimension) → distinct values as stored, sorted.
    values: HashMap<(String, String), Vec<String>>,
}

impl ValueIndex {
    /// Read the distinct values of every searchable dimension at its own model's grain (the part table, not the line
    /// items), once per model dimension even when several views expose it.
    pub async fn build(model: &SemanticModel, ctx: &SessionContext) -> Result<Self> {
        let mut by_member: HashMap<(String, String), Option<Vec<String>>> = HashMap::new();
        let mut index = Self::default();
        for view in model.views.values() {
            for dimension in view.dimensions.iter().filter(|d| d.dimension.searchable) {
                // A view that grants only some rows indexes only the values in them: compiled like a query of it.
                let member = match &view.row_filter {
                    None => (dimension.model.clone(), dimension.dimension.expr.to_string()),
                    Some(_) => (view.name.clone(), dimension.name.clone()),
                };
                if !by_member.contains_key(&member) {
                    let values_plan = match &view.row_filter {
                        None => LogicalPlanBuilder::from(view.models[&dimension.model].plan.clone())
                            .aggregate(vec![dimension.dimension.expr.clone()], Vec::<Expr>::new())?
                            .build()?,
                        Some(_) => compile(&Request {
                            view,
                            outputs: vec![Output::Group(ident(&dimension.name))],
                            filters: vec![],
                        })
                        .map_err(|e| DataFusionError::External(Box::new(e)))?,
                    };
                    let plan = LogicalPlanBuilder::from(values_plan)
                        .limit(0, Some(MAX_VALUES + 1))?
                        .build()?;
                    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
                    let mut values = Vec::new();
                    for batch in &batches {
                        let column = cast(batch.column(0), &DataType::Utf8)?;
                        let strings = column.as_string::<i32>();
                        values.extend(
                            (0..strings.len())
                                .filter(|&i| strings.is_valid(i))
                                .map(|i| strings.value(i).to_string()),
                        );
                    }
                    values.sort();
                    let indexed = if values.len() > MAX_VALUES {
                        tracing::warn!(
                            view = %view.name,
                            dimension = %dimension.name,
                            "more than {MAX_VALUES} distinct values: not indexed for ASK"
                        );
                        None
                    } else {
                        Some(values)
                    };
                    by_member.insert(member.clone(), indexed);
                }
                if let Some(values) = &by_member[&member] {
                    index
                        .values
                        .insert((view.name.clone(), dimension.name.clone()), values.clone());
                }
            }
        }
        Ok(index)
    }

    /// The indexed values of one view's dimension.
    pub fn values(&self, view: &str, dimension: &str) -> Option<&[String]> {
        self.values
            .get(&(view.to_string(), dimension.to_string()))
            .map(Vec::as_slice)
    }

    /// Every indexed (dimension, value) of a view.
    pub fn entries<'a>(&'a self, view: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.values
            .iter()
            .filter(move |((v, _), _)| v == view)
            .flat_map(|((_, dimension), values)| values.iter().map(move |value| (dimension.as_str(), value.as_str())))
    }

    /// A value as stored, matched without regard to case: `Ok(None)` when the dimension is not indexed (any value
    /// goes), `Err` with the closest known values when it is and the value is not among them.
    pub fn canonical(&self, view: &str, dimension: &str, value: &str) -> Result<Option<String>, String> {
        let Some(values) = self.values(view, dimension) else {
            return Ok(None);
        };
        if let Some(stored) = values.iter().find(|v| v.eq_ignore_ascii_case(value)) {
            return Ok(Some(stored.clone()));
        }
        let mut ranked: Vec<(f64, &String)> = values
            .iter()
            .map(|v| (strsim::jaro_winkler(&v.to_lowercase(), &value.to_lowercase()), v))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        Err(ranked
            .iter()
            .take(8)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(", "))
    }
}
