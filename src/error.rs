//! The errors a client can get, each with its SQLSTATE. Every module has its own error type; they meet here and are
//! mapped to SQLSTATE once, so every wire protocol reports the same code and message for the same problem.

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

use crate::cursor::CursorError;
use crate::distributed::WorkerLost;
use crate::nl::NlError;
use crate::pg_compat::DatetimeFormatError;
use crate::router::RouteError;
use crate::semantic::SemanticError;
use crate::source::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error("{}", query_message(.0))]
    Query(#[from] DataFusionError),
    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),
    #[error("parameter \"{0}\" cannot be changed")]
    ReadOnlySetting(String),
    #[error("invalid value for parameter \"{name}\": \"{value}\"; {hint}")]
    InvalidSetting {
        name: String,
        value: String,
        hint: &'static str,
    },
    /// A bug (a panic) stopped the statement; the connection carries on.
    #[error(
        "internal error in semgate: {0}; the statement was stopped and the connection is still usable (please report this)"
    )]
    Bug(String),
    #[error("password authentication failed for user \"{0}\"")]
    PasswordFailed(String),
    /// A `cert_identity` user's client certificate is missing or names someone else.
    #[error(
        "certificate authentication failed for user \"{user}\": {why}; connect over TLS with a client certificate whose CN is the user's cert_identity"
    )]
    CertificateFailed { user: String, why: String },
    #[error("database \"{asked}\" does not exist; connect to database \"{served}\"")]
    NoSuchDatabase { asked: String, served: String },
    /// Credentials missing, malformed or expired; the message says what to send instead.
    #[error("{0}")]
    NoCredentials(String),
    #[error(transparent)]
    Ask(#[from] NlError),
    #[error("{}", cursor_message(.0))]
    Cursor(#[from] CursorError),
    /// A reload changed a prepared statement's columns or parameters (what the client was told at Describe).
    #[error("cached plan must not change result type: a reload changed this statement's columns; prepare it again")]
    PlanChanged,
    /// The user has as many sessions open as they may.
    #[error("too many connections for role \"{user}\" (at most {limit}): close one, or raise max_connections")]
    TooManyConnections { user: String, limit: usize },
    /// A reload removed the session's user: the session ends.
    #[error("terminating connection: user \"{0}\" was removed from the configuration")]
    UserRemoved(String),
}

/// Why a running statement stopped early; carried inside the engine's error so every protocol maps it alike.
#[derive(Debug, thiserror::Error)]
pub enum Interrupted {
    #[error("canceling statement due to user request")]
    Canceled,
    #[error("canceling statement due to statement timeout")]
    Timeout,
}

impl Error {
    /// A semantic-layer error outside a query (opening a session on a restricted model), reported like one inside.
    pub fn semantic(error: SemanticError) -> Self {
        Error::Query(DataFusionError::External(Box::new(error)))
    }

    /// The SQLSTATE code PostgreSQL would send for this error.
    pub fn sqlstate(&self) -> &str {
        match self {
            Error::Route(RouteError::Syntax(_)) => "42601",
            Error::Route(RouteError::ReadOnly(_)) => "25006",
            Error::Route(RouteError::Unsupported(_)) => "0A000",
            Error::Query(e) => query_sqlstate(e),
            Error::UnknownSetting(_) => "42704",
            Error::ReadOnlySetting(_) => "55P02",
            Error::InvalidSetting { .. } => "22023",
            Error::Bug(_) => "XX000",
            Error::PasswordFailed(_) => "28P01",
            Error::CertificateFailed { .. } => "28000",
            Error::NoSuchDatabase { .. } => "3D000",
            Error::NoCredentials(_) => "28000",
            Error::Ask(NlError::Empty) => "42601",
            Error::Ask(NlError::NotUnderstood(_) | NlError::Ambiguous(_)) => "42703",
            Error::Ask(NlError::Values(e)) => query_sqlstate(e),
            Error::Ask(NlError::Llm(_)) => "58000",
            Error::Cursor(CursorError::Exists(_)) => "42P03",
            Error::Cursor(CursorError::Missing(_)) => "34000",
            Error::Cursor(CursorError::Query(e)) => query_sqlstate(e),
            Error::PlanChanged => "0A000",
            Error::UserRemoved(_) => "57P01",
            Error::TooManyConnections { .. } => "53300",
        }
    }

    /// Whether the session cannot go on after this error (the wire closes the connection).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::UserRemoved(_)
                | Error::TooManyConnections { .. }
                | Error::PasswordFailed(_)
                | Error::CertificateFailed { .. }
                | Error::NoSuchDatabase { .. }
                | Error::NoCredentials(_)
        )
    }
}

/// The innermost error, through contexts, shares and wrappers.
fn root(error: &DataFusionError) -> &DataFusionError {
    match error {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => root(inner),
        DataFusionError::Shared(inner) => root(inner),
        DataFusionError::External(inner) => match inner.downcast_ref::<DataFusionError>() {
            Some(inner) => root(inner),
            None => error,
        },
        DataFusionError::Collection(errors) if !errors.is_empty() => root(&errors[0]),
        other => other,
    }
}

/// The module error of type `T` the engine error carries, if it carries one.
fn external<T: std::error::Error + 'static>(error: &DataFusionError) -> Option<&T> {
    match root(error) {
        DataFusionError::External(inner) => inner.downcast_ref::<T>(),
        _ => None,
    }
}

/// The SQLSTATE of an engine error (also one met while streaming rows).
pub fn query_sqlstate(error: &DataFusionError) -> &str {
    if let DataFusionError::External(inner) = root(error)
        && inner.is::<Interrupted>()
    {
        return "57014";
    }
    if let Some(source) = external::<SourceError>(error) {
        return source.sqlstate();
    }
    if external::<WorkerLost>(error).is_some() {
        return "58000";
    }
    if let Some(datetime) = external::<DatetimeFormatError>(error) {
        return datetime.sqlstate();
    }
    if let Some(semantic) = external::<SemanticError>(error) {
        return match semantic {
            SemanticError::UnknownColumn { .. } => "42703",
            SemanticError::MeasureMisplaced { .. } | SemanticError::DimensionNotGrouped(_) => "42803",
            SemanticError::Unsupported(_) => "0A000",
            SemanticError::PermissionDenied(_) => "42501",
            SemanticError::Invalid(_) => "42000",
            SemanticError::Plan(inner) => query_sqlstate(inner),
        };
    }
    match root(error) {
        DataFusionError::SQL(..) => "42601",
        DataFusionError::SchemaError(schema, _) => match schema.as_ref() {
            SchemaError::FieldNotFound { .. } => "42703",
            SchemaError::AmbiguousReference { .. } => "42702",
            _ => "42000",
        },
        DataFusionError::Plan(message) => {
            let lower = message.to_lowercase();
            if lower.contains("table") && lower.contains("not found") {
                "42P01"
            } else if lower.contains("invalid function") || lower.contains("no function matches") {
                "42883"
            } else if lower.contains("placeholder") || lower.contains("parameter") {
                "42P02"
            } else {
                "42000"
            }
        }
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            datafusion::arrow::error::ArrowError::DivideByZero => "22012",
            datafusion::arrow::error::ArrowError::CastError(_)
            | datafusion::arrow::error::ArrowError::ParseError(_) => "22P02",
            datafusion::arrow::error::ArrowError::ArithmeticOverflow(_) => "22003",
            _ => "XX000",
        },
        DataFusionError::Execution(message) if message.to_lowercase().contains("divide by zero") => "22012",
        DataFusionError::Execution(message) if message.contains("cancel") => "57014",
        _ => "XX000",
    }
}

/// DataFusion's message without its backtrace and without the error-kind prefix.
fn cursor_message(error: &CursorError) -> String {
    match error {
        CursorError::Query(e) => query_message(e),
        other => other.to_string(),
    }
}

fn query_message(error: &DataFusionError) -> String {
    if let DataFusionError::External(inner) = root(error)
        && let Some(interrupted) = inner.downcast_ref::<Interrupted>()
    {
        return interrupted.to_string();
    }
    if let Some(semantic) = external::<SemanticError>(error) {
        return semantic.to_string();
    }
    if let Some(source) = external::<SourceError>(error) {
        return source.to_string();
    }
    if let Some(lost) = external::<WorkerLost>(error) {
        return lost.to_string();
    }
    let message = root(error).message().to_string();
    let message = message
        .split("\n\nbacktrace")
        .next()
        .unwrap_or(&message)
        .trim()
        .to_string();
    if matches!(root(error), DataFusionError::ResourcesExhausted(_)) {
        return format!(
            "{message}; the query needs more memory than the gateway's memory_limit leaves it (shared by every query): \
             ask for fewer groups or rows, or raise memory_limit"
        );
    }
    if matches!(root(error), DataFusionError::Plan(m) if m.to_lowercase().contains("table") && m.contains("not found"))
    {
        return format!("{message}; semantic views are listed by SELECT table_name FROM information_schema.tables");
    }
    message
}
