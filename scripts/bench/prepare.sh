# Sourced by the benchmark scripts: the release build they measure and the venv with the Python clients.
# Defines $venv and free_port.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-release}"
cargo build --release --locked
venv=.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
