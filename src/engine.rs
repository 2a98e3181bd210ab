//! The query engine: one DataFusion state shared by every session, with the semantic views registered as tables of
//! schema `public`, the semantic rewrite as the first analyzer rule, and PostgreSQL-flavoured functions.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableFunctionImpl;
use datafusion::catalog::information_schema::InformationSchemaProvider;
use datafusion::common::display::ToStringifiedPlan;
use datafusion::common::format::ExplainFormat;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{ParamValues, ScalarValue, TableReference};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, MemoryLimit, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Explain, Expr, LogicalPlan, PlanType, Signature,
    StringifiedPlan, Volatility, create_udf,
};
use datafusion::optimizer::{Analyzer, AnalyzerRule, Optimizer};
use datafusion::physical_plan::explain::ExplainExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_federation::FederatedQueryPlanner;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::distributed::{Cluster, is_distributed};
use crate::error::Interrupted;
use crate::metrics::METRICS;

use crate::semantic::SemanticModel;
use crate::semantic::access::Identity;
use crate::semantic::inner_joins::InnerJoinKeysRejectNulls;
use crate::semantic::provider::{LateViews, SemanticViewTable, ViewSchema};
use crate::semantic::rewrite::SemanticRewrite;
use crate::source::pushdown::PushDownToSources;

/// The schema semantic views live in, as BI tools expect of PostgreSQL.
pub const VIEW_SCHEMA: &str = "public";

/// What `version()` and the `server_version` parameter report: PostgreSQL 15 compatibility, then our own version.
pub const SERVER_VERSION: &str = concat!("15.0 (semgate ", env!("CARGO_PKG_VERSION"), ")");

/// How many spill files one merge pass reads at once. Each open file holds a few decoded batches (read-ahead, the
/// merge cursor, the IPC decoder's grown buffer) that the pool counts only in part: DataFusion's default, as many as
/// the reservation seems to allow, opened dozens of the 82 spill files of the 6M-group benchmark query at once and
/// grew the process by ~500 MB under `memory_limit: 256MB`; 16 per pass keeps it near 300 MB and is no slower.
const SPILL_MERGE_FAN_IN: usize = 16;

/// How long a table's directory listing is reused. DataFusion keeps listings for ever by default, so a file added
/// to a table's directory (a new day's partition) was never read until a restart; listing once per query costs a
/// LIST request per scan on object storage.
const FILE_LISTING_TTL: Duration = Duration::from_secs(10);

/// What every engine of the gateway shares, across reloads too: the memory pool and spill files (see
/// [`Engine::runtime`]) and the cluster heavy queries are spread over, if any.
#[derive(Clone, Default)]
pub struct Shared {
    pub runtime: Arc<RuntimeEnv>,
    pub cluster: Option<Arc<Cluster>>,
}

impl Shared {
    /// Forget which files the tables' directories held, so that the model a reload serves sees files added since
    /// at once rather than after [`FILE_LISTING_TTL`].
    pub fn forget_file_listings(&self) {
        if let Some(listings) = self.runtime.cache_manager.get_list_files_cache() {
            listings.clear();
        }
    }
}

pub struct Engine {
    /// Cloned into every session: shares the catalog (Arc) and holds the functions and rules.
    base: SessionContext,
    /// The database name clients connect to; also the DataFusion catalog name.
    database: String,
}

/// A table function the engine's owner adds (`semgate_cache_stats`), by name.
pub type TableFunction = (&'static str, Arc<dyn TableFunctionImpl>);

impl Engine {
    /// `logins`: the users who may connect, listed as login roles in `pg_roles` (psql's `\du`, DBeaver's role tree).
    /// `table_functions`: functions of the layers above (the result cache's statistics), registered before
    /// `information_schema` lists them. `late`: views whose database came back after this engine was built, served
    /// as `reader`'s access policies let them read those (`model` is restricted to `reader` already). `shared`: the
    /// memory and the cluster every engine of the gateway shares.
    pub fn new(
        model: &SemanticModel,
        database: &str,
        logins: Vec<String>,
        table_functions: Vec<TableFunction>,
        late: LateViews,
        reader: Identity,
        shared: &Shared,
    ) -> Result<Self> {
        let runtime = shared.runtime.clone();
        let mut config = SessionConfig::new()
            .with_default_catalog_and_schema(database, VIEW_SCHEMA)
            .with_create_default_catalog_and_schema(true)
            // Our own `information_schema` schema (registered below) replaces DataFusion's interception of it.
            .with_information_schema(false);
        // Each sort that spills first sets aside memory to merge its runs (10 MB by default): under a small
        // memory_limit that alone would use up the pool, so it is a share of the limit instead.
        if let MemoryLimit::Finite(limit) = runtime.memory_pool.memory_limit() {
            config.options_mut().execution.sort_spill_reservation_bytes = (limit / 32).clamp(64 << 10, 10 << 20);
        }
        let mut rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> = vec![Arc::new(SemanticRewrite)];
        rules.extend(Analyzer::new().rules);
        // Last, after DataFusion moved filters and limits down to the scans: what a database can run goes to it whole.
        let mut optimizer_rules = Optimizer::new().rules;
        // Right after DataFusion's outer-join elimination, which makes the last join of a filtered chain inner.
        let after = optimizer_rules
            .iter()
            .position(|rule| rule.name() == "eliminate_outer_join")
            .map_or(0, |at| at + 1);
        optimizer_rules.insert(after, Arc::new(InnerJoinKeysRejectNulls));
        optimizer_rules.push(Arc::new(PushDownToSources));
        // The model's buckets, where its file tables' scans look them up (the runtime is shared: a reload replaces them).
        for (url, store) in &model.object_stores {
            runtime.register_object_store(url.as_ref(), store.clone());
        }
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_analyzer_rules(rules)
            .with_optimizer_rules(optimizer_rules)
            .with_query_planner(Arc::new(FederatedQueryPlanner::new()));
        if let Some(cluster) = &shared.cluster {
            builder = cluster.install(builder)?;
            // Where a failed distributed query finds out which worker went away.
            builder.config().get_or_insert_default().set_extension(cluster.clone());
        }
        let state = builder.build();
        let base = SessionContext::new_with_state(state);
        // pg_catalog relations and PostgreSQL functions for drivers and BI tools; our own functions below win.
        datafusion_pg_catalog::pg_catalog::setup_pg_catalog(&base, database, crate::pg_compat::LoginRoles::new(logins))
            .map_err(|e| *e)?;
        let catalog = base
            .catalog(database)
            .ok_or_else(|| DataFusionError::Internal(format!("catalog {database} is missing")))?;
        if let Some(pg_catalog) = catalog.schema("pg_catalog") {
            catalog.register_schema(
                "pg_catalog",
                Arc::new(crate::pg_compat::catalog::PgCatalogOverlay::new(
                    pg_catalog,
                    Arc::new(crate::pg_compat::functions::view_description(model)),
                )),
            )?;
        }
        crate::pg_compat::functions::register(&base, model)?;
        base.register_udaf(AggregateUDF::from(MeasureFunction::new()));
        base.register_udf(constant_udf("version", format!("PostgreSQL {SERVER_VERSION}")));
        base.register_udf(constant_udf("current_database", database.to_string()));
        base.register_udf(constant_udf("current_catalog", database.to_string()));
        base.register_udf(constant_udf("current_schema", VIEW_SCHEMA.to_string()));
        catalog.register_schema(VIEW_SCHEMA, Arc::new(ViewSchema::new(model, late, reader)))?;
        for (name, view) in &model.views {
            let provider = Arc::new(SemanticViewTable { view: view.clone() });
            base.register_table(TableReference::full(database, VIEW_SCHEMA, name.as_str()), provider)?;
        }
        for (name, function) in table_functions {
            base.register_udtf(name, function);
        }
        // Last, so that it lists every table function registered above.
        let information_schema = crate::pg_compat::catalog::InformationSchemaOverlay::new(
            InformationSchemaProvider::new(base.state().catalog_list().clone())
                .with_table_functions(base.state().table_functions().clone()),
        );
        base.register_catalog(
            database,
            Arc::new(crate::pg_compat::catalog::CatalogWithInformationSchema::new(
                catalog,
                information_schema,
            )),
        );
        Ok(Self {
            base,
            database: database.to_string(),
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The memory every query of the gateway shares: with `memory_limit` bytes, a pool that gives each spilling
    /// operator (aggregation, sort, join) a fair share and makes it spill to files under `spill_dir` when its share
    /// is used; a query that still cannot fit fails with SQLSTATE 53200. Without a limit, DataFusion's unbounded pool.
    pub fn runtime(memory_limit: Option<u64>, spill_dir: &std::path::Path) -> Result<Arc<RuntimeEnv>> {
        let builder = RuntimeEnvBuilder::new()
            .with_cache_manager(CacheManagerConfig::default().with_list_files_cache_ttl(Some(FILE_LISTING_TTL)));
        let Some(limit) = memory_limit else {
            return builder.build_arc();
        };
        std::fs::create_dir_all(spill_dir).map_err(|e| {
            DataFusionError::Execution(format!(
                "cannot create the spill directory {}: {e}",
                spill_dir.display()
            ))
        })?;
        // Errors name the largest consumers, so a refused query says what took the memory.
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(usize::try_from(limit).unwrap_or(usize::MAX)),
            std::num::NonZeroUsize::MIN.saturating_add(4),
        );
        builder
            .with_memory_pool(Arc::new(pool))
            .with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![spill_dir.to_path_buf()]))
                    .with_max_spill_merge_fan_in(SPILL_MERGE_FAN_IN),
            )
            .build_arc()
    }

    /// A context for one client session: the shared catalog plus the functions that depend on who is asking.
    pub fn session_context(&self, user: &str) -> SessionContext {
        let ctx = SessionContext::new_with_state(self.base.state());
        for name in ["current_user", "session_user", "user", "current_role"] {
            ctx.register_udf(constant_udf(name, user.to_string()));
        }
        ctx
    }

    /// Plan one parsed statement (placeholders stay unbound until execution).
    pub async fn plan(ctx: &SessionContext, statement: Statement) -> Result<LogicalPlan> {
        let statement = datafusion::sql::parser::Statement::Statement(Box::new(statement));
        let plan = ctx.state().statement_to_plan(statement).await?;
        crate::pg_compat::type_parameters(crate::pg_compat::plannable_subqueries(plan)?)
    }

    /// The types of `$1…$n`, in order. Where DataFusion cannot infer one, PostgreSQL's choices apply: LIMIT and
    /// OFFSET take bigint, anything else text.
    pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<DataType>> {
        let mut in_limits = HashSet::new();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::Limit(limit) = node {
                for expr in limit.skip.iter().chain(limit.fetch.iter()) {
                    if let Expr::Placeholder(p) = expr.as_ref() {
                        in_limits.insert(p.id.clone());
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        let mut typed: Vec<(usize, DataType)> = plan
            .get_parameter_types()?
            .into_iter()
            .map(|(id, ty)| {
                let fallback = if in_limits.contains(&id) {
                    DataType::Int64
                } else {
                    DataType::Utf8
                };
                (id.trim_start_matches('$').parse().unwrap_or(0), ty.unwrap_or(fallback))
            })
            .collect();
        typed.sort_by_key(|(position, _)| *position);
        Ok(typed.into_iter().map(|(_, ty)| ty).collect())
    }

    /// Bind `$1…$n` to values, cast to the types the plan infers for them (a client may send an int4 where the plan
    /// compares with an int8); where the plan has no opinion the client's type stands.
    pub fn bind(plan: LogicalPlan, values: Vec<ScalarValue>) -> Result<LogicalPlan> {
        let mut expected = plan.get_parameter_types()?;
        let values = values
            .into_iter()
            .enumerate()
            .map(|(i, value)| match expected.remove(&format!("${}", i + 1)).flatten() {
                Some(ty) if value.data_type() != ty => value.cast_to(&ty),
                _ => Ok(value),
            })
            .collect::<Result<Vec<_>>>()?;
        plan.with_param_values(ParamValues::List(values.into_iter().map(Into::into).collect()))
    }

    /// Whether a plan reads only catalog relations (`pg_catalog`, `information_schema`): what BI tools' introspection is.
    pub fn reads_only_catalogs(plan: &LogicalPlan) -> bool {
        let mut catalog = false;
        let mut other = false;
        let _ = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                match scan.table_name.schema() {
                    Some("pg_catalog" | "information_schema") => catalog = true,
                    _ => other = true,
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        catalog && !other
    }

    /// The result's schema as clients see it: columns named like PostgreSQL names them.
    pub fn result_schema(plan: &LogicalPlan) -> SchemaRef {
        client_schema(plan.schema().as_arrow())
    }

    /// Analyze (semantic rewrite first) and optimize: what [`Engine::execute_optimized`] runs and the result cache
    /// keys on.
    pub fn optimize(ctx: &SessionContext, plan: &LogicalPlan) -> Result<LogicalPlan> {
        let planning = Instant::now();
        let optimized = ctx.state().optimize(plan)?;
        METRICS.planned("optimize", planning.elapsed());
        Ok(optimized)
    }

    /// [`Engine::optimize`], then [`Engine::execute_optimized`].
    pub async fn execute(
        ctx: &SessionContext,
        plan: LogicalPlan,
        cancel: CancellationToken,
        timeout: Option<Duration>,
    ) -> Result<SendableRecordBatchStream> {
        let described = Self::result_schema(&plan);
        if let LogicalPlan::Explain(explain) = &plan
            && Self::shows_final_plans_only(ctx, explain)
        {
            let optimized = Self::optimize(ctx, &explain.plan)?;
            let state = Self::planning_state(ctx, &optimized);
            let physical = Self::physical_plan(&state, &optimized).await?;
            // A distributed plan shows its stages and where they run, as the coordinator's planner renders it.
            let cluster = is_distributed(&physical)
                .then(|| state.config().get_extension::<Cluster>())
                .flatten();
            let rendered = match cluster {
                Some(cluster) => cluster.rendered(physical.as_ref()),
                None => displayable(physical.as_ref()).indent(false).to_string(),
            };
            let shown = vec![
                optimized.to_stringified(PlanType::FinalLogicalPlan),
                StringifiedPlan::new(PlanType::FinalPhysicalPlan, rendered),
            ];
            let explained = Arc::new(ExplainExec::new(explain.schema.inner().clone(), shown, false));
            return Self::stream(&state, explained, described, cancel, timeout);
        }
        let optimized = Self::optimize(ctx, &plan)?;
        Self::execute_optimized(ctx, &optimized, described, cancel, timeout).await
    }

    /// Whether `explain` shows only the final logical and physical plans (EXPLAIN without VERBOSE, in the default
    /// indented format, with no statistics or schemas asked for). Those two are all it shows, yet DataFusion renders
    /// the plan after each of its ~80 analyzer, optimizer and physical rules on the way (a quarter of EXPLAIN's time);
    /// [`Engine::execute`] plans such an EXPLAIN as the query itself is planned and renders the two.
    fn shows_final_plans_only(ctx: &SessionContext, explain: &Explain) -> bool {
        let state = ctx.state();
        let options = &state.config().options().explain;
        !explain.verbose
            && !explain.show_statistics.unwrap_or(options.show_statistics)
            && explain.explain_format == ExplainFormat::Indent
            && !options.logical_plan_only
            && !options.physical_plan_only
            && !options.show_schema
    }

    /// Start executing an optimized plan (not optimized again); batches stream as they are produced, with the columns
    /// of `described` ([`Engine::result_schema`] of the plan before optimizing: what clients were told, nullability
    /// included — Flight SQL clients check it). The stream ends with an [`Interrupted`] error when `cancel` fires or
    /// `timeout` passes, whichever comes first; dropping it stops the work.
    pub async fn execute_optimized(
        ctx: &SessionContext,
        optimized: &LogicalPlan,
        described: SchemaRef,
        cancel: CancellationToken,
        timeout: Option<Duration>,
    ) -> Result<SendableRecordBatchStream> {
        let state = Self::planning_state(ctx, optimized);
        let physical = Self::physical_plan(&state, optimized).await?;
        Self::stream(&state, physical, described, cancel, timeout)
    }

    /// The session's state as `plan` is planned and run in.
    fn planning_state(ctx: &SessionContext, plan: &LogicalPlan) -> SessionState {
        let mut state = ctx.state();
        if Self::reads_only_catalogs(plan) {
            // Catalog relations hold a few hundred rows: one partition reads them in the order they are stored, as
            // PostgreSQL does, so a client that reads without ORDER BY (sqlsmith's schema load, drivers' type
            // loading) sees the same rows in the same order every time. Repartitioning them only costs.
            state.config_mut().options_mut().execution.target_partitions = 1;
        }
        state
    }

    async fn physical_plan(state: &SessionState, optimized: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        let planning = Instant::now();
        let physical = state.query_planner().create_physical_plan(optimized, state).await?;
        METRICS.planned("physical", planning.elapsed());
        Ok(physical)
    }

    /// Run `physical`: see [`Engine::execute_optimized`].
    fn stream(
        state: &SessionState,
        physical: Arc<dyn ExecutionPlan>,
        described: SchemaRef,
        cancel: CancellationToken,
        timeout: Option<Duration>,
    ) -> Result<SendableRecordBatchStream> {
        let cluster = is_distributed(&physical)
            .then(|| state.config().get_extension::<Cluster>())
            .flatten();
        let stream = datafusion::physical_plan::execute_stream(physical, Arc::new(TaskContext::from(state)))?;
        let produced = client_schema(&stream.schema());
        // The engine's own types win where they differ from the description (nothing can relabel those).
        let same_types = described.fields().len() == produced.fields().len()
            && described
                .fields()
                .iter()
                .zip(produced.fields())
                .all(|(d, p)| d.data_type() == p.data_type());
        let schema = if same_types { described } else { produced };
        let renamed = schema.clone();
        let stream = stream.then(move |batch| {
            let (renamed, cluster) = (renamed.clone(), cluster.clone());
            async move {
                match (batch, cluster) {
                    (Err(e), Some(cluster)) => Err(cluster.explain_failure(e).await),
                    (batch, _) => batch.and_then(|b| Ok(RecordBatch::try_new(renamed, b.columns().to_vec())?)),
                }
            }
        });
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let guarded = futures::stream::unfold(Some(Box::pin(stream)), move |running| {
            let cancel = cancel.clone();
            async move {
                let mut stream: std::pin::Pin<Box<_>> = running?;
                let timer = async {
                    match deadline {
                        Some(deadline) => tokio::time::sleep_until(deadline).await,
                        None => std::future::pending().await,
                    }
                };
                let interrupted = |why| Some((Err(DataFusionError::External(Box::new(why))), None));
                tokio::select! {
                    batch = stream.next() => batch.map(|b| (b, Some(stream))),
                    _ = cancel.cancelled() => interrupted(Interrupted::Canceled),
                    _ = timer => interrupted(Interrupted::Timeout),
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, guarded)))
    }
}

fn client_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(column_name(f.name())))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// PostgreSQL names an unaliased function call's column after the function (`sum`, not `sum(sales.revenue)`);
/// BI tools, psql users and notebooks rely on those short names.
fn column_name(name: &str) -> String {
    let name = crate::pg_compat::client_column_name(name);
    let Some((function, rest)) = name.split_once('(') else {
        return name.to_string();
    };
    let is_call = rest.ends_with(')')
        && !function.is_empty()
        && function.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest.chars().filter(|&c| c == '(').count() + 1 == rest.chars().filter(|&c| c == ')').count();
    if is_call {
        function.to_lowercase()
    } else {
        name.to_string()
    }
}

fn constant_udf(name: &str, value: String) -> datafusion::logical_expr::ScalarUDF {
    let value = ScalarValue::Utf8(Some(value));
    create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_args: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone()))),
    )
}

/// `MEASURE(m)`: names a measure column of a semantic view. It only exists for the SQL planner; the semantic rewrite
/// replaces every call before execution.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct MeasureFunction {
    signature: Signature,
}

impl MeasureFunction {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for MeasureFunction {
    fn name(&self) -> &str {
        "measure"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Err(DataFusionError::Plan(
            "MEASURE() applies only to a measure column of a semantic view".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;
    use futures::TryStreamExt;
    use tokio_util::sync::CancellationToken;

    /// What EXPLAIN shows: `Engine::execute`'s rendering of the two final plans against DataFusion's own EXPLAIN of
    /// the same statements; VERBOSE keeps DataFusion's (every rule's plan).
    #[tokio::test]
    async fn explain_shows_what_datafusion_shows() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (k INT, v DOUBLE) AS VALUES (1, 2.0), (2, 3.0)")
            .await
            .unwrap();
        ctx.sql("CREATE TABLE u (k INT, name TEXT) AS VALUES (1, 'a')")
            .await
            .unwrap();
        for sql in [
            "EXPLAIN SELECT k, SUM(v) FROM t WHERE v > 1 GROUP BY k ORDER BY 2 DESC LIMIT 1",
            "EXPLAIN SELECT name, COUNT(*) FROM t JOIN u USING (k) GROUP BY name",
            "EXPLAIN VERBOSE SELECT 1",
        ] {
            let plan = ctx.state().create_logical_plan(sql).await.unwrap();
            let ours = super::Engine::execute(&ctx, plan, CancellationToken::new(), None)
                .await
                .unwrap();
            let ours: Vec<_> = ours.try_collect().await.unwrap();
            let theirs = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            assert_eq!(
                pretty_format_batches(&ours).unwrap().to_string(),
                pretty_format_batches(&theirs).unwrap().to_string(),
                "{sql}"
            );
        }
    }

    #[test]
    fn function_columns_are_named_like_postgres() {
        assert_eq!(super::column_name("sum(sales.revenue)"), "sum");
        assert_eq!(super::column_name("measure(sales.revenue)"), "measure");
        assert_eq!(super::column_name("count(*)"), "count");
        assert_eq!(
            super::column_name("date_trunc(Utf8(\"month\"),sales.order_date)"),
            "date_trunc"
        );
        assert_eq!(super::column_name("region"), "region");
        assert_eq!(super::column_name("a (b"), "a (b");
    }
}
