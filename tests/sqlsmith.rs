//! sqlsmith, the random-SQL generator for PostgreSQL-compatible servers, against the demo: it loads the catalog the
//! way it loads PostgreSQL's (`information_schema.tables`, `pg_type`, `pg_proc`, `pg_operator`, …), then sends a few
//! thousand random queries from a fixed seed. The gateway must answer every one or fail it with a SQLSTATE (never
//! XX000, the class of errors nobody mapped), drop no connection, never panic, and still answer afterwards.
//!
//! A relay between sqlsmith and the gateway reads what the gateway sends: sqlsmith only prints error messages, and
//! a lost connection only as a `C` in its progress line.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SEED: u32 = 19;
const QUERIES: u32 = 5_000;
/// Only a hang exceeds this (the run takes about a minute in a dev build); sqlsmith's own statement timeout (1 s)
/// bounds each query.
const HANG: Duration = Duration::from_secs(15 * 60);

/// What the gateway sent, over every connection of the run.
#[derive(Default, Debug)]
struct Observed {
    connections: usize,
    /// ErrorResponses by SQLSTATE.
    errors: BTreeMap<String, usize>,
    /// The messages of ErrorResponses without a SQLSTATE.
    without_sqlstate: Vec<String>,
    /// The messages of statements that panicked (the panic guard's XX000).
    panics: Vec<String>,
    /// The messages of other internal errors (XX000): each one an error class still to map to PostgreSQL's.
    internal: Vec<String>,
    /// Connections the gateway closed while the client still used them, without a FATAL error first.
    dropped: usize,
}

/// One protocol message as it was sent: type byte, length, body.
fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut message = vec![0u8; 5];
    stream.read_exact(&mut message).ok()?;
    let length = u32::from_be_bytes([message[1], message[2], message[3], message[4]]) as usize;
    message.resize(1 + length.max(4), 0);
    stream.read_exact(&mut message[5..]).ok()?;
    Some(message)
}

/// The fields of an ErrorResponse, by their one-byte code.
fn error_fields(message: &[u8]) -> BTreeMap<u8, String> {
    message[5..]
        .split(|&b| b == 0)
        .filter(|field| !field.is_empty())
        .map(|field| (field[0], String::from_utf8_lossy(&field[1..]).into_owned()))
        .collect()
}

/// Relay one client connection to the gateway, recording what the gateway answers.
fn relay(mut client: TcpStream, gateway: SocketAddr, observed: Arc<Mutex<Observed>>) {
    let mut server = TcpStream::connect(gateway).expect("the gateway accepts connections");
    // Each message is written whole and at once: nothing waits for an acknowledgement of a previous write.
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    observed.lock().unwrap().connections += 1;
    let client_done = Arc::new(AtomicBool::new(false));
    // The text of the last statement the client sent, to name it beside an internal error.
    let last_statement = Arc::new(Mutex::new(String::new()));
    let upstream = {
        let (mut client, mut server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let client_done = client_done.clone();
        let last_statement = last_statement.clone();
        std::thread::spawn(move || {
            // The startup message has no type byte (sslmode and gssencmode are off: it is the first message);
            // every later one has.
            let mut length = [0u8; 4];
            if client.read_exact(&mut length).is_ok() {
                let mut startup = length.to_vec();
                startup.resize((u32::from_be_bytes(length) as usize).max(4), 0);
                if client.read_exact(&mut startup[4..]).is_ok() && server.write_all(&startup).is_ok() {
                    while let Some(message) = read_message(&mut client) {
                        match message[0] {
                            b'X' => client_done.store(true, Ordering::SeqCst),
                            b'Q' => *last_statement.lock().unwrap() = statement_text(&message[5..]),
                            // Parse: the statement's name, then its text.
                            b'P' => {
                                if let Some(start) = message[5..].iter().position(|&b| b == 0) {
                                    *last_statement.lock().unwrap() = statement_text(&message[6 + start..]);
                                }
                            }
                            _ => {}
                        }
                        if server.write_all(&message).is_err() {
                            break;
                        }
                    }
                }
            }
            client_done.store(true, Ordering::SeqCst);
            let _ = server.shutdown(Shutdown::Write);
        })
    };
    let mut fatal = false;
    // The gateway's first answer (to the startup message) and every later one is a typed message.
    while let Some(message) = read_message(&mut server) {
        if message[0] == b'E' {
            let fields = error_fields(&message);
            let text = fields.get(&b'M').cloned().unwrap_or_default();
            let mut observed = observed.lock().unwrap();
            match fields.get(&b'C') {
                Some(code) => *observed.errors.entry(code.clone()).or_default() += 1,
                None => observed.without_sqlstate.push(text.clone()),
            }
            if text.starts_with("internal error in semgate") {
                observed.panics.push(text);
            } else if fields.get(&b'C').is_some_and(|code| code == "XX000") {
                observed
                    .internal
                    .push(format!("{text} — in: {}", last_statement.lock().unwrap()));
            }
            fatal = fields.get(&b'V').is_some_and(|severity| severity == "FATAL");
        }
        if client.write_all(&message).is_err() {
            break;
        }
    }
    // A session the client ended (Terminate, or its socket closed) may close; the gateway closing one first is a drop.
    if !client_done.load(Ordering::SeqCst) && !fatal {
        observed.lock().unwrap().dropped += 1;
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.join();
}

/// A NUL-terminated statement text at the start of `body`.
fn statement_text(body: &[u8]) -> String {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// A relay to the gateway on a port of its own, recording into `observed`.
fn start_relay(gateway: SocketAddr, observed: Arc<Mutex<Observed>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let observed = observed.clone();
            std::thread::spawn(move || relay(client, gateway, observed));
        }
    });
    addr
}

/// Run sqlsmith to its end (or kill it at [`HANG`]): whether it exited normally, and what it printed.
fn run_sqlsmith(target: SocketAddr) -> (bool, String) {
    let conninfo = format!(
        "host={} port={} dbname=semgate user=analyst password=analyst sslmode=disable gssencmode=disable",
        target.ip(),
        target.port()
    );
    let mut child = Command::new("sqlsmith")
        .args([
            format!("--target={conninfo}"),
            format!("--seed={SEED}"),
            format!("--max-queries={QUERIES}"),
            "--verbose".to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sqlsmith is installed (apt-get install sqlsmith; scripts/test.sh installs it)");
    let mut stderr = child.stderr.take().unwrap();
    let output = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            panic!("sqlsmith still running after {HANG:?}: a query or the catalog load hangs");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status.success(), output.join().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlsmith_runs_and_every_error_has_a_sqlstate() {
    let observed = Arc::new(Mutex::new(Observed::default()));
    let relay = start_relay(common::addr(), observed.clone());
    let started = Instant::now();
    let (exited_normally, output) = tokio::task::spawn_blocking(move || run_sqlsmith(relay)).await.unwrap();
    let observed = std::mem::take(&mut *observed.lock().unwrap());
    // The final report: queries, and error messages by count.
    let report = output
        .rsplit_once("\nqueries:")
        .map_or(output.as_str(), |(_, report)| report);
    println!(
        "sqlsmith: {QUERIES} queries (seed {SEED}) in {:?} over {} connections; errors by SQLSTATE: {:?}\nqueries:{report}",
        started.elapsed(),
        observed.connections,
        observed.errors
    );
    assert!(exited_normally, "sqlsmith stopped early:\n{output}");
    assert!(
        observed.without_sqlstate.is_empty(),
        "errors without a SQLSTATE: {:?}",
        observed.without_sqlstate
    );
    assert!(
        observed.panics.is_empty(),
        "statements that panicked: {:?}",
        observed.panics
    );
    assert!(
        observed.internal.is_empty(),
        "internal errors (XX000) where PostgreSQL names the class: {:?}",
        observed.internal
    );
    assert_eq!(observed.dropped, 0, "connections the gateway dropped:\n{output}");
    let client = common::connect().await;
    assert_eq!(common::rows(&client, "SELECT 1").await, [["1"]]);
}
