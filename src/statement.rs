//! The statement core: every wire hands its statements here and gets outcomes back, so that routing, planning,
//! session commands, cursors, ASK and the result cache behave the same on every wire (and a rule written here holds
//! on all of them).
//!
//! A statement's life: text → [`Routed`] (the router) → [`Planned`] ([`Session::prepare`]: planned once, run any
//! number of times with parameters) → [`Outcome`] ([`Session::run`]): rows as a record-batch stream, rows for a
//! COPY, or a command tag with what the command changed. A wire only translates: messages into these calls, outcomes
//! into messages.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::sqlparser::ast::Statement;
use futures::{FutureExt, StreamExt};

use crate::engine::Engine;
use crate::error::Error;
use crate::pg_compat;
use crate::router::{self, CopyFormat, CursorCommand, ParameterStyle, RouteError, Routed, SessionCommand};
use crate::session::{Answer, Session, wire_name};

/// A statement ready to run: planned once (at Parse, GetFlightInfo or CreatePreparedStatement), run with its
/// parameters as often as the client executes it.
#[derive(Debug)]
pub enum Planned {
    Query(PlannedQuery),
    /// `COPY … TO STDOUT`: the query's rows, in a COPY format.
    Copy {
        plan: LogicalPlan,
        format: CopyFormat,
    },
    Command(SessionCommand),
    Cursor(CursorStep),
}

#[derive(Debug)]
pub struct PlannedQuery {
    /// Placeholders unbound; bound at each run.
    pub plan: LogicalPlan,
    /// The types of `$1…$n`, as the plan infers them (PostgreSQL's defaults where it has no opinion).
    pub parameter_types: Vec<DataType>,
    /// The PostgreSQL type (OID) a cast declares for a parameter where Arrow's type cannot tell it apart
    /// (`$1::oid[]` is a list of int32 to Arrow); `None` where the Arrow type says it all.
    pub declared_parameters: Vec<Option<u32>>,
    /// Sent to the client before the rows (the SQL an ASK ran).
    pub notice: Option<String>,
    /// The statement text, when it has no parameters and is not an ASK: the result cache remembers it, so the
    /// next time the same text is answered without planning ([`Session::execute`]).
    pub text: Option<String>,
}

/// A cursor statement, prepared: DECLARE's query planned like any query, FETCH with the cursor's columns (for
/// Describe).
#[derive(Debug)]
pub enum CursorStep {
    Declare {
        name: String,
        plan: LogicalPlan,
        hold: bool,
    },
    Fetch {
        name: String,
        count: Option<usize>,
        schema: SchemaRef,
    },
    Close(Option<String>),
}

/// What running a statement gave.
pub enum Outcome {
    /// Rows, streamed as the engine produces them.
    Rows {
        rows: SendableRecordBatchStream,
        /// The command tag PostgreSQL closes these rows with (`SELECT n`, `FETCH n`, `SHOW`).
        tag: RowsTag,
        /// For the client before the rows (the SQL an ASK ran).
        notice: Option<String>,
    },
    /// `COPY … TO STDOUT`: the rows, to encode in `format`.
    Copy {
        rows: SendableRecordBatchStream,
        format: CopyFormat,
    },
    /// A command that returns no rows.
    Done(Done),
}

/// How a wire closes a stream of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsTag {
    Select,
    Fetch,
    Show,
}

/// A command's outcome.
#[derive(Debug)]
pub struct Done {
    /// PostgreSQL's command tag (`SET`, `BEGIN`, `DECLARE CURSOR`, …).
    pub tag: &'static str,
    /// A parameter the command changed that clients are told about (ParameterStatus), with its new value.
    pub reported: Option<(String, String)>,
    /// What else the wire must do for the command.
    pub effect: Effect,
}

/// What a command changed beyond the session itself, which a wire may have to mirror in its own state.
#[derive(Debug)]
pub enum Effect {
    None,
    /// `BEGIN`: a transaction block is open.
    TransactionStarted,
    /// `COMMIT`, `ROLLBACK`: the block is closed.
    TransactionEnded,
    /// `DEALLOCATE name`, or `DEALLOCATE ALL` (`None`): the wire's prepared statements of that name are gone.
    StatementsDeallocated(Option<String>),
    /// `DISCARD ALL`: settings, cursors and every prepared statement and portal are gone.
    SessionDiscarded,
    /// `DECLARE`: a cursor of these columns is open (PostgreSQL also opens it as a portal of the same name).
    CursorDeclared {
        name: String,
        schema: SchemaRef,
    },
    /// `CLOSE name`, or `CLOSE ALL` (`None`).
    CursorClosed(Option<String>),
}

impl Done {
    fn tag(tag: &'static str) -> Self {
        Self {
            tag,
            reported: None,
            effect: Effect::None,
        }
    }

    fn with_effect(tag: &'static str, effect: Effect) -> Self {
        Self {
            tag,
            reported: None,
            effect,
        }
    }
}

impl Planned {
    /// The columns a run returns (what Describe reports); `None` for statements that return no rows.
    pub fn result_schema(&self) -> Option<SchemaRef> {
        match self {
            Planned::Query(query) => Some(Engine::result_schema(&query.plan)),
            Planned::Command(SessionCommand::Show(name)) => Some(show_schema(name)),
            Planned::Cursor(CursorStep::Fetch { schema, .. }) => Some(schema.clone()),
            Planned::Copy { .. } | Planned::Command(_) | Planned::Cursor(_) => None,
        }
    }

    /// The types of the statement's parameters (none but a query's).
    pub fn parameter_types(&self) -> &[DataType] {
        match self {
            Planned::Query(query) => &query.parameter_types,
            _ => &[],
        }
    }
}

impl Session {
    /// Route and plan one statement (`None` for an empty one). `style` says how the wire's clients write
    /// parameters.
    pub async fn prepare(&self, sql: &str, style: ParameterStyle) -> Result<Option<Planned>, Error> {
        let mut statements = router::split_statements(sql);
        let one = match statements.len() {
            0 => return Ok(None),
            1 => statements.remove(0),
            _ => {
                return Err(RouteError::Syntax(
                    "cannot insert multiple commands into a prepared statement: send one statement at a time".into(),
                )
                .into());
            }
        };
        let numbered = router::number_parameters(one, style)?;
        let routed = router::route_one(&numbered)?;
        guarded(self.plan_routed(routed, &numbered)).await.map(Some)
    }

    async fn plan_routed(&self, routed: Routed, sql: &str) -> Result<Planned, Error> {
        Ok(match routed {
            Routed::Command(command) => Planned::Command(command),
            Routed::CopyOut { query, format } => Planned::Copy {
                plan: self.plan(*query).await?,
                format,
            },
            Routed::Query(statement) => Planned::Query(self.plan_query(statement, None, Some(sql)).await?),
            Routed::Cursor(CursorCommand::Declare { name, query, hold }) => Planned::Cursor(CursorStep::Declare {
                name,
                plan: self.plan(*query).await?,
                hold,
            }),
            Routed::Cursor(CursorCommand::Fetch { name, count }) => Planned::Cursor(CursorStep::Fetch {
                schema: self.cursors.schema(&name).await?,
                name,
                count,
            }),
            Routed::Cursor(CursorCommand::Close(name)) => Planned::Cursor(CursorStep::Close(name)),
            // Translated when prepared, so Describe reports the answer's columns (JDBC and DBeaver prepare first).
            Routed::Ask(ask) => match self.ask(&ask).await? {
                Answer::Query { statement, notice } => Planned::Query(self.plan_query(statement, notice, None).await?),
                Answer::Reset => Planned::Command(SessionCommand::NothingToDo("RESET")),
            },
        })
    }

    /// `text`: the statement's own text, which the result cache may remember (never an ASK's: its text means more
    /// than its SQL, a follow-up and a NOTICE).
    async fn plan_query(
        &self,
        statement: Box<Statement>,
        notice: Option<String>,
        text: Option<&str>,
    ) -> Result<PlannedQuery, Error> {
        let declared = pg_compat::types::declared_parameter_types(&statement);
        let plan = self.plan(*statement).await?;
        let parameter_types = Engine::parameter_types(&plan)?;
        let declared_parameters = (0..parameter_types.len()).map(|i| declared.get(&i).copied()).collect();
        let text = text.filter(|_| parameter_types.is_empty()).map(str::to_string);
        Ok(PlannedQuery {
            plan,
            parameter_types,
            declared_parameters,
            notice,
            text,
        })
    }

    /// A statement's plan, its result columns typed as PostgreSQL would describe them.
    async fn plan(&self, statement: Statement) -> Result<LogicalPlan, Error> {
        let plan = Engine::plan(&self.ctx, statement).await?;
        Ok(pg_compat::types::with_oid_types(plan)?)
    }

    /// Run a planned statement with its parameters' values (cast to the types the plan expects).
    pub async fn run(&self, planned: &Planned, parameters: Vec<ScalarValue>) -> Result<Outcome, Error> {
        guarded(self.run_planned(planned, parameters)).await
    }

    async fn run_planned(&self, planned: &Planned, parameters: Vec<ScalarValue>) -> Result<Outcome, Error> {
        Ok(match planned {
            Planned::Query(query) => {
                let plan = match parameters.is_empty() {
                    true => query.plan.clone(),
                    false => Engine::bind(query.plan.clone(), parameters)?,
                };
                Outcome::Rows {
                    rows: guarded_rows(self.execute_plan(plan, query.text.as_deref()).await?),
                    tag: RowsTag::Select,
                    notice: query.notice.clone(),
                }
            }
            Planned::Copy { plan, format } => Outcome::Copy {
                rows: guarded_rows(self.execute_plan(plan.clone(), None).await?),
                format: format.clone(),
            },
            Planned::Command(command) => self.apply(command).await?,
            Planned::Cursor(step) => self.step_cursor(step).await?,
        })
    }

    /// Run one statement of a client's string with no parameters: a statement this user ran before is answered
    /// from the result cache before any parsing or planning (a dashboard's repeated query).
    pub async fn execute(&self, sql: &str, style: ParameterStyle) -> Result<Option<Outcome>, Error> {
        if let Some(rows) = self.cached(sql).await {
            return Ok(Some(Outcome::Rows {
                rows,
                tag: RowsTag::Select,
                notice: None,
            }));
        }
        match self.prepare(sql, style).await? {
            Some(planned) => self.run(&planned, vec![]).await.map(Some),
            None => Ok(None),
        }
    }

    /// A session command: the session changes, the wire is told what to mirror.
    async fn apply(&self, command: &SessionCommand) -> Result<Outcome, Error> {
        let done = match command {
            SessionCommand::Set { name, .. } if name == "transaction" => Done::tag("SET"),
            SessionCommand::Set { name, value } => Done {
                reported: self.set(name, value)?,
                ..Done::tag("SET")
            },
            SessionCommand::Reset(name) => Done {
                reported: self.reset(name)?,
                ..Done::tag("RESET")
            },
            SessionCommand::ResetAll => {
                self.reset_all();
                Done::tag("RESET")
            }
            SessionCommand::Show(name) => {
                let rows = self.show(name)?;
                return Ok(Outcome::Rows {
                    rows: show_rows(name, rows)?,
                    tag: RowsTag::Show,
                    notice: None,
                });
            }
            SessionCommand::NothingToDo(tag) => Done::tag(tag),
            SessionCommand::Begin => Done::with_effect("BEGIN", Effect::TransactionStarted),
            SessionCommand::Commit | SessionCommand::Rollback => {
                self.cursors.end_transaction().await;
                let tag = match command {
                    SessionCommand::Commit => "COMMIT",
                    _ => "ROLLBACK",
                };
                Done::with_effect(tag, Effect::TransactionEnded)
            }
            SessionCommand::DiscardAll => {
                self.reset_all();
                self.cursors.close_all().await;
                Done::with_effect("DISCARD ALL", Effect::SessionDiscarded)
            }
            SessionCommand::Deallocate(name) => Done::with_effect(
                if name.is_some() { "DEALLOCATE" } else { "DEALLOCATE ALL" },
                Effect::StatementsDeallocated(name.clone()),
            ),
        };
        Ok(Outcome::Done(done))
    }

    /// DECLARE starts the query, FETCH hands out its next rows as they are read, CLOSE drops it.
    async fn step_cursor(&self, step: &CursorStep) -> Result<Outcome, Error> {
        Ok(match step {
            CursorStep::Declare { name, plan, hold } => {
                let rows = guarded_rows(self.execute_plan(plan.clone(), None).await?);
                let schema = rows.schema();
                self.cursors.declare(name, rows, *hold).await?;
                Outcome::Done(Done::with_effect(
                    "DECLARE CURSOR",
                    Effect::CursorDeclared {
                        name: name.clone(),
                        schema,
                    },
                ))
            }
            CursorStep::Fetch { name, count, .. } => Outcome::Rows {
                rows: self.cursors.fetch(name, *count).await?,
                tag: RowsTag::Fetch,
                notice: None,
            },
            CursorStep::Close(name) => {
                match name {
                    Some(name) => self.cursors.close(name).await?,
                    None => self.cursors.close_all().await,
                }
                let tag = if name.is_some() {
                    "CLOSE CURSOR"
                } else {
                    "CLOSE CURSOR ALL"
                };
                Outcome::Done(Done::with_effect(tag, Effect::CursorClosed(name.clone())))
            }
        })
    }
}

/// `SHOW name`: one column named as PostgreSQL names it; `SHOW ALL`: name, setting, description.
fn show_schema(name: &str) -> SchemaRef {
    let columns: Vec<String> = match name {
        "all" => ["name", "setting", "description"].map(String::from).to_vec(),
        _ => vec![wire_name(name)],
    };
    Arc::new(Schema::new(
        columns
            .into_iter()
            .map(|c| Field::new(c, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ))
}

fn show_rows(name: &str, rows: Vec<(String, String)>) -> Result<SendableRecordBatchStream, Error> {
    let schema = show_schema(name);
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    let (names, settings): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
    let columns = match name {
        "all" => vec![
            text(names),
            text(settings.clone()),
            text(vec![String::new(); settings.len()]),
        ],
        _ => vec![text(settings)],
    };
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(DataFusionError::from)?;
    Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
}

/// A bug must cost one statement, never the connection: a panic while preparing or running a statement becomes an
/// error (SQLSTATE XX000) on that statement, and the connection carries on.
pub async fn guarded<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(Error::Bug(panic_message(&panic))))
}

/// The same guard for a result's stream, polled by the wire long after the statement was started: a panic while
/// computing or encoding a batch ends the stream with an error.
pub fn guarded_rows(rows: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let schema = rows.schema();
    let guarded = AssertUnwindSafe(rows).catch_unwind().scan(false, |failed, item| {
        let item = match item {
            _ if *failed => return std::future::ready(None),
            Ok(batch) => batch,
            Err(panic) => {
                *failed = true;
                Err(DataFusionError::External(Box::new(Error::Bug(panic_message(&panic)))))
            }
        };
        std::future::ready(Some(item))
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, guarded))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    tracing::error!(panic = %what, "a statement panicked; the connection carries on");
    what
}
