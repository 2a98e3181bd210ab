//! TLS on both wires: a throwaway CA made at test time with openssl, psql connecting with `sslmode=verify-full` (the
//! certificate checked against the CA and the host name) and arrow-flight's client over `https` verifying the same
//! certificate, plaintext refused under `mode: require` with SQLSTATE 28000, and audit lines saying TLS; client
//! certificates logging in `cert_identity` users on both wires (and refused when missing or naming someone else),
//! SCRAM channel binding, and certificates reloaded without a restart (a broken pair refused, the old one kept).

mod common;

use std::path::Path;
use std::process::Command;

use arrow_flight::sql::client::FlightSqlServiceClient;
use semgate::config::TlsConfig;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// Run openssl in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// `<name>.key`, a new key, and `<name>.pem`, a certificate for `common_name` signed by `dir`'s CA with the X.509 v3
/// extensions in `extensions` (webpki refuses v1 certificates); the key readable by its owner only, as libpq insists.
fn issue(dir: &Path, name: &str, common_name: &str, extensions: &str) {
    let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
    let subject = format!("/CN={common_name}");
    openssl(
        dir,
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subject,
        ],
    );
    let extfile = format!("{name}.ext");
    std::fs::write(dir.join(&extfile), format!("{extensions}\n")).unwrap();
    let signed = [
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        &pem,
    ];
    openssl(dir, &[&signed[..], &["-days", "2", "-extfile", &extfile]].concat());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A client certificate for `common_name` signed by `dir`'s CA: `<name>.pem` and `<name>.key`.
fn make_client_certificate(dir: &Path, name: &str, common_name: &str) {
    issue(dir, name, common_name, "extendedKeyUsage=clientAuth");
}

/// A CA and a server certificate for localhost/127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let ca = [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
    ];
    openssl(
        dir,
        &[&ca[..], &["-days", "2", "-subj", "/CN=semgate test CA"]].concat(),
    );
    issue(dir, "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
}

fn psql(port: u16, sslmode: &str, ca: &Path, command: &str) -> std::process::Output {
    psql_with(port, &format!("user=analyst sslmode={sslmode}"), ca, command)
}

/// psql as `options` say (user, sslmode, client certificate…), verifying the server against `ca`, password analyst.
fn psql_with(port: u16, options: &str, ca: &Path, command: &str) -> std::process::Output {
    let conninfo = format!(
        "host=localhost port={port} dbname=semgate sslrootcert={} {options}",
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
        client_ca_file: None,
        client_cert_required: false,
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
    let sql = "SELECT MEASURE(line_items) AS over_flight_tls FROM sales";
    assert_eq!(common::flight_rows(&mut flight, sql).await, expected);
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

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn refused(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_log_in_certificate_users_and_certificates_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = |file: &str| dir.path().join(file);
    make_certificates(dir.path());
    make_client_certificate(dir.path(), "bot", "reporting-bot");
    make_client_certificate(dir.path(), "intruder", "intruder");
    let mut config = semgate::Config::demo(common::data_dir(), common::TEST_SCALE);
    config
        .users
        .add_certificate_user("reporting", "reporting-bot", &["admin"]);
    config.tls = Some(TlsConfig {
        cert_file: path("server.pem"),
        key_file: path("server.key"),
        required: false,
        client_ca_file: Some(path("ca.pem")),
        client_cert_required: false,
    });
    let gateway = common::spawn_gateway(config);
    let port = gateway.pg_addr.port();
    let ca = path("ca.pem");
    let sql = "SELECT MEASURE(line_items) FROM sales";
    let ctx = common::reference().await;
    let expected = common::reference_rows(&ctx, "SELECT COUNT(*) FROM lineitem").await;
    let certificate = |name: &str| {
        format!(
            "user=reporting sslmode=verify-full sslcert={} sslkey={}",
            path(&format!("{name}.pem")).display(),
            path(&format!("{name}.key")).display()
        )
    };

    // PostgreSQL: the certificate naming the user logs in, with no password asked.
    let answer = psql_with(port, &certificate("bot"), &ca, sql);
    assert_eq!(stdout(&answer), expected[0][0]);
    // Someone else's certificate, or none: refused with 28000 and what to do.
    let stderr = refused(&psql_with(port, &certificate("intruder"), &ca, sql));
    assert!(
        stderr.contains("certificate authentication failed for user \"reporting\"") && stderr.contains("\"intruder\""),
        "{stderr}"
    );
    let stderr = refused(&psql_with(port, "user=reporting sslmode=verify-full", &ca, sql));
    assert!(stderr.contains("no client certificate was presented"), "{stderr}");
    let stderr = refused(&psql_with(port, "user=reporting sslmode=disable", &ca, sql));
    assert!(stderr.contains("no client certificate was presented"), "{stderr}");
    // Password users are unaffected by client_cert: optional; SCRAM binds to the TLS channel when asked to.
    let bound = psql_with(
        port,
        "user=analyst sslmode=verify-full channel_binding=require",
        &ca,
        sql,
    );
    assert_eq!(stdout(&bound), expected[0][0]);

    // Flight SQL: the same certificate logs the user in (the password is not read); without it, refused.
    let flight = |identity: Option<&str>| {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(std::fs::read(&ca).unwrap()))
            .domain_name("localhost");
        if let Some(name) = identity {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(path(&format!("{name}.pem"))).unwrap(),
                std::fs::read(path(&format!("{name}.key"))).unwrap(),
            ));
        }
        let endpoint = Channel::from_shared(format!("https://127.0.0.1:{}", gateway.flight_addr.port())).unwrap();
        async move { FlightSqlServiceClient::new(endpoint.tls_config(tls).unwrap().connect().await.unwrap()) }
    };
    let mut client = flight(Some("bot")).await;
    client.handshake("reporting", "").await.unwrap();
    assert_eq!(common::flight_rows(&mut client, sql).await, expected);
    let error = flight(Some("intruder"))
        .await
        .handshake("reporting", "")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("certificate authentication failed"),
        "{error}"
    );
    let error = flight(None).await.handshake("reporting", "anything").await.unwrap_err();
    assert!(error.to_string().contains("no client certificate"), "{error}");

    // Rotation: a new pair from another CA in the same files, read at a reload; new connections get it.
    let rotated = tempfile::tempdir().unwrap();
    make_certificates(rotated.path());
    for file in ["server.pem", "server.key"] {
        std::fs::copy(rotated.path().join(file), path(file)).unwrap();
    }
    gateway.reloader.reload().await.unwrap();
    let new_ca = rotated.path().join("ca.pem");
    assert_eq!(stdout(&psql(port, "verify-full", &new_ca, sql)), expected[0][0]);
    refused(&psql(port, "verify-full", &ca, sql));
    // A broken pair is refused and the one being served stays.
    std::fs::write(path("server.key"), "not a key").unwrap();
    let error = gateway.reloader.reload().await.unwrap_err();
    assert!(error.to_string().contains("server.key"), "{error}");
    assert_eq!(stdout(&psql(port, "verify-full", &new_ca, sql)), expected[0][0]);
}

/// `semgate check` reads the TLS files: the certificate's subject and expiry, a warning when it expires within 14
/// days, and a key that is not the certificate's is a problem.
#[test]
fn check_validates_the_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    make_client_certificate(dir.path(), "other", "someone else");
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let config = |key: &str| {
        format!(
            "data_dir: {}\nsemantic: [{}]\nusers:\n  - {{name: owner, password: x}}\n\
             tls:\n  cert_file: server.pem\n  key_file: {key}\n",
            shop.join("data").display(),
            shop.join("model.yml").display()
        )
    };
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_semgate"))
            .arg("check")
            .arg("--config")
            .arg(dir.path().join("semgate.yml"))
            .output()
            .unwrap()
    };
    std::fs::write(dir.path().join("semgate.yml"), config("server.key")).unwrap();
    let output = check();
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{printed}");
    // Made valid for two days: under a day and a bit is left.
    assert!(printed.contains("tls: certificate CN=localhost expires "), "{printed}");
    assert!(
        printed.contains("warning: ") && printed.contains("server.pem expires in 1 days"),
        "{printed}"
    );

    std::fs::write(dir.path().join("semgate.yml"), config("other.key")).unwrap();
    let output = check();
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.starts_with("tls: ") && printed.contains("other.key"),
        "{printed}"
    );
}
