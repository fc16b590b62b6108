from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from parley import logs
from parley.storage import app_queries, operator_queries
from parley.storage.db import Database
from parley.web.app import create_app
from tests import services
from tests.helpers.client import BOB, BOT, EMAIL
from tests.helpers.db import OPERATOR_PASSWORD, run
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli, two_servers_on

DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc) -> None:
    """A test marked `both_databases` runs once on SQLite and once on PostgreSQL: its
    `database` fixture (asked for directly or through `client`, `make_app`...) is parametrized."""
    if metafunc.definition.get_closest_marker("both_databases") and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", DATABASES, indirect=True)


@pytest.fixture
def database(request, tmp_path: Path) -> Iterator[Database]:
    """SQLite in tmp_path, or PostgreSQL (a fresh migrated database) for the `postgresql` case
    of a `both_databases` test; PARLEY_TEST_DB=postgresql runs every other test that uses it
    on PostgreSQL too."""
    kind = getattr(request, "param", None) or os.environ.get("PARLEY_TEST_DB", "sqlite")
    if kind.startswith("postgres"):
        yield request.getfixturevalue("pg_database")
        return
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    asyncio.run(database.upgrade())
    asyncio.run(database.engine.dispose())  # the app's own event loop makes new connections
    yield database


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
def served(tmp_path_factory, built_dist):
    """One server per module (each test makes its own visitors): (server, base URL, appId, secret)."""
    folder = tmp_path_factory.mktemp("client")
    # Every visitor of the module comes from 127.0.0.1: over the default 20 new ones a minute.
    env = {**os.environ, "PARLEY_DATA": str(folder), "PARLEY_LIMITS": "new_visitors_per_ip=1000"}
    env.pop("PARLEY_DB", None)
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
