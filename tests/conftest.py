from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from parley import identity, logs
from parley.storage import app_queries, operator_queries
from parley.storage.db import Database
from parley.web.app import create_app
from tests import services
from tests.helpers.client import BOB, BOT, EMAIL
from tests.helpers.db import OPERATOR_PASSWORD, run
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli, server_env, two_servers_on

DATABASES = ("sqlite", "postgresql")


def chosen_databases() -> tuple[str, ...]:
    """The databases the server tests run on: both, or only $PARLEY_TEST_DB (sqlite or postgresql)."""
    chosen = os.environ.get("PARLEY_TEST_DB", "").strip().lower()
    if not chosen:
        return DATABASES
    kind = "postgresql" if chosen.startswith("postgres") else chosen
    if kind not in DATABASES:
        raise pytest.UsageError(f"PARLEY_TEST_DB={chosen!r}: expected sqlite or postgresql")
    return (kind,)


def pytest_generate_tests(metafunc) -> None:
    """Every test that uses the `database` fixture (directly or through `client`, `make_app`...)
    runs once per database: test_x[sqlite], test_x[postgresql]; so does every test whose real
    servers take their database from `server_database` (`server_db_url`, `served`...). A test
    marked `sqlite_only` (its reason says why PostgreSQL has nothing to show there) runs on SQLite alone."""
    for name in ("database", "server_database"):
        if name in metafunc.fixturenames:
            parametrize_databases(metafunc, name)


def parametrize_databases(metafunc, name: str) -> None:
    kinds = chosen_databases()
    if metafunc.definition.get_closest_marker("sqlite_only"):
        kinds = tuple(kind for kind in kinds if kind == "sqlite")
    if not kinds:  # PARLEY_TEST_DB=postgresql and a SQLite-only test
        metafunc.parametrize(name, [pytest.param("sqlite", marks=pytest.mark.skip(
            reason="SQLite only; PARLEY_TEST_DB=postgresql"))], indirect=True)
        return
    metafunc.parametrize(name, kinds, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to the newest schema once per run; each test gets a copy
    (copying a file is much cheaper than running every migration per test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    template = Database(f"sqlite+aiosqlite:///{path}")

    async def migrate() -> None:
        try:
            await template.upgrade()
        finally:
            await template.close()  # the last connection's close checkpoints the WAL into the file
    services.run_async(migrate)
    return path


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Database:
    """A fresh SQLite database at the newest schema, in tmp_path."""
    path = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, path)
    return Database(f"sqlite+aiosqlite:///{path}")


@pytest.fixture
def database(request) -> Database:
    """The test's database: SQLite (`sqlite_database`) or PostgreSQL (`pg_database`), per the
    parameter pytest_generate_tests gives it; SQLite when asked for without one."""
    kind = getattr(request, "param", "sqlite")
    return request.getfixturevalue("pg_database" if kind == "postgresql" else "sqlite_database")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """argon2 at its lowest cost for the in-process tests: they create operators and log in
    hundreds of times, and argon2-cffi's default cost (~0.1-0.3 s of CPU each) was most of
    a server test's set-up. Still argon2 (verification reads the cost from the hash); real
    servers in their own processes (tests/helpers/server.py) keep the default cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved, identity._hasher = identity._hasher, cheap
    yield
    identity._hasher = saved


# -- PostgreSQL and Redis (tests/services.py), started once per test run -------------------

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.PostgresServer]:
    server = services.started(services.start_postgres, "PostgreSQL")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database at the newest schema, dropped afterwards."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def pg_database(pg_url) -> Iterator[Database]:
    # NullPool: tests use the database from several event loops (the app's, asyncio.run's),
    # and an asyncpg connection belongs to the loop that opened it.
    database = Database(pg_url, poolclass=NullPool)
    yield database
    services.run_async(database.close)


# -- the database of real servers (`parley serve` in a process of its own) ----------------

@pytest.fixture(scope="module")
def server_database(request) -> str:
    """"sqlite" or "postgresql": the database the test's real servers use, per the parameter
    pytest_generate_tests gives it. Module-scoped, so that a server shared by a module's tests
    (`served`) can use it: the module's tests run on SQLite, then on PostgreSQL."""
    return getattr(request, "param", "sqlite")


@contextlib.contextmanager
def database_for_servers(request, kind: str) -> Iterator[str | None]:
    """$PARLEY_DB for real servers: None (SQLite in their data folder) or the URL of a fresh
    PostgreSQL database at the newest schema, dropped afterwards (the servers stopped first)."""
    if kind != "postgresql":
        yield None
        return
    postgres = request.getfixturevalue("postgres_server")
    name = postgres.create_database()
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_database(name)


@pytest.fixture
def server_db_url(request, server_database) -> Iterator[str | None]:
    """A test's own database for its real servers (`server_env(folder, server_db_url)`)."""
    with database_for_servers(request, server_database) as url:
        yield url


@pytest.fixture(scope="module")
def module_server_db_url(request, server_database) -> Iterator[str | None]:
    """`server_db_url` for a server that a module's tests share."""
    with database_for_servers(request, server_database) as url:
        yield url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.RedisServer]:
    server = services.started(services.start_redis, "Redis")
    yield server
    server.close()


# -- the operator pages' own Python (static/), whose pure parts run under CPython too ---------


@pytest.fixture
def make_operator(database):
    """Creates an operator (default Ann, ann@shop.example) in an app."""
    def make(app_id: str, email: str = "ann@shop.example"):
        return run(database, lambda s: operator_queries.create_operator(s, app_id, email, OPERATOR_PASSWORD,
                                                                        "Ann"))
    return make


@pytest.fixture
def make_app(database):
    def make(origins: list[str] | None = None):
        return run(database, lambda s: app_queries.create_app(s, "Test", origins or []))
    return make


@pytest.fixture
def client(database, built_dist) -> Iterator[TestClient]:
    with TestClient(create_app(database)) as client:
        yield client


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, _server, _session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    mailbox = Mailbox()
    port = services.free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PARLEY_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("PARLEY_MAIL_FROM", "chat@shop.example")
    yield mailbox
    controller.stop()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """logs.configure() changes process-wide loggers: put them back after the test."""
    names = ("", *logs.UVICORN_LOGGERS)
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in names}
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


# -- a real server for parley.client (tests/test_client.py, test_client_bot.py) -------------

@pytest.fixture(scope="module")
def served(tmp_path_factory, built_dist, module_server_db_url):
    """One server per module and database (each test makes its own visitors):
    (server, base URL, appId, secret)."""
    folder = tmp_path_factory.mktemp("client")
    # Every visitor of the module comes from 127.0.0.1: over the default 20 new ones a minute.
    env = server_env(folder, module_server_db_url, PARLEY_LIMITS="new_visitors_per_ip=1000")
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    for email, role in ((EMAIL, "operator"), (BOB, "operator"), (BOT, "bot")):
        cli(env, "operator", "create", "--app", app["appId"], "--email", email, "--password", PASSWORD,
            "--role", role)
    server = Server(env, free_port(), folder / "server.log")
    server.start()
    yield server, f"http://127.0.0.1:{server.port}", app["appId"], app["secret"]
    server.stop()


@pytest.fixture
def two_servers(tmp_path, built_dist, pg_url, redis_server):
    """Servers A and B on one PostgreSQL and one Redis, an app with operator Ann: (a, b, app)."""
    with two_servers_on(tmp_path, pg_url, redis_server.url, PASSWORD) as servers:
        yield servers
