//! Arrow Flight SQL, and plain Flight (a descriptor whose `cmd` is SQL text), for notebooks and ADBC.
//!
//! GetFlightInfo routes and plans the statement (so bad SQL fails there, and the schema it reports is the one DoGet
//! sends) and hands out a ticket naming that plan; DoGet executes it and streams batches as the engine produces them.
//! Nothing is executed ahead or parked: a ticket holds a plan, is bound to its user and expires.

use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery, CommandPreparedStatementUpdate,
    CommandStatementQuery, CommandStatementUpdate, DoPutPreparedStatementResult, Nullable, ProstMessageExt, Searchable,
    SqlInfo, SqlSupportedTransaction, TicketStatementQuery, XdbcDataType,
};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, IpcMessage, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::SchemaProvider;
use datafusion::common::ScalarValue;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::EmptyRecordBatchStream;
use futures::{Stream, StreamExt, TryStreamExt, stream};
use moka::sync::Cache;
use prost::Message;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Response, Status, Streaming};

use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

use crate::audit::Client;
use crate::deployment::CurrentDeployment;
use crate::engine::{Engine, SERVER_VERSION};
use crate::error::Error;
use crate::metrics::{ConnectionGuard, METRICS};
use crate::protocol::tls::{self, WireTls};
use crate::router::{self, ParameterStyle, RouteError};
use crate::session::Session;
use crate::statement::{Outcome, Planned, Step};

/// A bearer token unused this long must be renewed by a new Handshake.
const TOKEN_IDLE: Duration = Duration::from_secs(60 * 60);
/// A ticket (or prepared statement) unused this long is forgotten; GetFlightInfo hands out a new one.
const TICKET_IDLE: Duration = Duration::from_secs(10 * 60);
/// Bounds on what clients can make the gateway remember.
const MAX_SESSIONS: u64 = 10_000;
const MAX_TICKETS: u64 = 100_000;
/// Rows per Flight batch when the engine produces smaller ones.
const BATCH_ROWS: usize = 64 * 1024;

/// Base64 as HTTP Basic credentials arrive: arrow-go (ADBC) leaves out the padding, pyarrow sends it.
const BASIC_AUTH: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A schema of the catalog with its name.
type NamedSchema = (String, Arc<dyn SchemaProvider>);

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The Flight SQL service; one instance serves every client.
pub struct FlightSqlFrontend {
    /// Who may connect (checked at Handshake, HTTP Basic) and what their new sessions run on.
    deployment: CurrentDeployment,
    /// The catalog name clients see; fixed for the gateway's life.
    database: String,
    /// Bearer token → the session it stands for, so SET and the user's context survive between calls.
    sessions: Cache<String, Arc<Session>>,
    /// Ticket id → the planned statement DoGet will run; plans are small, results are never kept.
    tickets: Cache<u128, Arc<Work>>,
    /// Prepared statement handle → statement and its latest bound parameters.
    prepared: Cache<u128, Arc<PreparedQuery>>,
}

/// What a ticket names, for the session it runs in.
struct Work {
    session: Arc<Session>,
    rows: Rows,
}

enum Rows {
    /// A query (or COPY: its rows, Arrow already), run at DoGet with these parameter values.
    Planned {
        planned: Arc<Planned>,
        parameters: Vec<ScalarValue>,
    },
    /// A session command or cursor step, run when it was sent (it changes the session then, as on the PostgreSQL
    /// wire): what it returned, for the one DoGet that reads it.
    Ran(Mutex<Option<SendableRecordBatchStream>>),
}

struct PreparedQuery {
    session: Arc<Session>,
    /// Planned at creation, placeholders unbound.
    planned: Arc<Planned>,
    /// Set by DoPut (ADBC binds parameters that way) and used by every later GetFlightInfo.
    parameters: Mutex<Vec<ScalarValue>>,
}

impl FlightSqlFrontend {
    pub fn new(deployment: CurrentDeployment) -> Self {
        let database = deployment.load().database().to_string();
        Self {
            deployment,
            database,
            sessions: Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_idle(TOKEN_IDLE)
                .build(),
            tickets: Cache::builder()
                .max_capacity(MAX_TICKETS)
                .time_to_idle(TICKET_IDLE)
                .build(),
            prepared: Cache::builder()
                .max_capacity(MAX_TICKETS)
                .time_to_idle(TICKET_IDLE)
                .build(),
        }
    }

    /// The caller's session: a bearer token from Handshake, or HTTP Basic credentials on the call itself.
    fn session<T>(&self, request: &Request<T>) -> Result<Arc<Session>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| no_credentials("no credentials: authenticate with HTTP Basic (user, password)"))?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            return self.sessions.get(token.trim()).ok_or_else(|| {
                no_credentials("the bearer token is unknown or expired: authenticate again (Handshake)")
            });
        }
        let client = client_of(request);
        let user = self.basic_user(header, &client, certificate_name(request).as_deref())?;
        self.open_session(&user, client)
    }

    fn open_session(&self, user: &str, client: Client) -> Result<Arc<Session>, Status> {
        Ok(Arc::new(
            self.deployment
                .load()
                .session(user, client, &self.deployment)
                .map_err(status)?,
        ))
    }

    /// Check `Basic base64(user:password)` against the configured users (a `cert_identity` user's password is not
    /// read: their client certificate, whose CN is `certificate`, logs them in); a failure is audited.
    fn basic_user(&self, header: &str, client: &Client, certificate: Option<&str>) -> Result<String, Status> {
        let deployment = self.deployment.load();
        let checked = || -> Result<String, Error> {
            let invalid =
                || Error::NoCredentials("authorization must be HTTP Basic (user:password) or a bearer token".into());
            let encoded = header.strip_prefix("Basic ").ok_or_else(invalid)?;
            let decoded = BASIC_AUTH.decode(encoded.trim()).map_err(|_| invalid())?;
            let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
            let (user, password) = decoded.split_once(':').ok_or_else(invalid)?;
            match deployment.users.get(user).and_then(|u| u.cert_identity.as_ref()) {
                Some(_) => deployment.users.check_certificate(user, certificate)?,
                None => deployment.users.check_password(user, password)?,
            }
            Ok(user.to_string())
        };
        checked().map_err(|error| {
            let user = match &error {
                Error::PasswordFailed(user) | Error::CertificateFailed { user, .. } => user.as_str(),
                _ => "",
            };
            deployment
                .lasting
                .login_failed(user, client, &error.to_string(), error.sqlstate());
            status(error)
        })
    }

    /// Route and plan one statement, as the core does for every wire; Flight SQL clients may write `?` parameters.
    async fn prepare(&self, session: &Session, sql: &str) -> Result<Arc<Planned>, Status> {
        match session.prepare(sql, ParameterStyle::Positional).await.map_err(status)? {
            Some(planned) => Ok(Arc::new(planned)),
            None => Err(status(
                RouteError::Syntax("the statement is empty: send one SQL statement".into()).into(),
            )),
        }
    }

    /// A FlightInfo whose one endpoint's ticket names the statement's rows, to read in `session` at DoGet. Queries
    /// run at DoGet; anything else runs now.
    async fn flight_info(
        &self,
        session: Arc<Session>,
        planned: Arc<Planned>,
        parameters: Vec<ScalarValue>,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let (schema, rows) = match &planned.step {
            Step::Query(query) => (
                Engine::result_schema(&query.plan),
                Rows::Planned { planned, parameters },
            ),
            Step::Copy { plan, .. } => (Engine::result_schema(plan), Rows::Planned { planned, parameters }),
            Step::Command(_) | Step::Cursor(_) => {
                let rows = match session.run(&planned, parameters).await.map_err(status)? {
                    Outcome::Rows { rows, .. } | Outcome::Copy { rows, .. } => rows,
                    Outcome::Done(_) => Box::pin(EmptyRecordBatchStream::new(Arc::new(Schema::empty()))),
                };
                (rows.schema(), Rows::Ran(Mutex::new(Some(rows))))
            }
        };
        let id: u128 = rand::random();
        self.tickets.insert(id, Arc::new(Work { session, rows }));
        let ticket = TicketStatementQuery {
            statement_handle: id.to_be_bytes().to_vec().into(),
        };
        let info = FlightInfo::new()
            .try_with_schema(&flight_schema(&schema))
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec())))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }

    /// A metadata command's FlightInfo: its ticket is the command itself, answered at DoGet.
    fn metadata_info(
        &self,
        command: impl ProstMessageExt,
        schema: &Schema,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session(&request)?;
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(command.as_any().encode_to_vec())))
            .with_descriptor(request.into_inner());
        Ok(Response::new(info))
    }

    /// The schemas clients see: every one but the system schemas, as PostgreSQL drivers list them.
    fn user_schemas(&self, session: &Session) -> Result<Vec<NamedSchema>, Status> {
        let catalog = session
            .ctx()
            .catalog(self.database.as_str())
            .ok_or_else(|| Status::internal("the gateway's catalog is missing"))?;
        let mut names = catalog.schema_names();
        names.retain(|name| name != "pg_catalog" && name != "information_schema");
        names.sort();
        Ok(names
            .into_iter()
            .filter_map(|name| catalog.schema(&name).map(|schema| (name, schema)))
            .collect())
    }

    /// The semantic views (and any other user relation), as (schema, table, Arrow schema), sorted.
    async fn relations(&self, session: &Session) -> Result<Vec<(String, String, SchemaRef)>, Status> {
        let mut relations = Vec::new();
        for (schema_name, schema) in self.user_schemas(session)? {
            let mut names = schema.table_names();
            names.sort();
            for name in names {
                if let Ok(Some(table)) = schema.table(&name).await {
                    relations.push((schema_name.clone(), name, table.schema()));
                }
            }
        }
        Ok(relations)
    }

    fn prepared_query(&self, handle: &[u8], session: &Session) -> Result<Arc<PreparedQuery>, Status> {
        let prepared = handle_id(handle)
            .and_then(|id| self.prepared.get(&id))
            .ok_or_else(|| Status::not_found("prepared statement is unknown or expired: prepare it again"))?;
        if prepared.session.user != session.user {
            return Err(Status::permission_denied(
                "the prepared statement belongs to another user",
            ));
        }
        Ok(prepared)
    }
}

/// The one place gateway errors become gRPC statuses: by SQLSTATE, with the same message as on the PostgreSQL wire.
fn status(error: Error) -> Status {
    let sqlstate = error.sqlstate();
    let code = match sqlstate {
        "42703" | "42P01" | "42883" | "42704" => Code::NotFound,
        "25006" | "42501" => Code::PermissionDenied,
        "57014" => Code::Cancelled,
        "0A000" => Code::Unimplemented,
        _ if sqlstate.starts_with("28") => Code::Unauthenticated,
        _ if sqlstate.starts_with("53") => Code::ResourceExhausted,
        _ if sqlstate.starts_with("42") || sqlstate.starts_with("22") || sqlstate.starts_with("55") => {
            Code::InvalidArgument
        }
        _ => Code::Internal,
    };
    let mut status = Status::new(code, error.to_string());
    if let Ok(value) = MetadataValue::try_from(sqlstate) {
        status.metadata_mut().insert("x-sqlstate", value);
    }
    status
}

/// Strings and binaries as plain arrays. DataFusion produces view arrays whose values sit in shared buffers; the IPC
/// writer would ship whole buffers with every batch (hundreds of times the data), and some clients lack view support.
fn flight_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let plain = match f.data_type() {
                DataType::Utf8View => DataType::Utf8,
                DataType::BinaryView => DataType::Binary,
                other => other.clone(),
            };
            f.as_ref().clone().with_data_type(plain)
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn to_flight_schema(
    batch: RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| match column.data_type() == field.data_type() {
            true => Ok(column.clone()),
            false => datafusion::arrow::compute::cast(column, field.data_type()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// Regroup small batches (a compiled plan's joins emit a few dozen rows at a time) into batches of about
/// [`BATCH_ROWS`] rows: each batch costs a Flight message and a conversion in the client (ADBC pays per batch).
fn coalesce(
    batches: impl Stream<Item = Result<RecordBatch, Error>> + Send + 'static,
    schema: SchemaRef,
) -> impl Stream<Item = Result<RecordBatch, Error>> + Send + 'static {
    let state = (batches.boxed(), BatchCoalescer::new(schema, BATCH_ROWS), false);
    stream::unfold(state, |(mut batches, mut coalescer, finished)| async move {
        loop {
            if let Some(batch) = coalescer.next_completed_batch() {
                return Some((Ok(batch), (batches, coalescer, finished)));
            }
            if finished {
                return None;
            }
            let pushed = match batches.next().await {
                Some(Ok(batch)) => coalescer.push_batch(batch),
                Some(Err(e)) => return Some((Err(e), (batches, coalescer, true))),
                None => {
                    let flushed = coalescer.finish_buffered_batch();
                    if let Err(e) = flushed {
                        return Some((Err(Error::Query(e.into())), (batches, coalescer, true)));
                    }
                    return coalescer
                        .next_completed_batch()
                        .map(|batch| (Ok(batch), (batches, coalescer, true)));
                }
            };
            if let Err(e) = pushed {
                return Some((Err(Error::Query(e.into())), (batches, coalescer, true)));
            }
        }
    })
}

/// How many Flight messages a DoGet encodes ahead of the one being sent.
const MESSAGES_ENCODED_AHEAD: usize = 2;

/// A DoGet's messages made by a task of their own. Converting, regrouping and IPC-encoding the batches copies every
/// byte three times; done in the connection's task, between its writes, it kept one core busy while the other
/// waited. Apart, the next messages are made while the connection sends (and the client reads) the one before.
/// Dropping the stream (the client went away, or cancelled) aborts the task, and with it the query.
fn encoded_apart(
    messages: impl Stream<Item = Result<FlightData, Status>> + Send + 'static,
) -> impl Stream<Item = Result<FlightData, Status>> + Send + 'static {
    let (sender, receiver) = tokio::sync::mpsc::channel(MESSAGES_ENCODED_AHEAD);
    let task = AbortOnDropHandle::new(tokio::spawn(async move {
        let mut messages = std::pin::pin!(messages);
        while let Some(message) = messages.next().await {
            if sender.send(message).await.is_err() {
                break;
            }
        }
    }));
    stream::unfold((receiver, task), |(mut receiver, task)| async move {
        let message = receiver.recv().await?;
        Some((message, (receiver, task)))
    })
}

fn no_credentials(message: &str) -> Status {
    status(Error::NoCredentials(message.to_string()))
}

fn handle_id(handle: &[u8]) -> Option<u128> {
    Some(u128::from_be_bytes(handle.try_into().ok()?))
}

fn schema_bytes(schema: &Schema) -> Result<prost::bytes::Bytes, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(bytes)
}

/// One batch (a metadata answer) as a DoGet stream.
fn batch_stream(batch: Result<RecordBatch, FlightError>) -> Response<BoxStream<FlightData>> {
    let stream = match batch {
        Ok(batch) => FlightDataEncoderBuilder::new()
            .with_schema(batch.schema())
            .build(stream::once(async { Ok(batch) }))
            .map_err(Status::from)
            .boxed(),
        Err(e) => stream::once(async move { Err(Status::internal(e.to_string())) }).boxed(),
    };
    Response::new(stream)
}

/// Server facts ADBC and JDBC read at connect.
static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "semgate");
    builder.append(SqlInfo::FlightSqlServerVersion, SERVER_VERSION);
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "59");
    builder.append(SqlInfo::FlightSqlServerReadOnly, true);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    builder.append(SqlInfo::FlightSqlServerCancel, false);
    builder.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    builder.append(SqlInfo::SqlDdlCatalog, false);
    builder.append(SqlInfo::SqlDdlSchema, false);
    builder.append(SqlInfo::SqlDdlTable, false);
    builder.build().expect("static SQL info is well-formed")
});

/// The SQL types results come in.
static XDBC_TYPES: LazyLock<XdbcTypeInfoData> = LazyLock::new(|| {
    let mut builder = XdbcTypeInfoDataBuilder::new();
    let types = [
        ("boolean", XdbcDataType::XdbcBit, None),
        ("bigint", XdbcDataType::XdbcBigint, Some(64)),
        ("integer", XdbcDataType::XdbcInteger, Some(32)),
        ("double precision", XdbcDataType::XdbcDouble, Some(53)),
        ("numeric", XdbcDataType::XdbcDecimal, Some(38)),
        ("text", XdbcDataType::XdbcVarchar, None),
        ("date", XdbcDataType::XdbcDate, None),
        ("timestamp", XdbcDataType::XdbcTimestamp, None),
    ];
    for (name, data_type, size) in types {
        let quoted = matches!(
            data_type,
            XdbcDataType::XdbcVarchar | XdbcDataType::XdbcDate | XdbcDataType::XdbcTimestamp
        );
        builder.append(XdbcTypeInfo {
            type_name: name.into(),
            data_type,
            column_size: size,
            literal_prefix: quoted.then(|| "'".into()),
            literal_suffix: quoted.then(|| "'".into()),
            create_params: None,
            nullable: Nullable::NullabilityNullable,
            case_sensitive: data_type == XdbcDataType::XdbcVarchar,
            searchable: Searchable::Full,
            unsigned_attribute: size.map(|_| false),
            fixed_prec_scale: false,
            auto_increment: size.map(|_| false),
            local_type_name: Some(name.into()),
            minimum_scale: None,
            maximum_scale: None,
            sql_data_type: data_type,
            datetime_subcode: None,
            num_prec_radix: size.map(|_| 10),
            interval_precision: None,
        });
    }
    builder.build().expect("static type info is well-formed")
});

/// The result schema of CommandGetPrimaryKeys, as the Flight SQL specification gives it.
fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlFrontend {
    type FlightService = FlightSqlFrontend;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<BoxStream<HandshakeResponse>>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| no_credentials("no credentials: authenticate with HTTP Basic (user, password)"))?;
        let client = client_of(&request);
        let user = self.basic_user(header, &client, certificate_name(&request).as_deref())?;
        let token = format!("{:032x}", rand::random::<u128>());
        self.sessions.insert(token.clone(), self.open_session(&user, client)?);
        tracing::debug!(%user, "flight handshake");
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let mut response: Response<BoxStream<HandshakeResponse>> =
            Response::new(stream::once(async { Ok(reply) }).boxed());
        let bearer = MetadataValue::try_from(format!("Bearer {token}")).map_err(|e| Status::internal(e.to_string()))?;
        response.metadata_mut().insert("authorization", bearer);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        let planned = self.prepare(&session, &query.query).await?;
        self.flight_info(session, planned, vec![], request.into_inner()).await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        let prepared = self.prepared_query(&command.prepared_statement_handle, &session)?;
        let parameters = prepared.parameters.lock().expect("parameters lock").clone();
        self.flight_info(
            prepared.session.clone(),
            prepared.planned.clone(),
            parameters,
            request.into_inner(),
        )
        .await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.metadata_info(query, &schema, request)
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(query, &schema, request)
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(query, &schema, request)
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.metadata_info(query, &schema, request)
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&SQL_INFO).schema();
        self.metadata_info(query, &schema, request)
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.metadata_info(query, &primary_keys_schema(), request)
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder(&XDBC_TYPES).schema();
        self.metadata_info(query, &schema, request)
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        let caller = self.session(&request)?;
        let work = handle_id(&ticket.statement_handle)
            .and_then(|id| self.tickets.get(&id))
            .ok_or_else(|| Status::not_found("the ticket is unknown or expired: call GetFlightInfo again"))?;
        if work.session.user != caller.user {
            return Err(Status::permission_denied("the ticket belongs to another user"));
        }
        let rows =
            match &work.rows {
                Rows::Planned { planned, parameters } => {
                    match work.session.run(planned, parameters.clone()).await.map_err(status)? {
                        Outcome::Rows { rows, .. } | Outcome::Copy { rows, .. } => rows,
                        Outcome::Done(_) => Box::pin(EmptyRecordBatchStream::new(Arc::new(Schema::empty()))),
                    }
                }
                Rows::Ran(rows) => rows.lock().expect("rows lock").take().ok_or_else(|| {
                    Status::not_found("the ticket's rows were read already: send the statement again")
                })?,
            };
        let schema = flight_schema(&rows.schema());
        let converted = schema.clone();
        let batches = rows.map(move |batch| {
            batch
                .map_err(Error::from)
                .and_then(|b| to_flight_schema(b, &converted).map_err(|e| Error::Query(e.into())))
        });
        let batches = coalesce(batches, schema.clone()).map_err(|e| FlightError::Tonic(Box::new(status(e))));
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(|e| match e {
                FlightError::Tonic(status) => *status,
                other => Status::internal(other.to_string()),
            });
        Ok(Response::new(encoded_apart(flight).boxed()))
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        self.session(&request)?;
        let mut builder = query.into_builder();
        builder.append(self.database.as_str());
        Ok(batch_stream(builder.build()))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        let session = self.session(&request)?;
        let mut builder = query.into_builder();
        for (schema, _) in self.user_schemas(&session)? {
            builder.append(self.database.as_str(), schema);
        }
        Ok(batch_stream(builder.build()))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        let session = self.session(&request)?;
        let mut builder = query.into_builder();
        for (schema, table, arrow_schema) in self.relations(&session).await? {
            builder
                .append(
                    self.database.as_str(),
                    schema,
                    table,
                    "VIEW",
                    &flight_schema(&arrow_schema),
                )
                .map_err(Status::from)?;
        }
        Ok(batch_stream(builder.build()))
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        self.session(&request)?;
        let mut builder = query.into_builder();
        builder.append("VIEW");
        Ok(batch_stream(builder.build()))
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        self.session(&request)?;
        Ok(batch_stream(query.into_builder(&SQL_INFO).build()))
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        self.session(&request)?;
        // Semantic views have no primary keys a client could rely on.
        Ok(batch_stream(Ok(RecordBatch::new_empty(primary_keys_schema()))))
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<Ticket>,
    ) -> Result<Response<BoxStream<FlightData>>, Status> {
        self.session(&request)?;
        Ok(batch_stream(query.into_builder(&XDBC_TYPES).build()))
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.session(&request)?;
        // A write is refused by the router with its read-only message; anything else is a query sent the wrong way.
        router::route(&command.query).map_err(|e| status(e.into()))?;
        Err(Status::invalid_argument(
            "semgate is read-only: send queries as CommandStatementQuery (execute, not execute_update)",
        ))
    }

    async fn do_put_prepared_statement_query(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let session = self.session(&request)?;
        let prepared = self.prepared_query(&command.prepared_statement_handle, &session)?;
        let flight = request.into_inner().map_err(FlightError::from);
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(flight)
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("cannot read the parameters: {e}")))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows > 1 {
            return Err(Status::invalid_argument(format!(
                "bind one row of parameters per query, not {rows}"
            )));
        }
        let values = match batches.iter().find(|b| b.num_rows() == 1) {
            Some(batch) => batch
                .columns()
                .iter()
                .map(|column| ScalarValue::try_from_array(column, 0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Status::invalid_argument(e.to_string()))?,
            None => vec![],
        };
        *prepared.parameters.lock().expect("parameters lock") = values;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(command.prepared_statement_handle),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        _command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.session(&request)?;
        Err(status(RouteError::ReadOnly("an update".into()).into()))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = self.session(&request)?;
        let planned = self.prepare(&session, &query.query).await?;
        let parameter_schema = Schema::new(
            planned
                .parameter_types()
                .iter()
                .enumerate()
                .map(|(i, ty)| Field::new(format!("${}", i + 1), ty.clone(), true))
                .collect::<Vec<_>>(),
        );
        let dataset_schema = planned.result_schema().unwrap_or_else(|| Arc::new(Schema::empty()));
        let dataset_schema = schema_bytes(&flight_schema(&dataset_schema))?;
        let id: u128 = rand::random();
        self.prepared.insert(
            id,
            Arc::new(PreparedQuery {
                session,
                planned,
                parameters: Mutex::new(vec![]),
            }),
        );
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: id.to_be_bytes().to_vec().into(),
            dataset_schema,
            parameter_schema: schema_bytes(&parameter_schema)?,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let session = self.session(&request)?;
        self.prepared_query(&query.prepared_statement_handle, &session)?;
        if let Some(id) = handle_id(&query.prepared_statement_handle) {
            self.prepared.invalidate(&id);
        }
        Ok(())
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// How long a Flight SQL client has to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve Flight SQL (and plain Flight) on `listener` until `stopping` fires; with `tls`, TLS only (gRPC offers no
/// upgrade from plaintext on one port). Connections are accepted here rather than by tonic so that each TLS
/// handshake uses the certificate being served at that moment (a reload applies to the next connection) and each
/// connection is counted.
pub async fn serve(
    listener: tokio::net::TcpListener,
    frontend: FlightFrontend,
    tls: Option<Arc<WireTls>>,
    stopping: CancellationToken,
) {
    let service =
        arrow_flight::flight_service_server::FlightServiceServer::new(frontend).max_decoding_message_size(64 << 20);
    let router = tonic::transport::Server::builder().add_service(service);
    let served = match tls {
        None => {
            let incoming = accepted(listener, stopping.clone(), |socket| async move { Some(socket) });
            router
                .serve_with_incoming_shutdown(incoming, stopping.cancelled())
                .await
        }
        Some(tls) => {
            let incoming = accepted(listener, stopping.clone(), move |socket| {
                let acceptor = tls.flight_acceptor();
                async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
                        Ok(Ok(secured)) => Some(secured),
                        Ok(Err(e)) => {
                            METRICS.tls_handshake_failed("flight");
                            tracing::debug!(error = %e, "a Flight SQL client's TLS handshake failed");
                            None
                        }
                        Err(_) => {
                            METRICS.tls_handshake_failed("flight");
                            None
                        }
                    }
                }
            });
            router
                .serve_with_incoming_shutdown(incoming, stopping.cancelled())
                .await
        }
    };
    if let Err(e) = served {
        tracing::error!(error = %e, "the Flight SQL server stopped");
    }
}

/// The connections `listener` accepts until `stopping`, each made ready by `upgrade` (a TLS handshake, say) in a
/// task of its own so that one slow client does not hold up the others; one that fails to upgrade is dropped.
fn accepted<IO, Upgrade, Ready>(
    listener: tokio::net::TcpListener,
    stopping: CancellationToken,
    upgrade: Upgrade,
) -> impl Stream<Item = Result<Counted<IO>, std::io::Error>>
where
    IO: Send + 'static,
    Upgrade: Fn(tokio::net::TcpStream) -> Ready + Send + 'static,
    Ready: std::future::Future<Output = Option<IO>> + Send + 'static,
{
    let (ready, incoming) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut backoff = super::ACCEPT_BACKOFF_MIN;
        loop {
            let accepted = tokio::select! {
                _ = stopping.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let socket = match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(super::ACCEPT_BACKOFF_MAX);
                    continue;
                }
            };
            backoff = super::ACCEPT_BACKOFF_MIN;
            let _ = socket.set_nodelay(true);
            let counted = METRICS.connection("flight");
            let (upgrading, ready) = (upgrade(socket), ready.clone());
            tokio::spawn(async move {
                if let Some(io) = upgrading.await {
                    let _ = ready.send(Ok(Counted { io, _counted: counted })).await;
                }
            });
        }
    });
    stream::unfold(incoming, |mut incoming| async move {
        incoming.recv().await.map(|connection| (connection, incoming))
    })
}

/// A connection, counted as active while it is open.
struct Counted<IO> {
    io: IO,
    _counted: ConnectionGuard,
}

impl<IO: Connected> Connected for Counted<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Counted<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Counted<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The subject CN of the caller's TLS client certificate, if it presented one.
fn certificate_name<T>(request: &Request<T>) -> Option<String> {
    let certificates = request
        .extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()?
        .peer_certs()?;
    certificates.first().and_then(tls::common_name)
}

/// Who is calling, for the audit trail.
fn client_of<T>(request: &Request<T>) -> Client {
    Client {
        protocol: "flight",
        address: request.remote_addr(),
        // Set by tonic's TLS acceptor on every connection it serves (and only then).
        tls: request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>().is_some(),
    }
}

/// Plain Flight beside Flight SQL: a descriptor whose `cmd` is not a Flight SQL message is taken as SQL text, so
/// `pyarrow.flight` users can `get_flight_info(FlightDescriptor.for_command("SELECT …"))` and `do_get` the ticket.
/// Everything else is Flight SQL's.
pub struct FlightFrontend {
    sql: Arc<FlightSqlFrontend>,
}

impl FlightFrontend {
    pub fn new(deployment: CurrentDeployment) -> Self {
        Self {
            sql: Arc::new(FlightSqlFrontend::new(deployment)),
        }
    }
}

const FLIGHT_SQL_TYPE_PREFIX: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

#[tonic::async_trait]
impl FlightService for FlightFrontend {
    type HandshakeStream = BoxStream<HandshakeResponse>;
    type ListFlightsStream = BoxStream<FlightInfo>;
    type DoGetStream = BoxStream<FlightData>;
    type DoPutStream = BoxStream<PutResult>;
    type DoActionStream = BoxStream<arrow_flight::Result>;
    type ListActionsStream = BoxStream<ActionType>;
    type DoExchangeStream = BoxStream<FlightData>;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        FlightService::handshake(self.sql.as_ref(), request).await
    }

    async fn list_flights(&self, request: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        FlightService::list_flights(self.sql.as_ref(), request).await
    }

    async fn get_flight_info(&self, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let is_flight_sql = Any::decode(&*request.get_ref().cmd)
            .map(|any| any.type_url.starts_with(FLIGHT_SQL_TYPE_PREFIX))
            .unwrap_or(false);
        if is_flight_sql {
            return FlightService::get_flight_info(self.sql.as_ref(), request).await;
        }
        let sql = std::str::from_utf8(&request.get_ref().cmd)
            .map_err(|_| Status::invalid_argument("the descriptor's cmd must be a Flight SQL command or UTF-8 SQL"))?
            .to_string();
        let session = self.sql.session(&request)?;
        let planned = self.sql.prepare(&session, &sql).await?;
        self.sql
            .flight_info(session, planned, vec![], request.into_inner())
            .await
    }

    async fn poll_flight_info(&self, request: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        FlightService::poll_flight_info(self.sql.as_ref(), request).await
    }

    async fn get_schema(&self, request: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        FlightService::get_schema(self.sql.as_ref(), request).await
    }

    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        FlightService::do_get(self.sql.as_ref(), request).await
    }

    async fn do_put(&self, request: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        FlightService::do_put(self.sql.as_ref(), request).await
    }

    async fn do_action(&self, request: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        FlightService::do_action(self.sql.as_ref(), request).await
    }

    async fn list_actions(&self, request: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        FlightService::list_actions(self.sql.as_ref(), request).await
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        FlightService::do_exchange(self.sql.as_ref(), request).await
    }
}
