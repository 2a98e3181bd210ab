//! A client session: who is connected, their DataFusion context and their settings (SET / SHOW / RESET).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use tokio_util::sync::CancellationToken;

use crate::cache::{CACHE_SETTING, ResultCache};
use crate::cursor::Cursors;
use crate::engine::{Engine, SERVER_VERSION};
use crate::error::Error;
use crate::nl::query::literal;
use crate::nl::{Asker, SemanticQuery};
use crate::pg_compat::functions::Settings;
use crate::router::{self, Ask, RouteError, Routed};
use crate::semantic::SemanticModel;

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

/// One version of the model, served: its engine, its result cache and its ASK resolver. Replaced whole when the
/// model is reloaded; a session keeps the one it started with, new sessions get the new one.
pub struct Backend {
    /// The model this backend serves (its views, and those that wait for a database).
    pub model: Arc<SemanticModel>,
    pub engine: Arc<Engine>,
    /// Answers computed under this model version only.
    pub cache: Arc<ResultCache>,
    pub asker: Arc<Asker>,
}

/// The backend new sessions start on; swapped by a reload.
pub type CurrentBackend = Arc<ArcSwap<Backend>>;

pub struct Session {
    /// The authenticated user; what `current_user` returns and, later, what policies key on.
    pub user: String,
    /// This session's DataFusion context (shared catalog, per-user functions).
    pub ctx: SessionContext,
    /// Current parameter values by lower-case name; a Mutex because protocol handlers share the session by `Arc`,
    /// shared with the context's `current_setting`/`set_config`.
    settings: Settings,
    /// Cancels the running statement (a client's CancelRequest); replaced by a fresh token for each statement.
    running: Mutex<CancellationToken>,
    /// Translates ASK questions; shared by every session.
    asker: Arc<Asker>,
    /// Answers of semantic queries, shared by every session.
    cache: Arc<ResultCache>,
    /// The last question asked, which a follow-up (`ASK now by month`) refines; `ASK RESET` clears it.
    last_question: Mutex<Option<SemanticQuery>>,
    /// Results being read a FETCH at a time (psqlODBC's DECLARE/FETCH).
    pub cursors: Cursors,
}

/// What an ASK statement became.
pub enum Answer {
    /// Semantic SQL to run like any query (EXPLAIN ASK: a VALUES list describing the reading); `notice` tells the
    /// client what ran.
    Query {
        statement: Box<Statement>,
        notice: Option<String>,
    },
    /// `ASK RESET` done.
    Reset,
}

/// The parameters a SET changed that the client must be told about (ParameterStatus).
pub type Reported = Option<(String, String)>;

impl Session {
    pub fn new(backend: &Backend, user: &str) -> Self {
        let (engine, asker) = (&backend.engine, backend.asker.clone());
        let mut settings: BTreeMap<String, String> = DEFAULTS
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect();
        settings.insert("session_authorization".into(), user.to_string());
        let settings: Settings = Arc::new(Mutex::new(settings));
        let ctx = engine.session_context(user);
        crate::pg_compat::functions::register_session(&ctx, settings.clone());
        Self {
            user: user.to_string(),
            ctx,
            settings,
            running: Mutex::new(CancellationToken::new()),
            asker,
            cache: backend.cache.clone(),
            last_question: Mutex::new(None),
            cursors: Cursors::default(),
        }
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
        let translation = self.asker.translate(text, previous.as_ref(), &self.user).await?;
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
        Ok(Answer::Query { statement, notice })
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
        let default = DEFAULTS
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, v, _)| v.to_string());
        let mut settings = self.settings.lock().expect("settings lock");
        match default {
            Some(value) => {
                settings.insert(name.clone(), value.clone());
                Ok(is_reported(&name).then(|| (wire_name(&name), value)))
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
    /// unless `SET semgate.cache = off`. `text`: the statement it was planned from, when it has no parameters, so
    /// that [`Session::cached`] finds its answer next time.
    pub(crate) async fn execute_plan(
        &self,
        plan: LogicalPlan,
        text: Option<&str>,
    ) -> Result<SendableRecordBatchStream, Error> {
        let (cancel, timeout) = (self.begin_statement(), self.statement_timeout());
        let rows = if self.cache_on() {
            self.cache
                .execute(&self.ctx, plan, &self.user, text, cancel, timeout)
                .await?
        } else {
            Engine::execute(&self.ctx, plan, cancel, timeout).await?
        };
        Ok(rows)
    }

    /// The cached answer of a statement this user ran before, without planning it again.
    pub async fn cached(&self, text: &str) -> Option<SendableRecordBatchStream> {
        if !self.cache_on() {
            return None;
        }
        self.cache.cached(text, &self.user).await
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
        let mut settings = self.settings.lock().expect("settings lock");
        let user = self.user.clone();
        *settings = DEFAULTS
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect();
        settings.insert("session_authorization".into(), user);
    }
}

/// A duration setting as PostgreSQL reads it (`statement_timeout`): milliseconds, or a number with a unit (us, ms,
/// s, min, h, d); 0 is off (`None`). The error is a hint for the client.
fn duration_setting(value: &str) -> Result<Option<Duration>, &'static str> {
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
