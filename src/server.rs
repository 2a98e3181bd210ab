//! The running gateway: build everything from a [`Config`], accept connections under a connection limit, and shut
//! down gracefully (stop accepting, let in-flight work finish within a grace period, then close).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use arc_swap::ArcSwap;

use crate::audit::AuditLog;
use crate::cache::ResultCache;
use crate::config::{Config, ConfigError};
use crate::demo::{self, DemoError};
use crate::deployment::{CurrentDeployment, Deployment, Lasting};
use crate::distributed::{Channels, Cluster, WorkerSessions};
use crate::engine::{Engine, Shared};
use crate::error::Error;
use crate::metrics::METRICS;
use crate::protocol::flight::FlightFrontend;
use crate::protocol::pg::PgFrontend;
use crate::protocol::tls::WireTls;
use crate::protocol::worker::SecretChannels;
use crate::semantic::access::Identity;
use crate::semantic::provider::LateViews;
use crate::semantic::{self, Diagnostics, WhenUnreachable};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the semantic model has errors:\n{0}")]
    Model(#[from] Diagnostics),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot serve the model: {0}")]
    Serve(#[from] crate::error::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("TLS: {0}")]
    Tls(#[from] crate::protocol::tls::TlsError),
    #[error("distributed: {0}")]
    Cluster(String),
    #[error("cannot open the audit file {path}: {source}", path = .path.display())]
    Audit {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The model loaded from `config` (the demo's data generated first if needed), served to its users.
async fn serve_model(
    config: &Config,
    when_unreachable: WhenUnreachable,
    late: LateViews,
    lasting: Lasting,
) -> Result<Deployment, StartError> {
    let started = Instant::now();
    let data_dir = match config.demo_scale {
        Some(scale) => demo::ensure_tpch(&config.data_dir, scale).await?,
        None => config.data_dir.clone(),
    };
    let model = Arc::new(semantic::load(&config.model, &data_dir, when_unreachable).await?);
    tracing::info!(
        views = model.views.len(),
        waiting = model.unavailable.len(),
        version = model.version,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "semantic model loaded"
    );
    for (view, why) in &model.unavailable {
        tracing::warn!(view, error = %why, "the view waits for its database; retrying in the background");
    }
    let cache = Arc::new(ResultCache::new(config.cache.clone(), model.version));
    Ok(Deployment::new(
        model,
        config.users.clone(),
        cache,
        &config.database,
        config.llm.clone(),
        late,
        lasting,
    )?)
}

/// The longest wait between two attempts to reach a database that was down at start-up.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// Reloads the users and model files named by the configuration file: checks them, then swaps in a new deployment
/// with an empty result cache (so no answer of the old model is served again); open sessions move to it at their
/// next statement, a removed user's sessions end and they can no longer log in. A configuration or model with errors leaves the running one in
/// place. Addresses and data_dir keep their values until a restart.
#[derive(Clone)]
pub struct Reloader {
    /// The configuration the gateway started with.
    config: Arc<Config>,
    /// What new sessions run on.
    deployment: CurrentDeployment,
    /// One reload at a time, so two signals cannot swap in an older model last.
    reloading: Arc<tokio::sync::Mutex<()>>,
    /// Views whose database came back, for the sessions that started while it was down.
    late: LateViews,
    /// The wires' TLS, whose certificate a reload reads again.
    tls: Option<Arc<WireTls>>,
}

impl Reloader {
    /// Reload now; a database that cannot be reached refuses the new model, like any error in it. TLS certificates
    /// are read again too: a pair that does not load is refused and the one being served stays.
    pub async fn reload(&self) -> Result<(), StartError> {
        let reloaded = self.reload_model().await;
        METRICS.reload(reloaded.is_ok());
        if let Some(tls) = &self.tls {
            match tls.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded: new connections use it"),
                Err(e) => {
                    METRICS.reload(false);
                    tracing::error!(error = %e, "TLS certificate not reloaded; still serving the previous one");
                    return reloaded.and(Err(StartError::Tls(e)));
                }
            }
        }
        reloaded
    }

    async fn reload_model(&self) -> Result<(), StartError> {
        let _one_at_a_time = self.reloading.lock().await;
        let mut config = (*self.config).clone();
        if let Some(path) = &self.config.path {
            let file = Config::from_file(path)?;
            config.model = file.model;
            config.users = file.users;
        }
        let lasting = self.deployment.load().lasting.clone();
        lasting.shared.forget_file_listings();
        let deployment = serve_model(&config, WhenUnreachable::Fail, self.late.clone(), lasting).await?;
        self.deployment.store(Arc::new(deployment));
        tracing::info!(
            "configuration and model reloaded: sessions use them from their next statement; answers cached under the old ones are dropped"
        );
        Ok(())
    }

    /// While views wait for a database that was down at start-up, try again (backing off up to [`RETRY_MAX`]);
    /// each time more of them can be served, serve them: new sessions get a new backend, open sessions find the
    /// views that came back. Ends when every view is served, or at `stopping`.
    async fn serve_views_when_back(self, stopping: CancellationToken) {
        let mut wait = Duration::from_secs(1);
        while !self.deployment.load().model.unavailable.is_empty() {
            tokio::select! {
                _ = stopping.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(RETRY_MAX);
            let _one_at_a_time = self.reloading.lock().await;
            let waiting = self.deployment.load().model.unavailable.len();
            let lasting = self.deployment.load().lasting.clone();
            let deployment = match serve_model(&self.config, WhenUnreachable::Defer, self.late.clone(), lasting).await {
                Ok(deployment) if deployment.model.unavailable.len() < waiting => deployment,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "the model no longer loads; the views that wait keep waiting");
                    continue;
                }
            };
            self.late.rcu(|late| {
                let mut late = (**late).clone();
                late.extend(
                    deployment
                        .model
                        .views
                        .iter()
                        .map(|(name, view)| (name.clone(), view.clone())),
                );
                late
            });
            tracing::info!(
                waiting = deployment.model.unavailable.len(),
                "a database is back: its views are served"
            );
            self.deployment.store(Arc::new(deployment));
        }
    }
}

pub struct Application {
    /// Bound before `run_until_stopped` so callers (and tests on port 0) learn the address first.
    pg_listener: TcpListener,
    /// Shared by every PostgreSQL connection.
    frontend: Arc<PgFrontend>,
    /// Bound like `pg_listener` when `admin_addr` is configured: `/metrics`, `/healthz`, `/readyz`.
    admin_listener: Option<TcpListener>,
    /// Bound like `pg_listener`; served by tonic.
    flight_listener: TcpListener,
    /// The Flight SQL service, over the same engine and users as the PostgreSQL front end.
    flight: FlightFrontend,
    /// Swaps in a new model; handed out by [`Application::reloader`] (SIGHUP in `main`, tests directly).
    reloader: Reloader,
    /// Bounds concurrent connections; a connection waits for a permit rather than overloading the engine.
    connection_limit: Arc<Semaphore>,
    /// In-flight work may finish within this time after a shutdown signal.
    shutdown_grace: Duration,
    /// A connection not authenticated within this time is closed.
    authentication_timeout: Duration,
    /// The database name, for the ready-to-paste psql command.
    database: String,
    /// With `distributed` configured: this process's worker (the stages that stay here), served to the workers.
    local_worker: Option<ServedWorker>,
}

/// A worker, bound and ready to serve.
struct ServedWorker {
    listener: TcpListener,
    worker: datafusion_distributed::Worker,
    /// What every call to it must carry.
    secret: String,
}

impl ServedWorker {
    async fn serve(self, stopping: CancellationToken) {
        crate::protocol::worker::serve(self.listener, self.worker, &self.secret, stopping).await
    }
}

/// Channels to workers that carry `secret`.
fn cluster_channels(secret: &str) -> Result<Channels, StartError> {
    let channels = SecretChannels::new(secret).map_err(|e| StartError::Cluster(e.to_string()))?;
    Ok(Channels(Arc::new(channels)))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

impl Application {
    /// Load the model (generating the demo's data first if needed), build the engine and bind the listeners.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let late = LateViews::default();
        let audit = AuditLog::open(config.audit.clone()).map_err(|source| StartError::Audit {
            path: config.audit.path.clone().unwrap_or_default(),
            source,
        })?;
        let runtime = Engine::runtime(config.memory_limit, &config.data_dir.join("spill")).map_err(Error::from)?;
        let (cluster, local_worker) = match &config.distributed {
            Some(distributed) => {
                let listener = bind(distributed.listen).await?;
                let bound = listener.local_addr().map_err(|source| StartError::Bind {
                    addr: distributed.listen,
                    source,
                })?;
                let url = crate::protocol::worker::url_of(bound, distributed.advertise.as_ref())
                    .map_err(|e| StartError::Cluster(e.to_string()))?;
                let channels = cluster_channels(&distributed.secret)?;
                let cluster = Arc::new(Cluster::new(distributed, channels, url.clone(), runtime.clone()));
                tracing::info!(workers = distributed.workers.len(), coordinator = %url, "distributed execution on");
                let worker = cluster.local_worker();
                (
                    Some(cluster),
                    Some(ServedWorker {
                        listener,
                        worker,
                        secret: distributed.secret.clone(),
                    }),
                )
            }
            None => (None, None),
        };
        let lasting = Lasting::new(audit, Shared { runtime, cluster });
        let deployment = serve_model(&config, WhenUnreachable::Defer, late.clone(), lasting).await?;
        let deployment: CurrentDeployment = Arc::new(ArcSwap::from_pointee(deployment));
        let tls = config.tls.as_ref().map(WireTls::load).transpose()?.map(Arc::new);
        Ok(Self {
            local_worker,
            pg_listener: bind(config.pg_addr).await?,
            flight_listener: bind(config.flight_addr).await?,
            admin_listener: match config.admin_addr {
                Some(addr) => Some(bind(addr).await?),
                None => None,
            },
            flight: FlightFrontend::new(deployment.clone()),
            frontend: Arc::new(PgFrontend::new(deployment.clone(), tls.clone())),
            connection_limit: Arc::new(Semaphore::new(config.max_connections)),
            shutdown_grace: config.shutdown_grace,
            authentication_timeout: config.authentication_timeout,
            database: config.database.clone(),
            reloader: Reloader {
                config: Arc::new(config),
                deployment,
                reloading: Arc::new(tokio::sync::Mutex::new(())),
                late,
                tls,
            },
        })
    }

    /// A handle that reloads the model while the gateway runs.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    pub fn pg_addr(&self) -> SocketAddr {
        self.pg_listener.local_addr().expect("bound listener has an address")
    }

    pub fn flight_addr(&self) -> SocketAddr {
        self.flight_listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served, if anywhere.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .map(|l| l.local_addr().expect("bound listener has an address"))
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Serve until `shutdown` completes, then drain: stop accepting, let open connections finish within the grace
    /// period, then close them.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let stopping = CancellationToken::new();
        tokio::spawn(self.reloader.clone().serve_views_when_back(stopping.clone()));
        if let Some(listener) = self.admin_listener {
            tokio::spawn(crate::protocol::admin::serve(
                listener,
                self.reloader.deployment.clone(),
                stopping.clone(),
            ));
        }
        if let Some(worker) = self.local_worker {
            tokio::spawn(worker.serve(stopping.clone()));
        }
        let flight = tokio::spawn(crate::protocol::flight::serve(
            self.flight_listener,
            self.flight,
            self.reloader.tls.clone(),
            stopping.clone(),
        ));
        let flight_abort = flight.abort_handle();
        let pg = crate::protocol::pg::serve(
            self.pg_listener,
            self.frontend,
            self.connection_limit,
            self.authentication_timeout,
            shutdown,
        )
        .await;
        tracing::info!(
            open = pg.connections(),
            grace_s = self.shutdown_grace.as_secs(),
            "shutting down"
        );
        stopping.cancel();
        let drained = tokio::time::timeout(self.shutdown_grace, async {
            pg.drain().await;
            let _ = flight.await;
        })
        .await;
        if drained.is_err() {
            tracing::info!("closing connections still open after the grace period");
            flight_abort.abort();
        }
        Ok(())
    }
}

/// `semgate worker`: runs the stages of distributed queries its coordinator sends, with semgate's functions and the
/// model's object stores (the same runtime a coordinator has).
pub struct WorkerProcess {
    served: ServedWorker,
    addr: SocketAddr,
}

impl WorkerProcess {
    /// Load the model (for its functions and buckets; the demo's data generated first if needed) and bind `listen`.
    pub async fn build(config: Config, secret: String, listen: SocketAddr) -> Result<Self, StartError> {
        let data_dir = match config.demo_scale {
            Some(scale) => demo::ensure_tpch(&config.data_dir, scale).await?,
            None => config.data_dir.clone(),
        };
        let model = semantic::load(&config.model, &data_dir, WhenUnreachable::Defer).await?;
        let runtime = Engine::runtime(config.memory_limit, &config.data_dir.join("spill")).map_err(Error::from)?;
        let shared = Shared {
            runtime: runtime.clone(),
            cluster: None,
        };
        let engine = Engine::new(
            &model,
            &config.database,
            Vec::new(),
            Vec::new(),
            LateViews::default(),
            Identity::default(),
            &shared,
        )
        .map_err(Error::from)?;
        let sessions = WorkerSessions {
            functions: Some(engine.session_context("semgate").state()),
            channels: cluster_channels(&secret)?,
        };
        let worker = datafusion_distributed::Worker::from_session_builder(sessions).with_runtime_env(runtime);
        let listener = bind(listen).await?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: listen, source })?;
        Ok(Self {
            served: ServedWorker {
                listener,
                worker,
                secret,
            },
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until `shutdown` completes.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        let stopping = CancellationToken::new();
        let serving = tokio::spawn(self.served.serve(stopping.clone()));
        shutdown.await;
        stopping.cancel();
        let _ = serving.await;
    }
}
