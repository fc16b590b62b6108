"""A visitor's first message sent twice at once never opens two chats or stores twice.

The race a chaos test found (issue 19): a fresh visitor sends its first message,
the socket goes away before the ack, and the widget resends on a new socket while
the first write is still in flight. Both writes saw "no open chat, no such
clientId" and each opened its own chat. Here many fresh visitors do exactly that,
at once, against a real uvicorn on SQLite and on PostgreSQL, and the database is
counted afterwards: one message per clientId per visitor, one open chat per visitor.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from parley.storage.db import Database
from parley.storage.models import Chat, Message
from tests.helpers.ports import free_port
from tests.helpers.real_sockets import welcomed
from tests.helpers.server import SITE, Server, cli, server_env

VISITORS_AT_ONCE = 20
ROUNDS = 3


@pytest.fixture
def racing_server(tmp_path, built_dist, server_db_url):
    # Sixty new visitors within seconds, all from 127.0.0.1: over the default per address;
    # and 40 sockets at once, while the server may still be closing the round before's.
    env = server_env(tmp_path, server_db_url,
                     PARLEY_LIMITS="new_visitors_per_ip=1000,visitor_sockets_per_ip=1000")
    db_url = server_db_url or f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    running = Server(env, free_port(), tmp_path / "server.log")
    running.start()
    yield running, app["appId"], db_url
    running.stop()


async def _ack(ws, client_id: str) -> dict:
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "ack" and frame["clientId"] == client_id:
            return frame
        assert frame["type"] != "error", frame


def _send(client_id: str) -> str:
    return json.dumps({"type": "message.send", "clientId": client_id, "text": "hello, is anyone there?"})


async def _send_close_resend(url: str, app_id: str, abrupt: bool) -> tuple[str, dict]:
    """First message, the socket gone before the ack, the resend on a new socket at once."""
    first, welcome = await welcomed(url, app_id)
    await first.send(_send("first"))
    if abrupt:
        first.transport.abort()
    else:
        await first.close()
    second, _ = await welcomed(url, app_id, welcome)
    try:
        await second.send(_send("first"))
        return welcome["visitorId"], await _ack(second, "first")
    finally:
        await second.close()


async def _two_sockets_at_once(url: str, app_id: str) -> tuple[str, dict]:
    """The same first message on two tabs of a fresh visitor, at the same moment."""
    one, welcome = await welcomed(url, app_id)
    two, _ = await welcomed(url, app_id, welcome)
    try:
        await asyncio.gather(one.send(_send("first")), two.send(_send("first")))
        acks = await asyncio.gather(_ack(one, "first"), _ack(two, "first"))
        assert acks[0]["message"]["id"] == acks[1]["message"]["id"], "two tabs got different messages"
        return welcome["visitorId"], acks[0]
    finally:
        await asyncio.gather(one.close(), two.close())


async def _count(db_url: str) -> tuple[dict, dict]:
    database = Database(db_url)
    try:
        async with database.session() as session:
            stored = dict((await session.execute(
                select(Message.author_id, func.count()).where(
                    Message.author_kind == "visitor", Message.client_message_id == "first")
                .group_by(Message.author_id))).all())
            chats = dict((await session.execute(
                select(Chat.visitor_id, func.count()).where(Chat.status == "open")
                .group_by(Chat.visitor_id))).all())
    finally:
        await database.close()
    return stored, chats


async def test_a_first_message_sent_twice_at_once_is_stored_once(racing_server):
    server, app_id, db_url = racing_server
    url = f"ws://127.0.0.1:{server.port}/ws/visitor"
    visitors: list[str] = []
    for round_ in range(ROUNDS):
        results = await asyncio.gather(*(
            _send_close_resend(url, app_id, abrupt=n % 2 == 1) if round_ % 2 == 0
            else _two_sockets_at_once(url, app_id)
            for n in range(VISITORS_AT_ONCE)))
        visitors += [visitor_id for visitor_id, _ack_frame in results]

    stored, open_chats = await _count(db_url)
    duplicated = {v: n for v, n in stored.items() if n != 1}
    two_chats = {v: n for v, n in open_chats.items() if n != 1}
    assert not duplicated, f"first messages stored more than once: {duplicated}"
    assert not two_chats, f"visitors with more than one open chat: {two_chats}"
    assert sorted(stored) == sorted(visitors), "a visitor's first message was lost"
    # A peer that went away before its ack is a normal event, not a traceback.
    log = server.log.read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-4000:]


async def test_a_resend_after_an_abrupt_close_gets_the_stored_message(racing_server):
    """The resend's ack carries the message the first send stored, and no second event."""
    server, app_id, _db_url = racing_server
    url = f"ws://127.0.0.1:{server.port}/ws/visitor"
    first, welcome = await welcomed(url, app_id)
    await first.send(_send("first"))
    stored = await _ack(first, "first")
    first.transport.abort()
    second, _ = await welcomed(url, app_id, welcome)
    try:
        await second.send(_send("first"))
        frames = []
        while True:
            frame = json.loads(await second.recv())
            frames.append(frame)
            if frame["type"] == "ack":
                break
        assert frame["message"]["id"] == stored["message"]["id"]
        # lastSeq 0: the replay holds chat.started and the message once each, nothing more.
        events = [f["event"] for f in frames if f["type"] == "event"]
        assert [e["type"] for e in events].count("chat.started") == 1
        assert [e["message"]["clientId"] for e in events if e["type"] == "message"].count("first") == 1
    finally:
        await second.close()
