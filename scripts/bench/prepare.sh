# Sourced by the benchmark scripts: the release build they measure (or $SEMGATE_BIN when set: no build) and the
# venv with the Python clients. Defines $SEMGATE_BIN, $venv and free_port.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-release}"
if [ -z "${SEMGATE_BIN:-}" ]; then
  cargo build --release --locked
  SEMGATE_BIN="$CARGO_TARGET_DIR/release/semgate"
fi
venv=.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
