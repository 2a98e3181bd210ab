//! The audit trail: one JSON line per statement and per failed login, written by the statement core for every wire
//! (to a file, and/or to the log under the `semgate::audit` target). README's "Audit trail" documents the fields.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use serde::Serialize;

use crate::semantic::provider::SemanticViewTable;

/// Where audit lines go, from the configuration's `audit` section.
#[derive(Debug, Clone, Default)]
pub struct AuditConfig {
    /// A file that lines are appended to (rotation is the platform's: reopen on SIGHUP is not needed, since each
    /// line is one append).
    pub path: Option<PathBuf>,
    /// Also emit each line as a log event (target `semgate::audit`).
    pub log: bool,
    /// Replace literals in statements by `?` (values can be personal data).
    pub redact_literals: bool,
}

/// Writes audit lines; one per gateway, shared by every session.
pub struct AuditLog {
    config: AuditConfig,
    /// The open file, if any; a Mutex so that lines never interleave.
    file: Option<Mutex<File>>,
}

/// The wire a session came in through, and from where.
#[derive(Debug, Clone)]
pub struct Client {
    pub protocol: &'static str,
    pub address: Option<SocketAddr>,
    pub tls: bool,
}

/// One statement's line.
#[derive(Debug, Serialize)]
pub struct StatementRecord {
    pub time: String,
    pub session: String,
    pub user: String,
    pub groups: Vec<String>,
    pub client_addr: Option<String>,
    pub protocol: &'static str,
    pub tls: bool,
    pub statement: String,
    /// Bound parameter values (`?` each when literals are redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
    /// query, ask, copy, cursor, command or catalog.
    pub kind: &'static str,
    pub views: Vec<ViewRead>,
    pub row_filters: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<AskRecord>,
    pub rows: u64,
    pub bytes: u64,
    pub duration_ms: f64,
    /// hit, miss, or none (not cacheable, or the cache is off).
    pub cache: &'static str,
    /// `00000` on success.
    pub sqlstate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StatementRecord {
    pub fn failed(&mut self, error: &crate::error::Error) {
        self.failed_with(error.sqlstate(), error.to_string());
    }

    pub fn failed_with(&mut self, sqlstate: &str, message: String) {
        self.sqlstate = sqlstate.to_string();
        self.error = Some(message);
    }
}

/// A semantic view a statement read, and which of its columns.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ViewRead {
    pub view: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AskRecord {
    pub question: String,
    pub sql: String,
}

#[derive(Serialize)]
struct LoginRecord<'a> {
    time: String,
    event: &'static str,
    user: &'a str,
    client_addr: Option<String>,
    protocol: &'static str,
    tls: bool,
    reason: &'a str,
    sqlstate: &'a str,
}

impl AuditLog {
    pub fn open(config: AuditConfig) -> std::io::Result<Self> {
        let file = match &config.path {
            Some(path) => Some(Mutex::new(OpenOptions::new().create(true).append(true).open(path)?)),
            None => None,
        };
        Ok(Self { config, file })
    }

    pub fn redact_literals(&self) -> bool {
        self.config.redact_literals
    }

    pub fn enabled(&self) -> bool {
        self.file.is_some() || self.config.log
    }

    pub fn statement(&self, record: &StatementRecord) {
        if self.enabled() {
            self.write(record);
        }
    }

    /// A login that did not succeed: unknown user, wrong password, no credentials.
    pub fn login_failed(&self, user: &str, client: &Client, reason: &str, sqlstate: &str) {
        if !self.enabled() {
            return;
        }
        self.write(&LoginRecord {
            time: now(),
            event: "login_failed",
            user,
            client_addr: client.address.map(|a| a.to_string()),
            protocol: client.protocol,
            tls: client.tls,
            reason,
            sqlstate,
        });
    }

    fn write(&self, record: &impl Serialize) {
        let line = match serde_json::to_string(record) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode an audit line");
                return;
            }
        };
        if self.config.log {
            tracing::info!(target: "semgate::audit", "{line}");
        }
        if let Some(file) = &self.file {
            let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Err(e) = writeln!(file, "{line}") {
                tracing::error!(error = %e, "cannot write the audit file");
            }
        }
    }
}

/// The current time as RFC 3339 with microseconds, UTC.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// `sql` with its literals (strings, numbers) replaced by `?`; text that does not tokenize is withheld whole.
pub fn redact(sql: &str) -> String {
    match Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() {
        Ok(tokens) => tokens
            .into_iter()
            .map(|token| match token {
                Token::Number(..)
                | Token::SingleQuotedString(_)
                | Token::DoubleQuotedByteStringLiteral(_)
                | Token::SingleQuotedByteStringLiteral(_)
                | Token::NationalStringLiteral(_)
                | Token::EscapedStringLiteral(_)
                | Token::UnicodeStringLiteral(_)
                | Token::HexStringLiteral(_)
                | Token::DollarQuotedString(_) => "?".to_string(),
                other => other.to_string(),
            })
            .collect(),
        Err(_) => "(withheld: does not tokenize)".to_string(),
    }
}

/// What a statement read: semantic views with their columns, and the row filters their policies added.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    pub views: Vec<ViewRead>,
    pub row_filters: Vec<String>,
}

/// The semantic views a plan reads, with the columns it reads of each, and the row filters their policies add.
pub fn views_read(plan: &LogicalPlan) -> Reads {
    let mut views: Vec<ViewRead> = Vec::new();
    let mut filters = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(table) = provider.downcast_ref::<SemanticViewTable>()
        {
            let fields = table.view.schema.fields();
            let members: Vec<String> = match &scan.projection {
                Some(indices) => indices
                    .iter()
                    .filter_map(|&i| fields.get(i).map(|f| f.name().clone()))
                    .collect(),
                None => fields.iter().map(|f| f.name().clone()).collect(),
            };
            match views.iter_mut().find(|v| v.view == table.view.name) {
                Some(read) => {
                    for member in members {
                        if !read.members.contains(&member) {
                            read.members.push(member);
                        }
                    }
                }
                None => {
                    views.push(ViewRead {
                        view: table.view.name.clone(),
                        members,
                    });
                    if let Some(rows) = &table.view.row_filter {
                        filters.push(format!("{}: {}", table.view.name, rows.condition));
                    }
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    Reads {
        views,
        row_filters: filters,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn literals_are_redacted() {
        assert_eq!(
            super::redact("SELECT revenue FROM sales WHERE nation = 'FRANCE' AND quantity > 10"),
            "SELECT revenue FROM sales WHERE nation = ? AND quantity > ?"
        );
        assert_eq!(super::redact("SELECT $1, $$x$$"), "SELECT $1, ?");
    }
}
