//! `pg_catalog` and `information_schema` relations reshaped to PostgreSQL 15's columns where clients read them by name
//! and type: psql's `\d+` and `\dn+` apply array functions to `reloptions` and `nspacl`, DBeaver lists `c.*`
//! expecting PG's column set, primary-key queries (pgjdbc, Metabase, Tableau, SQLAlchemy) unnest `pg_index.indkey`
//! and index `conkey`, and Grafana, Metabase and Power BI read PostgreSQL type names from `information_schema.columns`
//! and join its constraint views.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use arrow_pg::datatypes::PG_CHAR_KEY;
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::information_schema::{INFORMATION_SCHEMA, InformationSchemaProvider};
use datafusion::catalog::{CatalogProvider, MemTable, SchemaProvider, TableProvider};
use datafusion::common::metadata::FieldMetadata;
use datafusion::common::{Result, ScalarValue, cast::as_string_array};
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, JoinType, LogicalPlanBuilder, ScalarUDF, Volatility, cast, col, create_udf, lit,
};
use datafusion::prelude::SessionContext;

/// Field metadata naming the PostgreSQL vector type (`int2vector`, `oidvector`) a list column is: clients are told
/// that type, and read its text form as `1 2`, not as an array's `{1,2}`.
const VECTOR_TYPE_KEY: &str = "semgate.pg_vector";

/// The PostgreSQL vector type a column is, if it is one. Only a list is: the metadata outlives casts
/// (`indkey::varchar`).
/// Its PostgreSQL type OID.
pub fn vector_type(field: &Field) -> Option<u32> {
    /// `pg_type.oid` of `int2vector` and `oidvector`.
    const INT2VECTOR: u32 = 22;
    const OIDVECTOR: u32 = 30;
    if !matches!(field.data_type(), DataType::List(_)) {
        return None;
    }
    match field.metadata().get(VECTOR_TYPE_KEY)?.as_str() {
        "int2vector" => Some(INT2VECTOR),
        "oidvector" => Some(OIDVECTOR),
        _ => None,
    }
}

/// How the column of this name is marked for the wire: a vector type, or PostgreSQL's one-byte `"char"` (asyncpg
/// reads `pg_type.typtype` as bytes, and compares it with `b'd'`).
fn column_metadata(column: &str) -> Option<HashMap<String, String>> {
    if let Some((_, kind)) = VECTOR_COLUMNS.iter().find(|(name, _)| *name == column) {
        return Some(HashMap::from([(VECTOR_TYPE_KEY.to_string(), kind.to_string())]));
    }
    CHAR_COLUMNS
        .contains(&column)
        .then(|| HashMap::from([(PG_CHAR_KEY.to_string(), "char".to_string())]))
}

/// Columns of PostgreSQL's `"char"` type that always hold a character here (the crate's `attidentity` and
/// `attgenerated` are empty strings, which the one-byte binary form cannot carry, so they stay text).
const CHAR_COLUMNS: [&str; 17] = [
    "typtype",
    "typcategory",
    "typalign",
    "typstorage",
    "typdelim",
    "relkind",
    "relpersistence",
    "relreplident",
    "attalign",
    "attstorage",
    "prokind",
    "provolatile",
    "proparallel",
    "contype",
    "confupdtype",
    "confdeltype",
    "confmatchtype",
];

/// The crate's `pg_catalog` with the relations below replaced; every other relation is the crate's own.
#[derive(Debug)]
pub struct PgCatalogOverlay {
    base: Arc<dyn SchemaProvider>,
    /// The model's description of a view (column 0) or of its columns, which `pg_description` lists for them
    /// (SQLAlchemy's and DBeaver's comments read that table, not `col_description`).
    view_description: Arc<ScalarUDF>,
    /// The relations in [`COMPUTED_ONCE`], as computed at their first use; `None` while being computed.
    computed: std::sync::Mutex<HashMap<String, Option<Arc<dyn TableProvider>>>>,
}

/// Relations computed from the catalog (the crate rebuilds `pg_class` on every scan, 4 ms, and catalog queries scan
/// it several times) that cannot change while an engine serves: a model reload builds a new engine and overlay.
/// `pg_type` and `pg_proc` are static, but reshaped: computed, they are plain tables to the planner (asyncpg's type
/// lookup reads `pg_type` four times).
const COMPUTED_ONCE: [&str; 6] = [
    "pg_class",
    "pg_attribute",
    "pg_namespace",
    "pg_description",
    "pg_type",
    "pg_proc",
];

impl PgCatalogOverlay {
    pub fn new(base: Arc<dyn SchemaProvider>, view_description: Arc<ScalarUDF>) -> Self {
        Self {
            base,
            view_description,
            computed: Default::default(),
        }
    }

    /// The crate's `pg_description` (built-in objects) plus a row per described view and view column.
    async fn pg_description(&self, builtin: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>> {
        let (Some(class), Some(attribute)) = (
            self.base.table("pg_class").await?,
            self.base.table("pg_attribute").await?,
        ) else {
            return Ok(builtin);
        };
        let describe = |relation: Expr, column: Expr| {
            Expr::ScalarFunction(ScalarFunction::new_udf(
                self.view_description.clone(),
                vec![cast(relation, DataType::Utf8), cast(column, DataType::Int64)],
            ))
        };
        let row = |objoid: Expr, classoid: Expr, objsubid: Expr, description: Expr| {
            vec![
                cast(objoid, DataType::Int32).alias("objoid"),
                cast(classoid, DataType::Int32).alias("classoid"),
                cast(objsubid, DataType::Int32).alias("objsubid"),
                description.alias("description"),
            ]
        };
        // A relation's description names pg_class by the oid `'pg_catalog.pg_class'::regclass` gives here.
        let class_oid = LogicalPlanBuilder::scan("k", provider_as_source(class.clone()), None)?
            .filter(
                col("k.relname")
                    .eq(lit("pg_class"))
                    .and(col("k.relnamespace").eq(lit(PG_CATALOG_NAMESPACE))),
            )?
            .project(vec![col("k.oid").alias("class_oid")])?
            .build()?;
        let views = LogicalPlanBuilder::scan("c", provider_as_source(class.clone()), None)?
            .cross_join(class_oid.clone())?
            .project(row(
                col("c.oid"),
                col("class_oid"),
                lit(0i32),
                describe(col("c.relname"), lit(0i64)),
            ))?
            .filter(col("description").is_not_null())?
            .build()?;
        let columns = LogicalPlanBuilder::scan("a", provider_as_source(attribute), None)?
            .join(
                LogicalPlanBuilder::scan("c", provider_as_source(class), None)?.build()?,
                JoinType::Inner,
                (vec!["a.attrelid"], vec!["c.oid"]),
                None,
            )?
            .filter(col("a.attnum").gt(lit(0i16)))?
            .cross_join(class_oid)?
            .project(row(
                col("c.oid"),
                col("class_oid"),
                col("a.attnum"),
                describe(col("c.relname"), col("a.attnum")),
            ))?
            .filter(col("description").is_not_null())?
            .build()?;
        let builtin = LogicalPlanBuilder::scan("d", provider_as_source(builtin), None)?
            .project(row(
                col("objoid"),
                col("classoid"),
                col("objsubid"),
                cast(col("description"), DataType::Utf8),
            ))?
            .build()?;
        let plan = LogicalPlanBuilder::from(builtin)
            .union(views)?
            .union(columns)?
            .build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

/// The oid of the `pg_catalog` namespace, in PostgreSQL as in the catalog crate.
const PG_CATALOG_NAMESPACE: i32 = 11;

#[async_trait]
impl SchemaProvider for PgCatalogOverlay {
    // Sorted, as every name list the catalog serves: `pg_class` numbers relations in the order it is told them,
    // and a client reading without ORDER BY (sqlsmith's schema load) must see the same oids and rows every run.
    fn table_names(&self) -> Vec<String> {
        let mut names = self.base.table_names();
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_ascii_lowercase();
        if !COMPUTED_ONCE.contains(&name.as_str()) {
            return self.relation(&name).await;
        }
        // Computing pg_class asks this schema for its relations while the crate holds its oid lock: while one is
        // being computed, every relation is served uncomputed (nothing is computed inside a computation).
        let computing = {
            let mut computed = self.computed.lock().expect("catalog lock");
            if let Some(Some(table)) = computed.get(&name) {
                return Ok(Some(table.clone()));
            }
            let computing = computed.values().any(Option::is_none);
            if !computing {
                computed.insert(name.clone(), None);
            }
            computing
        };
        if computing {
            return self.relation(&name).await;
        }
        let computed = self.compute(&name).await;
        let mut cache = self.computed.lock().expect("catalog lock");
        match &computed {
            Ok(Some(table)) => cache.insert(name, Some(table.clone())),
            _ => cache.remove(&name),
        };
        computed
    }

    fn table_exist(&self, name: &str) -> bool {
        self.base.table_exist(name)
    }
}

impl PgCatalogOverlay {
    /// `name`'s rows, computed now.
    async fn compute(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.relation(name).await? else {
            return Ok(None);
        };
        let rows = SessionContext::new().read_table(table.clone())?.collect().await?;
        Ok(Some(Arc::new(MemTable::try_new(table.schema(), vec![rows])?)))
    }

    /// The crate's relation `name` (lower case), or its replacement.
    async fn relation(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_string();
        // Semantic views have no indexes or constraints: PostgreSQL's empty relations, with its column types.
        match name.as_str() {
            "pg_index" => return empty(pg_index_columns()).map(Some),
            "pg_constraint" => return empty(pg_constraint_columns()).map(Some),
            _ => {}
        }
        let Some(table) = self.base.table(&name).await? else {
            return Ok(None);
        };
        let schema = table.schema();
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let no_acl = || typed_null(array_of(DataType::Utf8));
        let reshaped = match name.as_str() {
            "pg_class" => {
                let mut columns: Vec<&str> = columns.into_iter().filter(|&n| n != "relpartbound").collect();
                columns.extend(["relacl", "reloptions", "relpartbound"]);
                reshape(
                    &name,
                    table.clone(),
                    &columns,
                    &[("relacl", no_acl()), ("reloptions", no_acl())],
                )?
            }
            "pg_namespace" => with_information_schema(reshape(
                &name,
                table.clone(),
                &["oid", "nspname", "nspowner", "nspacl"],
                &[("nspacl", no_acl())],
            )?)?,
            "pg_attribute" => reshape(
                &name,
                table.clone(),
                &columns,
                &[
                    ("attacl", no_acl()),
                    ("attoptions", no_acl()),
                    ("attfdwoptions", no_acl()),
                    ("attmissingval", no_acl()),
                ],
            )?,
            "pg_type" => reshape(&name, table.clone(), &columns, &[("typacl", no_acl())])?,
            // The crate keeps these arrays as text (`23 23`, `[1034, 26]`, `['acl', 'grantee']`); pgcli casts them
            // (`proargtypes::regtype[]`) and drivers index them.
            "pg_proc" => {
                let ints = list_udf(DataType::Int32);
                let texts = list_udf(DataType::Utf8);
                reshape(
                    &name,
                    table.clone(),
                    &columns,
                    &[
                        ("proargtypes", ints.call(vec![col("proargtypes")])),
                        ("proallargtypes", ints.call(vec![col("proallargtypes")])),
                        ("proargnames", texts.call(vec![col("proargnames")])),
                        ("proargmodes", texts.call(vec![col("proargmodes")])),
                    ],
                )?
            }
            "pg_description" => self.pg_description(table).await?,
            "pg_database" => reshape(
                &name,
                table.clone(),
                &[
                    "oid",
                    "datname",
                    "datdba",
                    "encoding",
                    "datlocprovider",
                    "datistemplate",
                    "datallowconn",
                    "datconnlimit",
                    "datfrozenxid",
                    "datminmxid",
                    "dattablespace",
                    "datcollate",
                    "datctype",
                    "daticulocale",
                    "datcollversion",
                    "datacl",
                ],
                &[("datcollversion", typed_null(DataType::Utf8)), ("datacl", no_acl())],
            )?,
            // The crate misspells `boot_val`; no setting lists its values.
            "pg_settings" => {
                let columns: Vec<&str> = columns
                    .into_iter()
                    .map(|n| if n == "bool_val" { "boot_val" } else { n })
                    .collect();
                reshape(
                    &name,
                    table.clone(),
                    &columns,
                    &[
                        ("boot_val", col("bool_val")),
                        ("enumvals", typed_null(array_of(DataType::Utf8))),
                    ],
                )?
            }
            _ => table,
        };
        Ok(Some(reshaped))
    }
}

/// The oid of the `information_schema` namespace: what the crate's `pg_type` and `pg_proc` rows (PostgreSQL's own,
/// exported) give its domains and functions.
const INFORMATION_SCHEMA_NAMESPACE: i32 = 13283;

/// `pg_namespace` with the `information_schema` row PostgreSQL has, which the namespaces of the crate's `pg_type` and
/// `pg_proc` rows refer to (sqlsmith names every function's schema by looking its namespace up).
fn with_information_schema(namespaces: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>> {
    let schema = namespaces.schema();
    let row = [
        lit(INFORMATION_SCHEMA_NAMESPACE),
        lit(INFORMATION_SCHEMA),
        lit(BOOTSTRAP_SUPERUSER),
        lit(ScalarValue::Null),
    ];
    let row: Vec<Expr> = row
        .into_iter()
        .zip(schema.fields())
        .map(|(value, field)| cast(value, field.data_type().clone()).alias(field.name()))
        .collect();
    let plan = LogicalPlanBuilder::scan("pg_namespace", provider_as_source(namespaces), None)?
        .union(LogicalPlanBuilder::empty(true).project(row)?.build()?)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// The oid of the role that owns the system's objects in PostgreSQL.
const BOOTSTRAP_SUPERUSER: i32 = 10;

/// `base` projected to `columns`, in that order: the crate's column of that name, or the `replaced` expression where
/// the crate lacks the column, names it differently or stores it as text.
fn reshape(
    name: &str,
    base: Arc<dyn TableProvider>,
    columns: &[&str],
    replaced: &[(&str, Expr)],
) -> Result<Arc<dyn TableProvider>> {
    let projection: Vec<Expr> = columns
        .iter()
        .map(|&column| {
            let expr = match replaced.iter().find(|(name, _)| *name == column) {
                Some((_, expr)) => expr.clone(),
                None => col(column),
            };
            expr.alias_with_metadata(column, column_metadata(column).map(FieldMetadata::from))
        })
        .collect();
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(base), None)?
        .project(projection)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// A NULL of PostgreSQL's type for a column that is always NULL here: nothing has access privileges or options.
fn typed_null(data_type: DataType) -> Expr {
    cast(lit(ScalarValue::Null), data_type)
}

fn empty(columns: Vec<(&str, DataType)>) -> Result<Arc<dyn TableProvider>> {
    let fields: Vec<Field> = columns
        .into_iter()
        .map(|(name, data_type)| {
            let field = Field::new(name, data_type, true);
            match column_metadata(name) {
                Some(metadata) => field.with_metadata(metadata),
                None => field,
            }
        })
        .collect();
    Ok(Arc::new(MemTable::try_new(
        Arc::new(Schema::new(fields)),
        vec![vec![]],
    )?))
}

fn array_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(element, true)))
}

/// Columns of PostgreSQL's vector types, by name.
const VECTOR_COLUMNS: [(&str, &str); 5] = [
    ("indkey", "int2vector"),
    ("indoption", "int2vector"),
    ("indcollation", "oidvector"),
    ("indclass", "oidvector"),
    ("proargtypes", "oidvector"),
];

/// PostgreSQL 15's `pg_index`; `int2vector` and `oidvector` columns as arrays, which `unnest`, `indkey[i]` and
/// `_pg_expandarray` accept.
fn pg_index_columns() -> Vec<(&'static str, DataType)> {
    use DataType::{Boolean, Int16, Int32, Utf8};
    vec![
        ("indexrelid", Int32),
        ("indrelid", Int32),
        ("indnatts", Int16),
        ("indnkeyatts", Int16),
        ("indisunique", Boolean),
        ("indnullsnotdistinct", Boolean),
        ("indisprimary", Boolean),
        ("indisexclusion", Boolean),
        ("indimmediate", Boolean),
        ("indisclustered", Boolean),
        ("indisvalid", Boolean),
        ("indcheckxmin", Boolean),
        ("indisready", Boolean),
        ("indislive", Boolean),
        ("indisreplident", Boolean),
        ("indkey", array_of(Int16)),
        ("indcollation", array_of(Int32)),
        ("indclass", array_of(Int32)),
        ("indoption", array_of(Int16)),
        ("indexprs", Utf8),
        ("indpred", Utf8),
    ]
}

/// PostgreSQL 15's `pg_constraint`.
fn pg_constraint_columns() -> Vec<(&'static str, DataType)> {
    use DataType::{Boolean, Int16, Int32, Utf8};
    vec![
        ("oid", Int32),
        ("conname", Utf8),
        ("connamespace", Int32),
        ("contype", Utf8),
        ("condeferrable", Boolean),
        ("condeferred", Boolean),
        ("convalidated", Boolean),
        ("conrelid", Int32),
        ("contypid", Int32),
        ("conindid", Int32),
        ("conparentid", Int32),
        ("confrelid", Int32),
        ("confupdtype", Utf8),
        ("confdeltype", Utf8),
        ("confmatchtype", Utf8),
        ("conislocal", Boolean),
        ("coninhcount", Int32),
        ("connoinherit", Boolean),
        ("conkey", array_of(Int16)),
        ("confkey", array_of(Int16)),
        ("conpfeqop", array_of(Int32)),
        ("conppeqop", array_of(Int32)),
        ("conffeqop", array_of(Int32)),
        ("confdelsetcols", array_of(Int16)),
        ("conexclop", array_of(Int32)),
        ("conbin", Utf8),
    ]
}

/// The database's catalog with `information_schema` resolvable but not listed among its schemas, as DataFusion's own
/// information schema is: `pg_catalog` lists every listed schema's tables as relations, and clients would then show
/// `columns` or `table_constraints` as tables of the database.
#[derive(Debug)]
pub struct CatalogWithInformationSchema {
    inner: Arc<dyn CatalogProvider>,
    information_schema: Arc<dyn SchemaProvider>,
}

impl CatalogWithInformationSchema {
    pub fn new(inner: Arc<dyn CatalogProvider>, information_schema: InformationSchemaOverlay) -> Self {
        Self {
            inner,
            information_schema: Arc::new(information_schema),
        }
    }
}

impl CatalogProvider for CatalogWithInformationSchema {
    // Sorted: see [`PgCatalogOverlay`]'s table names.
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.inner.schema_names();
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
            Some(self.information_schema.clone())
        } else {
            self.inner.schema(name)
        }
    }

    fn register_schema(&self, name: &str, schema: Arc<dyn SchemaProvider>) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }
}

/// DataFusion's `information_schema` with PostgreSQL's type names and positions in `columns`, and PostgreSQL's
/// (empty: semantic views declare no keys) constraint views. Served by [`CatalogWithInformationSchema`], which
/// DataFusion only consults with its own information schema switched off.
#[derive(Debug)]
pub struct InformationSchemaOverlay {
    base: InformationSchemaProvider,
}

impl InformationSchemaOverlay {
    pub fn new(base: InformationSchemaProvider) -> Self {
        Self { base }
    }
}

/// The constraint views PostgreSQL has and DataFusion lacks.
const CONSTRAINT_VIEWS: [&str; 3] = ["table_constraints", "key_column_usage", "referential_constraints"];

#[async_trait]
impl SchemaProvider for InformationSchemaOverlay {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.base.table_names();
        names.extend(CONSTRAINT_VIEWS.map(String::from));
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_ascii_lowercase();
        let text = |names: &[&'static str]| names.iter().map(|&n| (n, DataType::Utf8)).collect::<Vec<_>>();
        let catalog_schema_name = ["constraint_catalog", "constraint_schema", "constraint_name"];
        match name.as_str() {
            "table_constraints" => {
                let mut columns = text(&catalog_schema_name);
                columns.extend(text(&[
                    "table_catalog",
                    "table_schema",
                    "table_name",
                    "constraint_type",
                    "is_deferrable",
                    "initially_deferred",
                    "enforced",
                    "nulls_distinct",
                ]));
                return empty(columns).map(Some);
            }
            "key_column_usage" => {
                let mut columns = text(&catalog_schema_name);
                columns.extend(text(&["table_catalog", "table_schema", "table_name", "column_name"]));
                columns.extend([
                    ("ordinal_position", DataType::Int32),
                    ("position_in_unique_constraint", DataType::Int32),
                ]);
                return empty(columns).map(Some);
            }
            "referential_constraints" => {
                let mut columns = text(&catalog_schema_name);
                columns.extend(text(&[
                    "unique_constraint_catalog",
                    "unique_constraint_schema",
                    "unique_constraint_name",
                    "match_option",
                    "update_rule",
                    "delete_rule",
                ]));
                return empty(columns).map(Some);
            }
            _ => {}
        }
        let Some(table) = self.base.table(&name).await? else {
            return Ok(None);
        };
        match name.as_str() {
            "columns" => columns_view(table).map(Some),
            "tables" => tables_view(table).map(Some),
            _ => Ok(Some(table)),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.base.table_exist(name) || CONSTRAINT_VIEWS.contains(&name.to_ascii_lowercase().as_str())
    }
}

/// PostgreSQL 15's `information_schema.tables`: DataFusion's four columns, then the ones PostgreSQL adds (sqlsmith
/// reads `is_insertable_into`). Nothing is insertable: the gateway refuses writes; nothing is a typed table.
fn tables_view(table: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>> {
    let schema = table.schema();
    let mut columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let added = [
        ("self_referencing_column_name", typed_null(DataType::Utf8)),
        ("reference_generation", typed_null(DataType::Utf8)),
        ("user_defined_type_catalog", typed_null(DataType::Utf8)),
        ("user_defined_type_schema", typed_null(DataType::Utf8)),
        ("user_defined_type_name", typed_null(DataType::Utf8)),
        ("is_insertable_into", lit("NO")),
        ("is_typed", lit("NO")),
        ("commit_action", typed_null(DataType::Utf8)),
    ];
    columns.extend(added.iter().map(|(name, _)| *name));
    reshape("tables", table.clone(), &columns, &added)
}

/// PostgreSQL's `information_schema.columns`: its type names, positions from 1, and the `udt_*` columns.
fn columns_view(table: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>> {
    let name = "columns";
    let schema = table.schema();
    let mut columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    columns.extend(["udt_catalog", "udt_schema", "udt_name", "is_identity"]);
    let arrow_type = || col("data_type");
    reshape(
        name,
        table.clone(),
        &columns,
        &[
            // PostgreSQL counts from 1.
            (
                "ordinal_position",
                cast(col("ordinal_position") + lit(1u64), DataType::Int32),
            ),
            ("data_type", type_name_udf(TypeName::Sql).call(vec![arrow_type()])),
            ("udt_catalog", col("table_catalog")),
            ("udt_schema", lit("pg_catalog")),
            ("udt_name", type_name_udf(TypeName::Udt).call(vec![arrow_type()])),
            ("is_identity", lit("NO")),
        ],
    )
}

/// A list the catalog crate stores as text (`23 23`, `[1034, 26]`, `['i', 'o']`) as an array of `element`;
/// NULL stays NULL.
fn list_udf(element: DataType) -> ScalarUDF {
    let name = format!("semgate_list_of_{}", element.to_string().to_lowercase());
    let list_type = array_of(element.clone());
    create_udf(
        &name,
        vec![DataType::Utf8],
        list_type,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let texts = ColumnarValue::values_to_arrays(args)?;
            let texts = as_string_array(&texts[0])?;
            let mut items = ListBuilder::new(StringBuilder::new());
            for text in texts.iter() {
                match text {
                    None => items.append_null(),
                    Some(text) => {
                        let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
                        let separator = if inner.contains(',') { ',' } else { ' ' };
                        for item in inner
                            .split(separator)
                            .map(|i| i.trim().trim_matches('\''))
                            .filter(|i| !i.is_empty())
                        {
                            items.values().append_value(item);
                        }
                        items.append(true);
                    }
                }
            }
            let lists: ArrayRef = Arc::new(items.finish());
            Ok(ColumnarValue::Array(datafusion::arrow::compute::cast(
                &lists,
                &array_of(element.clone()),
            )?))
        }),
    )
}

/// The two names PostgreSQL's `information_schema.columns` gives a type.
#[derive(Clone, Copy)]
enum TypeName {
    /// `data_type`: the SQL name (`bigint`, `timestamp without time zone`).
    Sql,
    /// `udt_name`: the catalog name (`int8`, `timestamp`).
    Udt,
}

/// An Arrow type's display form (what DataFusion's `information_schema.columns` says) → PostgreSQL's name for the
/// type it is sent as.
fn type_name_udf(kind: TypeName) -> ScalarUDF {
    let name = match kind {
        TypeName::Sql => "semgate_pg_sql_type_name",
        TypeName::Udt => "semgate_pg_udt_name",
    };
    create_udf(
        name,
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let names: StringArray = as_string_array(&arrays[0])?
                .iter()
                .map(|arrow_type| arrow_type.map(|t| pg_type_name(t, kind)))
                .collect();
            let result: ArrayRef = Arc::new(names);
            Ok(
                if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) && result.len() == 1 {
                    ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
                } else {
                    ColumnarValue::Array(result)
                },
            )
        }),
    )
}

fn pg_type_name(arrow_type: &str, kind: TypeName) -> String {
    // PostgreSQL's type catalog (the `postgres-types` crate the wire crates describe types with).
    use tokio_postgres::types::Type;
    let Some(pg_type) = DataType::from_str(arrow_type)
        .ok()
        .and_then(|t| arrow_pg::datatypes::into_pg_type(&t).ok())
    else {
        return arrow_type.to_string();
    };
    let sql_name = match pg_type {
        Type::BOOL => "boolean",
        Type::INT2 => "smallint",
        Type::INT4 => "integer",
        Type::INT8 => "bigint",
        Type::FLOAT4 => "real",
        Type::FLOAT8 => "double precision",
        Type::VARCHAR => "character varying",
        Type::TIMESTAMP => "timestamp without time zone",
        Type::TIMESTAMPTZ => "timestamp with time zone",
        Type::TIME => "time without time zone",
        _ if pg_type.name().starts_with('_') => "ARRAY",
        _ => pg_type.name(),
    };
    match kind {
        TypeName::Sql => sql_name.to_string(),
        TypeName::Udt => pg_type.name().to_string(),
    }
}
