//! Access policies: who may read a view, which of its members and which of its rows (Cube's `access_policy`), and a
//! model as one user may read it. A view without policies is open to everyone; a view with policies exists only for
//! the users at least one of them applies to. Several applying policies grant the union of their members and of their
//! rows. Attribute values enter row filters as typed literals, never as SQL text.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::ident;

use super::SemanticError;
use super::compile;
use super::model::{MeasureDefinition, SemanticModel, View, ViewDimension, ViewMeasure};

/// Who is asking, as policies see them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub groups: BTreeSet<String>,
    /// Attribute → its values (a single value is a list of one).
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// One policy of a view, checked against the view's members when the model was loaded.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    /// The groups it applies to; `None`: every user (`group: "*"`).
    pub groups: Option<BTreeSet<String>>,
    /// All must hold for the policy to apply.
    pub conditions: Vec<Condition>,
    /// The members it grants.
    pub members: Members,
    /// Members it shows as NULL when no applying policy grants them.
    pub masked: Members,
    /// All must hold for a row to be granted; empty: every row.
    pub rows: Vec<RowRule>,
    /// The user attributes it reads, each with where (for `semgate check`'s warning when no user has it).
    pub attributes: Vec<(String, super::Diagnostic)>,
}

/// A set of a view's members, as a policy names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    All,
    Only(BTreeSet<String>),
    AllBut(BTreeSet<String>),
}

impl Members {
    fn contains(&self, member: &str) -> bool {
        match self {
            Members::All => true,
            Members::Only(names) => names.contains(member),
            Members::AllBut(names) => !names.contains(member),
        }
    }

    /// The member names a policy wrote (to check that they exist).
    pub fn named(&self) -> impl Iterator<Item = &String> {
        match self {
            Members::All => None,
            Members::Only(names) | Members::AllBut(names) => Some(names.iter()),
        }
        .into_iter()
        .flatten()
    }
}

/// A value in a condition or a row filter: written out, or one of the user's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Literal(String),
    /// `{ userAttributes.<name> }` (or Cube's `{ securityContext.<name> }`).
    Attribute(String),
}

impl Operand {
    /// `{ userAttributes.x }` / `{ securityContext.x }`, or text without braces (a literal).
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let Some(inner) = trimmed.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            if text.contains('{') || text.contains('}') {
                return Err(format!(
                    "`{text}`: a value is either a literal or exactly one `{{ userAttributes.<name> }}` template"
                ));
            }
            return Ok(Operand::Literal(text.to_string()));
        };
        let inner = inner.trim();
        match inner
            .strip_prefix("userAttributes.")
            .or_else(|| inner.strip_prefix("securityContext."))
        {
            Some(name) if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                Ok(Operand::Attribute(name.to_string()))
            }
            _ => Err(format!(
                "`{text}`: templates name a user attribute, as `{{ userAttributes.<name> }}`"
            )),
        }
    }

    /// The values it stands for; `None` when it names an attribute the user does not have.
    fn values<'a>(&'a self, identity: &'a Identity) -> Option<Vec<&'a str>> {
        match self {
            Operand::Literal(text) => Some(vec![text.as_str()]),
            Operand::Attribute(name) => identity
                .attributes
                .get(name)
                .map(|values| values.iter().map(String::as_str).collect()),
        }
    }
}

/// `a == b`, `a != b`, or `a` alone (holds when not empty). An attribute the user lacks reads as `''`; a list
/// attribute equals a value when one of its values does.
#[derive(Debug, Clone)]
pub struct Condition {
    left: Operand,
    comparison: Option<(bool, Operand)>,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Self, String> {
        let unquote = |side: &str| -> Result<Operand, String> {
            let side = side.trim();
            for quote in ['\'', '"'] {
                if let Some(inner) = side.strip_prefix(quote).and_then(|s| s.strip_suffix(quote))
                    && side.len() >= 2
                {
                    return Ok(Operand::Literal(inner.to_string()));
                }
            }
            match Operand::parse(side)? {
                Operand::Literal(_) => Err(format!(
                    "condition `{text}`: write a value in quotes ('EUROPE') or as {{ userAttributes.<name> }}"
                )),
                attribute => Ok(attribute),
            }
        };
        for (operator, equal) in [("!==", false), ("===", true), ("!=", false), ("==", true)] {
            if let Some((left, right)) = text.split_once(operator) {
                return Ok(Condition {
                    left: unquote(left)?,
                    comparison: Some((equal, unquote(right)?)),
                });
            }
        }
        Ok(Condition {
            left: unquote(text)?,
            comparison: None,
        })
    }

    /// The user attributes it reads.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.left)
            .chain(self.comparison.as_ref().map(|(_, right)| right))
            .filter_map(|operand| match operand {
                Operand::Attribute(name) => Some(name.as_str()),
                Operand::Literal(_) => None,
            })
    }

    fn holds(&self, identity: &Identity) -> bool {
        let values = |operand: &Operand| -> BTreeSet<String> {
            match operand.values(identity) {
                Some(values) if !values.is_empty() => values.into_iter().map(String::from).collect(),
                _ => BTreeSet::from([String::new()]),
            }
        };
        let left = values(&self.left);
        match &self.comparison {
            None => left.iter().any(|v| !v.is_empty()),
            Some((equal, right)) => left.intersection(&values(right)).next().is_some() == *equal,
        }
    }
}

/// How a row filter compares a dimension with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOperator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    Set,
    NotSet,
}

impl FilterOperator {
    pub const NAMES: &'static str = "equals, notEquals, in, notIn, gt, gte, lt, lte, contains, set, notSet";

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "equals" => Self::Equals,
            "notEquals" => Self::NotEquals,
            "in" => Self::In,
            "notIn" => Self::NotIn,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "contains" => Self::Contains,
            "set" => Self::Set,
            "notSet" => Self::NotSet,
            _ => return None,
        })
    }

    /// How many values it takes: (at least, at most).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Self::Set | Self::NotSet => (0, 0),
            Self::Gt | Self::Gte | Self::Lt | Self::Lte => (1, 1),
            _ => (1, usize::MAX),
        }
    }
}

/// One row filter of a policy: `dimension operator values`.
#[derive(Debug, Clone)]
pub struct RowRule {
    pub dimension: String,
    pub data_type: DataType,
    pub operator: FilterOperator,
    pub values: Vec<Operand>,
}

impl RowRule {
    /// The condition over the view's dimension, the user's attribute values bound as literals of the dimension's type.
    /// An attribute the user lacks, or a value that is not of the dimension's type, grants no row.
    fn predicate(&self, identity: &Identity) -> Expr {
        let column = ident(&self.dimension);
        let mut values = Vec::new();
        for operand in &self.values {
            let Some(texts) = operand.values(identity) else {
                return lit(false);
            };
            for text in texts {
                let parsed = if self.operator == FilterOperator::Contains {
                    Ok(ScalarValue::Utf8(Some(text.to_string())))
                } else {
                    ScalarValue::try_from_string(text.to_string(), &self.data_type)
                };
                match parsed {
                    Ok(value) => values.push(value),
                    Err(_) => {
                        tracing::warn!(
                            dimension = %self.dimension,
                            value = text,
                            "a row filter value is not of its dimension's type: it grants no row"
                        );
                        return lit(false);
                    }
                }
            }
        }
        let list = || values.iter().cloned().map(lit).collect::<Vec<_>>();
        let first = || values.first().cloned().map_or(lit(false), lit);
        match self.operator {
            FilterOperator::Equals | FilterOperator::In if values.is_empty() => lit(false),
            FilterOperator::Equals | FilterOperator::In => column.in_list(list(), false),
            FilterOperator::NotEquals | FilterOperator::NotIn if values.is_empty() => lit(true),
            FilterOperator::NotEquals | FilterOperator::NotIn => {
                column.clone().is_null().or(column.in_list(list(), true))
            }
            FilterOperator::Gt => column.gt(first()),
            FilterOperator::Gte => column.gt_eq(first()),
            FilterOperator::Lt => column.lt(first()),
            FilterOperator::Lte => column.lt_eq(first()),
            FilterOperator::Contains => values
                .iter()
                .map(|value| {
                    let text = value.to_string();
                    let escaped: String = text
                        .chars()
                        .flat_map(|c| match c {
                            '%' | '_' | '\\' => vec!['\\', c],
                            c => vec![c],
                        })
                        .collect();
                    Expr::Like(Like::new(
                        false,
                        Box::new(column.clone()),
                        Box::new(lit(format!("%{escaped}%"))),
                        Some('\\'),
                        true,
                    ))
                })
                .reduce(Expr::or)
                .unwrap_or(lit(false)),
            FilterOperator::Set => column.is_not_null(),
            FilterOperator::NotSet => column.is_null(),
        }
    }
}

/// What the applying policies of one view grant one user.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub members: BTreeSet<String>,
    pub masked: BTreeSet<String>,
    /// Over the view's dimensions; `None`: every row.
    pub rows: Option<Expr>,
}

/// The rows a view grants a user, resolved for compilation: always ANDed into what a query asks of the view.
#[derive(Debug, Clone)]
pub struct RowFilter {
    /// Over the view's dimensions (unqualified), as a policy wrote it: what EXPLAIN and the audit show.
    pub condition: Expr,
    /// The same, over the join tree's columns.
    pub predicate: Expr,
    /// The join-tree nodes the predicate reads.
    pub paths: BTreeSet<super::model::JoinPath>,
}

impl View {
    fn member_names(&self) -> impl Iterator<Item = &String> {
        self.dimensions
            .iter()
            .map(|d| &d.name)
            .chain(self.measures.iter().map(|m| &m.name))
    }

    /// What this view grants `identity`; `None`: the view does not exist for them.
    pub fn grant(&self, identity: &Identity) -> Option<Grant> {
        if self.policies.is_empty() {
            return Some(Grant {
                members: self.member_names().cloned().collect(),
                masked: BTreeSet::new(),
                rows: None,
            });
        }
        let applying: Vec<&AccessPolicy> = self
            .policies
            .iter()
            .filter(|p| {
                p.groups
                    .as_ref()
                    .is_none_or(|groups| !groups.is_disjoint(&identity.groups))
                    && p.conditions.iter().all(|c| c.holds(identity))
            })
            .collect();
        if applying.is_empty() {
            return None;
        }
        let members: BTreeSet<String> = self
            .member_names()
            .filter(|m| applying.iter().any(|p| p.members.contains(m)))
            .cloned()
            .collect();
        let masked = self
            .member_names()
            .filter(|m| !members.contains(*m) && applying.iter().any(|p| p.masked.contains(m)))
            .cloned()
            .collect();
        let rows = applying
            .iter()
            .map(|p| p.rows.iter().map(|rule| rule.predicate(identity)).reduce(Expr::and))
            .collect::<Option<Vec<Expr>>>()
            .map(|each| each.into_iter().reduce(Expr::or).unwrap_or(lit(false)));
        Some(Grant { members, masked, rows })
    }

    /// This view as `grant` lets it be read: members not granted are gone (a derived metric that needs one too),
    /// masked ones are NULL, and the granted rows are a filter every compiled query carries.
    pub fn restricted(&self, grant: &Grant) -> Result<View, SemanticError> {
        let null_of = |data_type: &DataType| -> Result<Expr, SemanticError> {
            Ok(lit(ScalarValue::try_from(data_type).map_err(SemanticError::Plan)?))
        };
        let mut dimensions = Vec::new();
        for d in &self.dimensions {
            if grant.members.contains(&d.name) {
                dimensions.push(d.clone());
            } else if grant.masked.contains(&d.name) {
                let mut masked: ViewDimension = d.clone();
                masked.dimension.expr = null_of(&d.dimension.data_type)?;
                masked.dimension.searchable = false;
                dimensions.push(masked);
            }
        }
        let mut measures: Vec<ViewMeasure> = Vec::new();
        for m in &self.measures {
            let readable = |name: &str| measures.iter().any(|kept| kept.name == name);
            let keep = match &m.definition {
                MeasureDefinition::Derived { expr } => {
                    (grant.members.contains(&m.name) || grant.masked.contains(&m.name))
                        && expr.column_refs().iter().all(|c| readable(&c.name))
                }
                MeasureDefinition::Base { .. } => grant.members.contains(&m.name) || grant.masked.contains(&m.name),
            };
            if !keep {
                continue;
            }
            let mut kept = m.clone();
            if !grant.members.contains(&m.name) {
                kept.definition = MeasureDefinition::Derived {
                    expr: null_of(&m.data_type)?,
                };
            }
            measures.push(kept);
        }
        let mut fields: Vec<Field> = dimensions
            .iter()
            .map(|d| Field::new(&d.name, d.dimension.data_type.clone(), true))
            .collect();
        fields.extend(measures.iter().map(|m| Field::new(&m.name, m.data_type.clone(), true)));
        let row_filter = match &grant.rows {
            Some(condition) => Some(compile::row_filter(self, condition.clone())?),
            None => None,
        };
        Ok(View {
            name: self.name.clone(),
            description: self.description.clone(),
            cache_ttl: self.cache_ttl,
            anchor_date: self.anchor_date,
            root: self.root.clone(),
            models: self.models.clone(),
            dimensions,
            measures,
            schema: Arc::new(Schema::new(fields)),
            policies: Vec::new(),
            row_filter,
        })
    }
}

/// The policy context a model was restricted under: equal for users who read the same views, members and rows, so
/// they share cached answers; different otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PolicyContext(String);

impl PolicyContext {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl SemanticModel {
    /// The model as `identity` may read it, and its policy context. Views they may not read are gone (and answer
    /// "permission denied"). Views that wait for a database are restricted when they come back, so while any wait
    /// the context names the identity itself.
    pub fn restricted(&self, identity: &Identity) -> Result<(SemanticModel, PolicyContext), SemanticError> {
        let mut views = BTreeMap::new();
        let mut forbidden = self.forbidden.clone();
        let mut context = Vec::new();
        for (name, view) in &self.views {
            match view.grant(identity) {
                None => {
                    forbidden.insert(name.clone());
                    context.push(format!("{name}: none"));
                }
                Some(grant)
                    if grant.masked.is_empty()
                        && grant.rows.is_none()
                        && grant.members.len() == view.member_names().count() =>
                {
                    views.insert(name.clone(), view.clone());
                }
                Some(grant) => {
                    context.push(format!(
                        "{name}: members {:?}, masked {:?}, rows {}",
                        grant.members,
                        grant.masked,
                        grant.rows.as_ref().map_or("all".to_string(), |r| format!("{r:?}"))
                    ));
                    views.insert(name.clone(), Arc::new(view.restricted(&grant)?));
                }
            }
        }
        if !self.unavailable.is_empty() {
            context.push(format!("{identity:?}"));
        }
        Ok((
            SemanticModel {
                views,
                unavailable: self.unavailable.clone(),
                version: self.version,
                forbidden,
                databases: self.databases.clone(),
                object_stores: self.object_stores.clone(),
            },
            PolicyContext(context.join("; ")),
        ))
    }
}
