//! Configuration: a YAML file (users, addresses, model files) or the embedded demo, resolved into [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::Spanned;
use serde::Deserialize;

use crate::cache::CacheConfig;
use crate::demo;
use crate::nl::LlmConfig;
use crate::semantic::ModelText;

pub const DEFAULT_PG_ADDR: &str = "127.0.0.1:5433";
pub const DEFAULT_FLIGHT_ADDR: &str = "127.0.0.1:50051";
pub const DEFAULT_DATABASE: &str = "semgate";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_DEMO_SCALE: f64 = 0.1;
/// PostgreSQL's default `authentication_timeout`.
pub const DEFAULT_AUTHENTICATION_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

/// The configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// PostgreSQL wire address, e.g. 127.0.0.1:5433.
    pg_addr: Option<Spanned<String>>,
    /// Arrow Flight SQL address, e.g. 127.0.0.1:50051.
    flight_addr: Option<Spanned<String>>,
    /// The database name clients connect to.
    database: Option<String>,
    /// Where `${data_dir}` in source locations points; relative to this file.
    data_dir: Option<String>,
    /// Model files or directories of `*.yml` / `*.yaml`, relative to this file.
    semantic: Vec<String>,
    #[serde(default)]
    users: Vec<UserFile>,
    max_connections: Option<usize>,
    /// Seconds a PostgreSQL client has to authenticate before its connection is closed (PostgreSQL's
    /// `authentication_timeout`); default 60.
    authentication_timeout_secs: Option<u64>,
    /// Natural-language questions (`ASK …`).
    ask: Option<AskFile>,
    cache: Option<CacheFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    /// Total size of cached results in MiB (0 turns the cache off); default 256.
    capacity_mb: Option<u64>,
    /// Seconds an answer is kept unless its view says otherwise; default 300.
    ttl_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AskFile {
    /// An OpenAI-compatible LLM, consulted when the offline resolver is not confident.
    llm: Option<LlmConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    name: Spanned<String>,
    /// A literal password (fine for demos); prefer `password_env`.
    password: Option<String>,
    /// The environment variable holding the password.
    password_env: Option<Spanned<String>>,
}

/// Users who may log in, with their passwords.
#[derive(Debug, Clone, Default)]
pub struct Users(BTreeMap<String, String>);

impl Users {
    pub fn password(&self, user: &str) -> Option<&str> {
        self.0.get(user).map(String::as_str)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Let `name` log in with `password` (replacing a password it had).
    pub fn add(&mut self, name: &str, password: &str) {
        self.0.insert(name.to_string(), password.to_string());
    }
}

/// A resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration was read from (none for the demo); a model reload reads its model files again.
    pub path: Option<PathBuf>,
    pub pg_addr: SocketAddr,
    pub flight_addr: SocketAddr,
    pub database: String,
    pub users: Users,
    pub model: Vec<ModelText>,
    pub data_dir: PathBuf,
    /// Set for the embedded demo: TPC-H data of this scale is generated under `data_dir` before serving.
    pub demo_scale: Option<f64>,
    pub max_connections: usize,
    /// How long in-flight work may run after a shutdown signal before connections are closed.
    pub shutdown_grace: Duration,
    /// How long a connection may take to authenticate (PostgreSQL's `authentication_timeout`).
    pub authentication_timeout: Duration,
    /// The LLM that helps ASK when the offline resolver is not confident; `None`: offline only.
    pub llm: Option<LlmConfig>,
    pub cache: CacheConfig,
}

impl Config {
    /// The embedded demo: TPC-H at `scale`, the demo model, user `analyst` / `analyst`.
    pub fn demo(data_dir: impl Into<PathBuf>, scale: f64) -> Self {
        Self {
            path: None,
            pg_addr: DEFAULT_PG_ADDR.parse().expect("valid default"),
            flight_addr: DEFAULT_FLIGHT_ADDR.parse().expect("valid default"),
            database: DEFAULT_DATABASE.into(),
            users: Users(BTreeMap::from([("analyst".to_string(), "analyst".to_string())])),
            model: demo::DEMO_MODEL
                .iter()
                .map(|(name, text)| ModelText {
                    name: name.to_string(),
                    text: text.to_string(),
                    base_dir: PathBuf::from("."),
                })
                .collect(),
            data_dir: data_dir.into(),
            demo_scale: Some(scale),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(5),
            authentication_timeout: DEFAULT_AUTHENTICATION_TIMEOUT,
            llm: None,
            cache: CacheConfig::default(),
        }
    }

    /// Read a configuration file and the model files it names.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let shown = path.display().to_string();
        let invalid = |span: Option<&marked_yaml::Span>, message: String| {
            let (line, column) = span
                .and_then(|s| s.start())
                .map(|m| (m.line(), m.column()))
                .unwrap_or((0, 0));
            ConfigError::Invalid {
                path: shown.clone(),
                line,
                column,
                message,
            }
        };
        let file: ConfigFile = marked_yaml::from_yaml(0, &text).map_err(|e| {
            let (line, column) = crate::semantic::load::yaml_error_position(&e, &text);
            ConfigError::Invalid {
                path: shown.clone(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        let base = std::path::absolute(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let address = |value: &Option<Spanned<String>>, default: &str| -> Result<SocketAddr, ConfigError> {
            match value {
                Some(v) => v
                    .parse()
                    .map_err(|_| invalid(Some(v.span()), format!("`{}` is not a HOST:PORT address", **v))),
                None => Ok(default.parse().expect("valid default")),
            }
        };
        let mut users = BTreeMap::new();
        for user in &file.users {
            let password = match (&user.password, &user.password_env) {
                (Some(p), None) => p.clone(),
                (None, Some(var)) => std::env::var(var.as_str())
                    .map_err(|_| invalid(Some(var.span()), format!("environment variable {} is not set", **var)))?,
                _ => {
                    return Err(invalid(
                        Some(user.name.span()),
                        "a user needs exactly one of `password`, `password_env`".into(),
                    ));
                }
            };
            users.insert(user.name.to_string(), password);
        }
        // Files are named in messages as the user can find them (relative to where semgate runs), read by absolute path.
        let shown_base = path.parent().unwrap_or(Path::new(""));
        let mut model = Vec::new();
        for entry in &file.semantic {
            for file in model_files(&base.join(entry))? {
                let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
                    path: file.clone(),
                    source,
                })?;
                let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                let relative = file
                    .strip_prefix(&base)
                    .map(|r| shown_base.join(r))
                    .unwrap_or_else(|_| file.clone());
                model.push(ModelText {
                    name: relative.display().to_string(),
                    text,
                    base_dir,
                });
            }
        }
        if model.is_empty() {
            return Err(ConfigError::Other(format!("{shown}: `semantic` names no model files")));
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            pg_addr: address(&file.pg_addr, DEFAULT_PG_ADDR)?,
            flight_addr: address(&file.flight_addr, DEFAULT_FLIGHT_ADDR)?,
            database: file.database.unwrap_or_else(|| DEFAULT_DATABASE.into()),
            users: Users(users),
            model,
            data_dir: base.join(file.data_dir.as_deref().unwrap_or(".")),
            demo_scale: None,
            max_connections: file.max_connections.unwrap_or(256),
            shutdown_grace: Duration::from_secs(5),
            authentication_timeout: file
                .authentication_timeout_secs
                .map_or(DEFAULT_AUTHENTICATION_TIMEOUT, Duration::from_secs),
            llm: file.ask.and_then(|a| a.llm),
            cache: match file.cache {
                Some(cache) => CacheConfig {
                    capacity_bytes: cache
                        .capacity_mb
                        .map_or(CacheConfig::default().capacity_bytes, |mb| mb << 20),
                    ttl: cache.ttl_secs.map_or(CacheConfig::default().ttl, Duration::from_secs),
                },
                None => CacheConfig::default(),
            },
        })
    }
}

/// A file, or the `*.yml` / `*.yaml` files of a directory in name order.
fn model_files(path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    files.sort();
    Ok(files)
}
