//! The semantic model as written in YAML: every value keeps its position so problems are reported as `file:line:col`.

use std::collections::{BTreeMap, HashMap};

use marked_yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

/// One YAML file of a semantic model; a model may be split over several files. Published as JSON Schema by
/// `semgate schema model`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    #[serde(default)]
    pub views: Vec<ViewSpec>,
}

/// Where data lives: files (parquet, csv) under a location, or a database (postgres, mysql, sqlite) whose tables are
/// read where they are, with the work pushed down to it as SQL.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// parquet, csv, postgres, mysql or sqlite.
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    /// Where models find this source's tables, as `<namespace>.<table>` (default: the source's name). Sources may
    /// share a namespace, so a table can move to another database without touching the models that read it.
    #[schemars(with = "Option<String>")]
    pub namespace: Option<Spanned<String>>,
    /// Files: the directory tables are relative to, here or in object storage (`s3://bucket/prefix/`); sqlite: the
    /// database file. Relative paths are relative to the YAML file; `${data_dir}` expands to the configured data dir.
    #[schemars(with = "Option<String>")]
    pub location: Option<Spanned<String>>,
    /// Table name → file or glob under `location` (files), or the table's name in the database, optionally
    /// schema-qualified (`public.customer`).
    #[serde(default)]
    #[schemars(with = "HashMap<String, String>")]
    pub tables: HashMap<Spanned<String>, Spanned<String>>,
    /// CSV only: whether the first line is a header (default true).
    #[schemars(with = "Option<bool>")]
    pub has_header: Option<Spanned<bool>>,
    /// CSV only: the field delimiter (default `,`).
    #[schemars(with = "Option<String>")]
    pub delimiter: Option<Spanned<String>>,
    /// Files in S3 (`location: s3://…`): the bucket's region (default: `AWS_REGION`, then us-east-1).
    #[schemars(with = "Option<String>")]
    pub region: Option<Spanned<String>>,
    /// Files on an S3-compatible server (MinIO, Ceph, moto): its URL, e.g. `http://127.0.0.1:9000`; may say
    /// `${ENV_VAR}`. Default: `AWS_ENDPOINT`, else AWS itself.
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// Files in S3: the environment variables holding the access key id and its secret (default:
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, then the rest of AWS's credential chain).
    #[schemars(with = "Option<String>")]
    pub access_key_id_env: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub secret_access_key_env: Option<Spanned<String>>,
    /// Files in S3: allow an `http://` endpoint (a local server); default false.
    #[schemars(with = "Option<bool>")]
    pub allow_http: Option<Spanned<bool>>,
    /// Databases over the network: where to connect. Any of these may say `${ENV_VAR}` or `${ENV_VAR:-default}`.
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub port: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub database: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// The environment variable holding the database password (none: the server's trust or peer rules apply).
    #[schemars(with = "Option<String>")]
    pub password_env: Option<Spanned<String>>,
    /// disable, prefer (the default) or require; postgres also verify-full.
    #[schemars(with = "Option<String>")]
    pub tls: Option<Spanned<String>>,
    /// Connections kept open to the database (default 8).
    #[schemars(with = "Option<u32>")]
    pub pool_size: Option<Spanned<u32>>,
    /// How long to wait for the database to accept a connection before calling it unreachable (default 5).
    #[schemars(with = "Option<u64>")]
    pub connect_timeout_secs: Option<Spanned<u64>>,
    /// How long one query may run in the database (default 60).
    #[schemars(with = "Option<u64>")]
    pub query_timeout_secs: Option<Spanned<u64>>,
}

/// A business entity bound to one source table or to a SQL select over sources.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub source: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub table: Option<Spanned<String>>,
    /// A SELECT over `source.table` names, instead of `source` + `table`.
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    #[schemars(with = "Vec<String>")]
    pub primary_key: Spanned<Vec<Spanned<String>>>,
    pub description: Option<String>,
    #[serde(default)]
    pub relationships: Vec<RelationshipSpec>,
    #[serde(default)]
    pub dimensions: Vec<DimensionSpec>,
    #[serde(default)]
    pub measures: Vec<MeasureSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipSpec {
    /// Name used in member paths; defaults to the target model's name.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    #[schemars(with = "String")]
    pub model: Spanned<String>,
    /// many_to_one, one_to_many or one_to_one.
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    /// Equalities between this model's columns and the target's, joined by AND: `o_custkey = c_custkey`.
    #[schemars(with = "String")]
    pub on: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// An expression over the model's columns; defaults to the column named like the dimension.
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    /// categorical, numeric, boolean or time; inferred from the expression's type when absent.
    #[serde(rename = "type")]
    #[schemars(with = "Option<String>")]
    pub kind: Option<Spanned<String>>,
    pub description: Option<String>,
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Whether the natural-language resolver indexes this dimension's distinct values.
    #[serde(default)]
    pub searchable: bool,
    /// Words people use for a value, by value (`R: [returned]`), for ASK; needs `searchable`.
    #[serde(default)]
    pub value_synonyms: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// sum, count, count_distinct, avg, min or max.
    #[schemars(with = "String")]
    pub agg: Spanned<String>,
    /// The aggregated expression; optional for `count` (which then counts rows).
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    /// Only rows matching this predicate are aggregated.
    #[schemars(with = "Option<String>")]
    pub filter: Option<Spanned<String>>,
    pub description: Option<String>,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

/// What a SQL client sees as a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The root model: the view's grain.
    #[schemars(with = "String")]
    pub model: Spanned<String>,
    pub description: Option<String>,
    /// How long answers over this view stay in the result cache (seconds; 0: never cached). Unset: the cache's TTL.
    pub cache_ttl_secs: Option<u64>,
    /// "Today" for relative dates in ASK questions (`last year`, `last 3 months`) over this view, as `YYYY-MM-DD`;
    /// for data that stops in the past. Unset: the real today.
    #[schemars(with = "Option<String>")]
    pub anchor_date: Option<Spanned<String>>,
    #[serde(default)]
    pub dimensions: Vec<ViewMemberSpec>,
    #[serde(default)]
    pub measures: Vec<ViewMemberSpec>,
    /// Who may read this view, which of its members and which of its rows (Cube's `access_policy`). None: everyone
    /// reads everything.
    #[serde(default)]
    pub access_policy: Vec<PolicySpec>,
}

/// One access policy of a view: the users it applies to (by group, and conditions on their attributes) and what it
/// grants them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// A group the policy applies to; `"*"`: every user.
    #[schemars(with = "Option<String>")]
    pub group: Option<Spanned<String>>,
    /// Several groups (any of them).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub groups: Vec<Spanned<String>>,
    /// All must hold for the policy to apply, e.g. `{ userAttributes.region } != ''`.
    #[serde(default)]
    pub conditions: Vec<ConditionSpec>,
    /// The members the policy grants; absent: all of them.
    pub member_level: Option<MemberLevelSpec>,
    /// Members shown as NULL to whom this policy applies when no applying policy grants them.
    pub member_masking: Option<MemberLevelSpec>,
    /// The rows the policy grants; absent: all of them.
    pub row_level: Option<RowLevelSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    #[serde(rename = "if")]
    #[schemars(with = "String")]
    pub condition: Spanned<String>,
}

/// Members by name: `includes: "*"`, `includes: [a, b]` or `excludes: [a, b]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberLevelSpec {
    pub includes: Option<MemberList>,
    pub excludes: Option<MemberList>,
}

/// `"*"` or a list of member names.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MemberList {
    Names(Vec<String>),
    All(String),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowLevelSpec {
    /// All must hold for a row to be granted.
    #[serde(default)]
    pub filters: Vec<RowFilterSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowFilterSpec {
    /// A dimension of the view (granted or not).
    #[schemars(with = "String")]
    pub member: Spanned<String>,
    /// equals, notEquals, in, notIn, gt, gte, lt, lte, contains, set, notSet.
    #[schemars(with = "String")]
    pub operator: Spanned<String>,
    /// Literals or `{ userAttributes.<name> }` templates; a list attribute stands for all its values.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub values: Vec<Spanned<String>>,
}

/// A view column: a member reached by a relationship path (`orders.customer.nation.name`), or, for measures, a derived
/// metric (`sql` over the view's other measures).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewMemberSpec {
    /// Column name; defaults to the member's own name.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub member: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub sql: Option<Spanned<String>>,
    /// Overrides the member's description.
    pub description: Option<String>,
    /// Added to the member's synonyms.
    #[serde(default)]
    pub synonyms: Vec<String>,
}

/// The model file's JSON Schema.
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(ModelFile)
}
