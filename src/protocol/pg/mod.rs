//! The PostgreSQL wire protocol (pgwire): SCRAM-SHA-256 authentication, simple and extended query protocols, and
//! Arrow batches encoded to DataRows as they stream out of the engine.
//!
//! - [`rows`]: DataRow and COPY rows written from the Arrow arrays into one buffer.
//! - [`until_sync`]: the extended protocol's replies written once, at Sync or Flush.

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
use futures::{FutureExt, Sink, SinkExt, StreamExt, stream};
use pgwire::api::PgWireConnectionState;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, LoginInfo, Password, ServerParameterProvider, StartupHandler, finish_authentication,
    protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    CopyResponse, DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, METADATA_USER, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::copy::CopyData;
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::startup::{ParameterStatus, Startup};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio_postgres::types::Kind;

use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use crate::audit::Client;
use crate::deployment::CurrentDeployment;
use crate::error::Error;
use crate::metrics::METRICS;
use crate::pg_compat::types::WireType;
use crate::pg_compat::{self, catalog};
use crate::protocol::tls::{self, WireTls};
use crate::router::{self, CopyFormat, ParameterStyle};
use crate::session::Session;
use crate::statement::{Done, Effect, Outcome, Planned, RowsTag, Step};

mod rows;
mod until_sync;
use rows::CopyLayout;
use until_sync::UntilSync;

const SCRAM_ITERATIONS: usize = 4096;

/// The PostgreSQL connections being served.
pub struct Connections(JoinSet<()>);

impl Connections {
    pub fn connections(&self) -> usize {
        self.0.len()
    }

    /// Wait for every connection to end; dropping this future instead closes those still open.
    pub async fn drain(mut self) {
        while self.0.join_next().await.is_some() {}
    }
}

/// Accept PostgreSQL connections until `shutdown` completes, each under a permit of `limit` (a connection waits for
/// one rather than overload the engine); returns the connections still open. A connection that has not
/// authenticated within `authentication_timeout` is closed, as PostgreSQL's `authentication_timeout` does, so slow or
/// silent clients cannot hold the slots.
pub async fn serve(
    listener: TcpListener,
    frontend: Arc<PgFrontend>,
    limit: Arc<Semaphore>,
    authentication_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) -> Connections {
    let mut connections = JoinSet::new();
    let mut backoff = super::ACCEPT_BACKOFF_MIN;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (socket, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "accept failed");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(super::ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
        };
        backoff = super::ACCEPT_BACKOFF_MIN;
        let _ = socket.set_nodelay(true);
        // The pair being served now: a certificate reloaded later applies to later connections.
        let tls = frontend.tls.as_ref().map(|tls| tls.pg_acceptor());
        let frontend = frontend.clone();
        connections.spawn(async move {
            tracing::debug!(%peer, "connection opened");
            let _counted = METRICS.connection("pg");
            let authenticated = Arc::new(Notify::new());
            let handlers = Connection {
                frontend,
                authenticated: authenticated.clone(),
            };
            let connection = pgwire::tokio::process_socket(socket, tls, handlers);
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = &mut connection => Some(ended),
                _ = authenticated.notified() => None,
                _ = tokio::time::sleep(authentication_timeout) => {
                    tracing::info!(%peer, "closing a connection that did not authenticate in time");
                    Some(Ok(()))
                }
            };
            let ended = match ended {
                Some(ended) => ended,
                None => connection.await,
            };
            if let Err(e) = ended {
                if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                    METRICS.tls_handshake_failed("pg");
                }
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    Connections(connections)
}

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
    /// Who may log in (checked by SCRAM) and what their new sessions run on.
    deployment: CurrentDeployment,
    /// Plans statements at Parse so Describe can report parameter and result types.
    parser: Arc<StatementParser>,
    /// The same, its extended-protocol replies written at Sync.
    extended: Arc<UntilSync<StatementParser>>,
    /// Where cancel requests find the session they target.
    sessions: Arc<Sessions>,
    /// TLS, when configured: offered to clients that ask, required of all under `tls.mode: require`.
    tls: Option<Arc<WireTls>>,
}

impl PgFrontend {
    pub fn new(deployment: CurrentDeployment, tls: Option<Arc<WireTls>>) -> Self {
        let sessions = Arc::new(Sessions::default());
        let parser = Arc::new(StatementParser {
            deployment: deployment.clone(),
            sessions: sessions.clone(),
        });
        Self {
            deployment,
            extended: Arc::new(UntilSync(parser.clone())),
            parser,
            sessions,
            tls,
        }
    }
}

impl PgFrontend {
    /// SCRAM-SHA-256 against the deployment's users (read at each login).
    fn scram_startup(&self) -> Arc<impl StartupHandler> {
        let auth = Arc::new(UserDirectory {
            deployment: self.deployment.clone(),
        });
        let mut scram = ScramAuth::new(auth);
        scram.set_iterations(SCRAM_ITERATIONS);
        // SCRAM-SHA-256-PLUS: channel binding to the certificate being served (clients choose it only over TLS).
        if let Some(tls) = &self.tls
            && let Err(e) = scram.configure_certificate(&tls.chain_pem())
        {
            tracing::warn!(error = %e, "channel binding is off: the certificate does not hash");
        }
        Arc::new(SASLAuthStartupHandler::new(Arc::new(StartupParameters)).with_scram(scram))
    }
}

/// One connection's handlers: the shared front end, plus a signal when this connection has authenticated (what
/// stops its authentication timeout).
struct Connection {
    frontend: Arc<PgFrontend>,
    authenticated: Arc<Notify>,
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.frontend.parser.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.frontend.extended.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(SignalAuthenticated {
            inner: self.frontend.scram_startup(),
            authenticated: self.authenticated.clone(),
            frontend: self.frontend.clone(),
        })
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.frontend.sessions.clone()
    }
}

/// Authentication as the wrapped handler does it, signalling once the connection is ready for queries and opening
/// its session; a failed login is audited.
struct SignalAuthenticated<S> {
    inner: Arc<S>,
    authenticated: Arc<Notify>,
    frontend: Arc<PgFrontend>,
}

#[async_trait]
impl<S: StartupHandler> StartupHandler for SignalAuthenticated<S> {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let tls_required = self.frontend.tls.as_ref().is_some_and(|tls| tls.required());
        let started = if tls_required && !client.is_secure() {
            METRICS.connection_refused("pg", "tls_required");
            Err(user_error(
                "FATAL",
                "28000",
                "this server accepts only TLS connections: connect with sslmode=require (or verify-full)".into(),
            ))
        } else {
            match message {
                PgWireFrontendMessage::Startup(startup) if self.by_certificate(&startup) => {
                    self.certificate_login(client, &startup).await
                }
                message => self.inner.on_startup(client, message).await,
            }
        };
        if let Err(error) = started {
            let sqlstate = match &error {
                PgWireError::InvalidPassword(_) => "28P01".to_string(),
                PgWireError::UserError(info) => info.code.clone(),
                _ => "08P01".to_string(),
            };
            let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
            let origin = Client {
                protocol: "pg",
                address: Some(client.socket_addr()),
                tls: client.is_secure(),
            };
            self.frontend
                .deployment
                .load()
                .lasting
                .login_failed(&user, &origin, &error.to_string(), &sqlstate);
            return Err(error);
        }
        if matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            self.authenticated.notify_one();
            // The session opens now, as PostgreSQL's backend starts at login: a user past their max_connections
            // is refused here (FATAL 53300), not at their first statement.
            self.frontend.parser.session(client)?;
        }
        Ok(())
    }
}

impl<S> SignalAuthenticated<S> {
    /// Whether the user a startup message names logs in by client certificate.
    fn by_certificate(&self, startup: &Startup) -> bool {
        let users = &self.frontend.deployment.load().users;
        let user = startup.parameters.get("user").and_then(|user| users.get(user));
        user.is_some_and(|user| user.cert_identity.is_some())
    }

    /// PgBouncer's `auth_type = cert`: the TLS client certificate (verified against `tls.client_ca_file` during the
    /// handshake) must name the user; no password is asked.
    async fn certificate_login<C>(&self, client: &mut C, startup: &Startup) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol_negotiation(client, startup).await?;
        save_startup_parameters_to_metadata(client, startup);
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        let common_name = client
            .client_certificates()
            .and_then(|chain| chain.first().and_then(tls::common_name));
        let deployment = self.frontend.deployment.load();
        deployment
            .check_database(startup.parameters.get("database").map(String::as_str), &user)
            .map_err(to_pg)?;
        deployment
            .users
            .check_certificate(&user, common_name.as_deref())
            .map_err(to_pg)?;
        finish_authentication(client, &StartupParameters).await
    }
}

struct UserDirectory {
    /// Read at each login, so a reload's users apply to the next one.
    deployment: CurrentDeployment,
}

impl Debug for UserDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserDirectory")
    }
}

#[async_trait]
impl AuthSource for UserDirectory {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let deployment = self.deployment.load();
        deployment.check_database(login.database(), user).map_err(to_pg)?;
        let Some(password) = deployment.users.password(user) else {
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

pub struct StatementParser {
    deployment: CurrentDeployment,
    sessions: Arc<Sessions>,
}

impl StatementParser {
    fn session<C: ClientInfo>(&self, client: &C) -> PgWireResult<Arc<Session>> {
        if let Some(session) = client.session_extensions().get::<Session>() {
            return Ok(session);
        }
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        let origin = Client {
            protocol: "pg",
            address: Some(client.socket_addr()),
            tls: client.is_secure(),
        };
        let opened = self
            .deployment
            .load()
            .session(&user, origin, &self.deployment)
            .map_err(to_pg)?;
        let session = client.session_extensions().get_or_insert_with(|| opened);
        let (pid, secret) = client.pid_and_secret_key();
        self.sessions.register((pid, secret.to_bytes().to_vec()), &session);
        Ok(session)
    }
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

/// An outcome as PostgreSQL's messages: a NOTICE and ParameterStatus go out first, then the response; what a command
/// changed in the connection's prepared statements and portals is mirrored in pgwire's store (a declared cursor's
/// portal by the extended protocol's caller, which knows the store's statement type).
async fn respond<C>(client: &mut C, outcome: Outcome, format: &Format) -> Result<Response, Error>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore,
{
    Ok(match outcome {
        Outcome::Rows { rows, tag, notice } => {
            if let Some(notice) = notice {
                send_notice(client, &notice).await;
            }
            let mut response = encode(rows, format)?;
            if tag == RowsTag::Fetch {
                response.set_command_tag("FETCH");
            }
            Response::Query(response)
        }
        Outcome::Copy { rows, format } => copy_out(rows, &format)?,
        Outcome::Done(done) => {
            if let Some((name, value)) = done.reported {
                let _ = client
                    .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(name, value)))
                    .await;
            }
            let tag = Tag::new(done.tag);
            match done.effect {
                Effect::TransactionStarted => return Ok(Response::TransactionStart(tag)),
                Effect::TransactionEnded => return Ok(Response::TransactionEnd(tag)),
                Effect::StatementsDeallocated(Some(name)) => client.portal_store().rm_statement(&name),
                Effect::StatementsDeallocated(None) | Effect::SessionDiscarded => client.portal_store().clear_portals(),
                Effect::CursorClosed(Some(name)) => client.portal_store().rm_portal(&name),
                Effect::CursorDeclared { .. } | Effect::CursorClosed(None) | Effect::None => {}
            }
            Response::Execution(tag)
        }
    })
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Arc<Planned>;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = self.session(client)?;
        let planned = session.prepare(sql, ParameterStyle::Numbered).await.map_err(to_pg)?;
        Ok(planned.map(Arc::new))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(match &stmt.step {
            Step::Query(query) => query
                .parameter_types
                .iter()
                .zip(&query.declared_parameters)
                .map(|(data_type, declared)| declared.and_then(Type::from_oid).unwrap_or_else(|| pg_type(data_type)))
                .collect(),
            Step::Copy { .. } | Step::Command(_) | Step::Cursor(_) => vec![],
        })
    }

    fn get_result_schema(&self, stmt: &Self::Statement, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let format = format.cloned().unwrap_or(Format::UnifiedText);
        match stmt.result_schema() {
            Some(schema) => fields(&schema, &format),
            None => Ok(vec![]),
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
        let session = self.session(client)?;
        let mut responses = Vec::new();
        for sql in router::split_statements(query) {
            let outcome = session.execute(sql, ParameterStyle::Numbered).await;
            let response = match outcome {
                Ok(Some(outcome)) => respond(client, outcome, &Format::UnifiedText).await,
                Ok(None) => continue,
                Err(e) => Err(e),
            };
            match response {
                Ok(response) => responses.push(response),
                Err(e) if e.is_fatal() => return Err(to_pg(e)),
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
    type Statement = Arc<Planned>;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::new(StatementParser {
            deployment: self.deployment.clone(),
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
        let session = self.session(client)?;
        let planned = portal.statement.statement.as_ref();
        let types: Vec<Option<&DataType>> = planned.parameter_types().iter().map(Some).collect();
        let values = arrow_pg::datatypes::df::deserialize_parameters(portal, &types)?;
        let values = text_arrays_read_like_postgres(values, portal, planned.parameter_types())?;
        let values = match values {
            ParamValues::List(values) => values.into_iter().map(|v| v.value).collect(),
            ParamValues::Map(_) => vec![],
        };
        let outcome = session.run(planned, values).await.map_err(to_pg)?;
        if let Outcome::Done(Done {
            effect: Effect::CursorDeclared { name, schema },
            ..
        }) = &outcome
        {
            client
                .portal_store()
                .put_portal(Arc::new(cursor_portal(name, schema.clone())));
        }
        respond(client, outcome, &portal.result_column_format)
            .await
            .map_err(to_pg)
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

/// Encode batches as DataRows as they arrive: nothing is collected, so memory stays bounded for any result size.
fn encode(stream: SendableRecordBatchStream, format: &Format) -> Result<QueryResponse, Error> {
    let fields = result_fields(stream.schema().as_ref(), format)?;
    let row_fields = fields.clone();
    let row_format = format.clone();
    let rows = encoded_ahead(stream, move |batch| {
        let fields = row_fields.clone();
        let format = row_format.clone();
        move || rows::data_rows(&sent(batch, &format)?, &fields)
    });
    Ok(QueryResponse::new(fields, rows))
}

/// Batches with at least this many rows are encoded on a runtime worker of their own; smaller ones (a dashboard's
/// answer, `SELECT 1`) where they arrive, since handing them over would cost more than writing them.
const ROWS_ENCODED_APART: usize = 1024;
/// How many large batches are encoded at once while the connection sends the rows before them.
const BATCHES_ENCODED_AHEAD: usize = 2;

/// The messages of a stream's batches, in order. Encoding is the wire's main cost on a bulk result, and done by the
/// connection's task alone it would keep one core busy while the other waits; so each large batch is encoded on a
/// worker while the rows of the one before it are sent. `prepare` runs in stream order (what must happen once, such
/// as a COPY header taken by the first row, happens there) and returns the encoding.
fn encoded_ahead<T, Encode>(
    stream: SendableRecordBatchStream,
    mut prepare: impl FnMut(datafusion::error::Result<RecordBatch>) -> Encode + Send + 'static,
) -> impl futures::Stream<Item = PgWireResult<T>> + Send + 'static
where
    T: Send + 'static,
    Encode: FnOnce() -> PgWireResult<Vec<T>> + Send + 'static,
{
    stream
        .map(move |batch| {
            let apart = matches!(&batch, Ok(batch) if batch.num_rows() >= ROWS_ENCODED_APART);
            let encode = prepare(batch);
            match apart {
                true => tokio::spawn(async move { encode() })
                    .map(|joined| joined.unwrap_or_else(|e| Err(PgWireError::ApiError(Box::new(e)))))
                    .left_future(),
                false => futures::future::ready(encode()).right_future(),
            }
        })
        .buffered(BATCHES_ENCODED_AHEAD)
        .flat_map(|messages| match messages {
            Ok(messages) => stream::iter(messages.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
}

/// PostgreSQL opens a cursor as a portal of the same name: psycopg 3 describes that portal before its first FETCH,
/// and executing it fetches the rest of the rows.
fn cursor_portal(name: &str, schema: SchemaRef) -> Portal<Arc<Planned>> {
    let fetch_all = Planned::fetch_all(name, schema);
    Portal::new_cursor(
        name.to_string(),
        Arc::new(StoredStatement::new(name.to_string(), Arc::new(fetch_all), vec![])),
    )
}

/// `COPY … TO STDOUT`: rows encoded in the requested COPY format as batches arrive.
fn copy_out(stream: SendableRecordBatchStream, format: &CopyFormat) -> Result<Response, Error> {
    let schema = stream.schema();
    let (wire_format, code, layout, header) = match format {
        CopyFormat::Binary => (
            Format::UnifiedBinary,
            1,
            CopyLayout::Binary,
            Some(rows::binary_copy_header()),
        ),
        // The router's delimiter is one byte: the SQL parser takes no other.
        CopyFormat::Text { delimiter, null } => {
            let layout = CopyLayout::Text {
                delimiter: *delimiter as u8,
                null: null.clone(),
            };
            (Format::UnifiedText, 0, layout, None)
        }
        CopyFormat::Csv {
            delimiter,
            null,
            header,
        } => {
            let names = schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>();
            let line = format!("{}\n", names.join(&delimiter.to_string()));
            let layout = CopyLayout::Csv {
                delimiter: *delimiter as u8,
                null: null.clone(),
            };
            (Format::UnifiedText, 0, layout, header.then(|| line.into()))
        }
    };
    let fields = result_fields(&schema, &wire_format)?;
    let columns = fields.len();
    // The header travels in the same CopyData message as the first row: the command tag counts messages, and
    // PostgreSQL's `COPY n` counts data rows only. Without rows it is sent alone when the stream ends.
    let header = Arc::new(Mutex::new(header));
    let leftover_header = header.clone();
    let rows = encoded_ahead(stream, move |batch| {
        let before_first = match &batch {
            Ok(batch) if batch.num_rows() > 0 => header.lock().expect("header lock").take(),
            _ => None,
        };
        let (fields, layout, format) = (fields.clone(), layout.clone(), wire_format.clone());
        move || rows::copy_rows(&sent(batch, &format)?, &fields, &layout, before_first)
    })
    .chain(
        stream::once(async move { leftover_header.lock().expect("header lock").take() })
            .filter_map(|header| async move { header.map(|h| Ok(CopyData::new(h))) }),
    );
    Ok(Response::CopyOut(CopyResponse::new(code, columns, rows)))
}

/// A batch from the engine as the encoder sends it (see [`as_sent`]); a failure is the client's error.
fn sent(batch: datafusion::error::Result<RecordBatch>, format: &Format) -> PgWireResult<RecordBatch> {
    batch
        .and_then(|batch| Ok(as_sent(batch, format)?))
        .map_err(|e| to_pg(Error::Query(e)))
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
        let described = pg_compat::types::wire_type(field)
            .and_then(|wire_type| match wire_type {
                WireType::Oid(oid) => Type::from_oid(oid),
                WireType::OfArrowType => arrow_pg::datatypes::into_pg_type(field.data_type()).ok(),
            })
            .or_else(|| {
                // PostgreSQL's vector types, which arrow-pg would call arrays. In text they are sent as already formatted
                // text (see `as_sent`), so the type must not make the encoder quote it as an array element.
                catalog::vector_type(field)
                    .and_then(Type::from_oid)
                    .map(|vector| match format.is_text(i) {
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

fn user_error(severity: &str, code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(severity.to_owned(), code.to_owned(), message)))
}

/// A fatal error (FATAL) makes pgwire close the connection after sending it.
fn error_info(error: &Error) -> ErrorInfo {
    let severity = if error.is_fatal() { "FATAL" } else { "ERROR" };
    ErrorInfo::new(severity.to_owned(), error.sqlstate().to_owned(), error.to_string())
}

/// The one place errors become wire errors.
fn to_pg(error: Error) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(&error)))
}
