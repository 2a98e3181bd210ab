//! The gateway's Prometheus metrics: one registry per process, counted where things happen (the statement core for
//! statements, the wires for connections and logins, the cache, ASK, the sources, reloads) and served in the text
//! format on the admin port's `/metrics`. README's "Metrics, health and readiness" lists them.
//!
//! One registry per process, as Prometheus clients keep theirs: every layer can count without a handle threaded
//! through it. Tests that assert exact deltas run in a test binary of their own.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry, Unit};

use crate::audit::StatementRecord;

/// The wire, for connection and login metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabel {
    pub protocol: &'static str,
}

/// Why a connection or login was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    pub protocol: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatementLabels {
    protocol: &'static str,
    kind: &'static str,
    /// The SQLSTATE class (`00` success, `42` syntax or access, `57` cancelled, …): bounded, unlike SQLSTATEs.
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AskLabels {
    /// offline or llm.
    resolver: &'static str,
    /// answered or refused.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
    /// ok, or the error's SQLSTATE class.
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Every metric the gateway exposes.
pub struct Metrics {
    registry: Registry,
    connections_active: Family<ProtocolLabel, Gauge>,
    connections: Family<ProtocolLabel, Counter>,
    connections_refused: Family<RefusalLabels, Counter>,
    authentication_failures: Family<RefusalLabels, Counter>,
    tls_handshake_failures: Family<ProtocolLabel, Counter>,
    statements: Family<StatementLabels, Counter>,
    statement_duration: Family<KindLabel, Histogram>,
    /// Apart from `statement_duration`: what planning costs is what a dashboard pays on every fresh query, and the
    /// stage says where it goes.
    planning_duration: Family<StageLabel, Histogram>,
    rows_sent: Family<ProtocolLabel, Counter>,
    bytes_sent: Family<ProtocolLabel, Counter>,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_evictions: Counter,
    /// Set at each scrape from the serving deployment's cache.
    cache_bytes: Gauge,
    cache_entries: Gauge,
    plan_cache_hits: Counter,
    plan_cache_misses: Counter,
    ask: Family<AskLabels, Counter>,
    llm_duration: Histogram,
    llm_errors: Counter,
    source_queries: Family<SourceLabels, Counter>,
    source_duration: Family<SourceLabel, Histogram>,
    reloads: Family<OutcomeLabel, Counter>,
}

fn seconds_histogram() -> Histogram {
    // 0.5 ms … ~65 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 18))
}

fn planning_histogram() -> Histogram {
    // 0.1 ms … ~0.75 s in steps of 25%: fine enough to read a median off.
    Histogram::new(exponential_buckets(0.0001, 1.25, 40))
}

/// A registry being filled: each metric is registered as it is made.
struct Registering(Registry);

impl Registering {
    fn add<M: Metric + Clone>(&mut self, name: &str, help: &str, metric: M) -> M {
        self.0.register(name, help, metric.clone());
        metric
    }

    fn add_with_unit<M: Metric + Clone>(&mut self, name: &str, help: &str, unit: Unit, metric: M) -> M {
        self.0.register_with_unit(name, help, unit, metric.clone());
        metric
    }
}

impl Metrics {
    fn new() -> Self {
        let mut r = Registering(Registry::with_prefix("semgate"));
        Self {
            connections_active: r.add("connections_active", "Open client connections", Family::default()),
            connections: r.add("connections", "Client connections accepted", Family::default()),
            connections_refused: r.add(
                "connections_refused",
                "Connections or logins refused by a limit or a TLS requirement",
                Family::default(),
            ),
            authentication_failures: r.add("authentication_failures", "Failed logins, by reason", Family::default()),
            tls_handshake_failures: r.add(
                "tls_handshake_failures",
                "TLS handshakes that failed",
                Family::default(),
            ),
            statements: r.add(
                "statements",
                "Statements run, by protocol, kind and SQLSTATE class",
                Family::default(),
            ),
            statement_duration: r.add_with_unit(
                "statement_duration",
                "Statement duration, from planning to the last row",
                Unit::Seconds,
                Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            ),
            planning_duration: r.add_with_unit(
                "planning_duration",
                "Planning time by stage: `optimize` (semantic compilation, analysis, logical optimization) and \
                 `physical` (physical planning and optimization)",
                Unit::Seconds,
                Family::new_with_constructor(planning_histogram as fn() -> Histogram),
            ),
            rows_sent: r.add("rows_sent", "Rows sent to clients", Family::default()),
            bytes_sent: r.add_with_unit(
                "sent",
                "Bytes of results sent to clients (Arrow memory size)",
                Unit::Bytes,
                Family::default(),
            ),
            cache_hits: r.add("cache_hits", "Result-cache hits", Counter::default()),
            cache_misses: r.add("cache_misses", "Result-cache misses", Counter::default()),
            cache_evictions: r.add(
                "cache_evictions",
                "Result-cache entries evicted (size or time)",
                Counter::default(),
            ),
            cache_bytes: r.add_with_unit(
                "cache_size",
                "Size of the results the cache holds",
                Unit::Bytes,
                Gauge::default(),
            ),
            cache_entries: r.add("cache_entries", "Results the cache holds", Gauge::default()),
            plan_cache_hits: r.add(
                "plan_cache_hits",
                "Statements prepared from a plan kept before (no parsing or planning)",
                Counter::default(),
            ),
            plan_cache_misses: r.add(
                "plan_cache_misses",
                "Statements parsed and planned (no plan kept for their text)",
                Counter::default(),
            ),
            ask: r.add(
                "ask_questions",
                "ASK questions, by resolver and outcome",
                Family::default(),
            ),
            llm_duration: r.add_with_unit(
                "llm_request_duration",
                "Time the LLM took to answer",
                Unit::Seconds,
                seconds_histogram(),
            ),
            llm_errors: r.add("llm_errors", "LLM requests that failed", Counter::default()),
            source_queries: r.add(
                "source_queries",
                "Queries sent to source databases, by source and outcome",
                Family::default(),
            ),
            source_duration: r.add_with_unit(
                "source_query_duration",
                "Source query duration, to the last row read",
                Unit::Seconds,
                Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            ),
            reloads: r.add("model_reloads", "Configuration and model reloads", Family::default()),
            registry: r.0,
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// A client connection opened; it counts as active until the returned guard is dropped.
    pub fn connection(&self, protocol: &'static str) -> ConnectionGuard {
        let label = ProtocolLabel { protocol };
        self.connections.get_or_create(&label).inc();
        self.connections_active.get_or_create(&label).inc();
        ConnectionGuard(label)
    }

    pub fn connection_refused(&self, protocol: &'static str, reason: &'static str) {
        self.connections_refused
            .get_or_create(&RefusalLabels { protocol, reason })
            .inc();
    }

    /// `reason`: unknown_user, password, certificate, no_credentials, database, or other.
    pub fn authentication_failed(&self, protocol: &'static str, reason: &'static str) {
        self.authentication_failures
            .get_or_create(&RefusalLabels { protocol, reason })
            .inc();
    }

    pub fn tls_handshake_failed(&self, protocol: &'static str) {
        self.tls_handshake_failures
            .get_or_create(&ProtocolLabel { protocol })
            .inc();
    }

    /// A statement is over (its audit line is written now).
    pub fn statement(&self, record: &StatementRecord) {
        let class = record.sqlstate.get(..2).unwrap_or("XX").to_string();
        self.statements
            .get_or_create(&StatementLabels {
                protocol: record.protocol,
                kind: record.kind,
                class,
            })
            .inc();
        self.statement_duration
            .get_or_create(&KindLabel { kind: record.kind })
            .observe(record.duration_ms / 1e3);
        let protocol = ProtocolLabel {
            protocol: record.protocol,
        };
        self.rows_sent.get_or_create(&protocol).inc_by(record.rows);
        self.bytes_sent.get_or_create(&protocol).inc_by(record.bytes);
    }

    /// A plan went through `stage` (`optimize` or `physical`) in `took`.
    pub fn planned(&self, stage: &'static str, took: Duration) {
        self.planning_duration
            .get_or_create(&StageLabel { stage })
            .observe(took.as_secs_f64());
    }

    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    pub fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    pub fn cache_eviction(&self) {
        self.cache_evictions.inc();
    }

    pub fn plan_cache(&self, hit: bool) {
        match hit {
            true => self.plan_cache_hits.inc(),
            false => self.plan_cache_misses.inc(),
        };
    }

    /// What the serving cache holds, set before a scrape is encoded.
    pub fn cache_size(&self, entries: u64, bytes: u64) {
        self.cache_entries.set(entries as i64);
        self.cache_bytes.set(bytes as i64);
    }

    /// An ASK question was answered (translated to SQL) or refused, by the offline resolver or the LLM.
    pub fn ask(&self, resolver: &'static str, answered: bool) {
        let outcome = if answered { "answered" } else { "refused" };
        self.ask.get_or_create(&AskLabels { resolver, outcome }).inc();
    }

    /// One request to the LLM, and whether it failed (transport, status, unreadable reply).
    pub fn llm_request(&self, took: Duration, failed: bool) {
        self.llm_duration.observe(took.as_secs_f64());
        if failed {
            self.llm_errors.inc();
        }
    }

    /// A query sent to a source database ended: `sqlstate` of its error, or `None` when it read all its rows.
    pub fn source_query(&self, source: &str, sqlstate: Option<&str>, took: Duration) {
        let outcome = match sqlstate {
            None => "ok".to_string(),
            Some(state) => state.get(..2).unwrap_or("XX").to_string(),
        };
        self.source_queries
            .get_or_create(&SourceLabels {
                source: source.to_string(),
                outcome,
            })
            .inc();
        self.source_duration
            .get_or_create(&SourceLabel {
                source: source.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn reload(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "refused" };
        self.reloads.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}

/// Keeps a connection counted as active.
pub struct ConnectionGuard(ProtocolLabel);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        METRICS.connections_active.get_or_create(&self.0).dec();
    }
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_counted_by_sqlstate_class() {
        let metrics = Metrics::new();
        let mut record = StatementRecord {
            time: String::new(),
            session: String::new(),
            user: "emea".into(),
            groups: vec![],
            client_addr: None,
            protocol: "pg",
            tls: false,
            statement: "SELECT gross_sales FROM sales".into(),
            parameters: vec![],
            kind: "query",
            views: vec![],
            row_filters: vec![],
            ask: None,
            rows: 3,
            bytes: 100,
            duration_ms: 2.0,
            cache: "none",
            sqlstate: "00000".into(),
            error: None,
        };
        metrics.statement(&record);
        record.sqlstate = "42501".into();
        metrics.statement(&record);
        let text = metrics.encode();
        for line in [
            r#"semgate_statements_total{protocol="pg",kind="query",class="00"} 1"#,
            r#"semgate_statements_total{protocol="pg",kind="query",class="42"} 1"#,
            r#"semgate_rows_sent_total{protocol="pg"} 6"#,
            r#"semgate_statement_duration_seconds_count{kind="query"} 2"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
