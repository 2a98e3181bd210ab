//! Scale-out on a datafusion-distributed cluster: this process stays the coordinator (the semantic rewrite, source
//! pushdown and federation planner run here, unchanged) and the physical plan of a heavy query is cut into stages
//! that `semgate worker` processes run, each over its share of the files.
//!
//! - [`Cluster`]: the workers, whether they answer, and the worker inside this process, which runs the stages that
//!   cannot ship (database scans, catalog relations) and serves their output to the workers.
//! - The query planner chooses per query ([`Mode`], `SET semgate.distributed = on|off|auto`): a query that reads no
//!   files, or fewer bytes of them than `min_bytes_for_distribution` in `auto`, is planned as without a cluster.
//! - A worker that stops answering fails the query with SQLSTATE 58000 naming it ([`WorkerLost`]); it is left out of
//!   the next plans until it answers again.
//!
//! The wire between coordinator and workers (gRPC, and the shared secret on every call) is `protocol::worker`'s.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{LogicalPlan, PlanType, StringifiedPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::explain::ExplainExec;
use datafusion_distributed::{
    ChannelResolver, DistributedExec, DistributedExt, GetWorkerInfoRequest, SessionStateBuilderExt, Worker,
    WorkerChannel, WorkerQueryContext, WorkerResolver, WorkerSessionBuilder, display_plan_ascii,
};
use url::Url;

use crate::config::DistributedConfig;
use crate::pg_compat::functions::Settings;

/// The session setting that chooses where a session's queries run.
pub const DISTRIBUTED_SETTING: &str = "semgate.distributed";

/// How long a worker has to accept a connection before it counts as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a session's queries run (`SET semgate.distributed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every query that reads files is spread over the workers.
    On,
    /// Every query runs in this process.
    Off,
    /// Queries that read at least `min_bytes_for_distribution` bytes of files are spread (the default).
    Auto,
}

impl Mode {
    /// The value of the setting; `None` for anything else (the error hint names the choices).
    pub fn parse(value: &str) -> Option<Mode> {
        match value.trim().to_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Some(Mode::On),
            "off" | "false" | "0" | "no" => Some(Mode::Off),
            "auto" => Some(Mode::Auto),
            _ => None,
        }
    }

    pub const HINT: &'static str = "semgate.distributed is on, off or auto";
}

/// A session's settings, where the planner reads its [`Mode`] (a SessionConfig extension of its context).
pub struct SessionMode(pub Settings);

impl SessionMode {
    fn get(&self) -> Mode {
        self.0
            .lock()
            .ok()
            .and_then(|settings| settings.get(DISTRIBUTED_SETTING).and_then(|v| Mode::parse(v)))
            .unwrap_or(Mode::Auto)
    }
}

/// A query stopped because a worker stopped answering; carried inside the engine's error (SQLSTATE 58000).
#[derive(Debug, thiserror::Error)]
#[error(
    "worker {} stopped answering during the query ({cause}); it is left out of the next queries until it answers \
     again: run the query again",
    workers.join(", ")
)]
pub struct WorkerLost {
    /// The workers that did not accept a connection after the failure.
    pub workers: Vec<String>,
    /// What the query saw.
    pub cause: String,
}

/// The configured workers and which of them did not answer when last asked.
struct Workers {
    configured: Vec<Url>,
    /// Left out of plans until they answer a call again.
    down: Mutex<BTreeSet<Url>>,
    /// How they are called.
    channels: Channels,
}

/// How a worker is asked whether it is there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// It accepts a connection: cheap, before each distributed query, for the workers not known to be down.
    Connect,
    /// It answers a call: after a failure, and for a worker known to be down to come back (a process being torn
    /// down may still accept a connection, never a call).
    Call,
}

impl Workers {
    fn live(&self) -> Vec<Url> {
        let down = self.down.lock().expect("workers lock");
        self.configured
            .iter()
            .filter(|url| !down.contains(*url))
            .cloned()
            .collect()
    }

    async fn answers(&self, url: &Url, probe: Probe) -> bool {
        let asked = async {
            match probe {
                Probe::Connect => {
                    let addrs = url.socket_addrs(|| None).ok()?;
                    tokio::net::TcpStream::connect(addrs.as_slice()).await.ok().map(drop)
                }
                Probe::Call => {
                    let mut client = self.channels.get_worker_client_for_url(url).await.ok()?;
                    client.get_worker_info(GetWorkerInfoRequest {}).await.ok().map(drop)
                }
            }
        };
        matches!(tokio::time::timeout(PROBE_TIMEOUT, asked).await, Ok(Some(())))
    }

    /// Ask every configured worker (at once): with `after_failure`, every one by a call; otherwise those not known
    /// to be down by a connection and the others by a call. Remember and return those that do not answer.
    async fn probe(&self, after_failure: bool) -> Vec<Url> {
        let down_before = self.down.lock().expect("workers lock").clone();
        let attempts = self.configured.iter().map(|url| {
            let probe = if after_failure || down_before.contains(url) {
                Probe::Call
            } else {
                Probe::Connect
            };
            async move { (url, self.answers(url, probe).await) }
        });
        let results = futures::future::join_all(attempts).await;
        let mut down = self.down.lock().expect("workers lock");
        let mut lost = Vec::new();
        for (url, answered) in results {
            if answered {
                if down.remove(url) {
                    tracing::info!(worker = %url, "worker answers again");
                }
            } else {
                if down.insert(url.clone()) {
                    tracing::warn!(worker = %url, "worker does not answer; planning without it");
                }
                lost.push(url.clone());
            }
        }
        lost
    }
}

/// What the distributed planner asks for the workers a stage's tasks may go to: those that answered last.
struct LiveWorkers(Arc<Workers>);

impl WorkerResolver for LiveWorkers {
    fn get_urls(&self) -> Result<Vec<Url>> {
        Ok(self.0.live())
    }
}

/// The wire's channels to workers, shared (the planner's extension takes a value).
#[derive(Clone)]
pub struct Channels(pub Arc<dyn ChannelResolver + Send + Sync>);

#[async_trait]
impl ChannelResolver for Channels {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        self.0.get_worker_client_for_url(url).await
    }
}

/// The coordinator's cluster: shared by every engine of the gateway (and across reloads).
pub struct Cluster {
    workers: Arc<Workers>,
    /// Below this many bytes of files, `auto` keeps a query here.
    min_bytes: u64,
    /// Bytes of files per partition of a distributed scan.
    bytes_per_partition: usize,
    /// Calls to workers, with the cluster's secret.
    channels: Channels,
    /// Runs the stages that must stay here and serves their output to the workers (at `self_url`).
    local: Worker,
    self_url: Url,
}

impl Cluster {
    /// `channels`: how workers are called (the wire layer's); `self_url`: where workers reach this process's worker.
    /// `runtime`: the memory and object stores the coordinator's engines use.
    pub fn new(config: &DistributedConfig, channels: Channels, self_url: Url, runtime: Arc<RuntimeEnv>) -> Self {
        let local = Worker::from_session_builder(WorkerSessions {
            functions: None,
            channels: channels.clone(),
        })
        .with_runtime_env(runtime);
        Self {
            workers: Arc::new(Workers {
                configured: config.workers.clone(),
                down: Mutex::default(),
                channels: channels.clone(),
            }),
            min_bytes: config.min_bytes_for_distribution,
            bytes_per_partition: usize::try_from(config.bytes_per_partition).unwrap_or(usize::MAX),
            channels,
            local,
            self_url,
        }
    }

    /// The worker of this process, for the wire layer to serve at `self_url`.
    pub fn local_worker(&self) -> Worker {
        self.local.clone()
    }

    /// Give `builder` (whose query planner is the single-process one) the cluster: its planner then chooses per query
    /// between the single-process plan and a distributed one.
    pub fn install(self: &Arc<Self>, mut builder: SessionStateBuilder) -> Result<SessionStateBuilder> {
        let single = builder
            .query_planner()
            .clone()
            .ok_or_else(|| DataFusionError::Internal("the engine has no query planner".into()))?;
        let mut builder = builder
            .with_distributed_planner()
            .with_distributed_worker_resolver(LiveWorkers(self.workers.clone()))
            .with_distributed_channel_resolver(self.channels.clone())
            .with_distributed_local_worker_context(self.local.to_local_worker_context(self.self_url.clone()))
            .with_distributed_file_scan_config_bytes_per_partition(self.bytes_per_partition)?;
        let distributed = builder
            .query_planner()
            .clone()
            .ok_or_else(|| DataFusionError::Internal("the distributed planner is missing".into()))?;
        Ok(builder.with_query_planner(Arc::new(ChoosingPlanner {
            single,
            distributed,
            cluster: self.clone(),
        })))
    }

    /// Whether a plan planned for this process goes to the workers: per the session's mode, the bytes of files it
    /// reads, and whether any worker answers (asked now, so that a worker that went away is not planned on).
    async fn distributes(&self, mode: Mode, plan: &Arc<dyn ExecutionPlan>) -> Result<bool> {
        if mode == Mode::Off || self.workers.configured.is_empty() {
            return Ok(false);
        }
        let bytes = file_bytes(plan)?;
        if bytes == 0 || (mode == Mode::Auto && bytes < self.min_bytes) {
            return Ok(false);
        }
        self.workers.probe(false).await;
        // One worker alone gets no stage: datafusion-distributed spreads a stage's tasks over at least two, and a single
        // task runs where its plan already is.
        Ok(self.workers.live().len() > 1)
    }

    /// The error a distributed query ends with: [`WorkerLost`] naming the workers that no longer answer, if any;
    /// otherwise `error` as it came (a worker's own errors arrive as the DataFusion error they were).
    pub async fn explain_failure(&self, error: DataFusionError) -> DataFusionError {
        let lost = self.workers.probe(true).await;
        if lost.is_empty() {
            return error;
        }
        DataFusionError::External(Box::new(WorkerLost {
            workers: lost.iter().map(Url::to_string).collect(),
            cause: error.message().lines().next().unwrap_or_default().to_string(),
        }))
    }

    /// A distributed plan as EXPLAIN shows it: its stages and their tasks, and where they run.
    pub fn rendered(&self, plan: &dyn ExecutionPlan) -> String {
        format!("{}{}", display_plan_ascii(plan, false), self.placement())
    }

    /// What EXPLAIN adds under a distributed plan: where its stages run.
    fn placement(&self) -> String {
        let live: Vec<String> = self.workers.live().iter().map(Url::to_string).collect();
        format!(
            "stages run on: {} (tasks spread over them); the head stage and stages that read databases or catalogs \
             run on the coordinator ({})",
            live.join(", "),
            self.self_url
        )
    }
}

/// Bytes of files a physical plan scans (0 when it reads none: catalogs, databases, cached answers).
fn file_bytes(plan: &Arc<dyn ExecutionPlan>) -> Result<u64> {
    let mut bytes = 0u64;
    plan.apply(|node| {
        if let Some(scan) = node.downcast_ref::<DataSourceExec>()
            && let Some(files) = scan.data_source().downcast_ref::<FileScanConfig>()
        {
            for group in &files.file_groups {
                bytes += group.files().iter().map(|f| f.object_meta.size).sum::<u64>();
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(bytes)
}

/// The coordinator's query planner: plans for this process, and again for the cluster when the query is worth it.
#[derive(Debug)]
struct ChoosingPlanner {
    /// The single-process planner (federation included).
    single: Arc<dyn QueryPlanner + Send + Sync>,
    /// datafusion-distributed's planner around `single`.
    distributed: Arc<dyn QueryPlanner + Send + Sync>,
    cluster: Arc<Cluster>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("workers", &self.workers.configured)
            .finish()
    }
}

#[async_trait]
impl QueryPlanner for ChoosingPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mode = session_state
            .config()
            .get_extension::<SessionMode>()
            .map_or(Mode::Auto, |m| m.get());
        let single = self.single.create_physical_plan(logical_plan, session_state).await?;
        // EXPLAIN (not ANALYZE) describes the plan that would run: DataFusion renders it for one process, so the
        // distributed plan of its input replaces that rendering.
        if let LogicalPlan::Explain(explain) = logical_plan
            && let Some(rendered) = single.downcast_ref::<ExplainExec>()
        {
            let input = self.single.create_physical_plan(&explain.plan, session_state).await?;
            if !self.cluster.distributes(mode, &input).await? {
                return Ok(single);
            }
            let distributed = self
                .distributed
                .create_physical_plan(&explain.plan, session_state)
                .await?;
            if !distributed.is::<DistributedExec>() {
                return Ok(single);
            }
            let text = self.cluster.rendered(distributed.as_ref());
            let plans = rendered
                .stringified_plans()
                .iter()
                .map(|plan| match plan.plan_type {
                    PlanType::FinalPhysicalPlan => StringifiedPlan::new(PlanType::FinalPhysicalPlan, text.clone()),
                    _ => plan.clone(),
                })
                .collect();
            return Ok(Arc::new(ExplainExec::new(rendered.schema(), plans, rendered.verbose())));
        }
        if !self.cluster.distributes(mode, &single).await? {
            return Ok(single);
        }
        self.distributed.create_physical_plan(logical_plan, session_state).await
    }
}

/// How a worker builds the session a stage runs in: semgate's functions (decoded by name from the stage) and the
/// cluster's channels (a worker calls other workers for its inputs).
#[derive(Clone)]
pub struct WorkerSessions {
    /// The engine whose functions stages may call; `None` in the coordinator, whose stages arrive decoded.
    pub functions: Option<SessionState>,
    pub channels: Channels,
}

#[async_trait]
impl WorkerSessionBuilder for WorkerSessions {
    async fn build_session_state(&self, ctx: WorkerQueryContext) -> Result<SessionState> {
        let mut builder = ctx.builder;
        if let Some(engine) = &self.functions {
            // Extended, not replaced: the builder already holds DataFusion's own functions.
            builder
                .scalar_functions()
                .get_or_insert_default()
                .extend(engine.scalar_functions().values().cloned());
            builder
                .aggregate_functions()
                .get_or_insert_default()
                .extend(engine.aggregate_functions().values().cloned());
            builder
                .window_functions()
                .get_or_insert_default()
                .extend(engine.window_functions().values().cloned());
        }
        Ok(builder.with_distributed_channel_resolver(self.channels.clone()).build())
    }
}

/// Whether a physical plan runs on the cluster (its errors are then explained by [`Cluster::explain_failure`]).
pub fn is_distributed(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.is::<DistributedExec>()
}

#[cfg(test)]
mod tests {
    use super::Mode;

    #[test]
    fn modes_read_like_boolean_settings() {
        assert_eq!(Mode::parse("ON"), Some(Mode::On));
        assert_eq!(Mode::parse("false"), Some(Mode::Off));
        assert_eq!(Mode::parse(" auto "), Some(Mode::Auto));
        assert_eq!(Mode::parse("sometimes"), None);
    }
}
