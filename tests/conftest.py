from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

from parley.storage import queries
from parley.storage.db import Database
from parley.web.app import create_app


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    asyncio.run(database.upgrade())
    asyncio.run(database.engine.dispose())  # the app's own event loop makes new connections
    yield database


def run(database: Database, work):
    """Runs `work(session)` against the database from sync test code."""
    async def go():
        try:
            async with database.session() as session:
                return await work(session)
        finally:
            await database.engine.dispose()
    return asyncio.run(go())


OPERATOR_PASSWORD = "correct horse battery"


@pytest.fixture
def make_operator(database):
    """Creates an operator (default Ann, ann@shop.example) in an app."""
    def make(app_id: str, email: str = "ann@shop.example"):
        return run(database, lambda s: queries.create_operator(s, app_id, email, OPERATOR_PASSWORD, "Ann"))
    return make


@pytest.fixture
def make_app(database):
    def make(origins: list[str] | None = None):
        return run(database, lambda s: queries.create_app(s, "Test", origins or []))
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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PARLEY_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("PARLEY_MAIL_FROM", "chat@shop.example")
    yield mailbox
    controller.stop()
