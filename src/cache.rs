//! The result cache: answers of semantic queries kept in memory (moka), shared by every session and front end.
//!
//! The key is the optimized logical plan after semantic compilation — with parameters bound, so they are part of it,
//! and without the result's column names, so `SUM(revenue)` and `MEASURE(revenue)` share an entry — plus the
//! policy context (what the reader may see: [`crate::semantic::access::PolicyContext`]; users who read the same
//! share entries) and the model version. Plans that read no semantic view or
//! call a function whose value can change (`now()`, `random()`, `current_user`) are never cached. Concurrent
//! identical misses run once (single flight). A result larger than an entry may be is streamed through and not kept.
//! `SELECT * FROM semgate_cache_stats()` shows hits, misses, evictions, entries and bytes.

use std::collections::HashSet;
use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayData, ArrayRef, AsArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::{MemTable, TableType, source_as_provider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, Volatility};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use moka::future::Cache;
use moka::notification::RemovalCause;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::metrics::METRICS;
use crate::semantic::provider::SemanticViewTable;

/// Statements remembered for the fast path (see [`Memo`]).
const REMEMBERED_STATEMENTS: u64 = 10_000;

/// The session setting that bypasses the cache (`SET semgate.cache = off`).
pub const CACHE_SETTING: &str = "semgate.cache";

/// How big the cache is and how long entries live.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Total size of the cached Arrow batches; 0 turns the cache off.
    pub capacity_bytes: u64,
    /// How long an entry lives unless its views say otherwise (`cache_ttl_secs` on a view).
    pub ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            capacity_bytes: 256 << 20,
            ttl: Duration::from_secs(300),
        }
    }
}

/// Whether an answer came from the cache (what the audit trail records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    Hit,
    Miss,
    /// Not cacheable, or the cache is off.
    None,
}

impl CacheUse {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheUse::Hit => "hit",
            CacheUse::Miss => "miss",
            CacheUse::None => "none",
        }
    }
}

/// A statement as its client sends it again, which finds its answer's key without the plan being bound, optimized and
/// rendered again: what makes a hit cost a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Memo {
    /// A statement without parameters, by its text (the simple protocol's fast path, before parsing).
    Text(String),
    /// A prepared plan (by its process-unique id, [`crate::statement::PlannedQuery`]) with its parameters' values.
    Bound { plan: u64, parameters: Vec<ScalarValue> },
}

/// What an answer is kept by. A hit (a repeated statement, found through its memo) only looks its key up: the key's
/// hash is taken once when it is made, and clones share the rendered plan, rather than hashing and copying kilobytes
/// of plan text at every hit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    /// The hash of the fields below, taken once (see [`CacheKey::new`]).
    hash: u64,
    /// The optimized plan, rendered; literals (bound parameters included) are part of it.
    plan: Arc<str>,
    /// Who may see the entry: the policy context it was computed under.
    policy: Arc<str>,
    model_version: u64,
}

impl CacheKey {
    fn new(plan: String, policy: &str, model_version: u64) -> Self {
        let (plan, policy): (Arc<str>, Arc<str>) = (plan.into(), policy.into());
        let mut hasher = std::hash::DefaultHasher::new();
        (&plan, &policy, model_version).hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            plan,
            policy,
            model_version,
        }
    }
}

/// Equal keys have equal fields, hence the same hash taken from them.
impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

struct Entry {
    batches: Vec<RecordBatch>,
    bytes: u64,
    ttl: Duration,
}

/// Why a fill did not produce an entry.
enum Unfilled {
    Failed(Arc<DataFusionError>),
    /// Larger than an entry may be: what was read so far and the rest, for the caller that ran it.
    TooLarge(Mutex<Option<(Vec<RecordBatch>, SendableRecordBatchStream)>>),
}

/// Counters for `semgate_cache_stats()` (this model's cache), also counted in the process's metrics (every cache).
#[derive(Default)]
struct Stats {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl Stats {
    fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        METRICS.cache_hit();
    }

    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        METRICS.cache_miss();
    }

    fn eviction(&self) {
        self.evictions.fetch_add(1, Ordering::Relaxed);
        METRICS.cache_eviction();
    }
}

pub struct ResultCache {
    entries: Cache<CacheKey, Arc<Entry>>,
    /// (statement, policy) → its key and result schema: a repeated statement finds its entry without being
    /// parsed, planned, bound and optimized again.
    memo: moka::sync::Cache<(Memo, String), (CacheKey, SchemaRef)>,
    stats: Arc<Stats>,
    config: CacheConfig,
    /// No single entry may take more than this share of the capacity.
    max_entry_bytes: u64,
    /// Part of every key: an entry never outlives the model it was computed with.
    model_version: u64,
}

struct PerEntryTtl;

impl moka::Expiry<CacheKey, Arc<Entry>> for PerEntryTtl {
    fn expire_after_create(&self, _key: &CacheKey, entry: &Arc<Entry>, _now: std::time::Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

impl ResultCache {
    pub fn new(config: CacheConfig, model_version: u64) -> Self {
        let stats = Arc::new(Stats::default());
        let evictions = stats.clone();
        let entries = Cache::builder()
            .max_capacity(config.capacity_bytes)
            .weigher(|_key: &CacheKey, entry: &Arc<Entry>| u32::try_from(entry.bytes).unwrap_or(u32::MAX))
            .expire_after(PerEntryTtl)
            .eviction_listener(move |_key, _entry, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    evictions.eviction();
                }
            })
            .build();
        Self {
            entries,
            memo: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED_STATEMENTS)
                .time_to_live(config.ttl)
                .build(),
            stats,
            max_entry_bytes: config.capacity_bytes / 8,
            config,
            model_version,
        }
    }

    /// The cached answer of a statement `policy` ran before (see [`ResultCache::execute`]'s `memo`), if its entry
    /// is still there.
    pub async fn cached(&self, memo: &Memo, policy: &str) -> Option<SendableRecordBatchStream> {
        let (key, schema) = self.memo.get(&(memo.clone(), policy.to_string()))?;
        let entry = self.entries.get(&key).await?;
        let stream = replay(&entry.batches, schema).ok()?;
        self.stats.hit();
        tracing::debug!(cache = "hit", "result cache, by statement");
        Some(stream)
    }

    /// Run `plan` for `policy` (a policy context), from the cache when an equal plan's answer is there; otherwise execute it
    /// under `cancel` and `timeout` and keep the answer. Batches carry the column names of `plan`. `memo`, the
    /// statement `plan` was made from, is remembered for [`ResultCache::cached`].
    pub async fn execute(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
        policy: &str,
        memo: Option<Memo>,
        cancel: CancellationToken,
        timeout: Option<Duration>,
    ) -> Result<(SendableRecordBatchStream, CacheUse)> {
        let ttl = match self.ttl_of(&plan)? {
            Some(ttl) if self.config.capacity_bytes > 0 && !ttl.is_zero() => ttl,
            _ => {
                tracing::debug!(cache = "bypass", "not cacheable");
                return Ok((Engine::execute(ctx, plan, cancel, timeout).await?, CacheUse::None));
            }
        };
        let started = Instant::now();
        let schema = Engine::result_schema(&plan);
        // Optimized once: the key is the optimized plan, and a miss runs it as it is.
        let optimized = Engine::optimize(ctx, &plan)?;
        let key = CacheKey::new(fingerprint(&optimized), policy, self.model_version);
        if let Some(memo) = memo {
            self.memo
                .insert((memo, policy.to_string()), (key.clone(), schema.clone()));
        }
        let ran_here = AtomicBool::new(false);
        let fill = async {
            ran_here.store(true, Ordering::Relaxed);
            self.fill(ctx, optimized.clone(), schema.clone(), cancel.clone(), timeout, ttl)
                .await
        };
        match self.entries.try_get_with(key, fill).await {
            Ok(entry) => {
                let outcome = if ran_here.load(Ordering::Relaxed) {
                    self.stats.miss();
                    CacheUse::Miss
                } else {
                    self.stats.hit();
                    CacheUse::Hit
                };
                tracing::info!(
                    cache = outcome.as_str(),
                    rows = entry.batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
                    bytes = entry.bytes,
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "result cache"
                );
                Ok((replay(&entry.batches, schema)?, outcome))
            }
            Err(unfilled) if ran_here.load(Ordering::Relaxed) => {
                self.stats.miss();
                match unfilled.as_ref() {
                    Unfilled::Failed(e) => Err(DataFusionError::Shared(e.clone())),
                    Unfilled::TooLarge(parts) => {
                        tracing::info!(cache = "too large", "result cache");
                        let (head, rest) = parts
                            .lock()
                            .expect("parts lock")
                            .take()
                            .ok_or_else(|| DataFusionError::Internal("a large result was taken twice".into()))?;
                        let rows: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
                            rest.schema(),
                            futures::stream::iter(head.into_iter().map(Ok)).chain(rest),
                        ));
                        Ok((rows, CacheUse::Miss))
                    }
                }
            }
            // Another session's run of the same plan failed or was too large to keep: run it here, uncached.
            Err(_) => Ok((
                Engine::execute_optimized(ctx, &optimized, schema, cancel, timeout).await?,
                CacheUse::Miss,
            )),
        }
    }

    /// Execute and read the whole answer, unless it outgrows an entry.
    async fn fill(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
        schema: SchemaRef,
        cancel: CancellationToken,
        timeout: Option<Duration>,
        ttl: Duration,
    ) -> std::result::Result<Arc<Entry>, Unfilled> {
        let failed = |e: DataFusionError| Unfilled::Failed(Arc::new(e));
        let mut stream = Engine::execute_optimized(ctx, &plan, schema, cancel, timeout)
            .await
            .map_err(failed)?;
        let (mut batches, mut held) = (Vec::new(), HeldBuffers::default());
        while let Some(batch) = stream.next().await {
            let batch = compacted(batch.map_err(failed)?).map_err(|e| failed(e.into()))?;
            held.add(&batch);
            batches.push(batch);
            if held.bytes > self.max_entry_bytes {
                return Err(Unfilled::TooLarge(Mutex::new(Some((batches, stream)))));
            }
        }
        Ok(Arc::new(Entry {
            batches,
            bytes: held.bytes,
            ttl,
        }))
    }

    /// How long the answer of `plan` may be kept: `None` when it must not be (it reads no semantic view, or calls
    /// a function whose value can change); else the shortest TTL of the views it reads.
    fn ttl_of(&self, plan: &LogicalPlan) -> Result<Option<Duration>> {
        if matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)) {
            return Ok(None);
        }
        let mut ttl: Option<Duration> = None;
        let mut deterministic = true;
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node
                && let Ok(provider) = source_as_provider(&scan.source)
                && let Some(view) = provider.downcast_ref::<SemanticViewTable>()
            {
                let view_ttl = view.view.cache_ttl.unwrap_or(self.config.ttl);
                ttl = Some(ttl.map_or(view_ttl, |t| t.min(view_ttl)));
            }
            node.apply_expressions(|expr| {
                expr.apply(|e| {
                    if let Expr::ScalarFunction(f) = e
                        && f.func.signature().volatility != Volatility::Immutable
                    {
                        deterministic = false;
                        return Ok(TreeNodeRecursion::Stop);
                    }
                    Ok(TreeNodeRecursion::Continue)
                })
            })
        })?;
        Ok(ttl.filter(|_| deterministic))
    }

    /// How many results the cache holds, and their size in bytes (after moka's pending maintenance).
    pub async fn usage(&self) -> (u64, u64) {
        self.entries.run_pending_tasks().await;
        (self.entries.entry_count(), self.entries.weighted_size())
    }

    async fn stats_batch(&self) -> Result<RecordBatch> {
        let (entries, bytes) = self.usage().await;
        let value = |v: u64| Arc::new(UInt64Array::from(vec![v])) as _;
        Ok(RecordBatch::try_new(
            stats_schema(),
            vec![
                value(self.stats.hits.load(Ordering::Relaxed)),
                value(self.stats.misses.load(Ordering::Relaxed)),
                value(self.stats.evictions.load(Ordering::Relaxed)),
                value(entries),
                value(bytes),
                value(self.config.capacity_bytes),
            ],
        )?)
    }
}

/// The memory an answer's batches hold: each buffer once, however many batches share it. An aggregation emits its
/// groups as one batch cut into slices, and each slice's `get_array_memory_size` is the whole buffer's (a 55 MB
/// answer of 74 batches weighed 4 GB).
#[derive(Default)]
struct HeldBuffers {
    seen: HashSet<usize>,
    bytes: u64,
}

impl HeldBuffers {
    fn add(&mut self, batch: &RecordBatch) {
        for column in batch.columns() {
            self.add_data(&column.to_data());
        }
    }

    fn add_data(&mut self, data: &ArrayData) {
        for buffer in data.buffers().iter().chain(data.nulls().map(|n| n.buffer())) {
            if self.seen.insert(buffer.data_ptr().as_ptr() as usize) {
                self.bytes += buffer.capacity() as u64;
            }
        }
        for child in data.child_data() {
            self.add_data(child);
        }
    }
}

/// `batch` holding only the bytes its rows use. A string-view column points into the buffers it was read or built
/// from (a Parquet page, an aggregation's group values): kept as it is, a five-row answer would pin, and be weighed
/// at, a whole page.
fn compacted(batch: RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
    let is_view = |column: &ArrayRef| matches!(column.data_type(), DataType::Utf8View | DataType::BinaryView);
    if !batch.columns().iter().any(is_view) {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => column.clone(),
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns)
}

/// The plan as the key sees it: rendered without the result's column names (they do not change values), so
/// `SUM(revenue)` and `MEASURE(revenue)` meet. The sorts and limits above the naming projection refer to its columns
/// by position instead, so that two plans differing in more than names can never share a key.
fn fingerprint(plan: &LogicalPlan) -> String {
    let mut above = Vec::new();
    let mut node = plan;
    while let LogicalPlan::Sort(_) | LogicalPlan::Limit(_) = node {
        above.push(node);
        node = node.inputs()[0];
    }
    let LogicalPlan::Projection(projection) = node else {
        return plan.display_indent().to_string();
    };
    let unnamed: Vec<Expr> = projection.expr.iter().map(|e| e.clone().unalias()).collect();
    let Ok(unnamed) = Projection::try_new(unnamed, projection.input.clone()) else {
        return plan.display_indent().to_string();
    };
    let outputs = projection.schema.columns();
    let positional = |expr: &Expr| -> String {
        expr.clone()
            .transform(|e| match &e {
                Expr::Column(c) => match outputs.iter().position(|o| o == c) {
                    Some(i) => Ok(Transformed::yes(Expr::Column(Column::from_name(format!("#{i}"))))),
                    None => Ok(Transformed::no(e)),
                },
                _ => Ok(Transformed::no(e)),
            })
            .map(|t| t.data.to_string())
            .unwrap_or_else(|_| expr.to_string())
    };
    let mut text = String::new();
    for node in above {
        match node {
            LogicalPlan::Sort(sort) => {
                let order: Vec<String> = sort
                    .expr
                    .iter()
                    .map(|s| format!("{} asc={} nulls_first={}", positional(&s.expr), s.asc, s.nulls_first))
                    .collect();
                let _ = writeln!(text, "Sort: {} fetch={:?}", order.join(", "), sort.fetch);
            }
            other => {
                let _ = writeln!(text, "{}", other.display());
            }
        }
    }
    text.push_str(&LogicalPlan::Projection(unnamed).display_indent().to_string());
    text
}

/// Cached batches as a stream, relabeled with the asking plan's column names.
fn replay(batches: &[RecordBatch], schema: SchemaRef) -> Result<SendableRecordBatchStream> {
    let relabeled = batches
        .iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()).map_err(DataFusionError::from))
        .collect::<Result<Vec<_>>>()?;
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(relabeled.into_iter().map(Ok)),
    )))
}

fn stats_schema() -> SchemaRef {
    let column = |name: &str| Field::new(name, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        column("hits"),
        column("misses"),
        column("evictions"),
        column("entries"),
        column("bytes"),
        column("capacity_bytes"),
    ]))
}

/// `semgate_cache_stats()`: the cache's counters, read when queried.
#[derive(Debug)]
pub struct CacheStatsFunction(pub Arc<ResultCache>);

impl TableFunctionImpl for CacheStatsFunction {
    fn call(&self, args: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        if !args.is_empty() {
            return datafusion::common::plan_err!("semgate_cache_stats() takes no arguments");
        }
        Ok(Arc::new(CacheStatsTable(self.0.clone())))
    }
}

#[derive(Debug)]
struct CacheStatsTable(Arc<ResultCache>);

impl std::fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultCache").field("config", &self.config).finish()
    }
}

#[async_trait]
impl TableProvider for CacheStatsTable {
    fn schema(&self) -> SchemaRef {
        stats_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let snapshot = MemTable::try_new(stats_schema(), vec![vec![self.0.stats_batch().await?]])?;
        snapshot.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringViewArray;

    #[test]
    fn kept_batches_hold_only_the_bytes_their_rows_use() {
        // Two batches of three rows each, sharing one string-view array of many long strings (as the batches of
        // one result share the buffers they were cut from).
        let long: Vec<String> = (0..10_000)
            .map(|i| format!("a value long enough to be stored out of line {i}"))
            .collect();
        let shared: ArrayRef = Arc::new(StringViewArray::from_iter_values(long.iter()));
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8View, false)]));
        let batches = [0, 5_000]
            .map(|offset| RecordBatch::try_new(schema.clone(), vec![shared.slice(offset, 3)]).expect("batch"));
        for batch in batches {
            let whole = batch.get_array_memory_size();
            let kept = compacted(batch.clone()).expect("compacted");
            assert_eq!(kept, batch, "same rows");
            assert!(
                kept.get_array_memory_size() * 100 < whole,
                "{} bytes kept of {whole}",
                kept.get_array_memory_size()
            );
        }
    }

    #[test]
    fn an_answer_is_weighed_by_the_buffers_it_holds_each_once() {
        // One batch cut into ten slices, as an aggregation emits its groups.
        let values: ArrayRef = Arc::new(UInt64Array::from_iter_values(0..100_000));
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::UInt64, false)]));
        let whole = RecordBatch::try_new(schema, vec![values]).expect("batch");
        let slices: Vec<RecordBatch> = (0..10).map(|i| whole.slice(i * 10_000, 10_000)).collect();
        let mut held = HeldBuffers::default();
        slices.iter().for_each(|slice| held.add(slice));
        // 100,000 eight-byte values: the one buffer, once (each slice alone reports all of it).
        assert_eq!(held.bytes, 800_000);
        assert!(slices.iter().all(|slice| slice.get_array_memory_size() >= 800_000));
    }
}
