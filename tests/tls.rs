//! TLS on both wires: a throwaway CA made at test time with openssl, psql connecting with `sslmode=verify-full` (the
//! certificate checked against the CA and the host name) and arrow-flight's client over `https` verifying the same
//! certificate, plaintext refused under `mode: require` with SQLSTATE 28000, and audit lines saying TLS.

mod common;

use std::path::Path;
use std::process::Command;

use arrow_flight::sql::client::FlightSqlServiceClient;
use semgate::config::TlsConfig;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// A CA and a server certificate for localhost/127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=semgate test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
}

fn psql(port: u16, sslmode: &str, ca: &Path, command: &str) -> std::process::Output {
    let conninfo = format!(
        "host=localhost port={port} user=analyst dbname=semgate sslmode={sslmode} sslrootcert={}",
        ca.display()
    );
    Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-At", &conninfo, "-c", command])
        .env("PGPASSWORD", "analyst")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql runs (scripts/test.sh installs postgresql-client)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_verifies_the_certificate_and_plaintext_is_refused_when_required() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let mut config = semgate::Config::demo(common::data_dir(), common::TEST_SCALE);
    config.tls = Some(TlsConfig {
        cert_file: dir.path().join("server.pem"),
        key_file: dir.path().join("server.key"),
        required: true,
    });
    config.audit = semgate::audit::AuditConfig {
        path: Some(dir.path().join("audit.jsonl")),
        log: false,
        redact_literals: false,
    };
    let gateway = common::spawn_gateway(config);
    let port = gateway.pg_addr.port();
    let ca = dir.path().join("ca.pem");

    let verified = psql(port, "verify-full", &ca, "SELECT MEASURE(line_items) FROM sales");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let ctx = common::reference().await;
    let expected = common::reference_rows(&ctx, "SELECT COUNT(*) FROM lineitem").await;
    assert_eq!(String::from_utf8_lossy(&verified.stdout).trim(), expected[0][0]);
    let info = psql(port, "verify-full", &ca, "\\conninfo");
    assert!(
        String::from_utf8_lossy(&info.stdout).contains("SSL connection"),
        "{info:?}"
    );

    // Plaintext, under `require`: refused with 28000 and a message that says what to do.
    let plaintext = psql(port, "disable", &ca, "SELECT 1");
    assert!(!plaintext.status.success());
    let stderr = String::from_utf8_lossy(&plaintext.stderr);
    assert!(
        stderr.contains("accepts only TLS connections") && stderr.contains("sslmode=require"),
        "{stderr}"
    );
    let url = format!("postgres://analyst:analyst@127.0.0.1:{port}/semgate");
    let Err(refused) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await else {
        panic!("a plaintext login must be refused")
    };
    assert_eq!(refused.code().map(|c| c.code()), Some("28000"), "{refused}");

    // Flight SQL over TLS with the same certificate, verified against the CA; plaintext gRPC gets nowhere.
    let flight_tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&ca).unwrap()))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://127.0.0.1:{}", gateway.flight_addr.port()))
        .unwrap()
        .tls_config(flight_tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut flight = FlightSqlServiceClient::new(channel);
    flight.handshake("analyst", "analyst").await.unwrap();
    let info = flight
        .execute("SELECT MEASURE(line_items) AS over_flight_tls FROM sales".into(), None)
        .await
        .unwrap();
    let batches = common::flight_batches(&mut flight, info).await;
    assert_eq!(common::batch_rows(&batches), expected);
    let plaintext = Channel::from_shared(format!("http://127.0.0.1:{}", gateway.flight_addr.port())).unwrap();
    let refused = match plaintext.connect().await {
        Ok(channel) => FlightSqlServiceClient::new(channel)
            .handshake("analyst", "analyst")
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(refused, "plaintext Flight must not be served when TLS is configured");

    // A certificate the client does not trust: verify-full fails on the client's side.
    let other = tempfile::tempdir().unwrap();
    make_certificates(other.path());
    let untrusted = psql(port, "verify-full", &other.path().join("ca.pem"), "SELECT 1");
    assert!(!untrusted.status.success());

    // Lines are written as statements end, which may be just after the client has its answer: wait for them (a
    // hang detector, not a timing).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap_or_default();
        let query = audit.lines().find(|l| l.contains("MEASURE(line_items) FROM"));
        let over_flight = audit.lines().find(|l| l.contains("over_flight_tls"));
        let refusal = audit.lines().any(|l| l.contains("login_failed") && l.contains("28000"));
        if let (Some(line), Some(flight_line), true) = (query, over_flight, refusal) {
            assert!(line.contains("\"tls\":true"), "{line}");
            assert!(
                flight_line.contains("\"tls\":true") && flight_line.contains("\"protocol\":\"flight\""),
                "{flight_line}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "audit lines missing:\n{audit}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
