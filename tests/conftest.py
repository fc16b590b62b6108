from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from parley import logs, rules
from parley.storage import app_queries, operator_queries
from parley.storage.db import Database
from parley.web.app import create_app
from tests import services


@pytest.fixture
def database(request, tmp_path: Path) -> Iterator[Database]:
    """SQLite in tmp_path; PARLEY_TEST_DB=postgresql runs the tests that use it on PostgreSQL."""
    if os.environ.get("PARLEY_TEST_DB", "sqlite").startswith("postgres"):
        yield request.getfixturevalue("pg_database")
        return
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    asyncio.run(database.upgrade())
    asyncio.run(database.engine.dispose())  # the app's own event loop makes new connections
    yield database


# -- PostgreSQL and Redis (tests/services.py), started once per test run -------------------

def started(start, needs: str):
    """`start()`'s server, or the test is skipped when the service can't be had here."""
    try:
        return start()
    except services.Unavailable as error:
        pytest.skip(f"needs {needs}, which can't be installed or started here: {error}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.PostgresServer]:
    server = started(services.start_postgres, "PostgreSQL")
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
    server = started(services.start_redis, "Redis")
    yield server
    server.close()


def run(database: Database, work):
    """Runs `work(session)` against the database from sync test code."""
    async def go():
        try:
            async with database.session() as session:
                return await work(session)
        finally:
            await database.engine.dispose()
    return asyncio.run(go())


def allow_transcripts_to_any_email(database: Database, app_id: str) -> None:
    """What `parley app set --transcripts-to-any-email` does: by default a transcript goes
    only to the email the site signed for the visitor."""
    async def work(session):
        app = await app_queries.get_app(session, app_id)
        app.appearance = {**(app.appearance or {}), rules.TRANSCRIPTS_TO_ANY_EMAIL: True}
        await session.commit()
    run(database, work)


# -- the operator pages' own Python (static/), whose pure parts run under CPython too ---------

STATIC = Path(__file__).resolve().parents[1] / "static"


def load_static(page: str, name: str):
    """static/<page>/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"{page}_{name}", STATIC / page / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_inbox_strings(*sources: Path) -> None:
    """Every string key the inbox page and these sources use is in static/inbox/strings.py
    (keys built at run time, "tab." + status, at least have a family there)."""
    strings = load_static("inbox", "strings")
    html = (STATIC.parent / "templates" / "inbox.html").read_text()
    used = set(re.findall(r'data-t(?:-label|-placeholder|-title)?="([^"]+)"', html))
    for source in sources:
        used |= set(re.findall(r'\bt\("([^"]+)"', source.read_text()))
    prefixes = {key for key in used if key.endswith(".")}
    assert all(any(k.startswith(p) for k in strings.STRINGS) for p in prefixes), prefixes
    assert used - prefixes <= set(strings.STRINGS), used - prefixes - set(strings.STRINGS)


OPERATOR_PASSWORD = "correct horse battery"


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
