use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use semgate::Application;
use semgate::config::{self, Config, LogFormat};

#[derive(Parser)]
#[command(
    name = "semgate",
    version,
    about = "A PostgreSQL-wire gateway over a YAML semantic layer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the configured model; with no --config, the embedded TPC-H demo.
    Serve {
        /// Configuration file (users, addresses, model files).
        #[arg(long)]
        config: Option<PathBuf>,
        /// PostgreSQL wire address.
        #[arg(long)]
        pg_addr: Option<std::net::SocketAddr>,
        /// Arrow Flight SQL address.
        #[arg(long)]
        flight_addr: Option<std::net::SocketAddr>,
        /// HTTP address of /metrics, /healthz and /readyz (overrides the configuration file's `admin_addr`).
        #[arg(long)]
        admin_addr: Option<std::net::SocketAddr>,
        /// Data directory (the demo writes its Parquet files here).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// TPC-H scale factor of the embedded demo.
        #[arg(long, default_value_t = config::DEFAULT_DEMO_SCALE)]
        demo_scale: f64,
        /// An OpenAI-compatible API for ASK questions the offline resolver cannot read, e.g.
        /// http://localhost:11434/v1 (Ollama); overrides the configuration file's `ask.llm`.
        #[arg(long, requires = "llm_model")]
        llm_base_url: Option<String>,
        /// The model to ask at --llm-base-url.
        #[arg(long, requires = "llm_base_url")]
        llm_model: Option<String>,
        /// The environment variable holding the LLM's API key.
        #[arg(long, requires = "llm_base_url")]
        llm_api_key_env: Option<String>,
    },
    /// Generate the demo's TPC-H tables (Parquet; with --csv also CSV) and print their directory.
    DemoData {
        /// Where to write them (one folder per scale factor).
        #[arg(long, default_value = config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// TPC-H scale factor.
        #[arg(long, default_value_t = config::DEFAULT_DEMO_SCALE)]
        scale: f64,
        /// Also write `csv/<table>.csv` (with a header), e.g. to load the demo into a database.
        #[arg(long)]
        csv: bool,
    },
    /// Run a worker of a distributed cluster: the stages of heavy queries its coordinator sends (configure the
    /// coordinator's `distributed.workers`). The shared secret is read from `distributed.secret_env` of --config, or
    /// from SEMGATE_CLUSTER_SECRET.
    Worker {
        /// Where the coordinator reaches this worker, e.g. 0.0.0.0:50052 (port 0: any free port, printed).
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Configuration file (the model whose functions and buckets stages use); with none, the embedded demo.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (where the demo's files are).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// TPC-H scale factor of the embedded demo.
        #[arg(long, default_value_t = config::DEFAULT_DEMO_SCALE)]
        demo_scale: f64,
    },
    /// Validate a configuration and its semantic model without serving.
    Check {
        /// Configuration file; with none, the embedded demo model.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory for the demo model.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of the configuration file or of model files (for editors and CI validation; the
    /// published copies are deploy/schema/*.schema.json).
    Schema {
        #[arg(value_enum)]
        of: SchemaOf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaOf {
    Config,
    Model,
}

/// A certificate that expires sooner than this is worth a warning from `semgate check`.
const CERTIFICATE_WARNING_DAYS: i64 = 14;

/// Log to stderr, at `RUST_LOG`'s levels (default info), as text or as JSON lines.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            pg_addr,
            flight_addr,
            admin_addr,
            data_dir,
            demo_scale,
            llm_base_url,
            llm_model,
            llm_api_key_env,
        } => {
            let mut config = load_config(config.as_deref(), data_dir, demo_scale)?;
            init_logging(config.log_format);
            if let (Some(base_url), Some(model)) = (llm_base_url, llm_model) {
                let mut llm = semgate::nl::LlmConfig::new(&base_url, &model);
                llm.api_key_env = llm_api_key_env;
                config.llm = Some(llm);
            }
            if let Some(addr) = pg_addr {
                config.pg_addr = addr;
            }
            if let Some(addr) = flight_addr {
                config.flight_addr = addr;
            }
            if admin_addr.is_some() {
                config.admin_addr = admin_addr;
            }
            // The demo's password is public; a configured user's is not printed.
            let credentials = match config.demo_scale {
                // Also emea:emea (EUROPE only) and marketing:marketing (no finance members): README's tour.
                Some(_) => "analyst:analyst".to_string(),
                None => config.users.names().next().unwrap_or("USER").to_string(),
            };
            let app = Application::build(config).await?;
            let shutdown = shutdown_signal()?;
            reload_on_hangup(app.reloader())?;
            let (addr, flight) = (app.pg_addr(), app.flight_addr());
            tracing::info!(%addr, %flight, "PostgreSQL wire and Flight SQL listening");
            if let Some(admin) = app.admin_addr() {
                tracing::info!(%admin, "/metrics, /healthz and /readyz served over HTTP");
            }
            eprintln!(
                "\n  semgate is ready. Connect with:\n\n    psql \"postgres://{credentials}@{addr}/{}\"\n    \
                 Flight SQL (ADBC, pyarrow.flight): grpc://{flight} with the same user and password\n",
                app.database()
            );
            app.run_until_stopped(shutdown).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker {
            listen,
            config,
            data_dir,
            demo_scale,
        } => {
            let config = load_config(config.as_deref(), data_dir, demo_scale)?;
            init_logging(config.log_format);
            let secret = match &config.distributed {
                Some(distributed) => distributed.secret.clone(),
                None => config::DistributedConfig::secret_from_env(config::DEFAULT_CLUSTER_SECRET_ENV)
                    .map_err(anyhow::Error::msg)?,
            };
            let shutdown = shutdown_signal()?;
            let worker = semgate::server::WorkerProcess::build(config, secret, listen).await?;
            // Tests and scripts read the address from this line (with --listen on port 0).
            eprintln!("semgate worker listening on http://{}", worker.addr());
            worker.run_until_stopped(shutdown).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { of } => {
            let schema = match of {
                SchemaOf::Config => config::schema(),
                SchemaOf::Model => semgate::semantic::spec::schema(),
            };
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoData { data_dir, scale, csv } => {
            init_logging(LogFormat::Text);
            let dir = semgate::demo::ensure_tpch(&data_dir, scale).await?;
            let dir = if csv {
                semgate::demo::export_csv(&dir).await?
            } else {
                dir
            };
            println!("{}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config, data_dir } => {
            init_logging(LogFormat::Text);
            let config = load_config(config.as_deref(), data_dir, config::DEFAULT_DEMO_SCALE)?;
            if let Some(tls) = &config.tls {
                match semgate::protocol::tls::inspect(tls) {
                    Ok(certificate) if certificate.days_left() < 0 => {
                        println!(
                            "tls: {} expired on {}: clients will refuse it",
                            tls.cert_file.display(),
                            certificate.not_after.format("%Y-%m-%d %H:%M UTC")
                        );
                        eprintln!("1 problem(s) found");
                        return Ok(ExitCode::FAILURE);
                    }
                    Ok(certificate) => {
                        let days = certificate.days_left();
                        println!(
                            "tls: certificate CN={} expires {} ({days} days)",
                            certificate.subject,
                            certificate.not_after.format("%Y-%m-%d %H:%M UTC")
                        );
                        if days < CERTIFICATE_WARNING_DAYS {
                            println!(
                                "warning: {} expires in {days} days: renew it (SIGHUP reloads it without a restart)",
                                tls.cert_file.display()
                            );
                        }
                    }
                    Err(e) => {
                        println!("tls: {e}");
                        eprintln!("1 problem(s) found");
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            let data_dir = match config.demo_scale {
                Some(scale) => semgate::demo::ensure_tpch(&config.data_dir, scale).await?,
                None => config.data_dir.clone(),
            };
            match semgate::semantic::load(&config.model, &data_dir, semgate::semantic::WhenUnreachable::Fail).await {
                Ok(model) => {
                    let known: std::collections::BTreeSet<&String> = config
                        .users
                        .names()
                        .filter_map(|name| config.users.get(name))
                        .flat_map(|user| user.identity.attributes.keys())
                        .collect();
                    for view in model.views.values() {
                        for (attribute, warning) in view.policies.iter().flat_map(|p| &p.attributes) {
                            if !known.contains(attribute) {
                                println!("{warning}");
                            }
                        }
                    }
                    println!(
                        "ok: {} views ({})",
                        model.views.len(),
                        model.views.keys().cloned().collect::<Vec<_>>().join(", ")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(diagnostics) => {
                    println!("{diagnostics}");
                    eprintln!("{} problem(s) found", diagnostics.0.len());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// Ctrl-C (SIGINT) or SIGTERM, as terminals and service managers send them.
/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call, before the gateway says it is ready, so a
/// signal sent right after "ready" is never missed (the default action would kill the process without draining).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// SIGHUP reloads the model files (as `systemctl reload` sends it); a model with errors is reported and the running
/// one kept.
fn reload_on_hangup(reloader: semgate::server::Reloader) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if let Err(e) = reloader.reload().await {
                tracing::error!("model reload failed; still serving the previous model: {e}");
            }
        }
    });
    Ok(())
}

fn load_config(path: Option<&std::path::Path>, data_dir: Option<PathBuf>, demo_scale: f64) -> anyhow::Result<Config> {
    Ok(match path {
        Some(path) => {
            let mut config = Config::from_file(path).with_context(|| format!("loading {}", path.display()))?;
            if let Some(dir) = data_dir {
                config.data_dir = dir;
            }
            config
        }
        None => Config::demo(
            data_dir.unwrap_or_else(|| PathBuf::from(config::DEFAULT_DATA_DIR)),
            demo_scale,
        ),
    })
}
