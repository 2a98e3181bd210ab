//! The PostgreSQL wire protocol (pgwire): SCRAM-SHA-256 authentication, simple and extended query protocols, and
//! Arrow batches encoded to DataRows as they stream out of the engine.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use futures::{Sink, SinkExt, StreamExt, stream};
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{AuthSource, LoginInfo, Password, ServerParameterProvider, StartupHandler};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    CopyCsvOptions, CopyEncoder, CopyResponse, CopyTextOptions, DescribePortalResponse, DescribeStatementResponse,
    FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, METADATA_USER, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::copy::CopyData;
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::startup::ParameterStatus;
use tokio_postgres::types::Kind;

use crate::config::Users;
use crate::engine::Engine;
use crate::error::Error;
use crate::pg_compat::{self, catalog};
use crate::router::{self, CopyFormat, CursorCommand, Routed, SessionCommand};
use crate::session::{Answer, CurrentBackend, Session};

const SCRAM_ITERATIONS: usize = 4096;

/// Sessions by the (process id, secret key) their client was given, so a CancelRequest on another connection can
/// reach them. Weak: a closed connection's session goes away with it.
#[derive(Default)]
struct Sessions(Mutex<HashMap<CancelKey, Weak<Session>>>);

/// What a client quotes in a CancelRequest: the process id and secret key it got at startup.
type CancelKey = (i32, Vec<u8>);

impl Sessions {
    fn register(&self, key: CancelKey, session: &Arc<Session>) {
        let mut sessions = self.0.lock().expect("sessions lock");
        sessions.retain(|_, s| s.strong_count() > 0);
        sessions.insert(key, Arc::downgrade(session));
    }
}

#[async_trait]
impl CancelHandler for Sessions {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        let session = self.0.lock().expect("sessions lock").get(&key).and_then(Weak::upgrade);
        if let Some(session) = session {
            session.cancel();
        }
    }
}

/// Everything a connection needs; one instance serves all connections.
pub struct PgFrontend {
    /// What new sessions run on (the engine and ASK of the current model).
    backend: CurrentBackend,
    /// Who may log in, checked by SCRAM.
    users: Arc<Users>,
    /// Plans statements at Parse so Describe can report parameter and result types.
    parser: Arc<StatementParser>,
    /// Where cancel requests find the session they target.
    sessions: Arc<Sessions>,
}

impl PgFrontend {
    pub fn new(backend: CurrentBackend, users: Arc<Users>) -> Self {
        let sessions = Arc::new(Sessions::default());
        let parser = Arc::new(StatementParser {
            backend: backend.clone(),
            sessions: sessions.clone(),
        });
        Self {
            backend,
            users,
            parser,
            sessions,
        }
    }
}

impl PgWireServerHandlers for PgFrontend {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.parser.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.parser.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        let auth = Arc::new(UserDirectory {
            users: self.users.clone(),
            database: self.backend.load().engine.database().to_string(),
        });
        let mut scram = ScramAuth::new(auth);
        scram.set_iterations(SCRAM_ITERATIONS);
        Arc::new(SASLAuthStartupHandler::new(Arc::new(StartupParameters)).with_scram(scram))
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.sessions.clone()
    }
}

#[derive(Debug)]
struct UserDirectory {
    users: Arc<Users>,
    database: String,
}

#[async_trait]
impl AuthSource for UserDirectory {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let database = login.database().unwrap_or(user);
        if database != self.database {
            return Err(user_error(
                "FATAL",
                "3D000",
                format!(
                    "database \"{database}\" does not exist; connect to database \"{}\"",
                    self.database
                ),
            ));
        }
        let Some(password) = self.users.password(user) else {
            return Err(PgWireError::InvalidPassword(user.to_string()));
        };
        let salt: [u8; 16] = rand::random();
        Ok(Password::new(
            Some(salt.to_vec()),
            gen_salted_password(password, &salt, SCRAM_ITERATIONS),
        ))
    }
}

struct StartupParameters;

impl ServerParameterProvider for StartupParameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let mut parameters: HashMap<String, String> = crate::session::startup_parameters().into_iter().collect();
        if let Some(name) = client.metadata().get("application_name") {
            parameters.insert("application_name".into(), name.clone());
        }
        if let Some(user) = client.metadata().get(METADATA_USER) {
            parameters.insert("session_authorization".into(), user.clone());
        }
        Some(parameters)
    }
}

/// A statement as parsed (and, for queries, planned) at Parse time.
#[derive(Debug)]
pub enum Prepared {
    Query {
        plan: LogicalPlan,
        parameter_types: Vec<DataType>,
        /// How Describe reports the parameters: `parameter_types` as PostgreSQL types, unless a cast declares one
        /// Arrow cannot tell apart (`$1::oid[]`).
        described_parameters: Vec<Type>,
        /// Sent as a NOTICE before the rows: the SQL an ASK ran.
        notice: Option<String>,
    },
    CopyOut {
        plan: LogicalPlan,
        format: CopyFormat,
    },
    Command(SessionCommand),
    Cursor(CursorStep),
}

/// A cursor statement as prepared: DECLARE's query planned like any query, FETCH with the cursor's columns (for
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

pub struct StatementParser {
    backend: CurrentBackend,
    sessions: Arc<Sessions>,
}

impl StatementParser {
    fn session<C: ClientInfo>(&self, client: &C) -> Arc<Session> {
        if let Some(session) = client.session_extensions().get::<Session>() {
            return session;
        }
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        let session = client
            .session_extensions()
            .get_or_insert_with(|| Session::new(&self.backend.load(), &user));
        let (pid, secret) = client.pid_and_secret_key();
        self.sessions.register((pid, secret.to_bytes().to_vec()), &session);
        session
    }

    async fn prepare(&self, session: &Session, routed: Routed) -> Result<Prepared, Error> {
        match routed {
            Routed::Command(command) => Ok(Prepared::Command(command)),
            Routed::CopyOut { query, format } => Ok(Prepared::CopyOut {
                plan: plan(session, *query).await?,
                format,
            }),
            Routed::Query(statement) => query(session, statement, None).await,
            Routed::Cursor(CursorCommand::Declare { name, query, hold }) => Ok(Prepared::Cursor(CursorStep::Declare {
                name,
                plan: plan(session, *query).await?,
                hold,
            })),
            Routed::Cursor(CursorCommand::Fetch { name, count }) => Ok(Prepared::Cursor(CursorStep::Fetch {
                schema: session.cursors.schema(&name).await?,
                name,
                count,
            })),
            Routed::Cursor(CursorCommand::Close(name)) => Ok(Prepared::Cursor(CursorStep::Close(name))),
            // Translated at Parse, so Describe reports the answer's columns (JDBC and DBeaver prepare first).
            Routed::Ask(ask) => match session.ask(&ask).await? {
                Answer::Query { statement, notice } => query(session, statement, notice).await,
                Answer::Reset => Ok(Prepared::Command(SessionCommand::NothingToDo("RESET"))),
            },
        }
    }
}

async fn query(session: &Session, statement: Box<Statement>, notice: Option<String>) -> Result<Prepared, Error> {
    let declared = pg_compat::types::declared_parameter_types(&statement);
    let plan = plan(session, *statement).await?;
    let parameter_types = Engine::parameter_types(&plan)?;
    let described_parameters = parameter_types
        .iter()
        .enumerate()
        .map(|(i, data_type)| declared.get(&i).cloned().unwrap_or_else(|| pg_type(data_type)))
        .collect();
    Ok(Prepared::Query {
        plan,
        parameter_types,
        described_parameters,
        notice,
    })
}

/// A statement's plan, its result columns typed as PostgreSQL would describe them.
async fn plan(session: &Session, statement: Statement) -> Result<LogicalPlan, Error> {
    let plan = Engine::plan(&session.ctx, statement).await?;
    Ok(pg_compat::types::with_oid_types(plan)?)
}

/// A NOTICE, as psql prints it (`NOTICE:  …`).
async fn send_notice<C>(client: &mut C, message: &str)
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
{
    let notice = ErrorInfo::new("NOTICE".to_owned(), "00000".to_owned(), message.to_owned());
    let _ = client
        .feed(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(notice)))
        .await;
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = self.session(client);
        let mut statements = router::split_statements(sql);
        let routed = match statements.len() {
            0 => return Ok(None),
            1 => router::route_one(statements.remove(0)).map_err(Error::from),
            _ => Err(Error::Route(router::RouteError::Syntax(
                "cannot insert multiple commands into a prepared statement".into(),
            ))),
        }
        .map_err(to_pg)?;
        Ok(Some(Arc::new(self.prepare(&session, routed).await.map_err(to_pg)?)))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(match stmt.as_ref() {
            Prepared::Query {
                described_parameters, ..
            } => described_parameters.clone(),
            Prepared::CopyOut { .. } | Prepared::Command(_) | Prepared::Cursor(_) => vec![],
        })
    }

    fn get_result_schema(&self, stmt: &Self::Statement, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let format = format.cloned().unwrap_or(Format::UnifiedText);
        match stmt.as_ref() {
            Prepared::Query { plan, .. } => fields(&Engine::result_schema(plan), &format),
            Prepared::Command(SessionCommand::Show(name)) => Ok(show_fields(name)),
            Prepared::Cursor(CursorStep::Fetch { schema, .. }) => fields(schema, &format),
            Prepared::CopyOut { .. } | Prepared::Command(_) | Prepared::Cursor(_) => Ok(vec![]),
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for StatementParser {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        let mut responses = Vec::new();
        for sql in router::split_statements(query) {
            // A dashboard's repeated statement: answered from the result cache before any parsing or planning.
            if let Some(stream) = session.cached(sql).await {
                match encode(stream, &Format::UnifiedText) {
                    Ok(response) => responses.push(Response::Query(response)),
                    Err(e) => {
                        responses.push(Response::Error(Box::new(error_info(&e))));
                        break;
                    }
                }
                continue;
            }
            let result = match router::route_one(sql) {
                Ok(routed) => match self.prepare(&session, routed).await {
                    Ok(Prepared::Query {
                        plan,
                        notice,
                        parameter_types,
                        ..
                    }) => {
                        // An ASK's text means more than its SQL (a follow-up, a NOTICE): never answered by text.
                        let text = (notice.is_none() && parameter_types.is_empty()).then_some(sql);
                        if let Some(notice) = notice {
                            send_notice(client, &notice).await;
                        }
                        run_query(&session, plan, &Format::UnifiedText, text).await
                    }
                    Ok(Prepared::CopyOut { plan, format }) => run_copy(&session, plan, &format).await,
                    Ok(Prepared::Command(command)) => run_command(client, &session, &command).await,
                    Ok(Prepared::Cursor(step)) => run_cursor(&session, &step, &Format::UnifiedText).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(response) => responses.push(response),
                Err(e) => {
                    responses.push(Response::Error(Box::new(error_info(&e))));
                    break;
                }
            }
        }
        if responses.is_empty() {
            responses.push(Response::EmptyQuery);
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for StatementParser {
    type Statement = Arc<Prepared>;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::new(StatementParser {
            backend: self.backend.clone(),
            sessions: self.sessions.clone(),
        })
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        match portal.statement.statement.as_ref() {
            Prepared::Query {
                plan,
                parameter_types,
                notice,
                ..
            } => {
                if let Some(notice) = notice {
                    send_notice(client, notice).await;
                }
                let types: Vec<Option<&DataType>> = parameter_types.iter().map(Some).collect();
                let values = arrow_pg::datatypes::df::deserialize_parameters(portal, &types)?;
                let values = text_arrays_read_like_postgres(values, portal, parameter_types)?;
                let plan = plan.clone().with_param_values(values).map_err(|e| to_pg(e.into()))?;
                run_query(&session, plan, &portal.result_column_format, None)
                    .await
                    .map_err(to_pg)
            }
            Prepared::CopyOut { plan, format } => run_copy(&session, plan.clone(), format).await.map_err(to_pg),
            Prepared::Command(command) => run_command(client, &session, command).await.map_err(to_pg),
            Prepared::Cursor(step) => {
                let response = run_cursor(&session, step, &portal.result_column_format)
                    .await
                    .map_err(to_pg)?;
                match step {
                    CursorStep::Declare { name, .. } => {
                        let schema = session.cursors.schema(name).await.map_err(|e| to_pg(e.into()))?;
                        client.portal_store().put_portal(Arc::new(cursor_portal(name, schema)));
                    }
                    CursorStep::Close(Some(name)) => client.portal_store().rm_portal(name),
                    _ => {}
                }
                Ok(response)
            }
        }
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        statement: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut parameters = self.get_parameter_types(&statement.statement)?;
        // Types the client declared at Parse win over inferred ones, as in PostgreSQL.
        for (i, declared) in statement.parameter_types.iter().enumerate() {
            if let (Some(declared), Some(slot)) = (declared, parameters.get_mut(i))
                && *declared != Type::UNKNOWN
            {
                *slot = declared.clone();
            }
        }
        let fields = self.get_result_schema(&statement.statement, None)?;
        Ok(DescribeStatementResponse::new(parameters, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let fields = self.get_result_schema(&portal.statement.statement, Some(&portal.result_column_format))?;
        Ok(DescribePortalResponse::new(fields))
    }
}

/// Array parameters sent as text (`{"r", "v"}`: the libpq ADBC driver's `relkind = ANY($1)`), read the way
/// PostgreSQL reads them; arrow-pg splits them on commas and keeps the quotes.
fn text_arrays_read_like_postgres<S: Clone>(
    values: ParamValues,
    portal: &Portal<S>,
    types: &[DataType],
) -> PgWireResult<ParamValues> {
    let ParamValues::List(mut values) = values else {
        return Ok(values);
    };
    for (i, data_type) in types.iter().enumerate() {
        let DataType::List(element) = data_type else { continue };
        let Some(Some(bytes)) = portal.parameters.get(i) else {
            continue;
        };
        if !portal.parameter_format.is_text(i) {
            continue;
        }
        let Some(items) = std::str::from_utf8(bytes).ok().and_then(pg_compat::array_elements) else {
            continue;
        };
        let items = items
            .into_iter()
            .map(|item| ScalarValue::Utf8(item).cast_to(element.data_type()))
            .collect::<datafusion::error::Result<Vec<_>>>()
            .map_err(|e| to_pg(Error::Query(e)))?;
        if let Some(slot) = values.get_mut(i) {
            *slot = ScalarValue::List(ScalarValue::new_list_nullable(&items, element.data_type())).into();
        }
    }
    Ok(ParamValues::List(values))
}

/// `text`: the statement, for the result cache's fast path (see [`Session::execute`]).
async fn run_query(
    session: &Session,
    plan: LogicalPlan,
    format: &Format,
    text: Option<&str>,
) -> Result<Response, Error> {
    let stream = session.execute(plan, text).await?;
    Ok(Response::Query(encode(stream, format)?))
}

/// Encode batches as DataRows as they arrive: nothing is collected, so memory stays bounded for any result size.
fn encode(stream: SendableRecordBatchStream, format: &Format) -> Result<QueryResponse, Error> {
    let fields = result_fields(stream.schema().as_ref(), format)?;
    let row_fields = fields.clone();
    let row_format = format.clone();
    let rows = stream
        .map(move |batch| match batch {
            Ok(batch) => match as_sent(batch, &row_format) {
                Ok(batch) => {
                    stream::iter(arrow_pg::datatypes::encode_recordbatch(row_fields.clone(), batch)).left_stream()
                }
                Err(e) => stream::iter(std::iter::once(Err(to_pg(Error::Query(e.into()))))).right_stream(),
            },
            Err(e) => stream::iter(std::iter::once(Err(to_pg(Error::Query(e))))).right_stream(),
        })
        .flatten();
    Ok(QueryResponse::new(fields, rows))
}

/// PostgreSQL opens a cursor as a portal of the same name: psycopg 3 describes that portal before its first FETCH,
/// and executing it fetches the rest of the rows.
fn cursor_portal(name: &str, schema: SchemaRef) -> Portal<Arc<Prepared>> {
    let fetch_all = Prepared::Cursor(CursorStep::Fetch {
        name: name.to_string(),
        count: None,
        schema,
    });
    Portal::new_cursor(
        name.to_string(),
        Arc::new(StoredStatement::new(name.to_string(), Arc::new(fetch_all), vec![])),
    )
}

/// A cursor statement: DECLARE starts the query, FETCH sends the next rows as they are read.
async fn run_cursor(session: &Session, step: &CursorStep, format: &Format) -> Result<Response, Error> {
    Ok(match step {
        CursorStep::Declare { name, plan, hold } => {
            let rows = session.execute(plan.clone(), None).await?;
            session.cursors.declare(name, rows, *hold).await?;
            Response::Execution(Tag::new("DECLARE CURSOR"))
        }
        CursorStep::Fetch { name, count, .. } => {
            let mut response = encode(session.cursors.fetch(name, *count).await?, format)?;
            response.set_command_tag("FETCH");
            Response::Query(response)
        }
        CursorStep::Close(name) => {
            match name {
                Some(name) => session.cursors.close(name).await?,
                None => session.cursors.close_all().await,
            }
            Response::Execution(Tag::new(if name.is_some() {
                "CLOSE CURSOR"
            } else {
                "CLOSE CURSOR ALL"
            }))
        }
    })
}

/// `COPY … TO STDOUT`: rows encoded in the requested COPY format as batches arrive.
async fn run_copy(session: &Session, plan: LogicalPlan, format: &CopyFormat) -> Result<Response, Error> {
    let stream = session.execute(plan, None).await?;
    let schema = stream.schema();
    let wire_format = if *format == CopyFormat::Binary {
        Format::UnifiedBinary
    } else {
        Format::UnifiedText
    };
    let fields = result_fields(&schema, &wire_format)?;
    let (code, mut encoder, header) = match format {
        CopyFormat::Binary => (1, CopyEncoder::new_binary(fields.clone()), None),
        CopyFormat::Text { delimiter, null } => {
            let options = CopyTextOptions {
                delimiter: delimiter.to_string().into(),
                null_string: null.as_str().into(),
            };
            (0, CopyEncoder::new_text(fields.clone(), options), None)
        }
        CopyFormat::Csv {
            delimiter,
            null,
            header,
        } => {
            let options = CopyCsvOptions {
                delimiter: delimiter.to_string().into(),
                null_string: null.as_str().into(),
                ..Default::default()
            };
            let names = schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>();
            let line = format!("{}\n", names.join(&delimiter.to_string()));
            (0, CopyEncoder::new_csv(fields.clone(), options), header.then_some(line))
        }
    };
    let columns = fields.len();
    // The header travels in the same CopyData message as the first row: the command tag counts messages, and
    // PostgreSQL's `COPY n` counts data rows only. Without rows it is sent alone when the stream ends.
    let header = Arc::new(Mutex::new(header));
    let leftover_header = header.clone();
    let rows = stream
        .map(move |batch| {
            let copied: Vec<PgWireResult<CopyData>> = match batch.and_then(|b| Ok(as_sent(b, &wire_format)?)) {
                Ok(batch) => (0..batch.num_rows())
                    .map(|row| {
                        for (col, field) in fields.iter().enumerate() {
                            arrow_pg::encoder::encode_value(
                                &mut encoder,
                                batch.column(col),
                                row,
                                batch.schema_ref().field(col),
                                field,
                            )?;
                        }
                        let row = encoder.take_copy();
                        Ok(match header.lock().expect("header lock").take() {
                            Some(line) => CopyData::new([line.as_bytes(), &row.data].concat().into()),
                            None => row,
                        })
                    })
                    .collect(),
                Err(e) => vec![Err(to_pg(Error::Query(e)))],
            };
            stream::iter(copied)
        })
        .flatten()
        .chain(
            stream::once(async move { leftover_header.lock().expect("header lock").take() })
                .filter_map(|line| async move { line.map(|l| Ok(CopyData::new(l.into()))) }),
        );
    Ok(Response::CopyOut(CopyResponse::new(code, columns, rows)))
}

/// The wire description of a result about to stream; a type the wire cannot carry is a query error.
fn result_fields(schema: &Schema, format: &Format) -> Result<Arc<Vec<FieldInfo>>, Error> {
    let fields = fields(schema, format).map_err(|e| Error::Query(DataFusionError::External(Box::new(e))))?;
    Ok(Arc::new(fields))
}

fn fields(schema: &Schema, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
    let mut fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(schema, format, None)?;
    for (i, (info, field)) in fields.iter_mut().zip(schema.fields()).enumerate() {
        // `oid`, `oid[]`: the type PostgreSQL describes where Arrow's would name another.
        let described = pg_compat::types::wire_type(field).or_else(|| {
            // PostgreSQL's vector types, which arrow-pg would call arrays. In text they are sent as already formatted
            // text (see `as_sent`), so the type must not make the encoder quote it as an array element.
            catalog::vector_type(field).map(|vector| match format.is_text(i) {
                true => Type::new(
                    vector.name().to_string(),
                    vector.oid(),
                    Kind::Simple,
                    vector.schema().to_string(),
                ),
                false => vector,
            })
        });
        if let Some(described) = described {
            *info = FieldInfo::new(
                info.name().to_string(),
                info.table_id(),
                info.column_id(),
                described,
                info.format(),
            );
        }
    }
    Ok(fields)
}

/// The batch in the shape the encoder sends: vector columns (`int2vector`, `oidvector`) sent as text carry
/// PostgreSQL's text form, `1 2` (in binary they are arrays on the wire too); a `"char"` column that a cast made
/// another string type (`typtype::text` keeps the column's marker) loses the marker, which the encoder would read as
/// a one-byte UTF-8 column.
fn as_sent(batch: RecordBatch, format: &Format) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let is_text_vector = |i: usize| format.is_text(i) && catalog::vector_type(schema.field(i)).is_some();
    let is_cast_char = |i: usize| pg_compat::types::is_cast_char(schema.field(i));
    if !(0..batch.num_columns()).any(|i| is_text_vector(i) || is_cast_char(i)) {
        return Ok(batch);
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (i, column) in batch.columns().iter().enumerate() {
        let mut field = schema.field(i).clone();
        let column = if is_text_vector(i) {
            field = field.with_data_type(DataType::Utf8);
            let lists = column.as_list::<i32>();
            let mut text = Vec::with_capacity(lists.len());
            for row in 0..lists.len() {
                text.push(if lists.is_null(row) {
                    None
                } else {
                    let elements = cast(&lists.value(row), &DataType::Utf8)?;
                    let elements = elements.as_string::<i32>();
                    Some(elements.iter().map(|e| e.unwrap_or("0")).collect::<Vec<_>>().join(" "))
                });
            }
            Arc::new(StringArray::from(text)) as ArrayRef
        } else {
            if is_cast_char(i) {
                let mut metadata = field.metadata().clone();
                metadata.remove(arrow_pg::datatypes::PG_CHAR_KEY);
                field = field.with_metadata(metadata);
            }
            column.clone()
        };
        fields.push(field);
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn pg_type(data_type: &DataType) -> Type {
    arrow_pg::datatypes::into_pg_type(data_type).unwrap_or(Type::UNKNOWN)
}

fn show_fields(name: &str) -> Vec<FieldInfo> {
    if name == "all" {
        ["name", "setting", "description"]
            .iter()
            .map(|n| FieldInfo::new(n.to_string(), None, None, Type::TEXT, FieldFormat::Text))
            .collect()
    } else {
        vec![FieldInfo::new(
            crate::session::wire_name(name),
            None,
            None,
            Type::TEXT,
            FieldFormat::Text,
        )]
    }
}

async fn run_command<C>(client: &mut C, session: &Session, command: &SessionCommand) -> Result<Response, Error>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore,
    C::Error: Debug,
{
    let report = |changed: Option<(String, String)>| {
        changed.map(|(name, value)| PgWireBackendMessage::ParameterStatus(ParameterStatus::new(name, value)))
    };
    let response = match command {
        SessionCommand::Set { name, .. } if name == "transaction" => Response::Execution(Tag::new("SET")),
        SessionCommand::Set { name, value } => {
            if let Some(message) = report(session.set(name, value)?) {
                let _ = client.feed(message).await;
            }
            Response::Execution(Tag::new("SET"))
        }
        SessionCommand::Reset(name) => {
            if let Some(message) = report(session.reset(name)?) {
                let _ = client.feed(message).await;
            }
            Response::Execution(Tag::new("RESET"))
        }
        SessionCommand::ResetAll => {
            session.reset_all();
            Response::Execution(Tag::new("RESET"))
        }
        SessionCommand::Show(name) => {
            let rows = session.show(name)?;
            let fields = Arc::new(show_fields(name));
            let encoder_fields = fields.clone();
            let data = rows.into_iter().map(move |(n, v)| {
                let mut encoder = pgwire::api::results::DataRowEncoder::new(encoder_fields.clone());
                if encoder_fields.len() == 3 {
                    encoder.encode_field(&n)?;
                }
                encoder.encode_field(&v)?;
                if encoder_fields.len() == 3 {
                    encoder.encode_field(&"")?;
                }
                Ok(encoder.take_row())
            });
            let rows: Vec<_> = data.collect();
            Response::Query(QueryResponse::new(fields, stream::iter(rows)))
        }
        SessionCommand::NothingToDo(tag) => Response::Execution(Tag::new(tag)),
        SessionCommand::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        SessionCommand::Commit => {
            session.cursors.end_transaction().await;
            Response::TransactionEnd(Tag::new("COMMIT"))
        }
        SessionCommand::Rollback => {
            session.cursors.end_transaction().await;
            Response::TransactionEnd(Tag::new("ROLLBACK"))
        }
        SessionCommand::DiscardAll => {
            session.reset_all();
            session.cursors.close_all().await;
            client.portal_store().clear_portals();
            Response::Execution(Tag::new("DISCARD ALL"))
        }
        SessionCommand::Deallocate(name) => {
            match name {
                Some(name) => client.portal_store().rm_statement(name),
                None => client.portal_store().clear_portals(),
            }
            Response::Execution(Tag::new(if name.is_some() { "DEALLOCATE" } else { "DEALLOCATE ALL" }))
        }
    };
    Ok(response)
}

fn user_error(severity: &str, code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(severity.to_owned(), code.to_owned(), message)))
}

fn error_info(error: &Error) -> ErrorInfo {
    ErrorInfo::new("ERROR".to_owned(), error.sqlstate().to_owned(), error.to_string())
}

/// The one place errors become wire errors.
fn to_pg(error: Error) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(&error)))
}
