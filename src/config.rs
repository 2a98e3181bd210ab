//! Configuration: a YAML file (users, addresses, model files) or the embedded demo, resolved into [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::audit::AuditConfig;
use crate::cache::CacheConfig;
use crate::demo;
use crate::error::Error;
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

/// The configuration file as written (also published as JSON Schema: `semgate schema config`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// PostgreSQL wire address, e.g. 127.0.0.1:5433.
    #[schemars(with = "Option<String>")]
    pg_addr: Option<Spanned<String>>,
    /// Arrow Flight SQL address, e.g. 127.0.0.1:50051.
    #[schemars(with = "Option<String>")]
    flight_addr: Option<Spanned<String>>,
    /// HTTP address of `/metrics` (Prometheus), `/healthz` and `/readyz`, e.g. 127.0.0.1:9187; none when unset.
    #[schemars(with = "Option<String>")]
    admin_addr: Option<Spanned<String>>,
    /// How log lines are written to stderr: `text` (the default) or `json` (one object per line, for log shippers).
    log_format: Option<LogFormat>,
    /// The database name clients connect to.
    database: Option<String>,
    /// Where `${data_dir}` in source locations points; relative to this file.
    data_dir: Option<String>,
    /// Model files or directories of `*.yml` / `*.yaml`, relative to this file.
    semantic: Vec<String>,
    #[serde(default)]
    users: Vec<UserFile>,
    max_connections: Option<usize>,
    /// Memory all queries together may use (`512MB`, `2GB`; PostgreSQL's units kB, MB, GB, TB): beyond their share,
    /// aggregations, sorts and joins spill to files under `<data_dir>/spill`; a query that still cannot fit fails with
    /// SQLSTATE 53200. Unset: no limit.
    #[schemars(with = "Option<String>")]
    memory_limit: Option<Spanned<String>>,
    /// Seconds a PostgreSQL client has to authenticate before its connection is closed (PostgreSQL's
    /// `authentication_timeout`); default 60.
    authentication_timeout_secs: Option<u64>,
    /// Natural-language questions (`ASK …`).
    ask: Option<AskFile>,
    cache: Option<CacheFile>,
    /// The audit trail: one JSON line per statement and failed login; none without this section.
    audit: Option<AuditFile>,
    /// TLS for the PostgreSQL wire and Flight SQL.
    tls: Option<TlsFile>,
    /// Scale-out: heavy queries spread over `semgate worker` processes.
    distributed: Option<DistributedFile>,
}

/// The `distributed` section as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DistributedFile {
    /// The workers (`semgate worker --listen`), e.g. http://worker-1:50052; which of them answer is asked when a
    /// query is planned.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    workers: Vec<Spanned<String>>,
    /// Queries that read fewer bytes of files stay on this machine (no network hop for a dashboard tile): bytes or a
    /// size (`64MB`); 0 distributes every query that reads files. Default 64MB.
    #[schemars(with = "Option<String>")]
    min_bytes_for_distribution: Option<Spanned<String>>,
    /// Bytes of files one partition of a task reads (fewer bytes, more tasks); default 16MB.
    #[schemars(with = "Option<String>")]
    bytes_per_partition: Option<Spanned<String>>,
    /// The environment variable holding the secret the coordinator and its workers share (every call between them
    /// carries it); default SEMGATE_CLUSTER_SECRET.
    secret_env: Option<String>,
    /// Where this coordinator serves the stages that stay on it (database scans) to the workers; default
    /// 127.0.0.1:0 (a free port on this machine).
    #[schemars(with = "Option<String>")]
    listen: Option<Spanned<String>>,
    /// The URL workers reach `listen` at; default http://<listen>. Needed when `listen` is 0.0.0.0.
    #[schemars(with = "Option<String>")]
    advertise: Option<Spanned<String>>,
}

/// The environment variable the cluster's secret is read from unless `distributed.secret_env` names another.
pub const DEFAULT_CLUSTER_SECRET_ENV: &str = "SEMGATE_CLUSTER_SECRET";

/// Scale-out as configured.
#[derive(Debug, Clone)]
pub struct DistributedConfig {
    /// The workers' URLs.
    pub workers: Vec<url::Url>,
    /// Below this many bytes of files a query runs here (`SET semgate.distributed = auto`).
    pub min_bytes_for_distribution: u64,
    /// Bytes of files per partition of a distributed scan.
    pub bytes_per_partition: u64,
    /// What every call between coordinator and workers carries.
    pub secret: String,
    /// Where the coordinator's own worker listens.
    pub listen: SocketAddr,
    /// The URL workers reach it at; `None`: `http://<bound address>`.
    pub advertise: Option<url::Url>,
}

impl DistributedConfig {
    pub const DEFAULT_MIN_BYTES: u64 = 64 << 20;
    pub const DEFAULT_BYTES_PER_PARTITION: u64 = 16 << 20;

    /// The cluster's secret from the environment variable `name`; the error says what to set.
    pub fn secret_from_env(name: &str) -> Result<String, String> {
        match std::env::var(name) {
            Ok(secret) if !secret.is_empty() => Ok(secret),
            _ => Err(format!(
                "environment variable {name} is not set: the coordinator and its workers need a shared secret \
                 (any long random string, the same on every machine)"
            )),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    /// The server's certificate chain (PEM), relative to this file.
    cert_file: String,
    /// Its private key (PEM).
    key_file: String,
    /// disable, prefer (the default: TLS for clients that ask) or require (plaintext clients are refused).
    mode: Option<TlsMode>,
    /// Ask clients for a certificate, verified against the CAs of this PEM file (needed by `cert_identity` users).
    client_ca_file: Option<String>,
    /// optional (the default: clients without a certificate log in with a password) or required (the TLS handshake
    /// fails without a valid certificate).
    client_cert: Option<ClientCertificate>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum TlsMode {
    Disable,
    #[default]
    Prefer,
    Require,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ClientCertificate {
    #[default]
    Optional,
    Required,
}

/// TLS as configured: the certificate and key files, and whether plaintext clients are still served.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Refuse clients that do not use TLS (SQLSTATE 28000).
    pub required: bool,
    /// The CAs client certificates are verified against; `None`: clients are not asked for one.
    pub client_ca_file: Option<PathBuf>,
    /// A client without a valid certificate fails the handshake.
    pub client_cert_required: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    /// A file lines are appended to, relative to this file.
    path: Option<String>,
    /// Also write each line to the log (target `semgate::audit`); default true when the section is there.
    log: Option<bool>,
    /// Replace literals in recorded statements (and parameter values) by `?`; default false.
    redact_literals: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    /// Total size of cached results in MiB (0 turns the cache off); default 256.
    capacity_mb: Option<u64>,
    /// Seconds an answer is kept unless its view says otherwise; default 300.
    ttl_secs: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AskFile {
    /// An OpenAI-compatible LLM, consulted when the offline resolver is not confident.
    llm: Option<LlmConfig>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UserFile {
    #[schemars(with = "String")]
    name: Spanned<String>,
    /// A literal password (fine for demos); prefer `password_env`.
    password: Option<String>,
    /// The environment variable holding the password.
    #[schemars(with = "Option<String>")]
    password_env: Option<Spanned<String>>,
    /// Certificate-only login (PgBouncer's `auth_type = cert`): the client certificate's subject CN must be this;
    /// no password. Needs `tls.client_ca_file`.
    cert_identity: Option<String>,
    /// Groups access policies name (`group: regional`).
    #[serde(default)]
    groups: Vec<String>,
    /// Values access policies read as `{ userAttributes.<name> }`: a string or a list of strings.
    #[serde(default)]
    attributes: BTreeMap<String, AttributeValue>,
    /// The user's default `statement_timeout` (`30s`, `500ms`; PostgreSQL's units).
    #[schemars(with = "Option<String>")]
    statement_timeout: Option<Spanned<String>>,
    /// How many sessions the user may have open at once (SQLSTATE 53300 beyond); unset: no limit of their own.
    max_connections: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

/// One user who may log in.
#[derive(Debug, Clone)]
pub struct User {
    /// What SCRAM checks; `None` for a `cert_identity` user.
    pub password: Option<String>,
    /// The client certificate CN that logs this user in, instead of a password.
    pub cert_identity: Option<String>,
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
        self.0.get(user).and_then(|u| u.password.as_deref())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Whether `password` is `user`'s (compared in constant time).
    pub fn check_password(&self, user: &str, password: &str) -> Result<(), Error> {
        match self.password(user) {
            Some(expected) if constant_time_eq(expected.as_bytes(), password.as_bytes()) => Ok(()),
            _ => Err(Error::PasswordFailed(user.to_string())),
        }
    }

    /// Whether a client certificate whose subject CN is `common_name` (verified against the configured CAs by the
    /// TLS handshake) logs in `user`, a `cert_identity` user.
    pub fn check_certificate(&self, user: &str, common_name: Option<&str>) -> Result<(), Error> {
        let failed = |why: &str| Error::CertificateFailed {
            user: user.to_string(),
            why: why.to_string(),
        };
        let expected = self
            .get(user)
            .and_then(|u| u.cert_identity.as_deref())
            .ok_or_else(|| failed("the user does not log in by certificate"))?;
        match common_name {
            None => Err(failed("no client certificate was presented")),
            Some(name) if name == expected => Ok(()),
            Some(name) => Err(failed(&format!("the certificate's CN is \"{name}\""))),
        }
    }

    /// Let `name` log in with `password` (replacing a user of that name), in `groups`.
    pub fn add(&mut self, name: &str, password: &str, groups: &[&str]) {
        self.0.insert(
            name.to_string(),
            User {
                password: Some(password.to_string()),
                cert_identity: None,
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

    /// Let `name` log in with a client certificate whose CN is `common_name` (and no password), in `groups`.
    pub fn add_certificate_user(&mut self, name: &str, common_name: &str, groups: &[&str]) {
        self.add(name, "", groups);
        if let Some(user) = self.0.get_mut(name) {
            user.password = None;
            user.cert_identity = Some(common_name.to_string());
        }
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
    /// Where `/metrics`, `/healthz` and `/readyz` are served; `None`: nowhere.
    pub admin_addr: Option<SocketAddr>,
    pub log_format: LogFormat,
    pub database: String,
    pub users: Users,
    pub model: Vec<ModelText>,
    pub data_dir: PathBuf,
    /// Set for the embedded demo: TPC-H data of this scale is generated under `data_dir` before serving.
    pub demo_scale: Option<f64>,
    pub max_connections: usize,
    /// Bytes all queries together may use (spilling beyond); `None`: no limit.
    pub memory_limit: Option<u64>,
    /// How long in-flight work may run after a shutdown signal before connections are closed.
    pub shutdown_grace: Duration,
    /// How long a connection may take to authenticate (PostgreSQL's `authentication_timeout`).
    pub authentication_timeout: Duration,
    /// The LLM that helps ASK when the offline resolver is not confident; `None`: offline only.
    pub llm: Option<LlmConfig>,
    pub cache: CacheConfig,
    /// Where audit lines go.
    pub audit: AuditConfig,
    /// TLS for the PostgreSQL wire and Flight SQL; `None`: plaintext only.
    pub tls: Option<TlsConfig>,
    /// The workers heavy queries are spread over; `None`: every query runs in this process.
    pub distributed: Option<DistributedConfig>,
}

impl Config {
    /// The embedded demo: TPC-H at `scale`, the demo model, user `analyst` / `analyst`.
    pub fn demo(data_dir: impl Into<PathBuf>, scale: f64) -> Self {
        Self {
            path: None,
            pg_addr: DEFAULT_PG_ADDR.parse().expect("valid default"),
            flight_addr: DEFAULT_FLIGHT_ADDR.parse().expect("valid default"),
            admin_addr: None,
            log_format: LogFormat::Text,
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
            memory_limit: None,
            shutdown_grace: Duration::from_secs(5),
            authentication_timeout: DEFAULT_AUTHENTICATION_TIMEOUT,
            llm: None,
            cache: CacheConfig::default(),
            audit: AuditConfig::default(),
            tls: None,
            distributed: None,
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
            let password = match (&user.password, &user.password_env, &user.cert_identity) {
                (Some(p), None, None) => Some(p.clone()),
                (None, Some(var), None) => Some(
                    std::env::var(var.as_str())
                        .map_err(|_| invalid(Some(var.span()), format!("environment variable {} is not set", **var)))?,
                ),
                (None, None, Some(_)) if file.tls.as_ref().is_some_and(|t| t.client_ca_file.is_some()) => None,
                (None, None, Some(_)) => {
                    return Err(invalid(
                        Some(user.name.span()),
                        "`cert_identity` needs `tls.client_ca_file`: the CAs that sign client certificates".into(),
                    ));
                }
                _ => {
                    return Err(invalid(
                        Some(user.name.span()),
                        "a user needs exactly one of `password`, `password_env`, `cert_identity`".into(),
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
                    cert_identity: user.cert_identity.clone(),
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
                let client_cert_required = tls.client_cert == Some(ClientCertificate::Required);
                if client_cert_required && tls.client_ca_file.is_none() {
                    return Err(ConfigError::Other(format!(
                        "{shown}: tls client_cert `required` needs `client_ca_file`"
                    )));
                }
                let required = match tls.mode.unwrap_or_default() {
                    TlsMode::Prefer => Some(false),
                    TlsMode::Require => Some(true),
                    TlsMode::Disable => None,
                };
                required.map(|required| TlsConfig {
                    cert_file: base.join(&tls.cert_file),
                    key_file: base.join(&tls.key_file),
                    required,
                    client_ca_file: tls.client_ca_file.as_ref().map(|f| base.join(f)),
                    client_cert_required,
                })
            }
            None => None,
        };
        let distributed = match &file.distributed {
            Some(section) => Some(distributed_config(section, &invalid, &shown)?),
            None => None,
        };
        Ok(Self {
            path: Some(path.to_path_buf()),
            pg_addr: address(&file.pg_addr, DEFAULT_PG_ADDR)?,
            flight_addr: address(&file.flight_addr, DEFAULT_FLIGHT_ADDR)?,
            admin_addr: match &file.admin_addr {
                Some(_) => Some(address(&file.admin_addr, "")?),
                None => None,
            },
            log_format: file.log_format.unwrap_or_default(),
            database: file.database.unwrap_or_else(|| DEFAULT_DATABASE.into()),
            users,
            model,
            data_dir: base.join(file.data_dir.as_deref().unwrap_or(".")),
            demo_scale: None,
            max_connections: file.max_connections.unwrap_or(256),
            memory_limit: match &file.memory_limit {
                Some(limit) => Some(
                    memory_setting(limit)
                        .map_err(|hint| invalid(Some(limit.span()), format!("memory_limit `{}`: {hint}", **limit)))?,
                ),
                None => None,
            },
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
            distributed,
        })
    }
}

/// The `distributed` section read and checked; `invalid` places a message at a span of the file.
fn distributed_config(
    section: &DistributedFile,
    invalid: &dyn Fn(Option<&marked_yaml::Span>, String) -> ConfigError,
    shown: &str,
) -> Result<DistributedConfig, ConfigError> {
    let url = |value: &Spanned<String>| -> Result<url::Url, ConfigError> {
        match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
            _ => Err(invalid(
                Some(value.span()),
                format!("`{}` is not a worker URL such as http://worker-1:50052", **value),
            )),
        }
    };
    let size = |value: &Option<Spanned<String>>, default: u64, zero_allowed: bool| -> Result<u64, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) if zero_allowed && v.trim() == "0" => Ok(0),
            Some(v) => memory_setting(v).map_err(|hint| invalid(Some(v.span()), format!("`{}`: {hint}", **v))),
        }
    };
    let listen = match &section.listen {
        Some(v) => v
            .parse()
            .map_err(|_| invalid(Some(v.span()), format!("`{}` is not a HOST:PORT address", **v)))?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let advertise = section.advertise.as_ref().map(url).transpose()?;
    if advertise.is_none() && listen.ip().is_unspecified() {
        return Err(ConfigError::Other(format!(
            "{shown}: distributed.listen {listen} is every interface: set distributed.advertise to the URL workers \
             reach this machine at (e.g. http://coordinator:50052)"
        )));
    }
    let secret_env = section.secret_env.as_deref().unwrap_or(DEFAULT_CLUSTER_SECRET_ENV);
    Ok(DistributedConfig {
        workers: section.workers.iter().map(url).collect::<Result<_, _>>()?,
        min_bytes_for_distribution: size(
            &section.min_bytes_for_distribution,
            DistributedConfig::DEFAULT_MIN_BYTES,
            true,
        )?,
        bytes_per_partition: size(
            &section.bytes_per_partition,
            DistributedConfig::DEFAULT_BYTES_PER_PARTITION,
            false,
        )?,
        secret: DistributedConfig::secret_from_env(secret_env)
            .map_err(|message| ConfigError::Other(format!("{shown}: distributed: {message}")))?,
        listen,
        advertise,
    })
}

/// Whether two byte strings are equal, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The configuration file's JSON Schema.
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(ConfigFile)
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

/// A setting written as a number and a unit (`512MB`, `30 s`): the number, and the unit in lower case.
fn number_and_unit(value: &str) -> Option<(f64, String)> {
    let value = value.trim().to_lowercase();
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    Some((number.parse().ok()?, unit.trim().to_string()))
}

/// A memory size as PostgreSQL writes them (`work_mem`): a number and a unit among B, kB, MB, GB, TB (case does not
/// matter here); a number alone is bytes. The error is a hint.
pub fn memory_setting(value: &str) -> Result<u64, &'static str> {
    const HINT: &str = "write a size such as 512MB or 2GB (units B, kB, MB, GB, TB)";
    let (number, unit) = number_and_unit(value).ok_or(HINT)?;
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "kb" => 1024.0,
        "mb" => 1024.0 * 1024.0,
        "gb" => 1024.0 * 1024.0 * 1024.0,
        "tb" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(HINT),
    };
    let bytes = number * scale;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(HINT);
    }
    Ok(bytes as u64)
}

/// A duration setting as PostgreSQL reads it (`statement_timeout`): milliseconds, or a number with a unit (us, ms,
/// s, min, h, d); 0 is off (`None`). The error is a hint for the client.
pub fn duration_setting(value: &str) -> Result<Option<Duration>, &'static str> {
    const HINT: &str = "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"; a number alone is milliseconds";
    let (number, unit) = number_and_unit(value).ok_or(HINT)?;
    let millis = match unit.as_str() {
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

#[cfg(test)]
mod tests {
    use super::memory_setting;

    #[test]
    fn memory_sizes_read_like_postgresql() {
        assert_eq!(memory_setting("512MB"), Ok(512 << 20));
        assert_eq!(memory_setting("2GB"), Ok(2 << 30));
        assert_eq!(memory_setting("64kB"), Ok(64 << 10));
        assert_eq!(memory_setting("1.5 gb"), Ok(3 << 29));
        assert_eq!(memory_setting("1000"), Ok(1000));
        assert!(memory_setting("lots").is_err());
        assert!(memory_setting("0MB").is_err());
        assert!(memory_setting("12 parsecs").is_err());
    }
}
