//! Configuration: a YAML file (users, addresses, model files) or the embedded demo, resolved into [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::Spanned;
use serde::Deserialize;

use crate::audit::AuditConfig;
use crate::cache::CacheConfig;
use crate::demo;
use crate::nl::LlmConfig;
use crate::semantic::ModelText;
use crate::semantic::access::Identity;

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
    /// The audit trail: one JSON line per statement and failed login; none without this section.
    audit: Option<AuditFile>,
    /// TLS for the PostgreSQL wire.
    tls: Option<TlsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    /// The server's certificate chain (PEM), relative to this file.
    cert_file: String,
    /// Its private key (PEM).
    key_file: String,
    /// disable, prefer (the default: TLS for clients that ask) or require (plaintext clients are refused).
    mode: Option<Spanned<String>>,
}

/// TLS as configured: the certificate and key files, and whether plaintext clients are still served.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Refuse clients that do not use TLS (SQLSTATE 28000).
    pub required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    /// A file lines are appended to, relative to this file.
    path: Option<String>,
    /// Also write each line to the log (target `semgate::audit`); default true when the section is there.
    log: Option<bool>,
    /// Replace literals in recorded statements (and parameter values) by `?`; default false.
    redact_literals: Option<bool>,
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
    /// Groups access policies name (`group: regional`).
    #[serde(default)]
    groups: Vec<String>,
    /// Values access policies read as `{ userAttributes.<name> }`: a string or a list of strings.
    #[serde(default)]
    attributes: BTreeMap<String, AttributeValue>,
    /// The user's default `statement_timeout` (`30s`, `500ms`; PostgreSQL's units).
    statement_timeout: Option<Spanned<String>>,
    /// How many sessions the user may have open at once (SQLSTATE 53300 beyond); unset: no limit of their own.
    max_connections: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

/// One user who may log in.
#[derive(Debug, Clone)]
pub struct User {
    pub password: String,
    /// Who they are to access policies.
    pub identity: Identity,
    /// Their sessions' default `statement_timeout`, as written (checked when the configuration is read).
    pub statement_timeout: Option<String>,
    /// How many sessions they may have open at once.
    pub max_connections: Option<usize>,
}

/// Users who may log in, by name.
#[derive(Debug, Clone, Default)]
pub struct Users(BTreeMap<String, User>);

impl Users {
    pub fn get(&self, user: &str) -> Option<&User> {
        self.0.get(user)
    }

    pub fn password(&self, user: &str) -> Option<&str> {
        self.0.get(user).map(|u| u.password.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Let `name` log in with `password` (replacing a user of that name), in `groups`.
    pub fn add(&mut self, name: &str, password: &str, groups: &[&str]) {
        self.0.insert(
            name.to_string(),
            User {
                password: password.to_string(),
                identity: Identity {
                    name: name.to_string(),
                    groups: groups.iter().map(|g| g.to_string()).collect(),
                    attributes: BTreeMap::new(),
                },
                statement_timeout: None,
                max_connections: None,
            },
        );
    }

    /// Limit user `name` (added before) to `limit` open sessions.
    pub fn set_max_connections(&mut self, name: &str, limit: usize) {
        if let Some(user) = self.0.get_mut(name) {
            user.max_connections = Some(limit);
        }
    }

    /// Give user `name` (added before) attribute `attribute` with `values`.
    pub fn set_attribute(&mut self, name: &str, attribute: &str, values: &[&str]) {
        if let Some(user) = self.0.get_mut(name) {
            user.identity
                .attributes
                .insert(attribute.to_string(), values.iter().map(|v| v.to_string()).collect());
        }
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
    /// Where audit lines go.
    pub audit: AuditConfig,
    /// TLS for the PostgreSQL wire; `None`: plaintext only.
    pub tls: Option<TlsConfig>,
}

impl Config {
    /// The embedded demo: TPC-H at `scale`, the demo model, user `analyst` / `analyst`.
    pub fn demo(data_dir: impl Into<PathBuf>, scale: f64) -> Self {
        Self {
            path: None,
            pg_addr: DEFAULT_PG_ADDR.parse().expect("valid default"),
            flight_addr: DEFAULT_FLIGHT_ADDR.parse().expect("valid default"),
            database: DEFAULT_DATABASE.into(),
            users: demo::users(),
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
            audit: AuditConfig::default(),
            tls: None,
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
        let mut users = Users::default();
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
            if let Some(timeout) = &user.statement_timeout
                && let Err(hint) = duration_setting(timeout)
            {
                return Err(invalid(
                    Some(timeout.span()),
                    format!("statement_timeout `{}`: {hint}", **timeout),
                ));
            }
            let attributes = user
                .attributes
                .iter()
                .map(|(name, value)| {
                    let values = match value {
                        AttributeValue::One(one) => vec![one.clone()],
                        AttributeValue::Many(many) => many.clone(),
                    };
                    (name.clone(), values)
                })
                .collect();
            users.0.insert(
                user.name.to_string(),
                User {
                    password,
                    identity: Identity {
                        name: user.name.to_string(),
                        groups: user.groups.iter().cloned().collect(),
                        attributes,
                    },
                    statement_timeout: user.statement_timeout.as_ref().map(|t| t.to_string()),
                    max_connections: user.max_connections,
                },
            );
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
        let tls = match &file.tls {
            Some(tls) => {
                let required = match tls.mode.as_ref().map(|m| m.as_str()) {
                    None | Some("prefer") => Some(false),
                    Some("require") => Some(true),
                    Some("disable") => None,
                    Some(other) => {
                        let span = tls.mode.as_ref().map(|m| m.span());
                        return Err(invalid(
                            span,
                            format!("tls mode `{other}`: use disable, prefer or require"),
                        ));
                    }
                };
                required.map(|required| TlsConfig {
                    cert_file: base.join(&tls.cert_file),
                    key_file: base.join(&tls.key_file),
                    required,
                })
            }
            None => None,
        };
        Ok(Self {
            path: Some(path.to_path_buf()),
            pg_addr: address(&file.pg_addr, DEFAULT_PG_ADDR)?,
            flight_addr: address(&file.flight_addr, DEFAULT_FLIGHT_ADDR)?,
            database: file.database.unwrap_or_else(|| DEFAULT_DATABASE.into()),
            users,
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
            audit: match file.audit {
                Some(audit) => AuditConfig {
                    path: audit.path.map(|p| base.join(p)),
                    log: audit.log.unwrap_or(true),
                    redact_literals: audit.redact_literals.unwrap_or(false),
                },
                None => AuditConfig::default(),
            },
            tls,
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

/// A duration setting as PostgreSQL reads it (`statement_timeout`): milliseconds, or a number with a unit (us, ms,
/// s, min, h, d); 0 is off (`None`). The error is a hint for the client.
pub fn duration_setting(value: &str) -> Result<Option<Duration>, &'static str> {
    const HINT: &str = "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"; a number alone is milliseconds";
    let value = value.trim().to_lowercase();
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().map_err(|_| HINT)?;
    let millis = match unit.trim() {
        "" | "ms" => number,
        "us" => number / 1e3,
        "s" => number * 1e3,
        "min" => number * 60e3,
        "h" => number * 3600e3,
        "d" => number * 86_400e3,
        _ => return Err(HINT),
    };
    if !millis.is_finite() || millis > i32::MAX as f64 {
        return Err("the largest timeout is 2147483647 ms (about 24 days); 0 turns it off");
    }
    Ok((millis > 0.0).then(|| Duration::from_secs_f64(millis / 1e3)))
}
