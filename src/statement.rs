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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::sqlparser::ast::Statement;
use futures::{FutureExt, StreamExt};

use crate::audit::{self, AskRecord, AuditLog, Reads, StatementRecord};
use crate::cache::{CacheUse, Memo};
use crate::engine::Engine;
use crate::error::Error;
use crate::metrics::METRICS;
use crate::pg_compat;
use crate::router::{self, CopyFormat, CursorCommand, ParameterStyle, RouteError, Routed, SessionCommand};
use crate::session::{Answer, Session, wire_name};

/// A statement ready to run: planned once (at Parse, GetFlightInfo or CreatePreparedStatement), run with its
/// parameters as often as the client executes it.
#[derive(Debug)]
pub struct Planned {
    pub step: Step,
    /// The statement as the client sent it: what the audit trail records.
    pub text: String,
    /// An ASK's question and the SQL it became.
    pub asked: Option<AskRecord>,
    /// The deployment generation it was planned in: after a reload its plan is made again from `text`, so that
    /// policies narrowed since apply.
    generation: u64,
}

/// What running a planned statement does.
#[derive(Debug)]
pub enum Step {
    /// Shared with the sessions that prepare the same text ([`crate::plan_cache`]).
    Query(Arc<PlannedQuery>),
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
    text: Option<String>,
    /// Unique in the process: with the parameters' values, what the result cache remembers a run by ([`Memo`]).
    id: u64,
    /// The rows of a statement that reads nothing and calls only immutable functions (`SELECT 1`, a driver's
    /// probe): computed once when planned, sent as they are at every run.
    constant: Option<Vec<RecordBatch>>,
}

impl PlannedQuery {
    /// What the result cache knows a run of this plan with `parameters` by.
    fn memo(&self, parameters: &[ScalarValue]) -> Memo {
        match &self.text {
            Some(text) => Memo::Text(text.clone()),
            None => Memo::Bound {
                plan: self.id,
                parameters: parameters.to_vec(),
            },
        }
    }
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
    /// `FETCH ALL FROM name`, for a cursor of these columns (PostgreSQL also opens a cursor as a portal of its name,
    /// which fetches the rest).
    pub fn fetch_all(name: &str, schema: SchemaRef) -> Self {
        Self {
            step: Step::Cursor(CursorStep::Fetch {
                name: name.to_string(),
                count: None,
                schema,
            }),
            text: format!("FETCH ALL FROM {name}"),
            asked: None,
            generation: 0,
        }
    }

    /// The columns a run returns (what Describe reports); `None` for statements that return no rows.
    pub fn result_schema(&self) -> Option<SchemaRef> {
        match &self.step {
            Step::Query(query) => Some(Engine::result_schema(&query.plan)),
            Step::Command(SessionCommand::Show(name)) => Some(show_schema(name)),
            Step::Cursor(CursorStep::Fetch { schema, .. }) => Some(schema.clone()),
            Step::Copy { .. } | Step::Command(_) | Step::Cursor(_) => None,
        }
    }

    /// The types of the statement's parameters (none but a query's).
    pub fn parameter_types(&self) -> &[DataType] {
        match &self.step {
            Step::Query(query) => &query.parameter_types,
            _ => &[],
        }
    }

    /// What the audit trail calls this statement.
    fn kind(&self) -> &'static str {
        match &self.step {
            _ if self.asked.is_some() => "ask",
            Step::Query(query) if Engine::reads_only_catalogs(&query.plan) => "catalog",
            Step::Query(_) => "query",
            Step::Copy { .. } => "copy",
            Step::Command(_) => "command",
            Step::Cursor(_) => "cursor",
        }
    }

    /// The plan that reads data, if the statement has one.
    fn plan(&self) -> Option<&LogicalPlan> {
        match &self.step {
            Step::Query(query) => Some(&query.plan),
            Step::Copy { plan, .. } | Step::Cursor(CursorStep::Declare { plan, .. }) => Some(plan),
            _ => None,
        }
    }
}

/// What the audit trail calls a routed statement (for one that fails before it is planned).
fn routed_kind(routed: &Routed) -> &'static str {
    match routed {
        Routed::Query(_) => "query",
        Routed::CopyOut { .. } => "copy",
        Routed::Command(_) => "command",
        Routed::Cursor(_) => "cursor",
        Routed::Ask(_) => "ask",
    }
}

impl Session {
    /// Route and plan one statement (`None` for an empty one). `style` says how the wire's clients write
    /// parameters. A statement that fails here leaves its audit line.
    pub async fn prepare(&self, sql: &str, style: ParameterStyle) -> Result<Option<Planned>, Error> {
        let started = Instant::now();
        let mut kind = "query";
        let prepared = async {
            self.refresh()?;
            let backend = self.backend();
            if let Some(query) = backend.plans.get(&self.user, style, sql) {
                return Ok(Some(Planned {
                    step: Step::Query(query),
                    text: router::number_parameters(sql, style)?.into_owned(),
                    asked: None,
                    generation: backend.generation,
                }));
            }
            let mut statements = router::split_statements(sql);
            let one = match statements.len() {
                0 => return Ok(None),
                1 => statements.remove(0),
                _ => {
                    return Err(RouteError::Syntax(
                        "cannot insert multiple commands into a prepared statement: send one statement at a time"
                            .into(),
                    )
                    .into());
                }
            };
            let numbered = router::number_parameters(one, style)?;
            let routed = router::route_one(&numbered)?;
            kind = routed_kind(&routed);
            let planned = guarded(self.plan_routed(routed, &numbered)).await?;
            if let (Step::Query(query), None) = (&planned.step, &planned.asked) {
                backend.plans.keep(&self.user, style, sql, query);
            }
            Ok(Some(planned))
        }
        .await;
        if let Err(error) = &prepared {
            let mut record = self.audit_record(sql, kind, None, None, &[]);
            record.failed(error);
            record.duration_ms = audit::millis(started.elapsed());
            finished(&self.audit, &record);
        }
        prepared
    }

    async fn plan_routed(&self, routed: Routed, sql: &str) -> Result<Planned, Error> {
        let mut asked = None;
        let step = match routed {
            Routed::Command(command) => Step::Command(command),
            Routed::CopyOut { query, format } => Step::Copy {
                plan: self.plan(*query).await?,
                format,
            },
            Routed::Query(statement) => Step::Query(Arc::new(self.plan_query(statement, None, Some(sql)).await?)),
            Routed::Cursor(CursorCommand::Declare { name, query, hold }) => Step::Cursor(CursorStep::Declare {
                name,
                plan: self.plan(*query).await?,
                hold,
            }),
            Routed::Cursor(CursorCommand::Fetch { name, count }) => Step::Cursor(CursorStep::Fetch {
                schema: self.cursors.schema(&name).await?,
                name,
                count,
            }),
            Routed::Cursor(CursorCommand::Close(name)) => Step::Cursor(CursorStep::Close(name)),
            // Translated when prepared, so Describe reports the answer's columns (JDBC and DBeaver prepare first).
            Routed::Ask(ask) => match self.ask(&ask).await? {
                Answer::Query {
                    statement,
                    notice,
                    asked: question,
                } => {
                    asked = Some(question);
                    Step::Query(Arc::new(self.plan_query(statement, notice, None).await?))
                }
                Answer::Reset => Step::Command(SessionCommand::NothingToDo("RESET")),
            },
        };
        Ok(Planned {
            step,
            text: sql.to_string(),
            asked,
            generation: self.generation(),
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
        let constant = match computes_constants(&plan) {
            true => Some(self.constant_rows(&plan).await?),
            false => None,
        };
        static PLANS: AtomicU64 = AtomicU64::new(0);
        Ok(PlannedQuery {
            plan,
            parameter_types,
            declared_parameters,
            notice,
            text,
            id: PLANS.fetch_add(1, Ordering::Relaxed),
            constant,
        })
    }

    /// The rows of a plan of constants, computed now.
    async fn constant_rows(&self, plan: &LogicalPlan) -> Result<Vec<RecordBatch>, Error> {
        let rows = Engine::execute(&self.ctx(), plan.clone(), self.begin_statement(), None).await?;
        Ok(rows.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>()?)
    }

    /// A statement's plan, its result columns typed as PostgreSQL would describe them.
    async fn plan(&self, statement: Statement) -> Result<LogicalPlan, Error> {
        let plan = Engine::plan(&self.ctx(), statement).await?;
        Ok(pg_compat::types::with_oid_types(plan)?)
    }

    /// Run a planned statement with its parameters' values (cast to the types the plan expects); it leaves its
    /// audit line when it fails, when a command is done, or when its rows have been read (or dropped).
    pub async fn run(&self, planned: &Planned, parameters: Vec<ScalarValue>) -> Result<Outcome, Error> {
        let started = Instant::now();
        // What a statement read is the audit trail's alone (the metrics count statements, not views).
        let reads = planned.plan().filter(|_| self.audit.enabled()).map(audit::views_read);
        let record = self.audit_record(&planned.text, planned.kind(), reads, planned.asked.clone(), &parameters);
        let ran = match self.replanned(planned).await {
            Ok(Some(fresh)) => guarded(self.run_planned(&fresh, parameters)).await,
            Ok(None) => guarded(self.run_planned(planned, parameters)).await,
            Err(error) => Err(error),
        };
        self.audited(record, started, ran)
    }

    /// `planned` made again when a reload changed what this session may read since it was planned (`None`: still
    /// valid). Its columns and parameters must stay what the client was told, as PostgreSQL requires of a cached plan.
    async fn replanned(&self, planned: &Planned) -> Result<Option<Planned>, Error> {
        let generation = self.refresh()?;
        if planned.generation == generation || planned.plan().is_none() {
            return Ok(None);
        }
        let routed = router::route_one(&planned.text)?;
        let fresh = guarded(self.plan_routed(routed, &planned.text)).await?;
        if fresh.result_schema() != planned.result_schema() || fresh.parameter_types() != planned.parameter_types() {
            return Err(Error::PlanChanged);
        }
        Ok(Some(fresh))
    }

    async fn run_planned(&self, planned: &Planned, parameters: Vec<ScalarValue>) -> Result<(Outcome, CacheUse), Error> {
        Ok(match &planned.step {
            Step::Query(query) => {
                let memo = query.memo(&parameters);
                let (rows, cache) = match &query.constant {
                    Some(batches) => (rows_of(batches, Engine::result_schema(&query.plan))?, CacheUse::None),
                    None => match self.cached(&memo).await {
                        Some(rows) => (rows, CacheUse::Hit),
                        None => {
                            let plan = match parameters.is_empty() {
                                true => query.plan.clone(),
                                false => Engine::bind(query.plan.clone(), parameters)?,
                            };
                            self.execute_plan(plan, Some(memo)).await?
                        }
                    },
                };
                let rows = Outcome::Rows {
                    rows: guarded_rows(rows),
                    tag: RowsTag::Select,
                    notice: query.notice.clone(),
                };
                (rows, cache)
            }
            Step::Copy { plan, format } => {
                let (rows, cache) = self.execute_plan(plan.clone(), None).await?;
                let copy = Outcome::Copy {
                    rows: guarded_rows(rows),
                    format: format.clone(),
                };
                (copy, cache)
            }
            Step::Command(command) => (self.apply(command).await?, CacheUse::None),
            Step::Cursor(step) => (self.step_cursor(step).await?, CacheUse::None),
        })
    }

    /// Run one statement of a client's string with no parameters: a statement this session's policy context ran
    /// before is answered from the result cache before any parsing or planning (a dashboard's repeated query).
    pub async fn execute(&self, sql: &str, style: ParameterStyle) -> Result<Option<Outcome>, Error> {
        let started = Instant::now();
        self.refresh()?;
        if let Some(rows) = self.cached(&Memo::Text(sql.to_string())).await {
            let outcome = Outcome::Rows {
                rows,
                tag: RowsTag::Select,
                notice: None,
            };
            let reads = self.audit.enabled().then(|| self.remembered_reads(sql)).flatten();
            let record = self.audit_record(sql, "query", reads, None, &[]);
            return self.audited(record, started, Ok((outcome, CacheUse::Hit))).map(Some);
        }
        match self.prepare(sql, style).await? {
            Some(planned) => self.run(&planned, vec![]).await.map(Some),
            None => Ok(None),
        }
    }

    /// A statement's audit line before it runs.
    fn audit_record(
        &self,
        text: &str,
        kind: &'static str,
        reads: Option<Reads>,
        asked: Option<AskRecord>,
        parameters: &[ScalarValue],
    ) -> StatementRecord {
        let redact = self.audit.redact_literals();
        if let Some(reads) = &reads {
            self.remember_reads(text, reads);
        }
        let Reads { views, row_filters } = reads.unwrap_or_default();
        StatementRecord {
            time: audit::now(),
            session: self.id.clone(),
            user: self.user.clone(),
            groups: self.groups.clone(),
            client_addr: self.client.address.map(|a| a.to_string()),
            protocol: self.client.protocol,
            tls: self.client.tls,
            statement: if redact { audit::redact(text) } else { text.to_string() },
            parameters: parameters
                .iter()
                .map(|p| if redact { "?".to_string() } else { p.to_string() })
                .collect(),
            kind,
            views,
            row_filters,
            ask: asked,
            rows: 0,
            bytes: 0,
            duration_ms: 0.0,
            cache: CacheUse::None.as_str(),
            sqlstate: "00000".into(),
            error: None,
        }
    }

    /// Write `record` once `ran` is over: now for a command or an error, when its rows are read for rows.
    fn audited(
        &self,
        mut record: StatementRecord,
        started: Instant,
        ran: Result<(Outcome, CacheUse), Error>,
    ) -> Result<Outcome, Error> {
        let (outcome, cache) = match ran {
            Ok(ran) => ran,
            Err(error) => {
                record.failed(&error);
                record.duration_ms = audit::millis(started.elapsed());
                finished(&self.audit, &record);
                return Err(error);
            }
        };
        record.cache = cache.as_str();
        let pending = PendingRecord {
            record,
            audit: self.audit.clone(),
            started,
        };
        Ok(match outcome {
            Outcome::Rows { rows, tag, notice } => Outcome::Rows {
                rows: pending.counting(rows),
                tag,
                notice,
            },
            Outcome::Copy { rows, format } => Outcome::Copy {
                rows: pending.counting(rows),
                format,
            },
            done @ Outcome::Done(_) => done,
        })
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
                let (rows, _) = self.execute_plan(plan.clone(), None).await?;
                let rows = guarded_rows(rows);
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

/// An audit line waiting for its statement's rows to be read: written when the stream is dropped (read to the end,
/// failed, or abandoned by the client).
struct PendingRecord {
    record: StatementRecord,
    audit: Arc<AuditLog>,
    started: Instant,
}

impl PendingRecord {
    fn counting(mut self, rows: SendableRecordBatchStream) -> SendableRecordBatchStream {
        let schema = rows.schema();
        let counted = rows.map(move |batch| {
            match &batch {
                Ok(batch) => {
                    self.record.rows += batch.num_rows() as u64;
                    self.record.bytes += batch.get_array_memory_size() as u64;
                }
                Err(error) => self
                    .record
                    .failed_with(crate::error::query_sqlstate(error), error.to_string()),
            }
            batch
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, counted))
    }
}

impl Drop for PendingRecord {
    fn drop(&mut self) {
        self.record.duration_ms = audit::millis(self.started.elapsed());
        finished(&self.audit, &self.record);
    }
}

/// A statement is over: it is counted in the metrics, logged as one `semgate::statement` event (debug level), and
/// its audit line is written.
fn finished(audit: &AuditLog, record: &StatementRecord) {
    METRICS.statement(record);
    tracing::debug!(
        target: "semgate::statement",
        session = %record.session,
        user = %record.user,
        protocol = record.protocol,
        kind = record.kind,
        duration_ms = record.duration_ms,
        rows = record.rows,
        cache = record.cache,
        sqlstate = %record.sqlstate,
        "statement"
    );
    audit.statement(record);
}

/// Whether `plan` computes constants only: it reads no relation, has no parameter, and every function it calls gives
/// the same answer every time (what [`PlannedQuery::constant`] may hold).
fn computes_constants(plan: &LogicalPlan) -> bool {
    let mut constant = true;
    let _ = plan.apply_with_subqueries(|node| {
        constant &= matches!(
            node,
            LogicalPlan::Projection(_)
                | LogicalPlan::EmptyRelation(_)
                | LogicalPlan::Values(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Limit(_)
        );
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                constant &= match e {
                    Expr::Placeholder(_) | Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) => false,
                    Expr::ScalarFunction(f) => f.func.signature().volatility == Volatility::Immutable,
                    _ => true,
                };
                Ok(if constant {
                    TreeNodeRecursion::Continue
                } else {
                    TreeNodeRecursion::Stop
                })
            })
        })?;
        Ok(if constant {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    constant
}

fn rows_of(batches: &[RecordBatch], schema: SchemaRef) -> Result<SendableRecordBatchStream, Error> {
    Ok(Box::pin(MemoryStream::try_new(batches.to_vec(), schema, None)?))
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
    rows_of(&[batch], schema)
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
