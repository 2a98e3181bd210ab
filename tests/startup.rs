//! What a connection may do before it has authenticated: start-up packets no client sends are refused at once, and
//! a client that does not finish authenticating is closed after `authentication_timeout`, so nobody can hold
//! connection slots by sending nothing or by announcing gigabytes.

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// PostgreSQL's protocol 3.0, as a start-up packet names it.
const PROTOCOL_3_0: i32 = 196_608;

/// A hang detector, not a speed test: it is far shorter than the default 60 s authentication timeout, which would
/// end any waiting connection in the end, and far longer than refusing takes.
const HANG: Duration = Duration::from_secs(30);

/// Read until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(HANG, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open (sent {received:?})");
    received
}

fn startup_packet(user: &str) -> Vec<u8> {
    let mut body = PROTOCOL_3_0.to_be_bytes().to_vec();
    for text in ["user", user, "database", "semgate", ""] {
        body.extend(text.as_bytes());
        body.push(0);
    }
    let mut packet = (body.len() as i32 + 4).to_be_bytes().to_vec();
    packet.extend(body);
    packet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_packets_of_impossible_lengths_are_refused_at_once() {
    // Announced lengths: nearly 2 GB, one byte over PostgreSQL's 10,000-byte limit, shorter than the header itself.
    for length in [0x7fff_fff0_i32, 10_001, 4] {
        let mut stream = TcpStream::connect(common::addr()).await.unwrap();
        let mut header = length.to_be_bytes().to_vec();
        header.extend(PROTOCOL_3_0.to_be_bytes());
        stream.write_all(&header).await.unwrap();
        until_closed(&mut stream).await;
    }
    // The server is none the worse for it.
    let client = common::connect().await;
    assert_eq!(common::rows(&client, "SELECT 1").await, [["1"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_authenticate_in_time_is_closed() {
    let mut config = semgate::Config::demo(common::data_dir(), common::TEST_SCALE);
    config.authentication_timeout = Duration::from_secs(1);
    let gateway = common::spawn_gateway(config);

    // Silent from the start.
    let mut silent = TcpStream::connect(gateway.pg_addr).await.unwrap();
    assert!(until_closed(&mut silent).await.is_empty());

    // Starts, is asked for SCRAM, and never answers: told nothing more, and closed.
    let mut stalled = TcpStream::connect(gateway.pg_addr).await.unwrap();
    stalled.write_all(&startup_packet("analyst")).await.unwrap();
    let received = until_closed(&mut stalled).await;
    assert_eq!(received.first(), Some(&b'R'), "asked to authenticate: {received:?}");

    // A client that authenticates is not bound by the timeout: its session outlives it.
    let (client, connection) = tokio_postgres::connect(
        &format!(
            "postgres://analyst:analyst@{}:{}/semgate",
            gateway.pg_addr.ip(),
            gateway.pg_addr.port()
        ),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    // Provoked on purpose rather than waited for: the session stays open across a wait longer than the timeout.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(common::rows(&client, "SELECT 2").await, [["2"]]);
}
