"""Apache Superset, in its own virtualenv (.venv-superset, tests/clients/superset/requirements.txt), started for the
session with a SQLite metadata database in a temporary directory and driven through its REST API; DuckDB over the raw
Parquet is the reference, as in the rest of the client suite. `port` and `reference` come from ../conftest.py, which
pytest loads for this directory too (only the main run's directory walk skips it, through `collect_ignore`)."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ADMIN = {"username": "admin", "password": "admin"}
READY_DEADLINE_SECONDS = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def superset_url(tmp_path_factory):
    """`superset db upgrade`, `fab create-admin` and `init` on a fresh SQLite file, then its web server on a free port;
    ready once /health answers."""
    home = tmp_path_factory.mktemp("superset")
    config = home / "superset_config.py"
    config.write_text(
        f"SECRET_KEY = {os.urandom(24).hex()!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home / 'superset.db'}'\n"
        "WTF_CSRF_ENABLED = False\n"
        "RATELIMIT_ENABLED = False\n"
        "AUTH_RATE_LIMITED = False\n"
        "CACHE_CONFIG = {'CACHE_TYPE': 'NullCache'}\n"
        "DATA_CACHE_CONFIG = {'CACHE_TYPE': 'NullCache'}\n"
    )
    env = {**os.environ, "SUPERSET_CONFIG_PATH": str(config), "SUPERSET_HOME": str(home), "FLASK_APP": "superset"}
    superset = str(Path(sys.executable).parent / "superset")
    log = open(home / "superset.log", "w")

    def run(*args):
        subprocess.run([superset, *args], env=env, stdout=log, stderr=subprocess.STDOUT, check=True)

    run("db", "upgrade")
    run("fab", "create-admin", "--username", ADMIN["username"], "--password", ADMIN["password"],
        "--firstname", "Semgate", "--lastname", "Tests", "--email", "admin@example.com")
    run("init")
    web_port = free_port()
    server = subprocess.Popen(
        [superset, "run", "-h", "127.0.0.1", "-p", str(web_port), "--with-threads"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while True:
            assert server.poll() is None, (home / "superset.log").read_text()[-5000:]
            try:
                if requests.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Superset did not answer /health"
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


@pytest.fixture(scope="session")
def api(superset_url):
    """A requests session logged in through /api/v1/security/login (JWT), with URLs relative to /api/v1."""

    class Api(requests.Session):
        def request(self, method, path, *args, **kwargs):
            response = super().request(method, f"{superset_url}/api/v1/{path.lstrip('/')}", *args, **kwargs)
            return response

    session = Api()
    response = session.post("security/login", json={**ADMIN, "provider": "db", "refresh": True})
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    yield session
    session.close()
