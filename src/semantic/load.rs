//! Loading: YAML files → spec → resolved [`SemanticModel`], collecting every problem as a [`Diagnostic`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::{Column, DFSchema, ScalarValue, TableReference};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionContext;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::expr_rewriter::normalize_col;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions};
use marked_yaml::{LoaderOptions, Span, Spanned};
use object_store::ObjectStore;

use super::access::{AccessPolicy, Condition, FilterOperator, Members, Operand, RowRule};
use super::compile;
use super::model::*;
use super::spec::*;
use crate::source::object_store::{Location, S3Settings, s3_store};
use crate::source::{Database, DatabaseKind, DatabaseSettings, SourceError};

/// One model file's text, with the name errors are reported under and the directory relative paths start from.
#[derive(Debug, Clone)]
pub struct ModelText {
    pub name: String,
    pub text: String,
    pub base_dir: PathBuf,
}

/// Parse, bind and check a semantic model. `data_dir` replaces `${data_dir}` in source locations.
pub async fn load(
    files: &[ModelText],
    data_dir: &Path,
    when_unreachable: WhenUnreachable,
) -> Result<SemanticModel, Diagnostics> {
    let mut loader = Loader {
        files,
        diagnostics: Vec::new(),
        ctx: SessionContext::new(),
        data_dir,
        broken_tables: HashSet::new(),
        broken_models: HashSet::new(),
        source_names: HashSet::new(),
        when_unreachable,
        deferred_tables: HashMap::new(),
        deferred_models: HashMap::new(),
        databases: Vec::new(),
        object_stores: Vec::new(),
    };
    let specs = loader.parse_files();
    let mut models = BTreeMap::new();
    for (file, spec) in &specs {
        for source in &spec.sources {
            loader.register_source(*file, source).await;
        }
    }
    for (_, spec) in &specs {
        for model in &spec.models {
            if models.contains_key(model.name.as_str()) {
                loader.error(model.name.span(), format!("duplicate model name `{}`", *model.name));
            } else if let Some(resolved) = loader.bind_model(model).await {
                models.insert(model.name.to_string(), resolved);
            } else {
                loader.broken_models.insert(model.name.to_string());
            }
        }
    }
    for (_, spec) in &specs {
        for model in &spec.models {
            loader.bind_relationships(model, &mut models);
        }
    }
    loader.check_cycles(&specs, &models);
    let models = Arc::new(models);
    let model_specs: HashMap<&str, &ModelSpec> = specs
        .iter()
        .flat_map(|(_, spec)| &spec.models)
        .map(|m| (m.name.as_str(), m))
        .collect();
    let mut views = BTreeMap::new();
    let mut unavailable = BTreeMap::new();
    for (_, spec) in &specs {
        for view in &spec.views {
            let name = view.name.to_lowercase();
            if views.contains_key(&name) || unavailable.contains_key(&name) {
                loader.error(view.name.span(), format!("duplicate view name `{}`", *view.name));
                continue;
            }
            let reported = loader.diagnostics.len();
            let bound = loader.bind_view(view, &models);
            // What a view over a deferred database could not bind is no error of the model: the view waits.
            if (bound.is_none() || loader.diagnostics.len() > reported)
                && let Some(why) = loader.deferred_need(view.model.as_str(), &model_specs)
            {
                loader.diagnostics.truncate(reported);
                unavailable.insert(name, why);
                continue;
            }
            if let Some(resolved) = bound {
                views.insert(name, Arc::new(resolved));
            }
        }
    }
    if !loader.diagnostics.is_empty() {
        let mut diagnostics = loader.diagnostics;
        diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(Diagnostics(diagnostics));
    }
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.name.hash(&mut hasher);
        file.text.hash(&mut hasher);
    }
    data_dir.hash(&mut hasher);
    Ok(SemanticModel {
        views,
        unavailable,
        version: hasher.finish(),
        forbidden: BTreeSet::new(),
        databases: loader.databases,
        object_stores: loader.object_stores,
    })
}

struct Loader<'a> {
    files: &'a [ModelText],
    diagnostics: Vec<Diagnostic>,
    /// Holds the sources' tables as `<source>.<table>`; model plans are built here and then shared.
    ctx: SessionContext,
    data_dir: &'a Path,
    /// Declared tables that failed to register (already reported), so models over them add no second error.
    broken_tables: HashSet<(String, String)>,
    /// Models that failed to bind (already reported), so views over them add no second error.
    broken_models: HashSet<String>,
    /// Source names seen so far; names must be unique even where sources share a namespace.
    source_names: HashSet<String>,
    when_unreachable: WhenUnreachable,
    /// Tables of a database that was unreachable and deferred, with why.
    deferred_tables: HashMap<(String, String), SourceError>,
    /// Models over deferred tables, with why.
    deferred_models: HashMap<String, SourceError>,
    /// The databases connected, for readiness checks.
    databases: Vec<Arc<Database>>,
    /// The buckets of file sources, registered on `ctx` and handed to the engines with the model.
    object_stores: Vec<(ObjectStoreUrl, Arc<dyn ObjectStore>)>,
}

impl Loader<'_> {
    /// Why a view rooted at `model` cannot be bound yet: a model it reaches by relationships is over a deferred
    /// database.
    fn deferred_need(&self, model: &str, specs: &HashMap<&str, &ModelSpec>) -> Option<SourceError> {
        let mut seen = HashSet::from([model]);
        let mut next = vec![model];
        while let Some(name) = next.pop() {
            if let Some(why) = self.deferred_models.get(name) {
                return Some(why.clone());
            }
            for rel in specs.get(name).map(|s| s.relationships.as_slice()).unwrap_or_default() {
                if seen.insert(rel.model.as_str()) {
                    next.push(rel.model.as_str());
                }
            }
        }
        None
    }

    fn error(&mut self, span: &Span, message: impl Into<String>) {
        let diagnostic = self.diagnostic(span, message);
        self.diagnostics.push(diagnostic);
    }

    fn diagnostic(&self, span: &Span, message: impl Into<String>) -> Diagnostic {
        let (file, line, column) = match span.start() {
            Some(mark) => (
                self.files
                    .get(mark.source())
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
                mark.line(),
                mark.column(),
            ),
            None => (String::new(), 0, 0),
        };
        Diagnostic {
            file,
            line,
            column,
            message: message.into(),
        }
    }

    fn parse_files(&mut self) -> Vec<(usize, ModelFile)> {
        let mut specs = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            let options = LoaderOptions::default().error_on_duplicate_keys(true);
            match marked_yaml::from_yaml_with_options::<ModelFile>(index, &file.text, options) {
                Ok(spec) => specs.push((index, spec)),
                Err(error) => {
                    let (line, column) = yaml_error_position(&error, &file.text);
                    let message = error.to_string();
                    self.diagnostics.push(Diagnostic {
                        file: file.name.clone(),
                        line,
                        column,
                        message,
                    });
                }
            }
        }
        specs
    }

    async fn register_source(&mut self, file: usize, source: &SourceSpec) {
        if !self.source_names.insert(source.name.to_string()) {
            self.error(source.name.span(), format!("duplicate source name `{}`", *source.name));
            return;
        }
        let kind = source.kind.as_str();
        let database = DatabaseKind::parse(kind);
        if database.is_none() && !matches!(kind, "parquet" | "csv") {
            self.error(
                source.kind.span(),
                format!("unknown source kind `{kind}`; supported: parquet, csv, postgres, mysql, sqlite"),
            );
            return;
        }
        if kind != "csv" && (source.has_header.is_some() || source.delimiter.is_some()) {
            self.error(
                source.name.span(),
                "`has_header` and `delimiter` apply to csv sources only",
            );
        }
        let namespace = source.namespace.as_ref().unwrap_or(&source.name).to_string();
        let catalog = self.ctx.catalog("datafusion").expect("default catalog");
        let schema = match catalog.schema(&namespace) {
            Some(schema) => schema,
            None => {
                let schema = Arc::new(MemorySchemaProvider::new());
                let _ = catalog.register_schema(&namespace, schema.clone());
                schema
            }
        };
        let mut tables: Vec<_> = source.tables.iter().collect();
        tables.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut wanted = Vec::new();
        for (table, target) in tables {
            if schema.table_exist(table.as_str()) {
                self.error(
                    table.span(),
                    format!(
                        "table `{namespace}.{}` is already defined by another source",
                        table.as_str()
                    ),
                );
            } else {
                wanted.push((table, target));
            }
        }
        let broken = |loader: &mut Self, table: &Spanned<String>| {
            loader.broken_tables.insert((namespace.clone(), table.to_string()));
        };
        let Some(database) = database else {
            let Some(location) = self.file_location(file, source) else {
                for (table, _) in wanted {
                    broken(self, table);
                }
                return;
            };
            for (table, path) in wanted {
                if let Err(message) = self
                    .register_file(kind, source, &location, &namespace, table, path)
                    .await
                {
                    broken(self, table);
                    self.error(path.span(), message);
                }
            }
            return;
        };
        let db = match self.database_settings(file, source, database) {
            Some(settings) => match Database::connect(settings).await {
                Ok(db) => Some(db),
                Err(e @ SourceError::Unreachable { .. }) if self.when_unreachable == WhenUnreachable::Defer => {
                    tracing::warn!(error = %e, "views that need this source wait for it");
                    for (table, _) in &wanted {
                        self.deferred_tables
                            .insert((namespace.clone(), table.to_string()), e.clone());
                    }
                    None
                }
                Err(e) => {
                    self.error(source.name.span(), e.to_string());
                    None
                }
            },
            None => None,
        };
        let Some(db) = db else {
            for (table, _) in wanted {
                broken(self, table);
            }
            return;
        };
        let db = Arc::new(db);
        self.databases.push(db.clone());
        for (table, remote) in wanted {
            let registered = match db.table(remote.as_str()).await {
                Ok(provider) => schema
                    .register_table(table.to_string(), provider)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(message) = registered {
                broken(self, table);
                self.error(remote.span(), format!("table `{}`: {message}", table.as_str()));
            }
        }
    }

    /// A file source's location, with the object store it needs registered on the runtime; `None` after reporting
    /// what is wrong. Object-storage settings on a local location are reported too: they would be silently unused.
    fn file_location(&mut self, file: usize, source: &SourceSpec) -> Option<Location> {
        let text = self.expand(source.location.as_ref(), "location", &source.name)?;
        let location = match Location::parse(&text, &self.files[file].base_dir) {
            Ok(location) => location,
            Err(message) => {
                let span = source.location.as_ref().map_or(source.name.span(), |l| l.span());
                self.error(span, message);
                return None;
            }
        };
        let s3_fields = [
            (source.region.as_ref().map(|f| *f.span()), "region"),
            (source.endpoint.as_ref().map(|f| *f.span()), "endpoint"),
            (
                source.access_key_id_env.as_ref().map(|f| *f.span()),
                "access_key_id_env",
            ),
            (
                source.secret_access_key_env.as_ref().map(|f| *f.span()),
                "secret_access_key_env",
            ),
            (source.allow_http.as_ref().map(|f| *f.span()), "allow_http"),
        ];
        let Location::S3 { bucket, .. } = &location else {
            if let Some((Some(span), field)) = s3_fields.into_iter().find(|(span, _)| span.is_some()) {
                self.error(&span, format!("`{field}` applies to s3:// locations only"));
                return None;
            }
            return Some(location);
        };
        let before = self.diagnostics.len();
        let env_value = |loader: &mut Self, var: &Option<Spanned<String>>| {
            let var = var.as_ref()?;
            match std::env::var(var.as_str()) {
                Ok(value) => Some(value),
                Err(_) => {
                    loader.error(var.span(), format!("environment variable {} is not set", **var));
                    None
                }
            }
        };
        let settings = S3Settings {
            region: source.region.as_ref().map(|r| r.to_string()),
            endpoint: match &source.endpoint {
                Some(endpoint) => Some(self.expand(Some(endpoint), "endpoint", &source.name)?),
                None => None,
            },
            access_key_id: env_value(self, &source.access_key_id_env),
            secret_access_key: env_value(self, &source.secret_access_key_env),
            allow_http: source.allow_http.as_ref().is_some_and(|a| **a),
        };
        if self.diagnostics.len() != before {
            return None;
        }
        match s3_store(bucket, &settings) {
            Ok((url, store)) => {
                self.ctx.register_object_store(url.as_ref(), store.clone());
                self.object_stores.push((url, store));
                Some(location)
            }
            Err(message) => {
                self.error(source.name.span(), format!("source `{}`: {message}", *source.name));
                None
            }
        }
    }

    async fn register_file(
        &mut self,
        kind: &str,
        source: &SourceSpec,
        location: &Location,
        namespace: &str,
        table: &Spanned<String>,
        path: &Spanned<String>,
    ) -> Result<(), String> {
        let full = location.join(path.as_str());
        let reference = TableReference::partial(namespace, table.as_str());
        if matches!(location, Location::Local(_)) && !is_glob(&full) && !Path::new(&full).exists() {
            return Err(format!(
                "source `{}` table `{}`: no file at {full}",
                *source.name,
                table.as_str()
            ));
        }
        let failed = |e: DataFusionError| format!("source `{}` table `{}`: {e}", *source.name, table.as_str());
        let registered = match kind {
            "parquet" => {
                let options = ParquetReadOptions::default();
                let partitions = self
                    .partition_columns(&full, options.file_extension)
                    .await
                    .map_err(failed)?;
                self.ctx
                    .register_parquet(reference, &full, options.table_partition_cols(partitions))
                    .await
            }
            _ => {
                let delimiter = source
                    .delimiter
                    .as_ref()
                    .and_then(|d| d.as_bytes().first().copied())
                    .unwrap_or(b',');
                let has_header = source.has_header.as_ref().map(|h| **h).unwrap_or(true);
                let partitions = self.partition_columns(&full, "").await.map_err(failed)?;
                let options = CsvReadOptions::new()
                    .has_header(has_header)
                    .delimiter(delimiter)
                    .file_extension("")
                    .table_partition_cols(partitions);
                self.ctx.register_csv(reference, &full, options).await
            }
        };
        registered.map_err(failed)
    }

    /// The Hive-style partition columns (`year=1996/…`) of the files at `path`, as text columns: DataFusion then
    /// reads only the directories a filter on them selects.
    async fn partition_columns(&self, path: &str, extension: &str) -> Result<Vec<(String, DataType)>, DataFusionError> {
        let url = ListingTableUrl::parse(path)?;
        // Only the listing is read here: the format is the listing options' required placeholder.
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(extension);
        let names = options.infer_partitions(&self.ctx.state(), &url).await?;
        Ok(names.into_iter().map(|name| (name, DataType::Utf8)).collect())
    }

    /// A database source's settings; `None` after reporting what is missing or wrong.
    fn database_settings(&mut self, file: usize, source: &SourceSpec, kind: DatabaseKind) -> Option<DatabaseSettings> {
        let before = self.diagnostics.len();
        let name = &source.name;
        let networked = kind != DatabaseKind::Sqlite;
        let (wrong, missing) = if networked {
            (source.location.as_ref().map(|l| (l.span(), "location")), "host")
        } else {
            (
                [
                    (&source.host, "host"),
                    (&source.port, "port"),
                    (&source.database, "database"),
                    (&source.user, "user"),
                ]
                .into_iter()
                .find_map(|(field, label)| field.as_ref().map(|f| (f.span(), label))),
                "location",
            )
        };
        if let Some((span, field)) = wrong {
            self.error(
                span,
                format!("a {} source takes no `{field}`; it needs `{missing}`", *source.kind),
            );
        }
        // A missing field takes its default; without one, `expand` reports it (SQLite needs none of them).
        let mut text = |field: &Option<Spanned<String>>, label: &str, default: Option<&str>| -> String {
            match (field, default) {
                (None, Some(default)) => default.to_string(),
                (None, None) if !networked => String::new(),
                _ => self.expand(field.as_ref(), label, name).unwrap_or_default(),
            }
        };
        let host = text(&source.host, "host", Some("localhost"));
        let default_port = if kind == DatabaseKind::MySql { "3306" } else { "5432" };
        let port = text(&source.port, "port", Some(default_port));
        let database = text(&source.database, "database", None);
        let user = text(&source.user, "user", None);
        let path = if networked {
            PathBuf::new()
        } else {
            let location = self
                .expand(source.location.as_ref(), "location", name)
                .unwrap_or_default();
            self.files[file].base_dir.join(location)
        };
        let port = match port.parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                let span = source.port.as_ref().map_or(name.span(), |p| p.span());
                self.error(span, format!("`{port}` is not a port number"));
                0
            }
        };
        let password = match &source.password_env {
            Some(var) => match std::env::var(var.as_str()) {
                Ok(password) => Some(password),
                Err(_) => {
                    self.error(var.span(), format!("environment variable {} is not set", **var));
                    None
                }
            },
            None => None,
        };
        let tls = source.tls.as_ref().map_or("prefer".to_string(), |t| t.to_string());
        if !matches!(tls.as_str(), "disable" | "prefer" | "require" | "verify-full") {
            let span = source.tls.as_ref().map_or(name.span(), |t| t.span());
            self.error(
                span,
                format!("`tls: {tls}`: use disable, prefer, require or verify-full"),
            );
        }
        let seconds = |value: &Option<Spanned<u64>>, default: u64| {
            std::time::Duration::from_secs(value.as_ref().map_or(default, |v| **v).max(1))
        };
        (self.diagnostics.len() == before).then(|| DatabaseSettings {
            name: name.to_string(),
            kind,
            host,
            port,
            database,
            user,
            password,
            tls,
            pool_size: source.pool_size.as_ref().map_or(8, |p| **p).max(1),
            path,
            connect_timeout: seconds(&source.connect_timeout_secs, 5),
            query_timeout: seconds(&source.query_timeout_secs, 60),
        })
    }

    /// A source field with `${data_dir}`, `${ENV_VAR}` and `${ENV_VAR:-default}` expanded; `None` after reporting
    /// that it is missing or names an unset variable.
    fn expand(&mut self, field: Option<&Spanned<String>>, label: &str, source: &Spanned<String>) -> Option<String> {
        let Some(field) = field else {
            self.error(source.span(), format!("source `{}` needs `{label}`", **source));
            return None;
        };
        let mut out = String::new();
        let mut rest = field.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                self.error(field.span(), format!("unclosed `${{` in `{}`", field.as_str()));
                return None;
            };
            let reference = &rest[start + 2..start + end];
            let (var, default) = match reference.split_once(":-") {
                Some((var, default)) => (var, Some(default)),
                None => (reference, None),
            };
            if var == "data_dir" {
                out.push_str(&self.data_dir.to_string_lossy());
            } else {
                match (std::env::var(var), default) {
                    (Ok(value), _) => out.push_str(&value),
                    (Err(_), Some(default)) => out.push_str(default),
                    (Err(_), None) => {
                        self.error(
                            field.span(),
                            format!("environment variable {var} is not set (or write `${{{var}:-default}}`)"),
                        );
                        return None;
                    }
                }
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    async fn bind_model(&mut self, spec: &ModelSpec) -> Option<Model> {
        let name = spec.name.to_string();
        let plan = match (&spec.source, &spec.table, &spec.sql) {
            (Some(source), Some(table), None) => {
                match self
                    .ctx
                    .table(TableReference::partial(source.as_str(), table.as_str()))
                    .await
                {
                    Ok(frame) => frame.into_unoptimized_plan(),
                    Err(_) if self.broken_tables.contains(&(source.to_string(), table.to_string())) => {
                        if let Some(why) = self.deferred_tables.get(&(source.to_string(), table.to_string())) {
                            self.deferred_models.insert(name, why.clone());
                        }
                        return None;
                    }
                    Err(_) => {
                        let known = self
                            .ctx
                            .catalog("datafusion")
                            .expect("default catalog")
                            .schema(source.as_str());
                        let message = match known {
                            None => format!("unknown source `{}`", **source),
                            Some(ref schema) => format!(
                                "source `{}` has no table `{}`; it has: {}",
                                **source,
                                **table,
                                sorted(schema.table_names()).join(", ")
                            ),
                        };
                        let span = if known.is_none() { source.span() } else { table.span() };
                        self.error(span, message);
                        return None;
                    }
                }
            }
            (None, None, Some(sql)) => match self.ctx.state().create_logical_plan(sql).await {
                Ok(
                    plan @ (LogicalPlan::Projection(_)
                    | LogicalPlan::Aggregate(_)
                    | LogicalPlan::Sort(_)
                    | LogicalPlan::Limit(_)
                    | LogicalPlan::Distinct(_)
                    | LogicalPlan::Union(_)
                    | LogicalPlan::Filter(_)
                    | LogicalPlan::SubqueryAlias(_)),
                ) => plan,
                Ok(_) => {
                    self.error(sql.span(), "a model's `sql` must be a SELECT");
                    return None;
                }
                Err(e) => {
                    self.error(sql.span(), format!("model `{name}`: {e}"));
                    return None;
                }
            },
            _ => {
                self.error(
                    spec.name.span(),
                    format!("model `{name}` needs either `source` and `table`, or `sql`"),
                );
                return None;
            }
        };
        let plan = match LogicalPlanBuilder::from(plan)
            .alias(name.as_str())
            .and_then(|b| b.build())
        {
            Ok(plan) => plan,
            Err(e) => {
                self.error(spec.name.span(), format!("model `{name}`: {e}"));
                return None;
            }
        };
        let schema = plan.schema().clone();
        let mut primary_key = Vec::new();
        for key in spec.primary_key.iter() {
            match schema.qualified_field_with_unqualified_name(key) {
                Ok((q, f)) => primary_key.push(Column::new(q.cloned(), f.name())),
                Err(_) => self.error(
                    key.span(),
                    format!("model `{name}` has no column `{}` for its primary key", **key),
                ),
            }
        }
        if spec.primary_key.is_empty() {
            self.error(spec.primary_key.span(), format!("model `{name}` needs a primary key"));
        }
        let mut model = Model {
            name: name.clone(),
            plan,
            primary_key,
            dimensions: BTreeMap::new(),
            measures: BTreeMap::new(),
            relationships: BTreeMap::new(),
        };
        let mut member_names = HashSet::new();
        for dim in &spec.dimensions {
            if !member_names.insert(dim.name.as_str()) {
                self.error(
                    dim.name.span(),
                    format!("duplicate member `{}` in model `{name}`", *dim.name),
                );
                continue;
            }
            let sql = dim
                .sql
                .as_ref()
                .map(|s| (s.as_str(), s.span()))
                .unwrap_or((dim.name.as_str(), dim.name.span()));
            let Some((expr, data_type)) = self.bind_expr(&model.plan, sql.0, sql.1, &name) else {
                continue;
            };
            let kind = match &dim.kind {
                None => DimensionKind::of_type(&data_type),
                Some(kind) => match DimensionKind::parse(kind) {
                    Some(k) if k.accepts(&data_type) => k,
                    Some(_) => {
                        self.error(
                            kind.span(),
                            format!(
                                "dimension `{}` is declared `{}` but its expression has type {data_type}",
                                *dim.name, **kind
                            ),
                        );
                        continue;
                    }
                    None => {
                        self.error(
                            kind.span(),
                            format!(
                                "unknown dimension type `{}`; use categorical, numeric, boolean or time",
                                **kind
                            ),
                        );
                        continue;
                    }
                },
            };
            let dimension = Dimension {
                expr,
                data_type,
                kind,
                description: dim.description.clone(),
                synonyms: dim.synonyms.clone(),
                searchable: dim.searchable,
                value_synonyms: dim.value_synonyms.clone(),
            };
            if !dim.searchable && !dim.value_synonyms.is_empty() {
                self.error(
                    dim.name.span(),
                    format!("dimension `{}`: value_synonyms need `searchable: true`", *dim.name),
                );
            }
            model.dimensions.insert(dim.name.to_string(), dimension);
        }
        for measure in &spec.measures {
            if !member_names.insert(measure.name.as_str()) {
                self.error(
                    measure.name.span(),
                    format!("duplicate member `{}` in model `{name}`", *measure.name),
                );
                continue;
            }
            if let Some(bound) = self.bind_measure(&model.plan, measure, &name) {
                model.measures.insert(measure.name.to_string(), bound);
            }
        }
        Some(model)
    }

    fn bind_measure(&mut self, plan: &LogicalPlan, spec: &MeasureSpec, model: &str) -> Option<Measure> {
        let Some(aggregation) = Aggregation::parse(&spec.agg) else {
            self.error(
                spec.agg.span(),
                format!("unknown aggregation `{}`; use one of {}", *spec.agg, Aggregation::NAMES),
            );
            return None;
        };
        let expr = match &spec.sql {
            Some(sql) => {
                let (expr, data_type) = self.bind_expr(plan, sql, sql.span(), model)?;
                if matches!(aggregation, Aggregation::Sum | Aggregation::Avg) && !data_type.is_numeric() {
                    self.error(
                        sql.span(),
                        format!(
                            "measure `{}`: {} needs a numeric expression, got {data_type}",
                            *spec.name, *spec.agg
                        ),
                    );
                    return None;
                }
                Some(expr)
            }
            None if aggregation == Aggregation::Count => None,
            None => {
                self.error(
                    spec.name.span(),
                    format!("measure `{}` needs `sql` for aggregation `{}`", *spec.name, *spec.agg),
                );
                return None;
            }
        };
        let filter = match &spec.filter {
            Some(sql) => {
                let (expr, data_type) = self.bind_expr(plan, sql, sql.span(), model)?;
                if data_type != DataType::Boolean {
                    self.error(
                        sql.span(),
                        format!(
                            "measure `{}`: filter must be a boolean expression, got {data_type}",
                            *spec.name
                        ),
                    );
                    return None;
                }
                Some(expr)
            }
            None => None,
        };
        Some(Measure {
            aggregation,
            expr,
            filter,
            description: spec.description.clone(),
            synonyms: spec.synonyms.clone(),
        })
    }

    /// Parse `sql` over `plan`'s columns; returns the expression (columns qualified) and its type.
    fn bind_expr(&mut self, plan: &LogicalPlan, sql: &str, span: &Span, model: &str) -> Option<(Expr, DataType)> {
        let bound = self
            .ctx
            .parse_sql_expr(sql, plan.schema())
            .and_then(|expr| normalize_col(expr, plan))
            .and_then(|expr| expr.get_type(plan.schema()).map(|t| (expr, t)));
        match bound {
            Ok(bound) => Some(bound),
            Err(e) => {
                let columns: Vec<_> = plan.schema().fields().iter().map(|f| f.name().as_str()).collect();
                self.error(
                    span,
                    format!(
                        "model `{model}`: cannot use `{sql}`: {}; columns are: {}",
                        short_reason(&e),
                        columns.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn bind_relationships(&mut self, spec: &ModelSpec, models: &mut BTreeMap<String, Model>) {
        let name = spec.name.as_str();
        let Some(owner) = models.get(name) else { return };
        let mut bound = BTreeMap::new();
        for rel in &spec.relationships {
            let rel_name = rel
                .name
                .as_ref()
                .map(|n| n.as_str())
                .unwrap_or(rel.model.as_str())
                .to_string();
            let rel_span = rel.name.as_ref().map(|n| n.span()).unwrap_or(rel.model.span());
            if bound.contains_key(&rel_name)
                || owner.dimensions.contains_key(&rel_name)
                || owner.measures.contains_key(&rel_name)
            {
                self.error(
                    rel_span,
                    format!("model `{name}`: relationship name `{rel_name}` is already used"),
                );
                continue;
            }
            let Some(target) = models.get(rel.model.as_str()) else {
                if self.broken_models.contains(rel.model.as_str()) {
                    continue;
                }
                self.error(
                    rel.model.span(),
                    format!("model `{name}`: relationship to unknown model `{}`", *rel.model),
                );
                continue;
            };
            let Some(cardinality) = Cardinality::parse(&rel.kind) else {
                self.error(
                    rel.kind.span(),
                    format!(
                        "unknown relationship type `{}`; use many_to_one, one_to_many or one_to_one",
                        *rel.kind
                    ),
                );
                continue;
            };
            match join_keys(&self.ctx, owner, target, &rel.on) {
                Ok(keys) => {
                    bound.insert(
                        rel_name,
                        Relationship {
                            target: target.name.clone(),
                            cardinality,
                            keys,
                        },
                    );
                }
                Err(message) => self.error(
                    rel.on.span(),
                    format!("model `{name}`: relationship `{rel_name}`: {message}"),
                ),
            }
        }
        models.get_mut(name).expect("bound above").relationships = bound;
    }

    /// Following to-one relationships must never come back to where it started: such a loop has no grain.
    fn check_cycles(&mut self, specs: &[(usize, ModelFile)], models: &BTreeMap<String, Model>) {
        for (_, spec) in specs {
            for model in &spec.models {
                if let Some(cycle) = to_one_cycle(models, model.name.as_str()) {
                    self.error(model.name.span(), format!("cyclic join path: {}", cycle.join(" → ")));
                }
            }
        }
    }

    fn bind_view(&mut self, spec: &ViewSpec, models: &Arc<BTreeMap<String, Model>>) -> Option<View> {
        let view_name = spec.name.to_string();
        let Some(root) = models.get(spec.model.as_str()) else {
            if self.broken_models.contains(spec.model.as_str()) {
                return None;
            }
            self.error(
                spec.model.span(),
                format!("view `{view_name}`: unknown model `{}`", *spec.model),
            );
            return None;
        };
        let mut columns = HashSet::new();
        let mut dimensions = Vec::new();
        for member in &spec.dimensions {
            let Some(path_spec) = &member.member else {
                self.error(
                    self.member_span(member),
                    format!("view `{view_name}`: a dimension needs `member`"),
                );
                continue;
            };
            let Some((name, path, model, dimension)) = self.view_member(
                models,
                root,
                path_spec,
                member,
                &mut columns,
                &view_name,
                "dimension",
                |m| &m.dimensions,
            ) else {
                continue;
            };
            let mut dimension = dimension.clone();
            if member.description.is_some() {
                dimension.description = member.description.clone();
            }
            dimension.synonyms.extend(member.synonyms.iter().cloned());
            dimensions.push(ViewDimension {
                name,
                path,
                model,
                dimension,
            });
        }
        let mut measures = Vec::new();
        let mut derived = Vec::new();
        for member in &spec.measures {
            match (&member.member, &member.sql) {
                (Some(path_spec), None) => {
                    let Some((name, path, model, measure)) = self.view_member(
                        models,
                        root,
                        path_spec,
                        member,
                        &mut columns,
                        &view_name,
                        "measure",
                        |m| &m.measures,
                    ) else {
                        continue;
                    };
                    let mut synonyms = measure.synonyms.clone();
                    synonyms.extend(member.synonyms.iter().cloned());
                    measures.push(ViewMeasure {
                        name,
                        description: member.description.clone().or_else(|| measure.description.clone()),
                        synonyms,
                        definition: MeasureDefinition::Base {
                            path,
                            model,
                            measure: Box::new(measure.clone()),
                        },
                        data_type: DataType::Null,
                    });
                }
                (None, Some(_)) if member.name.is_some() => derived.push(member),
                _ => self.error(
                    self.member_span(member),
                    format!(
                        "view `{view_name}`: a measure needs either `member`, or `name` and `sql` (a derived metric)"
                    ),
                ),
            }
        }
        let anchor_date = spec.anchor_date.as_ref().and_then(|text| {
            let parsed = chrono::NaiveDate::parse_from_str(text.as_str(), "%Y-%m-%d");
            if parsed.is_err() {
                self.error(
                    text.span(),
                    format!(
                        "view `{view_name}`: anchor_date `{}` is not a date (YYYY-MM-DD)",
                        text.as_str()
                    ),
                );
            }
            parsed.ok()
        });
        let mut view = View {
            name: view_name.clone(),
            description: spec.description.clone(),
            cache_ttl: spec.cache_ttl_secs.map(std::time::Duration::from_secs),
            anchor_date,
            root: root.name.clone(),
            models: models.clone(),
            dimensions,
            measures,
            schema: Arc::new(Schema::empty()),
            policies: Vec::new(),
            row_filter: None,
        };
        for i in 0..view.measures.len() {
            let name = view.measures[i].name.clone();
            match compile::measure_type(&view, &name) {
                Ok(t) => view.measures[i].data_type = t,
                Err(e) => {
                    self.error(spec.name.span(), format!("view `{view_name}`: measure `{name}`: {e}"));
                    return None;
                }
            }
        }
        for member in derived {
            let name = member.name.as_ref().expect("checked above");
            let sql = member.sql.as_ref().expect("checked above");
            if !columns.insert(name.to_string()) {
                self.error(
                    name.span(),
                    format!("view `{view_name}`: duplicate column `{}`", **name),
                );
                continue;
            }
            let measure_schema = measure_columns(&view.measures);
            let bound = self
                .ctx
                .parse_sql_expr(sql, &measure_schema)
                .and_then(|expr| expr.get_type(&measure_schema).map(|t| (expr, t)));
            match bound {
                Ok((expr, data_type)) => view.measures.push(ViewMeasure {
                    name: name.to_string(),
                    definition: MeasureDefinition::Derived {
                        expr: strip_qualifiers(expr),
                    },
                    data_type,
                    description: member.description.clone(),
                    synonyms: member.synonyms.clone(),
                }),
                Err(e) => {
                    let known = view
                        .measures
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(
                        sql.span(),
                        format!(
                            "view `{view_name}`: derived metric `{}`: {}; measures are: {known}",
                            **name,
                            short_reason(&e)
                        ),
                    );
                }
            }
        }
        let mut fields: Vec<Field> = view
            .dimensions
            .iter()
            .map(|d| Field::new(&d.name, d.dimension.data_type.clone(), true))
            .collect();
        fields.extend(
            view.measures
                .iter()
                .map(|m| Field::new(&m.name, m.data_type.clone(), true)),
        );
        view.schema = Arc::new(Schema::new(fields));
        view.policies = spec
            .access_policy
            .iter()
            .filter_map(|policy| self.bind_policy(&view, &spec.name, policy))
            .collect();
        Some(view)
    }

    /// Check one access policy against the view's members; `None` (reported) when it names what is not there.
    fn bind_policy(&mut self, view: &View, view_span: &Spanned<String>, spec: &PolicySpec) -> Option<AccessPolicy> {
        let span = spec.group.as_ref().or(spec.groups.first()).unwrap_or(view_span).span();
        let before = self.diagnostics.len();
        let mut named: Vec<&Spanned<String>> = spec.group.iter().collect();
        named.extend(&spec.groups);
        if named.is_empty() {
            self.error(
                view_span.span(),
                format!(
                    "view `{}`: an access policy needs `group` or `groups` (\"*\" for every user)",
                    view.name
                ),
            );
            return None;
        }
        let groups = (!named.iter().any(|g| g.as_str() == "*"))
            .then(|| named.iter().map(|g| g.to_string()).collect::<BTreeSet<_>>());
        let mut conditions = Vec::new();
        let mut attributes = Vec::new();
        let mut uses = |loader: &Self, name: &str, span: &Span| {
            attributes.push((
                name.to_string(),
                loader.diagnostic(
                    span,
                    format!(
                        "warning: view `{}`: a policy reads attribute `{name}`, which no configured user has",
                        view.name
                    ),
                ),
            ));
        };
        for condition in &spec.conditions {
            match Condition::parse(&condition.condition) {
                Ok(parsed) => {
                    for name in parsed.attributes() {
                        uses(self, name, condition.condition.span());
                    }
                    conditions.push(parsed);
                }
                Err(message) => self.error(condition.condition.span(), format!("view `{}`: {message}", view.name)),
            }
        }
        let mut members = |level: &Option<MemberLevelSpec>, default: Members, what: &str| -> Members {
            let Some(level) = level else { return default };
            // `None`: every member ("*").
            let list = |list: &MemberList| match list {
                MemberList::All(star) if star == "*" => None,
                MemberList::All(name) => Some(BTreeSet::from([name.clone()])),
                MemberList::Names(names) => Some(names.iter().cloned().collect()),
            };
            let resolved = match (&level.includes, &level.excludes) {
                (Some(includes), None) => list(includes).map_or(Members::All, Members::Only),
                (None, Some(excludes)) => list(excludes).map_or(Members::Only(BTreeSet::new()), Members::AllBut),
                _ => {
                    self.error(
                        span,
                        format!("view `{}`: {what} takes one of `includes`, `excludes`", view.name),
                    );
                    return default;
                }
            };
            for name in resolved.named() {
                if view.dimension(name).is_none() && view.measure(name).is_none() {
                    self.error(
                        span,
                        format!(
                            "view `{}`: {what} names `{name}`, which is not a member of the view",
                            view.name
                        ),
                    );
                }
            }
            resolved
        };
        let granted = members(&spec.member_level, Members::All, "member_level");
        let masked = members(&spec.member_masking, Members::Only(BTreeSet::new()), "member_masking");
        let mut rows = Vec::new();
        for filter in spec.row_level.iter().flat_map(|r| &r.filters) {
            let Some(dimension) = view.dimension(&filter.member) else {
                self.error(
                    filter.member.span(),
                    format!(
                        "view `{}`: row filters are on dimensions; `{}` is not a dimension of the view",
                        view.name, *filter.member
                    ),
                );
                continue;
            };
            let Some(operator) = FilterOperator::parse(&filter.operator) else {
                self.error(
                    filter.operator.span(),
                    format!(
                        "unknown operator `{}`; row filters take {}",
                        *filter.operator,
                        FilterOperator::NAMES
                    ),
                );
                continue;
            };
            let (least, most) = operator.arity();
            if filter.values.len() < least || filter.values.len() > most {
                self.error(
                    filter.operator.span(),
                    format!(
                        "`{}` takes {} value(s), not {}",
                        *filter.operator,
                        if least == most {
                            least.to_string()
                        } else {
                            format!("at least {least}")
                        },
                        filter.values.len()
                    ),
                );
                continue;
            }
            let data_type = dimension.dimension.data_type.clone();
            if operator == FilterOperator::Contains
                && !matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            {
                self.error(
                    filter.operator.span(),
                    "`contains` applies to text dimensions".to_string(),
                );
                continue;
            }
            let mut values = Vec::new();
            for value in &filter.values {
                match Operand::parse(value) {
                    Ok(Operand::Literal(text)) if ScalarValue::try_from_string(text.clone(), &data_type).is_err() => {
                        self.error(
                            value.span(),
                            format!("`{text}` is not a value of `{}` ({data_type})", *filter.member),
                        );
                    }
                    Ok(operand) => {
                        if let Operand::Attribute(name) = &operand {
                            uses(self, name, value.span());
                        }
                        values.push(operand);
                    }
                    Err(message) => self.error(value.span(), message),
                }
            }
            rows.push(RowRule {
                dimension: dimension.name.clone(),
                data_type,
                operator,
                values,
            });
        }
        (self.diagnostics.len() == before).then_some(AccessPolicy {
            groups,
            conditions,
            members: granted,
            masked,
            rows,
            attributes,
        })
    }

    /// Resolve a view member of one kind (`members` picks the model's dimensions or measures) and claim its column
    /// name; reports and returns `None` when the path, the member or the name is wrong.
    #[allow(clippy::too_many_arguments)]
    fn view_member<'m, T>(
        &mut self,
        models: &'m BTreeMap<String, Model>,
        root: &Model,
        path_spec: &Spanned<String>,
        member: &ViewMemberSpec,
        columns: &mut HashSet<String>,
        view_name: &str,
        kind: &str,
        members: impl Fn(&'m Model) -> &'m BTreeMap<String, T>,
    ) -> Option<(String, JoinPath, String, &'m T)> {
        let (path, model, leaf) = self.resolve_member(models, root, path_spec)?;
        let Some(found) = members(&models[&model]).get(&leaf) else {
            let known = members(&models[&model]).keys().cloned().collect::<Vec<_>>().join(", ");
            self.error(
                path_spec.span(),
                format!("model `{model}` has no {kind} `{leaf}`; it has: {known}"),
            );
            return None;
        };
        let name = member.name.as_ref().map(|n| n.to_string()).unwrap_or(leaf);
        if !columns.insert(name.clone()) {
            self.error(
                self.member_span(member),
                format!("view `{view_name}`: duplicate column `{name}`"),
            );
            return None;
        }
        Some((name, path, model, found))
    }

    fn member_span<'s>(&self, member: &'s ViewMemberSpec) -> &'s Span {
        member
            .name
            .as_ref()
            .or(member.member.as_ref())
            .or(member.sql.as_ref())
            .map(|s| s.span())
            .unwrap_or(&BLANK_SPAN)
    }

    /// `a.b.c.member`: relationship steps from `root` (or, when the first step names a model rather than a
    /// relationship, the one path that reaches that model), then the member's name.
    fn resolve_member(
        &mut self,
        models: &BTreeMap<String, Model>,
        root: &Model,
        spec: &Spanned<String>,
    ) -> Option<(JoinPath, String, String)> {
        let segments: Vec<&str> = spec.split('.').map(str::trim).collect();
        let (leaf, steps) = segments.split_last().expect("split yields one segment at least");
        let mut path = JoinPath::new();
        let mut model = root;
        for (i, step) in steps.iter().enumerate() {
            if let Some(rel) = model.relationships.get(*step) {
                path.push(step.to_string());
                model = &models[&rel.target];
                continue;
            }
            if i == 0 && models.contains_key(*step) {
                let paths = paths_to(models, root, step);
                match paths.len() {
                    1 => {
                        path = paths.into_iter().next().expect("one path");
                        model = &models[*step];
                        continue;
                    }
                    0 => self.error(spec.span(), format!("no join path from `{}` to `{step}`", root.name)),
                    _ => {
                        let listed: Vec<_> = paths.iter().map(|p| p.join(".")).collect();
                        self.error(
                            spec.span(),
                            format!(
                                "ambiguous join path from `{}` to `{step}`: {}; spell the path out",
                                root.name,
                                listed.join(" or ")
                            ),
                        );
                    }
                }
                return None;
            }
            let known = model.relationships.keys().cloned().collect::<Vec<_>>().join(", ");
            self.error(
                spec.span(),
                format!("model `{}` has no relationship `{step}`; it has: {known}", model.name),
            );
            return None;
        }
        Some((path, model.name.clone(), leaf.to_string()))
    }
}

static BLANK_SPAN: std::sync::LazyLock<Span> = std::sync::LazyLock::new(Span::new_blank);

/// Where a YAML document failed to parse or to match its schema, as (line, column).
pub fn yaml_error_position(error: &marked_yaml::FromYamlError, text: &str) -> (usize, usize) {
    use marked_yaml::LoadError::*;
    let mark = match error {
        marked_yaml::FromYamlError::ParseYaml(e) => match e {
            TopLevelMustBeMapping(m)
            | TopLevelMustBeSequence(m)
            | UnexpectedAnchor(m)
            | MappingKeyMustBeScalar(m)
            | UnexpectedTag(m)
            | ScanError(m, _) => Some(*m),
            DuplicateKey(inner) => inner.key.span().start().copied(),
        },
        marked_yaml::FromYamlError::FromNode(e) => e.start_mark(),
    };
    match mark {
        Some(m) => (m.line(), m.column()),
        None => unknown_key_position(&error.to_string(), text).unwrap_or((0, 0)),
    }
}

/// serde reports an unknown field without its position; find the first line where that key is written.
fn unknown_key_position(message: &str, text: &str) -> Option<(usize, usize)> {
    let key = message.strip_prefix("Unknown field `")?.split('`').next()?;
    text.lines().enumerate().find_map(|(i, line)| {
        let body = line.trim_start();
        let body_start = line.len() - body.len();
        let (offset, rest) = match body.strip_prefix("- ") {
            Some(rest) => (
                body_start + 2 + (rest.len() - rest.trim_start().len()),
                rest.trim_start(),
            ),
            None => (body_start, body),
        };
        rest.strip_prefix(key)?
            .trim_start()
            .starts_with(':')
            .then_some((i + 1, offset + 1))
    })
}

/// The first line of a DataFusion error without its kind prefix: the detail (valid fields…) is said by the caller.
fn short_reason(error: &datafusion::error::DataFusionError) -> String {
    let text = error.strip_backtrace();
    let first = text.lines().next().unwrap_or_default();
    let first = first
        .strip_prefix("Schema error: ")
        .or_else(|| first.strip_prefix("Error during planning: "))
        .unwrap_or(first);
    first.trim_end_matches('.').to_string()
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Every simple path (no model twice) of relationship names from `from` to the model named `target`.
fn paths_to(models: &BTreeMap<String, Model>, from: &Model, target: &str) -> Vec<JoinPath> {
    fn walk(
        models: &BTreeMap<String, Model>,
        at: &Model,
        target: &str,
        seen: &mut Vec<String>,
        path: &mut JoinPath,
        out: &mut Vec<JoinPath>,
    ) {
        for (name, rel) in &at.relationships {
            if seen.contains(&rel.target) {
                continue;
            }
            path.push(name.clone());
            if rel.target == target {
                out.push(path.clone());
            } else {
                seen.push(rel.target.clone());
                walk(models, &models[&rel.target], target, seen, path, out);
                seen.pop();
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(
        models,
        from,
        target,
        &mut vec![from.name.clone()],
        &mut Vec::new(),
        &mut out,
    );
    out
}

fn to_one_cycle(models: &BTreeMap<String, Model>, start: &str) -> Option<Vec<String>> {
    fn walk(models: &BTreeMap<String, Model>, at: &str, start: &str, trail: &mut Vec<String>) -> bool {
        for rel in models.get(at).map(|m| m.relationships.values()).into_iter().flatten() {
            if !rel.cardinality.is_to_one() {
                continue;
            }
            if rel.target == start {
                trail.push(rel.target.clone());
                return true;
            }
            if trail.contains(&rel.target) {
                continue;
            }
            trail.push(rel.target.clone());
            if walk(models, &rel.target, start, trail) {
                return true;
            }
            trail.pop();
        }
        false
    }
    let mut trail = vec![start.to_string()];
    walk(models, start, start, &mut trail).then_some(trail)
}

/// `a = b AND c = d` between `owner` and `target` columns, as (owner side, target side) pairs.
fn join_keys(ctx: &SessionContext, owner: &Model, target: &Model, on: &str) -> Result<Vec<(Expr, Expr)>, String> {
    let joined = owner
        .plan
        .schema()
        .join(target.plan.schema())
        .map_err(|e| e.strip_backtrace())?;
    let expr = ctx.parse_sql_expr(on, &joined).map_err(|e| e.strip_backtrace())?;
    let mut conjuncts = Vec::new();
    split_and(expr, &mut conjuncts);
    let side_of = |e: &Expr| -> Option<bool> {
        let cols = e.column_refs();
        let first = cols.iter().next()?.relation.as_ref()?.table().to_string();
        cols.iter()
            .all(|c| c.relation.as_ref().map(|r| r.table()) == Some(first.as_str()))
            .then_some(first == owner.name)
    };
    let mut keys = Vec::new();
    for conjunct in conjuncts {
        let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) = conjunct
        else {
            return Err(format!("`on` must be equalities joined by AND, got `{conjunct}`"));
        };
        match (side_of(&left), side_of(&right)) {
            (Some(true), Some(false)) => keys.push((*left, *right)),
            (Some(false), Some(true)) => keys.push((*right, *left)),
            _ => {
                return Err(format!(
                    "each equality must compare a `{}` column with a `{}` column",
                    owner.name, target.name
                ));
            }
        }
    }
    let joined_schema: &DFSchema = &joined;
    for (a, b) in &keys {
        a.get_type(joined_schema)
            .and_then(|_| b.get_type(joined_schema))
            .map_err(|e| e.strip_backtrace())?;
    }
    Ok(keys)
}

fn split_and(expr: Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            split_and(*left, out);
            split_and(*right, out);
        }
        other => out.push(other),
    }
}

/// The base measures as unqualified columns, for parsing derived metrics.
fn measure_columns(measures: &[ViewMeasure]) -> DFSchema {
    let fields: Vec<Field> = measures
        .iter()
        .map(|m| Field::new(&m.name, m.data_type.clone(), true))
        .collect();
    DFSchema::try_from(Schema::new(fields)).expect("measure names are unique")
}

fn strip_qualifiers(expr: Expr) -> Expr {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    expr.transform(|e| match e {
        Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
        other => Ok(Transformed::no(other)),
    })
    .expect("infallible")
    .data
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{ModelText, load};
    use crate::semantic::WhenUnreachable;

    /// The problems loading one model file whose single source is `source` (YAML, indented as a list item).
    async fn problems(source: &str) -> String {
        let text = format!("sources:\n{source}\n");
        let files = [ModelText {
            name: "model.yml".into(),
            text,
            base_dir: Path::new("/nonexistent").into(),
        }];
        match load(&files, Path::new("/nonexistent"), WhenUnreachable::Fail).await {
            Ok(_) => String::new(),
            Err(diagnostics) => diagnostics.to_string(),
        }
    }

    #[tokio::test]
    async fn object_storage_settings_are_checked_before_anything_connects() {
        let local = problems("  - {name: f, kind: parquet, location: data, region: eu-west-1, tables: {}}").await;
        assert!(local.contains("`region` applies to s3:// locations only"), "{local}");
        let other_scheme = problems("  - {name: f, kind: csv, location: 'gs://bucket/x', tables: {}}").await;
        assert!(other_scheme.contains("`gs://` is not supported"), "{other_scheme}");
        let unset = problems(
            "  - {name: f, kind: parquet, location: 's3://bucket/x/', access_key_id_env: SEMGATE_TEST_UNSET_KEY, \
             secret_access_key_env: SEMGATE_TEST_UNSET_SECRET, tables: {}}",
        )
        .await;
        assert!(
            unset.contains("environment variable SEMGATE_TEST_UNSET_KEY is not set"),
            "{unset}"
        );
        let half =
            problems("  - {name: f, kind: parquet, location: 's3://bucket/x/', access_key_id_env: PATH, tables: {}}")
                .await;
        assert!(
            half.contains("give both `access_key_id_env` and `secret_access_key_env`"),
            "{half}"
        );
    }
}
