from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"


@pytest.fixture(scope="session")
def reviewer():
    """The pipeline, built once for the whole test session (as the service builds it once per process)."""
    from app.review import Reviewer

    return Reviewer()


# --- the service: a real database (SQLite file, and PostgreSQL on 127.0.0.1:5432) -------------------------------------
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"chartcheck_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'chartcheck.db'}"
    return request.getfixturevalue("postgres_url")


class Service:
    """A running app (TestClient, lifespan started: migrations, one worker process) with one credential per role."""

    PASSWORD = "correct horse battery"

    def __init__(self, client, app) -> None:
        self.client = client
        self.app = app
        self.key = ""
        self.cookies: dict[str, dict] = {}

    def as_key(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-Key": key or self.key}

    def login(self, role: str):
        """A new TestClient-like session for the role's user; returns (client, csrf headers)."""
        from fastapi.testclient import TestClient

        client = TestClient(self.app)
        response = client.post("/api/v1/auth/login", json={"username": role, "password": self.PASSWORD})
        assert response.status_code == 200, response.text
        return client, {"X-CSRF-Token": response.json()["csrf_token"]}

    def wait_ready(self, timeout: float = 90.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while self.client.get("/ready").status_code != 200:
            if time.monotonic() > deadline:
                raise AssertionError(f"the service was not ready in {timeout} s")
            time.sleep(0.2)

    def wait(self, case_id: str, timeout: float = 120.0) -> dict:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.client.get(f"/api/v1/cases/{case_id}", headers=self.as_key()).json()
            if body["status"] in ("done", "failed"):
                return body
            time.sleep(0.2)
        raise AssertionError(f"case {case_id} not finished in {timeout} s: {body['status']}")


def start_service(database_url: str, data_dir: Path, **settings):
    """Context manager: a Service on the given database, with users intake/reviewer/admin and an API key."""
    import contextlib

    from fastapi.testclient import TestClient

    from app.api.routes.admin import create_api_key
    from app.main import create_app
    from app.security import hash_secret
    from app.settings import load_settings
    from app.tables import User

    @contextlib.contextmanager
    def running():
        config = load_settings(data_dir=str(data_dir), database_url=database_url, **{"workers": 1, **settings})
        app = create_app(config)
        with TestClient(app) as client:
            service = Service(client, app)
            with app.state.db.session() as session:
                for role in ("intake", "reviewer", "admin"):
                    if session.query(User).filter_by(username=role).first() is None:
                        session.add(User(username=role, password_hash=hash_secret(Service.PASSWORD), role=role))
                service.key, _ = create_api_key(session, "um-platform", "test")
            service.wait_ready()
            yield service

    return running()


@pytest.fixture(scope="module")
def service(database_url, tmp_path_factory):
    with start_service(database_url, tmp_path_factory.mktemp("data")) as running:
        yield running


def sample_files(case: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """A sample case's PDFs as multipart 'files' fields."""
    return [("files", (p.name, p.read_bytes(), "application/pdf")) for p in sorted((SAMPLES / "dev" / case).glob("*.pdf"))]


# --- `chartcheck serve` as a real process ------------------------------------------------------------------------------
CHARTCHECK = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CHARTCHECK, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, **(env or {})})


def start_server(data: Path, port: int, log_name: str = "serve.log") -> subprocess.Popen:
    """`chartcheck serve` in its own process; returns once /ready answers 200."""
    log = (data / log_name).open("a")
    process = subprocess.Popen([*CHARTCHECK, "serve", "--port", str(port), "--data-dir", str(data), "--workers", "1"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert process.poll() is None, (data / log_name).read_text()
        assert time.monotonic() < deadline, "chartcheck serve was not ready in 90 s"
        time.sleep(0.3)


def first_key(data: Path) -> str:
    created = run("apikey", "create", "--name", "um-platform", "--data-dir", str(data))
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


# --- scale-out: a private Redis, a fresh PostgreSQL database, Celery worker processes ---------------------------------
def fresh_postgres():
    """Context manager: the URL of a new, empty PostgreSQL database, dropped afterwards."""
    import contextlib
    import uuid

    from sqlalchemy import create_engine, text

    @contextlib.contextmanager
    def database():
        name = f"chartcheck_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()

    return database()


class RedisServer:
    """A Redis of the test's own on a free port, keeping nothing on disk (as the machine's broker), restartable."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def start_worker(data: Path, database_url: str, broker_url: str, name: str, *args: str, **env: str) -> subprocess.Popen:
    """`chartcheck worker` in its own process group (so a test can SIGKILL the whole worker)."""
    log = (data / f"{name}.log").open("a")
    settings = {"CHARTCHECK_DATABASE_URL": database_url, "CHARTCHECK_BROKER_URL": broker_url,
                "CHARTCHECK_DATA_DIR": str(data), **env}
    process = subprocess.Popen([*CHARTCHECK, "worker", "--concurrency", "1", "--name", name, *args], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **settings},
                               start_new_session=True)
    log.close()
    return process
