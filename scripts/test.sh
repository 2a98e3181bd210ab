#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (real sockets, real clients: tokio-postgres, psql), then the
# Python client suite (psycopg2 in a local venv, pgjdbc through Java). Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are shared between runs of this script on one machine; the dev profile keeps a cold build short.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-target}"
export SEMGATE_TEST_DATA_DIR="${SEMGATE_TEST_DATA_DIR:-/var/tmp/semgate-test-data}"

# Real clients from Debian's packages: psql, and pgjdbc for the JDBC tests; OpenSSL headers for the PostgreSQL and
# MySQL source drivers (native-tls), and the openssl command for test certificates. tests/federation.rs installs MariaDB itself (examples/federated/setup.sh).
missing=()
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v psql >/dev/null || missing+=(postgresql-client)
# tests/tls.rs makes a throwaway certificate authority with the openssl command.
command -v openssl >/dev/null || missing+=(openssl)
ls /usr/share/java/postgresql*.jar >/dev/null 2>&1 || missing+=(libpostgresql-jdbc-java)
command -v javac >/dev/null || missing+=(default-jdk-headless)
# tests/sqlsmith.rs runs sqlsmith's random queries against the demo.
command -v sqlsmith >/dev/null || missing+=(sqlsmith)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if cargo fmt --version >/dev/null 2>&1; then cargo fmt --check; else echo "rustfmt not installed: skipping the format check"; fi
cargo build --locked --all-targets
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --all-targets
scripts/client-tests.sh
