//! What the gateway serves, one version at a time: the users, the semantic model, its result cache, and for each
//! policy context (what a user may read, see [`SemanticModel::restricted`]) the backend its sessions run on. Every
//! wire opens sessions here, so a user's access is decided in one place for PostgreSQL, Flight SQL and ASK alike.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::audit::{AuditLog, Client};
use crate::cache::{CacheStatsFunction, ResultCache};
use crate::config::Users;
use crate::engine::{Engine, Shared, TableFunction};
use crate::error::Error;
use crate::metrics::METRICS;
use crate::nl::{Asker, LlmConfig};
use crate::plan_cache::PlanCache;
use crate::semantic::SemanticModel;
use crate::semantic::access::PolicyContext;
use crate::semantic::provider::LateViews;
use crate::session::{Backend, Backends, Session};

/// A reload swaps in a new deployment; open sessions move to it at their next statement.
pub type CurrentDeployment = Arc<ArcSwap<Deployment>>;

pub struct Deployment {
    /// Who may log in, and who they are to access policies.
    pub users: Users,
    /// The whole model; each backend serves it as its policy context may read it.
    pub model: Arc<SemanticModel>,
    /// Shared by every policy context: entries are keyed by the context, so equal contexts share answers.
    cache: Arc<ResultCache>,
    /// The database name clients connect to.
    database: String,
    /// The LLM that helps ASK, if any.
    llm: Option<LlmConfig>,
    /// Views whose database came back after this deployment was built.
    late: LateViews,
    /// Backends by policy context, built on first use (and at start for the configured users).
    backends: Mutex<HashMap<PolicyContext, Arc<Backend>>>,
    /// Each user's backend once found, so a login does not restrict the model again.
    by_user: Mutex<HashMap<String, Arc<Backend>>>,
    /// What outlives reloads: the audit trail, the open sessions per user.
    pub lasting: Lasting,
    /// Distinguishes this deployment from the ones before and after it.
    generation: u64,
}

/// What a reload does not replace.
#[derive(Clone)]
pub struct Lasting {
    /// Where every session's statements and every failed login are recorded.
    pub audit: Arc<AuditLog>,
    /// Open sessions by user, for the users' `max_connections`.
    open: Arc<Mutex<HashMap<String, usize>>>,
    /// The memory pool (`memory_limit`), spill files, file listings and cluster every engine shares, across reloads
    /// too.
    pub shared: Shared,
}

impl Lasting {
    pub fn new(audit: AuditLog, shared: Shared) -> Self {
        Self {
            audit: Arc::new(audit),
            open: Arc::default(),
            shared,
        }
    }

    /// A login that did not succeed: audited and counted. `sqlstate` says why (28P01 password, 28000 credentials
    /// or TLS, 3D000 database).
    pub fn login_failed(&self, user: &str, client: &Client, message: &str, sqlstate: &str) {
        self.audit.login_failed(user, client, message, sqlstate);
        let reason = match sqlstate {
            "28P01" => "password",
            "28000" => "credentials",
            "3D000" => "database",
            _ => "protocol",
        };
        METRICS.authentication_failed(client.protocol, reason);
    }

    /// A place among `user`'s open sessions, given back when the slot is dropped; refused beyond `limit`.
    fn claim(&self, user: &str, limit: Option<usize>) -> Result<SessionSlot, Error> {
        let mut open = self.open.lock().expect("open sessions lock");
        let count = open.entry(user.to_string()).or_default();
        if let Some(limit) = limit
            && *count >= limit
        {
            return Err(Error::TooManyConnections {
                user: user.to_string(),
                limit,
            });
        }
        *count += 1;
        Ok(SessionSlot {
            user: user.to_string(),
            open: self.open.clone(),
        })
    }
}

/// One open session of a user; dropping it (the session ends) frees the place.
pub struct SessionSlot {
    user: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
        }
    }
}

/// Deployment generations, in the order they were built.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// The current deployment, as sessions look for it.
struct Current(CurrentDeployment);

impl Backends for Current {
    fn now(&self, user: &str, held: &Backend) -> Result<Option<Arc<Backend>>, Error> {
        let current = self.0.load();
        if current.generation == held.generation {
            return Ok(None);
        }
        if current.users.get(user).is_none() {
            return Err(Error::UserRemoved(user.to_string()));
        }
        current.backend(user).map(Some)
    }
}

impl Deployment {
    /// Serve `model` to `users`, building the backend of each configured user's policy context now so that a model
    /// or policy that cannot be served fails here and not at someone's login.
    pub fn new(
        model: Arc<SemanticModel>,
        users: Users,
        cache: Arc<ResultCache>,
        database: &str,
        llm: Option<LlmConfig>,
        late: LateViews,
        lasting: Lasting,
    ) -> Result<Self, Error> {
        let deployment = Self {
            users,
            model,
            cache,
            database: database.to_string(),
            llm,
            late,
            backends: Mutex::new(HashMap::new()),
            by_user: Mutex::new(HashMap::new()),
            lasting,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
        };
        for user in deployment.users.names() {
            deployment.backend(user)?;
        }
        Ok(deployment)
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// How many results the cache holds, and their size.
    pub async fn cache_usage(&self) -> (u64, u64) {
        self.cache.usage().await
    }

    /// Whether a client asking for `database` (PostgreSQL's default: the user's name) reaches the one served.
    pub fn check_database(&self, database: Option<&str>, user: &str) -> Result<(), Error> {
        let asked = database.unwrap_or(user);
        if asked == self.database {
            return Ok(());
        }
        Err(Error::NoSuchDatabase {
            asked: asked.to_string(),
            served: self.database.clone(),
        })
    }

    /// What keeps this deployment from answering every view now: views waiting for a database that was down at
    /// start-up, and databases that do not answer a round trip (each checked within its connect timeout, all at
    /// once). Empty: ready.
    pub async fn unready(&self) -> Vec<String> {
        let waiting = self
            .model
            .unavailable
            .iter()
            .map(|(view, why)| format!("view {view} waits: {why}"));
        let checks = self.model.databases.iter().map(|database| async move {
            database
                .check()
                .await
                .err()
                .map(|why| format!("source {}: {why}", database.name()))
        });
        let failing = futures::future::join_all(checks).await.into_iter().flatten();
        waiting.chain(failing).collect()
    }

    /// A new session for `user` (authenticated by the caller), on their policy context's backend.
    /// `current`: where the session finds the deployment that replaces this one.
    pub fn session(&self, user: &str, client: Client, current: &CurrentDeployment) -> Result<Session, Error> {
        let configured = self.users.get(user).ok_or_else(|| unknown(user))?;
        let slot = self
            .lasting
            .claim(user, configured.max_connections)
            .inspect_err(|_| METRICS.connection_refused(client.protocol, "max_connections"))?;
        let backend = self.backend(user)?;
        let backends: Arc<dyn Backends> = Arc::new(Current(current.clone()));
        Ok(Session::new(
            backend,
            configured,
            client,
            self.lasting.audit.clone(),
            backends,
            slot,
        ))
    }

    /// The backend `user`'s sessions run on: the model as their policies let them read it.
    pub fn backend(&self, user: &str) -> Result<Arc<Backend>, Error> {
        if let Some(backend) = self.by_user.lock().expect("by-user lock").get(user) {
            return Ok(backend.clone());
        }
        let backend = self.backend_of_context(user)?;
        self.by_user
            .lock()
            .expect("by-user lock")
            .insert(user.to_string(), backend.clone());
        Ok(backend)
    }

    /// The backend of `user`'s policy context, built if no user of that context had one yet.
    fn backend_of_context(&self, user: &str) -> Result<Arc<Backend>, Error> {
        let identity = self
            .users
            .get(user)
            .map(|u| u.identity.clone())
            .ok_or_else(|| unknown(user))?;
        let (model, context) = self.model.restricted(&identity).map_err(Error::semantic)?;
        let mut backends = self.backends.lock().expect("backends lock");
        if let Some(backend) = backends.get(&context) {
            return Ok(backend.clone());
        }
        let model = Arc::new(model);
        // A table function, not a relation: BI tools list relations, and this one is not theirs to chart.
        let cache_stats: TableFunction = ("semgate_cache_stats", Arc::new(CacheStatsFunction(self.cache.clone())));
        let engine = Arc::new(Engine::new(
            &model,
            &self.database,
            self.users.names().map(String::from).collect(),
            vec![cache_stats],
            self.late.clone(),
            identity,
            &self.lasting.shared,
        )?);
        let asker = Arc::new(Asker::new(
            model.clone(),
            engine.session_context("semgate"),
            self.llm.clone(),
        )?);
        let backend = Arc::new(Backend {
            model,
            engine,
            cache: self.cache.clone(),
            asker,
            plans: PlanCache::default(),
            context: context.clone(),
            generation: self.generation,
        });
        backends.insert(context, backend.clone());
        Ok(backend)
    }
}

fn unknown(user: &str) -> Error {
    Error::NoCredentials(format!("user \"{user}\" is not configured"))
}
