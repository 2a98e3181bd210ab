//! A client session: who is connected, their DataFusion context and their settings (SET / SHOW / RESET).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use tokio_util::sync::CancellationToken;

use crate::audit::{AskRecord, AuditLog, Client, Reads};
use crate::cache::{CACHE_SETTING, CacheUse, Memo, ResultCache};
use crate::config::{User, duration_setting};
use crate::cursor::Cursors;
use crate::deployment::SessionSlot;
use crate::distributed::{DISTRIBUTED_SETTING, Mode, SessionMode};
use crate::engine::{Engine, SERVER_VERSION};
use crate::error::Error;
use crate::nl::query::literal;
use crate::nl::{Asker, SemanticQuery};
use crate::pg_compat::functions::Settings;
use crate::plan_cache::PlanCache;
use crate::router::{self, Ask, RouteError, Routed};
use crate::semantic::SemanticModel;
use crate::semantic::access::PolicyContext;

/// Parameters a session starts with, as PostgreSQL 15 reports them (name, value, reported to the client on change).
const DEFAULTS: [(&str, &str, bool); 22] = [
    ("application_name", "", true),
    ("client_encoding", "UTF8", true),
    ("datestyle", "ISO, MDY", true),
    ("default_transaction_isolation", "read committed", false),
    ("default_transaction_read_only", "on", true),
    ("extra_float_digits", "1", false),
    ("in_hot_standby", "off", true),
    ("integer_datetimes", "on", true),
    ("intervalstyle", "postgres", true),
    ("is_superuser", "off", true),
    ("lc_messages", "C", false),
    ("max_identifier_length", "63", false),
    ("search_path", "\"$user\", public", false),
    ("server_encoding", "UTF8", true),
    ("server_version", SERVER_VERSION, true),
    ("server_version_num", "150000", false),
    ("standard_conforming_strings", "on", true),
    ("statement_timeout", "0", false),
    ("timezone", "UTC", true),
    ("transaction_isolation", "read committed", false),
    ("transaction_read_only", "on", false),
    ("session_authorization", "", true),
];

/// Parameters clients may read but not change.
const FIXED: [&str; 7] = [
    "server_version",
    "server_version_num",
    "server_encoding",
    "integer_datetimes",
    "max_identifier_length",
    "is_superuser",
    "in_hot_standby",
];

/// One version of the model as one policy context may read it, served: its engine, the result cache and its ASK
/// resolver. Replaced whole when the model is reloaded; a session keeps the one it started with, new sessions get the
/// new one.
pub struct Backend {
    /// The model this backend serves (its views, and those that wait for a database), restricted to its context.
    pub model: Arc<SemanticModel>,
    pub engine: Arc<Engine>,
    /// Answers computed under this model version only; shared by the policy contexts of one model version.
    pub cache: Arc<ResultCache>,
    pub asker: Arc<Asker>,
    /// Statements its sessions prepared, planned: a known statement's Parse is a lookup.
    pub plans: PlanCache,
    /// What its sessions may read; what cached answers are keyed by, so equal contexts share them.
    pub context: PolicyContext,
    /// The deployment (configuration and model version) it belongs to: a session whose backend's generation is not
    /// the current one moves to the current one at its next statement.
    pub generation: u64,
}

/// Where a session finds the backend its user runs on now: a reload may have changed their policies, or removed them.
pub trait Backends: Send + Sync {
    /// `None` while `held` is still current; the backend to move to otherwise; an error when the user is gone.
    fn now(&self, user: &str, held: &Backend) -> Result<Option<Arc<Backend>>, Error>;
}

/// The backend a session runs on, with its DataFusion context.
struct Bound {
    backend: Arc<Backend>,
    ctx: SessionContext,
}

pub struct Session {
    /// The authenticated user; what `current_user` returns (what they may read is their backend's policy context).
    pub user: String,
    /// The backend and DataFusion context (its catalog, per-user functions) statements run on now; moved to the
    /// current deployment's at the start of a statement ([`Session::refresh`]).
    bound: ArcSwap<Bound>,
    /// Where the current backend is found.
    backends: Arc<dyn Backends>,
    /// Current parameter values by lower-case name; a Mutex because protocol handlers share the session by `Arc`,
    /// shared with the context's `current_setting`/`set_config`.
    settings: Settings,
    /// Cancels the running statement (a client's CancelRequest); replaced by a fresh token for each statement.
    running: Mutex<CancellationToken>,
    /// What RESET gives back: PostgreSQL's defaults, then the user's own (`statement_timeout`).
    defaults: BTreeMap<String, String>,
    /// Names this session in the audit trail.
    pub id: String,
    /// The user's groups, for the audit trail.
    pub groups: Vec<String>,
    /// Where the session came from, for the audit trail.
    pub client: Client,
    /// Where each statement's audit line goes.
    pub audit: Arc<AuditLog>,
    /// The views each statement text read when it was planned, for the audit line of a later answer from the
    /// cache by text (which is not planned again).
    reads: Mutex<HashMap<String, Reads>>,
    /// The last question asked, which a follow-up (`ASK now by month`) refines; `ASK RESET` clears it.
    last_question: Mutex<Option<SemanticQuery>>,
    /// Results being read a FETCH at a time (psqlODBC's DECLARE/FETCH).
    pub cursors: Cursors,
    /// Counts this session among its user's open ones while it lives (`max_connections`).
    _slot: SessionSlot,
}

/// What an ASK statement became.
pub enum Answer {
    /// Semantic SQL to run like any query (EXPLAIN ASK: a VALUES list describing the reading); `notice` tells the
    /// client what ran.
    Query {
        statement: Box<Statement>,
        notice: Option<String>,
        /// The question and the SQL it became, for the audit trail.
        asked: AskRecord,
    },
    /// `ASK RESET` done.
    Reset,
}

/// The parameters a SET changed that the client must be told about (ParameterStatus).
pub type Reported = Option<(String, String)>;

impl Session {
    /// A session of `user` on `backend`, opened by `client`; `backends` says where to move after a reload.
    pub fn new(
        backend: Arc<Backend>,
        user: &User,
        client: Client,
        audit: Arc<AuditLog>,
        backends: Arc<dyn Backends>,
        slot: SessionSlot,
    ) -> Self {
        let name = user.identity.name.as_str();
        let mut defaults: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect();
        defaults.insert("session_authorization".into(), name.to_string());
        if let Some(timeout) = &user.statement_timeout {
            defaults.insert("statement_timeout".into(), timeout.clone());
        }
        let settings: Settings = Arc::new(Mutex::new(defaults.clone()));
        let ctx = Self::context_on(&backend, name, &settings);
        Self {
            user: name.to_string(),
            bound: ArcSwap::from_pointee(Bound { backend, ctx }),
            backends,
            settings,
            running: Mutex::new(CancellationToken::new()),
            defaults,
            id: format!("{:016x}", rand::random::<u64>()),
            groups: user.identity.groups.iter().cloned().collect(),
            client,
            audit,
            reads: Mutex::new(HashMap::new()),
            last_question: Mutex::new(None),
            cursors: Cursors::default(),
            _slot: slot,
        }
    }

    fn context_on(backend: &Backend, user: &str, settings: &Settings) -> SessionContext {
        let ctx = backend.engine.session_context(user);
        crate::pg_compat::functions::register_session(&ctx, settings.clone());
        // Where the planner reads `semgate.distributed`.
        ctx.state_ref()
            .write()
            .config_mut()
            .set_extension(Arc::new(SessionMode(settings.clone())));
        ctx
    }

    /// The deployment generation statements plan in now.
    pub(crate) fn generation(&self) -> u64 {
        self.bound.load().backend.generation
    }

    /// The DataFusion context statements plan and run in now.
    pub fn ctx(&self) -> SessionContext {
        self.bound.load().ctx.clone()
    }

    /// Move to the current deployment's backend if a reload replaced ours (a narrowed policy applies from the next
    /// statement on); fails when the user was removed. Returns the generation statements now plan in.
    pub fn refresh(&self) -> Result<u64, Error> {
        let bound = self.bound.load_full();
        let Some(backend) = self.backends.now(&self.user, &bound.backend)? else {
            return Ok(bound.backend.generation);
        };
        let generation = backend.generation;
        let ctx = Self::context_on(&backend, &self.user, &self.settings);
        self.bound.store(Arc::new(Bound { backend, ctx }));
        self.reads.lock().expect("reads lock").clear();
        Ok(generation)
    }

    /// Translate an ASK statement into the semantic SQL that answers it.
    pub async fn ask(&self, ask: &Ask) -> Result<Answer, Error> {
        let (text, explain) = match ask {
            Ask::Reset => {
                *self.last_question.lock().expect("question lock") = None;
                return Ok(Answer::Reset);
            }
            Ask::Question { text, explain } => (text, *explain),
        };
        let previous = self.last_question.lock().expect("question lock").clone();
        let asker = self.bound.load().backend.asker.clone();
        let translation = asker.translate(text, previous.as_ref(), &self.user).await?;
        tracing::info!(
            user = %self.user,
            question = %text,
            resolver = %translation.resolver,
            elapsed_us = translation.elapsed.as_micros() as u64,
            sql = %translation.sql,
            "ASK translated"
        );
        let sql = if explain {
            let mut rows = translation.query.describe();
            rows.extend(translation.notes.iter().map(|n| ("note".to_string(), n.clone())));
            rows.push((
                "resolver".into(),
                format!(
                    "{} in {:.3} ms",
                    translation.resolver,
                    translation.elapsed.as_secs_f64() * 1e3
                ),
            ));
            rows.push(("sql".into(), translation.sql.clone()));
            let values: Vec<String> = rows
                .iter()
                .map(|(item, detail)| format!("({}, {})", literal(item), literal(detail)))
                .collect();
            format!(
                "SELECT item, detail FROM (VALUES {}) AS ask(item, detail)",
                values.join(", ")
            )
        } else {
            *self.last_question.lock().expect("question lock") = Some(translation.query.clone());
            translation.sql.clone()
        };
        let statement = match router::route_one(&sql)? {
            Routed::Query(statement) => statement,
            other => {
                return Err(
                    RouteError::Syntax(format!("ASK produced a statement that is not a query: {other:?}")).into(),
                );
            }
        };
        let notice = (!explain).then(|| {
            let mut notice = format!("ASK → {}", translation.sql);
            for note in &translation.notes {
                notice.push_str(&format!("\n({note})"));
            }
            if translation.resolver != "offline" {
                notice.push_str(&format!("\n(resolved by {})", translation.resolver));
            }
            notice
        });
        let asked = AskRecord {
            question: text.clone(),
            sql: translation.sql.clone(),
        };
        Ok(Answer::Query {
            statement,
            notice,
            asked,
        })
    }

    pub fn show(&self, name: &str) -> Result<Vec<(String, String)>, Error> {
        let settings = self.settings.lock().expect("settings lock");
        if name == "all" {
            return Ok(settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        }
        let name = canonical(name);
        settings
            .get(&name)
            .map(|v| vec![(name.clone(), v.clone())])
            .ok_or(Error::UnknownSetting(name))
    }

    pub fn set(&self, name: &str, value: &str) -> Result<Reported, Error> {
        let name = canonical(name);
        if FIXED.contains(&name.as_str()) {
            return Err(Error::ReadOnlySetting(name));
        }
        if value.eq_ignore_ascii_case("default") {
            return self.reset(&name);
        }
        let value = match name.as_str() {
            "timezone" if value.eq_ignore_ascii_case("utc") || value.eq_ignore_ascii_case("etc/utc") => {
                "UTC".to_string()
            }
            // Checked now, as PostgreSQL does, so a bad value fails the SET and not every later statement.
            DISTRIBUTED_SETTING => match Mode::parse(value) {
                Some(_) => value.trim().to_lowercase(),
                None => {
                    return Err(Error::InvalidSetting {
                        name,
                        value: value.to_string(),
                        hint: Mode::HINT,
                    });
                }
            },
            "statement_timeout" => match duration_setting(value) {
                Ok(_) => value.trim().to_string(),
                Err(hint) => {
                    return Err(Error::InvalidSetting {
                        name,
                        value: value.to_string(),
                        hint,
                    });
                }
            },
            _ => value.to_string(),
        };
        // Unknown names are accepted like PostgreSQL's custom placeholders when qualified (`myapp.x`), or when a
        // driver merely tunes something we do not model; known ones are kept and reported.
        let mut settings = self.settings.lock().expect("settings lock");
        settings.insert(name.clone(), value.clone());
        Ok(is_reported(&name).then(|| (wire_name(&name), value)))
    }

    pub fn reset(&self, name: &str) -> Result<Reported, Error> {
        let name = canonical(name);
        let mut settings = self.settings.lock().expect("settings lock");
        match self.defaults.get(&name) {
            Some(value) => {
                settings.insert(name.clone(), value.clone());
                Ok(is_reported(&name).then(|| (wire_name(&name), value.clone())))
            }
            None => {
                settings.remove(&name);
                Ok(None)
            }
        }
    }

    /// A token for the statement about to run; [`Session::cancel`] fires it.
    pub fn begin_statement(&self) -> CancellationToken {
        let token = CancellationToken::new();
        *self.running.lock().expect("token lock") = token.clone();
        token
    }

    /// Run a planned statement under this session's cancel token and `statement_timeout`, through the result cache
    /// unless `SET semgate.cache = off`. `memo`: the statement as the client will send it again, so that
    /// [`Session::cached`] finds its answer next time.
    pub(crate) async fn execute_plan(
        &self,
        plan: LogicalPlan,
        memo: Option<Memo>,
    ) -> Result<(SendableRecordBatchStream, CacheUse), Error> {
        let (cancel, timeout) = (self.begin_statement(), self.statement_timeout());
        let bound = self.bound.load_full();
        let (backend, ctx) = (&bound.backend, &bound.ctx);
        Ok(if self.cache_on() {
            backend
                .cache
                .execute(ctx, plan, backend.context.as_str(), memo, cancel, timeout)
                .await?
        } else {
            (Engine::execute(ctx, plan, cancel, timeout).await?, CacheUse::None)
        })
    }

    /// The cached answer of a statement this user's policy context ran before, without planning it again.
    pub async fn cached(&self, memo: &Memo) -> Option<SendableRecordBatchStream> {
        if !self.cache_on() {
            return None;
        }
        let backend = self.bound.load().backend.clone();
        backend.cache.cached(memo, backend.context.as_str()).await
    }

    /// The backend statements plan and run on now.
    pub(crate) fn backend(&self) -> Arc<Backend> {
        self.bound.load_full().backend.clone()
    }

    /// Remember what `text` read, for [`Session::remembered_reads`]; a bounded memory, emptied when full.
    pub(crate) fn remember_reads(&self, text: &str, reads: &Reads) {
        const REMEMBERED: usize = 1024;
        let mut remembered = self.reads.lock().expect("reads lock");
        if remembered.len() >= REMEMBERED {
            remembered.clear();
        }
        remembered.insert(text.to_string(), reads.clone());
    }

    pub(crate) fn remembered_reads(&self, text: &str) -> Option<Reads> {
        self.reads.lock().expect("reads lock").get(text).cloned()
    }

    fn cache_on(&self) -> bool {
        !self
            .settings
            .lock()
            .expect("settings lock")
            .get(CACHE_SETTING)
            .is_some_and(|v| matches!(v.to_lowercase().as_str(), "off" | "false" | "0" | "no"))
    }

    pub fn cancel(&self) {
        self.running.lock().expect("token lock").cancel();
    }

    /// The session's `statement_timeout` (checked when it was set); `None` when off.
    pub fn statement_timeout(&self) -> Option<Duration> {
        let settings = self.settings.lock().expect("settings lock");
        settings
            .get("statement_timeout")
            .and_then(|value| duration_setting(value).ok())
            .flatten()
    }

    pub fn reset_all(&self) {
        *self.settings.lock().expect("settings lock") = self.defaults.clone();
    }
}

/// The parameters a client is told about at startup, with PostgreSQL's spelling of their names.
pub fn startup_parameters() -> Vec<(String, String)> {
    DEFAULTS
        .iter()
        .filter(|(_, _, reported)| *reported)
        .map(|(k, v, _)| (wire_name(k), v.to_string()))
        .collect()
}

fn canonical(name: &str) -> String {
    match name.to_lowercase().as_str() {
        "time zone" | "time_zone" => "timezone".into(),
        "names" => "client_encoding".into(),
        other => other.to_string(),
    }
}

fn is_reported(name: &str) -> bool {
    DEFAULTS.iter().any(|(k, _, reported)| *k == name && *reported)
}

/// PostgreSQL reports a few parameters in mixed case (ParameterStatus, SHOW's column name).
pub fn wire_name(name: &str) -> String {
    match name {
        "datestyle" => "DateStyle".into(),
        "intervalstyle" => "IntervalStyle".into(),
        "timezone" => "TimeZone".into(),
        other => other.to_string(),
    }
}
