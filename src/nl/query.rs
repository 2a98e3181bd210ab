//! The one intermediate form both resolvers produce: a structured semantic query. It is checked against the model
//! here and rendered as semantic SQL deterministically: names must be the view's members and values are quoted, so
//! nothing a question says reaches the engine as SQL of its own.

use std::fmt::Write;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::semantic::View;
use crate::semantic::model::DimensionKind;

use super::values::ValueIndex;

/// Largest LIMIT a question may ask for.
const MAX_LIMIT: u64 = 100_000;

/// What a question asks, in the semantic model's terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticQuery {
    /// The semantic view answering the question.
    pub view: String,
    /// Measure names, in result order (after the dimensions).
    #[serde(default)]
    pub measures: Vec<String>,
    /// Grouping columns, in result order.
    #[serde(default)]
    pub dimensions: Vec<Grouping>,
    #[serde(default)]
    pub filters: Vec<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    pub dimension: String,
    /// Truncation of a time dimension; `None` groups by its values as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<Grain>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Grain {
    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }
}

/// Rows whose dimension value is (or, with `exclude`, is not) one of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub dimension: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclude: bool,
    pub values: Vec<String>,
}

/// `start <= dimension < end`; either bound may be open.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub dimension: String,
    #[serde(default)]
    pub start: Option<NaiveDate>,
    /// Exclusive.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ordering {
    /// A measure or grouping dimension of the query.
    pub column: String,
    #[serde(default)]
    pub descending: bool,
}

impl SemanticQuery {
    pub fn new(view: &str) -> Self {
        Self {
            view: view.to_string(),
            measures: vec![],
            dimensions: vec![],
            filters: vec![],
            time_range: None,
            order_by: vec![],
            limit: None,
        }
    }

    /// Check every name against `view` and every filter value of a searchable dimension against its known values
    /// (spelled as stored); the problems are phrased for whoever wrote the query to fix them.
    pub fn check(mut self, view: &View, values: &ValueIndex) -> Result<Self, Vec<String>> {
        self.view = view.name.clone();
        let mut problems = Vec::new();
        let dimension_names = || {
            view.dimensions
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let measure_names = || {
            view.measures
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let known_dimension = |name: &mut String, problems: &mut Vec<String>| -> Option<DimensionKind> {
            *name = name.to_lowercase();
            match view.dimension(name) {
                Some(d) => Some(d.dimension.kind),
                None => {
                    problems.push(format!(
                        "\"{name}\" is not a dimension of view {}; its dimensions are: {}",
                        view.name,
                        dimension_names()
                    ));
                    None
                }
            }
        };
        if self.measures.is_empty() && self.dimensions.is_empty() {
            problems.push("the query needs at least one measure or dimension".into());
        }
        for measure in &mut self.measures {
            *measure = measure.to_lowercase();
            if view.measure(measure).is_none() {
                problems.push(format!(
                    "\"{measure}\" is not a measure of view {}; its measures are: {}",
                    view.name,
                    measure_names()
                ));
            }
        }
        for grouping in &mut self.dimensions {
            let kind = known_dimension(&mut grouping.dimension, &mut problems);
            if grouping.grain.is_some() && kind.is_some_and(|k| k != DimensionKind::Time) {
                problems.push(format!(
                    "\"{}\" is not a time dimension, so it has no grain",
                    grouping.dimension
                ));
            }
        }
        for filter in &mut self.filters {
            if known_dimension(&mut filter.dimension, &mut problems).is_none() {
                continue;
            }
            if filter.values.is_empty() {
                problems.push(format!("the filter on \"{}\" has no values", filter.dimension));
            }
            for value in &mut filter.values {
                match values.canonical(&view.name, &filter.dimension, value) {
                    Ok(Some(stored)) => *value = stored,
                    Ok(None) => {}
                    Err(known) => problems.push(format!(
                        "'{value}' is not a value of \"{}\"; its values include: {known}",
                        filter.dimension
                    )),
                }
            }
        }
        if let Some(range) = &mut self.time_range {
            let kind = known_dimension(&mut range.dimension, &mut problems);
            if kind.is_some_and(|k| k != DimensionKind::Time) {
                problems.push(format!("\"{}\" is not a time dimension", range.dimension));
            }
            match (range.start, range.end) {
                (None, None) => problems.push("the time range has neither start nor end".into()),
                (Some(start), Some(end)) if start >= end => problems.push(format!(
                    "the time range is empty: start {start} is not before end {end}"
                )),
                _ => {}
            }
        }
        for order in &mut self.order_by {
            order.column = order.column.to_lowercase();
            let listed =
                self.measures.contains(&order.column) || self.dimensions.iter().any(|g| g.dimension == order.column);
            if !listed {
                problems.push(format!(
                    "order_by \"{}\" must be one of the query's measures or dimensions",
                    order.column
                ));
            }
        }
        if self.limit.is_some_and(|n| n == 0 || n > MAX_LIMIT) {
            problems.push(format!("limit must be between 1 and {MAX_LIMIT}"));
        }
        if problems.is_empty() { Ok(self) } else { Err(problems) }
    }

    /// The semantic SQL that answers the query: dimensions, then measures; filters and the time range in WHERE;
    /// ordered by the requested columns, else by the dimensions.
    pub fn to_sql(&self) -> String {
        let mut columns: Vec<String> = self
            .dimensions
            .iter()
            .map(|g| match g.grain {
                None => ident(&g.dimension),
                Some(grain) => format!(
                    "CAST(date_trunc('{}', {}) AS DATE) AS {}",
                    grain.name(),
                    ident(&g.dimension),
                    ident(&grain_column(&g.dimension, grain))
                ),
            })
            .collect();
        columns.extend(self.measures.iter().map(|m| format!("MEASURE({0}) AS {0}", ident(m))));
        let mut sql = format!("SELECT {} FROM {}", columns.join(", "), ident(&self.view));
        let mut conditions: Vec<String> = self
            .filters
            .iter()
            .map(|f| {
                let column = ident(&f.dimension);
                match (f.values.as_slice(), f.exclude) {
                    ([one], false) => format!("{column} = {}", literal(one)),
                    ([one], true) => format!("{column} <> {}", literal(one)),
                    (many, exclude) => format!(
                        "{column} {}IN ({})",
                        if exclude { "NOT " } else { "" },
                        many.iter().map(|v| literal(v)).collect::<Vec<_>>().join(", ")
                    ),
                }
            })
            .collect();
        if let Some(range) = &self.time_range {
            let column = ident(&range.dimension);
            if let Some(start) = range.start {
                conditions.push(format!("{column} >= DATE '{start}'"));
            }
            if let Some(end) = range.end {
                conditions.push(format!("{column} < DATE '{end}'"));
            }
        }
        if !conditions.is_empty() {
            let _ = write!(sql, " WHERE {}", conditions.join(" AND "));
        }
        let grouped: Vec<String> = self.dimensions.iter().map(|g| ident(&self.output_column(g))).collect();
        if !grouped.is_empty() {
            let _ = write!(sql, " GROUP BY {}", grouped.join(", "));
        }
        let order: Vec<String> = if self.order_by.is_empty() {
            grouped
        } else {
            self.order_by
                .iter()
                .map(|o| {
                    let column = match self.dimensions.iter().find(|g| g.dimension == o.column) {
                        Some(g) => self.output_column(g),
                        None => o.column.clone(),
                    };
                    format!("{}{}", ident(&column), if o.descending { " DESC" } else { "" })
                })
                .collect()
        };
        if !order.is_empty() {
            let _ = write!(sql, " ORDER BY {}", order.join(", "));
        }
        if let Some(limit) = self.limit {
            let _ = write!(sql, " LIMIT {limit}");
        }
        sql
    }

    fn output_column(&self, grouping: &Grouping) -> String {
        match grouping.grain {
            Some(grain) => grain_column(&grouping.dimension, grain),
            None => grouping.dimension.clone(),
        }
    }

    /// The query in words, one (item, detail) pair per part: what EXPLAIN ASK shows.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut parts = vec![("view".to_string(), self.view.clone())];
        if !self.measures.is_empty() {
            parts.push(("measures".into(), self.measures.join(", ")));
        }
        if !self.dimensions.is_empty() {
            let groups: Vec<String> = self
                .dimensions
                .iter()
                .map(|g| match g.grain {
                    Some(grain) => format!("{} by {}", g.dimension, grain.name()),
                    None => g.dimension.clone(),
                })
                .collect();
            parts.push(("group by".into(), groups.join(", ")));
        }
        for filter in &self.filters {
            let verb = if filter.exclude { "not in" } else { "in" };
            parts.push((
                "filter".into(),
                format!("{} {verb} ({})", filter.dimension, filter.values.join(", ")),
            ));
        }
        if let Some(range) = &self.time_range {
            let bound = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "…".into());
            parts.push((
                "time range".into(),
                format!("{} in [{}, {})", range.dimension, bound(range.start), bound(range.end)),
            ));
        }
        if !self.order_by.is_empty() {
            let order: Vec<String> = self
                .order_by
                .iter()
                .map(|o| format!("{} {}", o.column, if o.descending { "descending" } else { "ascending" }))
                .collect();
            parts.push(("order by".into(), order.join(", ")));
        }
        if let Some(limit) = self.limit {
            parts.push(("limit".into(), limit.to_string()));
        }
        parts
    }
}

/// `order_date` by month → `order_month`; other names get the grain appended.
fn grain_column(dimension: &str, grain: Grain) -> String {
    let stem = dimension.strip_suffix("_date").unwrap_or(dimension);
    format!("{stem}_{}", grain.name())
}

/// Names that PostgreSQL would leave bare but that semgate's SQL reads otherwise: `date` starts a typed literal,
/// `measure` is semgate's aggregate.
const READ_OTHERWISE: [&str; 2] = ["date", "measure"];

/// A SQL identifier, quoted unless it is a plain lower-case name that is not a keyword.
pub fn ident(name: &str) -> String {
    if READ_OTHERWISE.contains(&name) {
        format!("\"{name}\"")
    } else {
        crate::pg_compat::quote_ident(name)
    }
}

/// A SQL string literal.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_semantic_sql_with_quoted_names_and_values() {
        let query = SemanticQuery {
            measures: vec!["revenue".into()],
            dimensions: vec![
                Grouping {
                    dimension: "order_date".into(),
                    grain: Some(Grain::Month),
                },
                Grouping {
                    dimension: "region".into(),
                    grain: None,
                },
            ],
            filters: vec![Filter {
                dimension: "nation".into(),
                exclude: true,
                values: vec!["CÔTE D'IVOIRE".into(), "FRANCE".into()],
            }],
            time_range: Some(TimeRange {
                dimension: "order_date".into(),
                start: NaiveDate::from_ymd_opt(1996, 1, 1),
                end: NaiveDate::from_ymd_opt(1997, 1, 1),
            }),
            order_by: vec![Ordering {
                column: "revenue".into(),
                descending: true,
            }],
            limit: Some(5),
            ..SemanticQuery::new("sales")
        };
        assert_eq!(
            query.to_sql(),
            "SELECT CAST(date_trunc('month', order_date) AS DATE) AS order_month, region, MEASURE(revenue) AS revenue \
             FROM sales WHERE nation NOT IN ('CÔTE D''IVOIRE', 'FRANCE') AND order_date >= DATE '1996-01-01' \
             AND order_date < DATE '1997-01-01' GROUP BY order_month, region ORDER BY revenue DESC LIMIT 5"
        );
    }

    #[test]
    fn quotes_identifiers_that_need_it() {
        assert_eq!(ident("region"), "region");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("Mixed"), "\"Mixed\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
