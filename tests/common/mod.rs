//! Shared test harness: one demo gateway per test binary (TPC-H at a small scale, port 0), real clients, and an
//! independent reference: hand-written SQL over the raw Parquet tables in a plain DataFusion context.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use semgate::{Application, Config};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

pub mod cluster;
pub mod example;
pub mod semantic_cases;

/// Scale of the demo used by tests: small enough to generate in a few seconds.
pub const TEST_SCALE: f64 = 0.01;

/// A query that cannot finish while a test waits for it (a cross product of billions of rows), so that a timeout or a
/// cancel is what ends it whatever the machine's speed: tests never race a short timeout against a quick query.
pub const NEVER_FINISHING_QUERY: &str = "SELECT COUNT(*) FROM (SELECT ship_date FROM sales GROUP BY ship_date) a, \
     (SELECT order_date FROM sales GROUP BY order_date) b, (SELECT nation FROM sales GROUP BY nation) c, \
     (SELECT brand FROM sales GROUP BY brand) d WHERE a.ship_date > b.order_date";

pub fn data_dir() -> PathBuf {
    std::env::var_os("SEMGATE_TEST_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("semgate-test-data"))
}

struct Gateway {
    addr: SocketAddr,
    flight_addr: SocketAddr,
    tpch_dir: PathBuf,
}

static GATEWAY: OnceLock<Gateway> = OnceLock::new();

/// The gateway's address; it is started once per test binary on its own runtime thread.
fn gateway() -> &'static Gateway {
    GATEWAY.get_or_init(|| {
        let mut config = Config::demo(data_dir(), TEST_SCALE);
        // A second user, for what must differ between users (the result cache).
        config.users.add("auditor", "auditor", &["admin"]);
        let spawned = spawn_gateway(config);
        Gateway {
            addr: spawned.pg_addr,
            flight_addr: spawned.flight_addr,
            tpch_dir: demo_dir(),
        }
    })
}

/// The demo's Parquet directory at the test scale (where the gateway generated it).
pub fn demo_dir() -> PathBuf {
    data_dir().join(format!("tpch-sf{TEST_SCALE}"))
}

/// A gateway started by [`spawn_gateway`].
pub struct Spawned {
    pub pg_addr: SocketAddr,
    pub flight_addr: SocketAddr,
    /// Where `/metrics`, `/healthz` and `/readyz` are served, when the configuration has an `admin_addr`.
    pub admin_addr: Option<SocketAddr>,
    pub reloader: semgate::server::Reloader,
}

/// Start a gateway for `config` on ports chosen by the system, on its own runtime thread.
pub fn spawn_gateway(mut config: Config) -> Spawned {
    config.pg_addr = "127.0.0.1:0".parse().unwrap();
    config.flight_addr = "127.0.0.1:0".parse().unwrap();
    if config.admin_addr.is_some() {
        config.admin_addr = Some("127.0.0.1:0".parse().unwrap());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Application::build(config).await.expect("gateway starts");
            tx.send(Spawned {
                pg_addr: app.pg_addr(),
                flight_addr: app.flight_addr(),
                admin_addr: app.admin_addr(),
                reloader: app.reloader(),
            })
            .unwrap();
            app.run_until_stopped(std::future::pending()).await.unwrap();
        });
    });
    rx.recv().expect("gateway started")
}

/// `GET http://{addr}{path}` on the admin port: the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

pub fn addr() -> SocketAddr {
    gateway().addr
}

pub fn flight_addr() -> SocketAddr {
    gateway().flight_addr
}

pub fn url(user: &str, password: &str, database: &str) -> String {
    let addr = addr();
    format!("postgres://{user}:{password}@{}:{}/{database}", addr.ip(), addr.port())
}

pub async fn connect_as(user: &str, password: &str, database: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(&url(user, password, database), NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The analyst of a gateway of the test's own (see [`spawn_gateway`]) at `addr`.
pub async fn connect_to(addr: SocketAddr) -> Client {
    let url = format!("postgres://analyst:analyst@{}:{}/semgate", addr.ip(), addr.port());
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A port free when asked, for servers a test starts as processes (databases, S3) that cannot take port 0.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The repository's root, where the examples and model files are.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub async fn connect() -> Client {
    connect_as("analyst", "analyst", "semgate")
        .await
        .expect("demo credentials connect")
}

/// Rows of a query over the simple protocol, as text (NULL → "NULL").
pub async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\n → {e:?}"));
    message_rows(messages)
}

/// The rows among a simple query's messages, as text (NULL → "NULL").
pub fn message_rows(messages: Vec<SimpleQueryMessage>) -> Vec<Vec<String>> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// A plain DataFusion context over the raw TPC-H Parquet files: the independent reference.
pub async fn reference() -> SessionContext {
    let ctx = SessionContext::new();
    for table in semgate::demo::TABLES {
        let path = gateway().tpch_dir.join(format!("{table}.parquet"));
        ctx.register_parquet(table, path.to_string_lossy().as_ref(), ParquetReadOptions::default())
            .await
            .unwrap();
    }
    ctx
}

/// Rows of a reference query, as text.
pub async fn reference_rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\n → {e}"))
        .collect()
        .await
        .unwrap();
    batch_rows(&batches)
}

/// Every batch of every endpoint of a Flight SQL answer.
pub async fn flight_batches(
    client: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>,
    info: arrow_flight::FlightInfo,
) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let stream = client.do_get(endpoint.ticket.unwrap()).await.unwrap();
        batches.extend(futures::TryStreamExt::try_collect::<Vec<_>>(stream).await.unwrap());
    }
    batches
}

/// A Flight SQL client at `addr` (plaintext), logged in as `user` by Handshake.
pub async fn flight_client(
    addr: SocketAddr,
    user: &str,
    password: &str,
) -> arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = arrow_flight::sql::client::FlightSqlServiceClient::new(channel);
    client.handshake(user, password).await.unwrap();
    client
}

/// The rows of `sql` run over Flight SQL, as text.
pub async fn flight_rows(
    client: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>,
    sql: &str,
) -> Vec<Vec<String>> {
    let info = client.execute(sql.to_string(), None).await.unwrap();
    batch_rows(&flight_batches(client, info).await)
}

/// Arrow batches as text rows (NULL → "NULL"), formatted like the reference's.
pub fn batch_rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            out.push(formatters.iter().map(|f| f.value(row).to_string()).collect());
        }
    }
    out
}

/// Equal cell by cell; numbers compare with a relative tolerance (decimal scales differ between engines).
pub fn assert_same(context: &str, actual: &[Vec<String>], expected: &[Vec<String>]) {
    if let Err(difference) = compare_rows(actual, expected) {
        panic!("{context}: {difference}");
    }
}

/// Where two results differ, if they do; an empty reference is a difference too (it would prove nothing).
pub fn compare_rows(actual: &[Vec<String>], expected: &[Vec<String>]) -> Result<(), String> {
    if expected.is_empty() {
        return Err("the reference returned no rows; the comparison would prove nothing".into());
    }
    if actual.len() != expected.len() {
        return Err(format!(
            "row counts differ ({} vs {})\nactual: {actual:?}\nexpected: {expected:?}",
            actual.len(),
            expected.len()
        ));
    }
    for (a_row, e_row) in actual.iter().zip(expected) {
        if a_row.len() != e_row.len() {
            return Err(format!("column counts differ: {a_row:?} vs {e_row:?}"));
        }
        for (a, e) in a_row.iter().zip(e_row) {
            let same = match (a.parse::<f64>(), e.parse::<f64>()) {
                (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                _ => a == e || normalize_time(a) == normalize_time(e),
            };
            if !same {
                return Err(format!(
                    "{a:?} != {e:?}\nactual row: {a_row:?}\nexpected row: {e_row:?}"
                ));
            }
        }
    }
    Ok(())
}

fn normalize_time(text: &str) -> String {
    let text = text.replace('T', " ");
    let text = text.trim_end_matches("+00").trim_end_matches(".000000");
    text.trim_end_matches(" 00:00:00").to_string()
}
