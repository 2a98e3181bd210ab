"""Verified TLS with real drivers: a gateway of its own started with `tls.mode: require` and client certificates
(a throwaway CA made with openssl), then psycopg2 and psycopg 3 with `sslmode=verify-full`, pgjdbc with
`sslmode=verify-full`, ADBC Flight SQL over `grpc+tls`, a client-certificate login (psycopg 3, ADBC mTLS), plaintext
refused with 28000; values checked against DuckDB; `/metrics` on the admin port counts the connections."""
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import adbc_driver_flightsql.dbapi
import psycopg
import psycopg2
import pytest

from test_jdbc import JARS
from test_psycopg2 import LINE_TO_REGION, close

REPO = pathlib.Path(__file__).resolve().parents[2]
QUESTION = "SELECT MEASURE(revenue) AS revenue FROM sales WHERE region = 'ASIA'"
REFERENCE = f"SELECT SUM(l_extendedprice * (1 - l_discount)) FROM {LINE_TO_REGION} WHERE r_name = 'ASIA'"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(directory, *args):
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)


def certificate(directory, name, subject, extensions=None):
    """`name`.pem and `name`.key, signed by the CA in `directory`; the key readable by its owner only (libpq)."""
    openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={subject}")
    extra = ["-extfile", extensions] if extensions else []
    openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", *extra)
    os.chmod(directory / f"{name}.key", 0o600)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=semgate client-suite CA")
    (directory / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    certificate(directory, "server", "localhost", "san.ext")
    # Extensions make it an X.509 v3 certificate (webpki refuses v1) meant for clients.
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    certificate(directory, "bot", "reporting-bot", "client.ext")
    pg_port, flight_port, admin_port = free_port(), free_port(), free_port()
    data_dir = os.environ["SEMGATE_TPCH_DIR"]
    (directory / "semgate.yml").write_text(
        f"data_dir: {data_dir}\n"
        f"semantic: [{REPO / 'semantic'}]\n"
        f"admin_addr: 127.0.0.1:{admin_port}\n"
        "log_format: json\n"
        "users:\n"
        "  - {name: analyst, password: analyst, groups: [admin]}\n"
        "  - {name: reporting, cert_identity: reporting-bot, groups: [admin]}\n"
        "tls: {cert_file: server.pem, key_file: server.key, mode: require, client_ca_file: ca.pem}\n"
    )
    log = open(directory / "semgate.log", "w+")
    server = subprocess.Popen(
        [os.environ["SEMGATE_BIN"], "serve", "--config", str(directory / "semgate.yml"),
         "--pg-addr", f"127.0.0.1:{pg_port}", "--flight-addr", f"127.0.0.1:{flight_port}"],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        deadline = time.monotonic() + 120
        while "semgate is ready" not in (directory / "semgate.log").read_text():
            assert server.poll() is None, (directory / "semgate.log").read_text()
            assert time.monotonic() < deadline, "the TLS gateway did not start"
            time.sleep(0.1)
        yield {"dir": directory, "pg": pg_port, "flight": flight_port, "admin": admin_port, "log": directory / "semgate.log"}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def pg_dsn(gateway, **options):
    settings = {"host": "localhost", "port": gateway["pg"], "dbname": "semgate", "sslmode": "verify-full",
                "sslrootcert": str(gateway["dir"] / "ca.pem"), "user": "analyst", "password": "analyst", **options}
    return " ".join(f"{key}={value}" for key, value in settings.items() if value is not None)


@pytest.fixture(scope="module")
def expected(reference):
    return reference.execute(REFERENCE).fetchone()[0]


def test_psycopg2_verify_full(gateway, expected):
    with psycopg2.connect(pg_dsn(gateway)) as connection, connection.cursor() as cursor:
        cursor.execute(QUESTION)
        assert close(cursor.fetchone()[0], expected)
        assert connection.info.ssl_in_use


def test_psycopg3_verify_full_and_client_certificate_login(gateway, expected):
    with psycopg.connect(pg_dsn(gateway)) as connection:
        assert close(connection.execute(QUESTION).fetchone()[0], expected)
    directory = gateway["dir"]
    certificate_login = pg_dsn(gateway, user="reporting", password=None, sslcert=directory / "bot.pem",
                               sslkey=directory / "bot.key")
    with psycopg.connect(certificate_login) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == "reporting"
        assert close(connection.execute(QUESTION).fetchone()[0], expected)
    with pytest.raises(psycopg.OperationalError, match="no client certificate was presented"):
        psycopg.connect(pg_dsn(gateway, user="reporting", password=None)).close()


def test_plaintext_is_refused_under_require(gateway):
    with pytest.raises(psycopg2.OperationalError, match="accepts only TLS connections"):
        psycopg2.connect(pg_dsn(gateway, sslmode="disable")).close()


def test_pgjdbc_verify_full(gateway, expected, tmp_path):
    assert JARS, "pgjdbc is missing: scripts/test.sh installs libpostgresql-jdbc-java"
    subprocess.run(["javac", "-d", str(tmp_path), "tests/clients/jdbc/JdbcTls.java"], check=True)
    url = (f"jdbc:postgresql://localhost:{gateway['pg']}/semgate?sslmode=verify-full"
           f"&sslrootcert={gateway['dir'] / 'ca.pem'}")
    run = subprocess.run(["java", "-cp", f"{JARS[0]}:{tmp_path}", "JdbcTls", url, "analyst", "analyst", QUESTION],
                         check=True, capture_output=True, text=True)
    assert close(run.stdout.strip(), expected)


def test_adbc_flight_sql_over_grpc_tls_with_password_and_with_certificate(gateway, expected):
    directory = gateway["dir"]
    roots = (directory / "ca.pem").read_text()
    with adbc_driver_flightsql.dbapi.connect(
        f"grpc+tls://localhost:{gateway['flight']}",
        db_kwargs={"username": "analyst", "password": "analyst",
                   "adbc.flight.sql.client_option.tls_root_certs": roots},
        autocommit=True,
    ) as connection, connection.cursor() as cursor:
        cursor.execute(QUESTION)
        assert close(cursor.fetchone()[0], expected)
    with adbc_driver_flightsql.dbapi.connect(
        f"grpc+tls://localhost:{gateway['flight']}",
        db_kwargs={"username": "reporting", "password": "",
                   "adbc.flight.sql.client_option.tls_root_certs": roots,
                   "adbc.flight.sql.client_option.mtls_cert_chain": (directory / "bot.pem").read_text(),
                   "adbc.flight.sql.client_option.mtls_private_key": (directory / "bot.key").read_text()},
        autocommit=True,
    ) as connection, connection.cursor() as cursor:
        cursor.execute(QUESTION)
        assert close(cursor.fetchone()[0], expected)


def test_metrics_and_json_logs(gateway):
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(pg_dsn(gateway, sslmode="disable")).close()
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway['admin']}/metrics") as response:
        text = response.read().decode()
    refused = [line for line in text.splitlines()
               if line.startswith('semgate_connections_refused_total{protocol="pg",reason="tls_required"}')]
    assert refused and float(refused[0].split()[-1]) >= 1, text
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway['admin']}/readyz") as response:
        assert response.status == 200
    # log_format: json — every log line on stderr is one JSON object (the ready banner is for humans).
    lines = [line for line in gateway["log"].read_text().splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["level"] for line in lines)
