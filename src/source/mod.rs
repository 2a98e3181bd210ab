//! Database sources — PostgreSQL, MySQL/MariaDB, SQLite — read where the data lives; file sources in object storage
//! ([`object_store`]).
//!
//! datafusion-table-providers connects and reads; each table is registered as a federated table
//! (datafusion-federation), so [`pushdown::PushDownToSources`] can hand whole sub-plans to the database holding all
//! their tables, as SQL in its dialect. Every statement a source runs passes through [`SourceExecutor`], which names
//! the source in errors, classifies them (unreachable, connection lost, credentials, timeout) and enforces the
//! source's query timeout — so a failing database fails only the queries that need it.

pub mod object_store;
pub mod pushdown;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::TableProvider;
use datafusion::common::{Statistics, TableReference};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{PhysicalExpr, SendableRecordBatchStream};
use datafusion::sql::unparser::dialect::Dialect;
use datafusion_federation::FederatedTableProviderAdaptor;
use datafusion_federation::sql::{AstAnalyzer, LogicalOptimizer, SQLExecutor, SQLFederationProvider, SQLTableSource};
use datafusion_table_providers::mysql::MySQLTableFactory;
use datafusion_table_providers::postgres::PostgresTableFactory;
use datafusion_table_providers::sql::db_connection_pool::Mode;
use datafusion_table_providers::sql::db_connection_pool::mysqlpool::MySQLConnectionPool;
use datafusion_table_providers::sql::db_connection_pool::postgrespool::PostgresConnectionPool;
use datafusion_table_providers::sql::db_connection_pool::sqlitepool::{
    SqliteConnectionPool, SqliteConnectionPoolFactory,
};
use datafusion_table_providers::sqlite::DynSqliteConnectionPool;
use datafusion_table_providers::sqlite::sql_table::SQLiteTable;
use futures::StreamExt;
use secrecy::SecretString;

use crate::metrics::METRICS;

/// The databases semgate reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
    MySql,
    Sqlite,
}

impl DatabaseKind {
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "postgres" => Some(Self::Postgres),
            "mysql" => Some(Self::MySql),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

/// The kind of database behind a [`SourceExecutor`]'s compute context (`"<kind> source <name>"`).
fn kind_of_context(context: &str) -> Option<DatabaseKind> {
    DatabaseKind::parse(context.split(' ').next()?)
}

/// How to reach one database, resolved from its YAML.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub name: String,
    pub kind: DatabaseKind,
    /// Network databases: host and port (the file for SQLite is `path`).
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    /// disable, prefer, require or verify-full.
    pub tls: String,
    pub pool_size: u32,
    pub path: PathBuf,
    pub connect_timeout: Duration,
    pub query_timeout: Duration,
}

/// Why a source could not answer; SQLSTATE class 08 for connection trouble, 57014 for its timeout.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    #[error(
        "source `{name}` ({kind} at {address}) is unreachable: {detail}; queries that need it fail until it is back, \
         the other sources keep serving"
    )]
    Unreachable {
        name: String,
        kind: &'static str,
        address: String,
        detail: String,
    },
    #[error("source `{name}` lost its connection: {detail}; retry the query")]
    ConnectionLost { name: String, detail: String },
    #[error("source `{name}` refused semgate's credentials: {detail}; check the source's `user` and `password_env`")]
    Credentials { name: String, detail: String },
    #[error("source `{name}` did not finish within {seconds}s (its query_timeout_secs); narrow the query or raise it")]
    Timeout { name: String, seconds: u64 },
    #[error("source `{name}` failed the query: {detail}")]
    Failed {
        name: String,
        detail: String,
        /// The database's own SQLSTATE, when it sent one.
        sqlstate: Option<String>,
    },
}

impl SourceError {
    pub fn sqlstate(&self) -> &str {
        match self {
            SourceError::Unreachable { .. } => "08001",
            SourceError::ConnectionLost { .. } => "08006",
            SourceError::Credentials { .. } => "08004",
            SourceError::Timeout { .. } => "57014",
            SourceError::Failed { sqlstate, .. } => sqlstate.as_deref().unwrap_or("XX000"),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("name", &self.settings.name).finish()
    }
}

/// One connected database: makes its tables, all sharing one federation provider so that joins between them are
/// pushed down together.
pub struct Database {
    settings: Arc<DatabaseSettings>,
    tables: TableMaker,
    /// Created with the first table: its executor runs any statement on the shared pool.
    federation: OnceLock<Arc<SQLFederationProvider>>,
    /// The first table made, whose schema [`Database::check`] reads back from the database.
    checked_table: OnceLock<String>,
}

enum TableMaker {
    Postgres(PostgresTableFactory),
    MySql(MySQLTableFactory),
    Sqlite(Arc<SqliteConnectionPool>),
}

impl Database {
    /// Connect (and check the connection) within the source's connect timeout.
    pub async fn connect(settings: DatabaseSettings) -> Result<Self, SourceError> {
        let settings = Arc::new(settings);
        let connecting = async {
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(match settings.kind {
                DatabaseKind::Postgres => {
                    let pool = PostgresConnectionPool::new(postgres_params(&settings)).await?;
                    TableMaker::Postgres(PostgresTableFactory::new(Arc::new(pool)))
                }
                DatabaseKind::MySql => {
                    let pool = MySQLConnectionPool::new(mysql_params(&settings)).await?;
                    TableMaker::MySql(MySQLTableFactory::new(Arc::new(pool)))
                }
                DatabaseKind::Sqlite => {
                    if !settings.path.is_file() {
                        return Err(format!("no SQLite database at {}", settings.path.display()).into());
                    }
                    let path = settings.path.to_string_lossy();
                    let pool = SqliteConnectionPoolFactory::new(&path, Mode::File, settings.connect_timeout)
                        .build()
                        .await?;
                    TableMaker::Sqlite(Arc::new(pool))
                }
            })
        };
        let tables = match tokio::time::timeout(settings.connect_timeout, connecting).await {
            Ok(Ok(tables)) => tables,
            Ok(Err(e)) => return Err(classify(&settings, e.as_ref())),
            Err(_) => {
                return Err(settings.unreachable(format!(
                    "no connection within {}s (connect_timeout_secs)",
                    settings.connect_timeout.as_secs()
                )));
            }
        };
        Ok(Self {
            settings,
            tables,
            federation: OnceLock::new(),
            checked_table: OnceLock::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Whether the database answers now, within its connect timeout (a round trip through the pool its tables use:
    /// reading one table's columns from its catalog): what `/readyz` reports.
    pub async fn check(&self) -> Result<(), SourceError> {
        let (Some(federation), Some(table)) = (self.federation.get(), self.checked_table.get()) else {
            // No table was made: nothing reads this database.
            return Ok(());
        };
        let round_trip = federation.executor.get_table_schema(table);
        match tokio::time::timeout(self.settings.connect_timeout, round_trip).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(&self.settings, &e)),
            Err(_) => Err(self.settings.unreachable(format!(
                "no answer within {}s (connect_timeout_secs)",
                self.settings.connect_timeout.as_secs()
            ))),
        }
    }

    /// The table `remote` (optionally schema-qualified) as a federated DataFusion table.
    pub async fn table(&self, remote: &str) -> Result<Arc<dyn TableProvider>, SourceError> {
        let reference = TableReference::from(remote);
        let made: Result<Arc<dyn TableProvider>, Box<dyn std::error::Error + Send + Sync>> = match &self.tables {
            TableMaker::Postgres(factory) => factory.table_provider(reference).await,
            TableMaker::MySql(factory) => factory.table_provider(reference).await,
            TableMaker::Sqlite(pool) => sqlite_table(&self.settings.path, pool, reference)
                .await
                .map_err(|e| e.into()),
        };
        let made = made.map_err(|e| classify(&self.settings, e.as_ref()))?;
        let _ = self.checked_table.set(remote.to_string());
        self.rewrap(made)
    }

    /// Route the table's statements through this source's [`SourceExecutor`] and shared federation provider.
    fn rewrap(&self, table: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>, SourceError> {
        let failed = |detail: &str| SourceError::Failed {
            name: self.settings.name.clone(),
            detail: detail.into(),
            sqlstate: None,
        };
        let adaptor = table
            .downcast_ref::<FederatedTableProviderAdaptor>()
            .ok_or_else(|| failed("its table provider is not federated"))?;
        let remote = (adaptor.source.as_ref() as &dyn std::any::Any)
            .downcast_ref::<SQLTableSource>()
            .ok_or_else(|| failed("its table source is not SQL"))?;
        let federation = self.federation.get_or_init(|| {
            Arc::new(SQLFederationProvider::new(Arc::new(SourceExecutor {
                settings: self.settings.clone(),
                inner: remote.provider.executor.clone(),
            })))
        });
        let source = SQLTableSource::new_with_table(federation.clone(), remote.table.clone());
        let direct = adaptor
            .table_provider
            .clone()
            .ok_or_else(|| failed("its table has no direct reader"))?;
        Ok(Arc::new(FederatedTableProviderAdaptor::new_with_provider(
            Arc::new(source),
            direct,
        )))
    }
}

impl DatabaseSettings {
    fn address(&self) -> String {
        match self.kind {
            DatabaseKind::Sqlite => self.path.display().to_string(),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    fn unreachable(&self, detail: String) -> SourceError {
        SourceError::Unreachable {
            name: self.name.clone(),
            kind: self.kind.name(),
            address: self.address(),
            detail,
        }
    }

    /// Whether the database accepts TCP connections now; decides between "unreachable" and "slow".
    async fn probe(&self) -> Result<(), String> {
        if self.kind == DatabaseKind::Sqlite {
            return Ok(());
        }
        let connecting = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {}s", self.connect_timeout.as_secs())),
        }
    }
}

fn postgres_params(settings: &DatabaseSettings) -> HashMap<String, SecretString> {
    secret_params(
        settings,
        [
            ("host", settings.host.clone()),
            ("port", settings.port.to_string()),
            ("db", settings.database.clone()),
            ("user", settings.user.clone()),
            ("sslmode", settings.tls.clone()),
            ("connection_pool_size", settings.pool_size.to_string()),
            ("application_name", "semgate".to_string()),
            // The database stops work we no longer wait for.
            (
                "options",
                format!("-c statement_timeout={}", settings.query_timeout.as_millis()),
            ),
        ],
    )
}

fn mysql_params(settings: &DatabaseSettings) -> HashMap<String, SecretString> {
    let sslmode = match settings.tls.as_str() {
        "disable" => "disabled",
        "require" | "verify-full" => "required",
        _ => "preferred",
    };
    secret_params(
        settings,
        [
            ("host", settings.host.clone()),
            ("tcp_port", settings.port.to_string()),
            ("db", settings.database.clone()),
            ("user", settings.user.clone()),
            ("sslmode", sslmode.to_string()),
            ("pool_min", "1".to_string()),
            ("pool_max", settings.pool_size.to_string()),
        ],
    )
}

/// A driver's parameters, with the password when there is one, as the secrets the providers take.
fn secret_params<const N: usize>(
    settings: &DatabaseSettings,
    params: [(&str, String); N],
) -> HashMap<String, SecretString> {
    let password = settings.password.clone().map(|p| ("pass", p));
    params
        .into_iter()
        .chain(password)
        .map(|(k, v)| (k.to_string(), SecretString::from(v)))
        .collect()
}

/// A SQLite table typed by its declared column types (`DATE`, `DECIMAL(15,2)`), not by whatever its first row holds,
/// so a table moved to SQLite keeps the types its models and clients expect.
async fn sqlite_table(
    path: &Path,
    pool: &Arc<SqliteConnectionPool>,
    reference: TableReference,
) -> Result<Arc<dyn TableProvider>, String> {
    let schema = declared_sqlite_schema(path.to_path_buf(), reference.table().to_string()).await?;
    let pool: Arc<DynSqliteConnectionPool> = pool.clone();
    let table = Arc::new(SQLiteTable::new_with_schema(&pool, schema, reference));
    let federated = table.create_federated_table_provider().map_err(|e| e.to_string())?;
    Ok(Arc::new(federated))
}

async fn declared_sqlite_schema(path: PathBuf, table: String) -> Result<SchemaRef, String> {
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
        let mut statement = conn
            .prepare("SELECT name, type, \"notnull\" FROM pragma_table_info(?1)")
            .map_err(|e| e.to_string())?;
        let fields = statement
            .query_map([&table], |row| {
                let name: String = row.get(0)?;
                let declared: String = row.get(1)?;
                let not_null: bool = row.get(2)?;
                Ok(Field::new(name, sqlite_type(&declared), !not_null))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())?;
        if fields.is_empty() {
            return Err(format!("no table `{table}` in {}", path.display()));
        }
        Ok(Arc::new(Schema::new(fields)))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// SQLite's type-affinity rules, refined by the declared name where Arrow can keep more (dates, decimals).
fn sqlite_type(declared: &str) -> DataType {
    let upper = declared.to_ascii_uppercase();
    let decimal = |s: &str| -> Option<DataType> {
        let inner = s.split_once('(')?.1.strip_suffix(')')?;
        let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
        Some(DataType::Decimal128(p.trim().parse().ok()?, s.trim().parse().ok()?))
    };
    if upper.starts_with("TINYINT") {
        DataType::Int8
    } else if upper.starts_with("SMALLINT") || upper == "INT2" {
        DataType::Int16
    } else if matches!(upper.as_str(), "INT" | "INT4" | "MEDIUMINT") {
        DataType::Int32
    } else if upper.contains("INT") {
        // INTEGER, BIGINT, INT8: SQLite's integers are 64-bit.
        DataType::Int64
    } else if upper.starts_with("DATETIME") || upper.starts_with("TIMESTAMP") {
        DataType::Timestamp(TimeUnit::Microsecond, None)
    } else if upper.starts_with("DATE") {
        DataType::Date32
    } else if upper.starts_with("DECIMAL") || upper.starts_with("NUMERIC") {
        decimal(&upper).unwrap_or(DataType::Float64)
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        DataType::Float64
    } else if upper.starts_with("BOOL") {
        DataType::Boolean
    } else if upper.contains("BLOB") {
        DataType::Binary
    } else {
        DataType::Utf8
    }
}

/// Runs a source's statements: names the source in its errors, classifies them, and bounds their time.
struct SourceExecutor {
    settings: Arc<DatabaseSettings>,
    /// The table provider's own executor: the database's dialect and connection pool.
    inner: Arc<dyn SQLExecutor>,
}

#[async_trait]
impl SQLExecutor for SourceExecutor {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn compute_context(&self) -> Option<String> {
        // One context per configured source: sub-plans join inside a database only when their tables share it.
        Some(format!("{} source {}", self.settings.kind.name(), self.settings.name))
    }

    fn dialect(&self) -> Arc<dyn Dialect> {
        self.inner.dialect()
    }

    fn logical_optimizer(&self) -> Option<LogicalOptimizer> {
        self.inner.logical_optimizer()
    }

    fn ast_analyzer(&self) -> Option<AstAnalyzer> {
        self.inner.ast_analyzer()
    }

    fn execute(
        &self,
        query: &str,
        schema: SchemaRef,
        filters: &[Arc<dyn PhysicalExpr>],
    ) -> Result<SendableRecordBatchStream> {
        tracing::debug!(source = %self.settings.name, sql = query, "sent to source");
        let settings = self.settings.clone();
        let stream = self
            .inner
            .execute(query, schema.clone(), filters)
            .map_err(|e| source_error(&settings, e))?;
        let deadline = tokio::time::Instant::now() + settings.query_timeout;
        let counted = SourceQuery {
            source: settings.name.clone(),
            started: std::time::Instant::now(),
            failed: None,
        };
        // State: the inner stream, whether its first batch is still to come, and the query's metrics; `None` once it
        // ended or failed.
        let guarded = futures::stream::unfold(Some((stream, true, counted)), move |state| {
            let settings = settings.clone();
            async move {
                let (mut stream, first, mut counted) = state?;
                let next = async {
                    if first {
                        first_batch(&settings, &mut stream).await
                    } else {
                        stream.next().await
                    }
                };
                let item = match tokio::time::timeout_at(deadline, next).await {
                    Ok(item) => item?,
                    Err(_) => Err(DataFusionError::External(Box::new(SourceError::Timeout {
                        name: settings.name.clone(),
                        seconds: settings.query_timeout.as_secs(),
                    }))),
                };
                Some(match item {
                    Ok(batch) => (Ok(batch), Some((stream, false, counted))),
                    Err(e) => {
                        let error = source_error(&settings, e);
                        counted.failed = Some(
                            find::<SourceError>(&error)
                                .map_or("XX000", |e| e.sqlstate())
                                .to_string(),
                        );
                        (Err(error), None)
                    }
                })
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, guarded)))
    }

    async fn statistics(&self, plan: &LogicalPlan) -> Result<Statistics> {
        self.inner.statistics(plan).await
    }

    async fn table_names(&self) -> Result<Vec<String>> {
        self.inner.table_names().await
    }

    async fn get_table_schema(&self, table_name: &str) -> Result<SchemaRef> {
        self.inner.get_table_schema(table_name).await
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.inner.metrics()
    }
}

/// One query sent to a source: counted in the metrics when its stream ends, fails or is dropped.
struct SourceQuery {
    source: String,
    started: std::time::Instant,
    /// The SQLSTATE it failed with.
    failed: Option<String>,
}

impl Drop for SourceQuery {
    fn drop(&mut self) {
        METRICS.source_query(&self.source, self.failed.as_deref(), self.started.elapsed());
    }
}

/// The first batch, or — when none comes within the connect timeout and the database does not even accept TCP
/// connections — an "unreachable" error, instead of waiting out the connection pool's own 30 s.
async fn first_batch(
    settings: &DatabaseSettings,
    stream: &mut SendableRecordBatchStream,
) -> Option<Result<datafusion::arrow::record_batch::RecordBatch>> {
    tokio::select! {
        item = stream.next() => return item,
        _ = tokio::time::sleep(settings.connect_timeout) => {}
    }
    if let Err(detail) = settings.probe().await {
        return Some(Err(DataFusionError::External(Box::new(settings.unreachable(detail)))));
    }
    stream.next().await
}

/// A DataFusion error from a source's stream, as a [`SourceError`] (kept as is when it already is one).
fn source_error(settings: &DatabaseSettings, error: DataFusionError) -> DataFusionError {
    if find::<SourceError>(&error).is_some() {
        return error;
    }
    DataFusionError::External(Box::new(classify(settings, &error)))
}

/// The first error of type `T` in `error`'s chain of sources.
fn find<'a, T: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(DataFusionError::External(inner)) = e.downcast_ref::<DataFusionError>() {
            current = Some(inner.as_ref());
            continue;
        }
        current = e.source();
    }
    None
}

/// What went wrong with a source, read from the drivers' own errors anywhere in the chain.
fn classify(settings: &DatabaseSettings, error: &(dyn std::error::Error + 'static)) -> SourceError {
    let name = settings.name.clone();
    let mut innermost = error;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let detail = innermost.to_string();
    if let Some(pg) = find::<tokio_postgres::Error>(error) {
        if let Some(db) = pg.as_db_error() {
            let code = db.code().code();
            let detail = db.message().to_string();
            return match code {
                c if c.starts_with("28") => SourceError::Credentials { name, detail },
                "57014" => SourceError::Timeout {
                    name,
                    seconds: settings.query_timeout.as_secs(),
                },
                c if c.starts_with("57P") || c.starts_with("08") => SourceError::ConnectionLost { name, detail },
                c => SourceError::Failed {
                    name,
                    detail,
                    sqlstate: Some(c.to_string()),
                },
            };
        }
        if pg.is_closed() {
            return SourceError::ConnectionLost { name, detail };
        }
    }
    if let Some(mysql_async::Error::Server(server)) = find::<mysql_async::Error>(error) {
        let detail = server.message.clone();
        return match server.code {
            1044 | 1045 | 1698 => SourceError::Credentials { name, detail },
            1317 | 3024 => SourceError::Timeout {
                name,
                seconds: settings.query_timeout.as_secs(),
            },
            _ => SourceError::Failed {
                name,
                detail,
                sqlstate: Some(server.state.clone()),
            },
        };
    }
    if let Some(io) = find::<std::io::Error>(error) {
        use std::io::ErrorKind::*;
        match io.kind() {
            ConnectionRefused | NotFound | AddrNotAvailable | TimedOut | HostUnreachable | NetworkUnreachable => {
                return settings.unreachable(io.to_string());
            }
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                return SourceError::ConnectionLost {
                    name,
                    detail: io.to_string(),
                };
            }
            _ => {}
        }
    }
    let mut lower = String::new();
    let mut link = Some(error);
    while let Some(e) = link {
        lower.push_str(&e.to_string().to_lowercase());
        lower.push('\n');
        link = e.source();
    }
    if lower.contains("timed out") || lower.contains("connection refused") || lower.contains("failed to connect") {
        return settings.unreachable(detail);
    }
    if lower.contains("password") || lower.contains("access denied") {
        return SourceError::Credentials { name, detail };
    }
    SourceError::Failed {
        name,
        detail,
        sqlstate: None,
    }
}
