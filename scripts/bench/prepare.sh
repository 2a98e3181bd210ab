# Sourced by the benchmark scripts: the release build they measure (or $SEMGATE_BIN when set: no build) and the
# venv with the Python clients. Defines $SEMGATE_BIN, $venv, free_port and bench_data.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/semgate-release}"
if [ -z "${SEMGATE_BIN:-}" ]; then
  cargo build --release --locked
  SEMGATE_BIN="$CARGO_TARGET_DIR/release/semgate"
fi
venv=.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r tests/clients/requirements.txt
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# bench_data SCALE: the demo's TPC-H tables at SCALE, generated once under $SEMGATE_BENCH_DATA_DIR; prints their directory.
bench_data() {
  local root="${SEMGATE_BENCH_DATA_DIR:-/var/tmp/semgate-bench-data}"
  mkdir -p "$root"
  "$SEMGATE_BIN" demo-data --data-dir "$root" --scale "$1"
}
