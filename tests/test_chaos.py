"""Chaos: visitors that drop, resend, reload and double-send, an operator who answers
everything, and a server killed with SIGKILL mid-run; nothing is lost, nothing stored
or delivered twice, on SQLite and on PostgreSQL (issue 19).

Each simulated visitor behaves as the widget does: unacknowledged messages stay in its
outbox and are resent on every new socket, and every hello carries the last seq it saw.
Afterwards the database is counted and each visitor's received event stream is checked:
every seq once and in order, every own message stored once and delivered once.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from parley.storage.db import Database
from parley.storage.models import Message
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli, server_env
from tests.helpers.waiting import wait_until_async

VISITORS = 12
MESSAGES_EACH = 8  # 96 in all: under the 120 per minute one address (and one operator) may send
DISCONNECTS = (ConnectionClosed, InvalidHandshake, InvalidStatus, OSError, TimeoutError)


class ChaosVisitor:
    def __init__(self, url: str, app_id: str, rng: random.Random, name: str) -> None:
        self.url, self.app_id, self.rng = url, app_id, rng
        self.to_send = [f"{name}-m{n}" for n in range(MESSAGES_EACH)]
        self.pending: list[str] = []  # sent, not yet acknowledged: resent on every new socket
        self.acked: dict[str, int] = {}
        self.credentials: dict | None = None
        self.last_seq = 0
        self.duplicates = self.gaps = 0
        self.delivered: Counter[str] = Counter()  # clientId of every message event received

    @property
    def done(self) -> bool:
        return not self.to_send and not self.pending

    def take(self, frame: dict) -> None:
        if frame["type"] == "welcome":
            self.credentials = {"visitorId": frame["visitorId"], "visitorToken": frame["visitorToken"]}
        elif frame["type"] == "event":
            if frame["seq"] <= self.last_seq:
                self.duplicates += 1
                return
            if frame["seq"] != self.last_seq + 1:
                self.gaps += 1
            self.last_seq = frame["seq"]
            event = frame["event"]
            if event["type"] == "message" and event["message"].get("clientId"):
                self.delivered[event["message"]["clientId"]] += 1
        elif frame["type"] == "reset":
            self.gaps += 1  # never expected here: gaps stay far below the replay limit
            self.last_seq = frame["seq"]
        elif frame["type"] == "ack":
            if frame["clientId"] in self.pending:
                self.pending.remove(frame["clientId"])
            self.acked.setdefault(frame["clientId"], frame["message"]["id"])
        elif frame["type"] == "error":
            raise AssertionError(f"the server refused a frame: {frame}")

    async def until_acked(self, ws, client_id: str) -> None:
        while client_id not in self.acked:
            self.take(json.loads(await ws.recv()))

    async def one_socket(self) -> None:
        async with connect(self.url, origin=SITE, open_timeout=5, close_timeout=1) as ws:
            hello = {"v": 1, "type": "hello", "appId": self.app_id, "lastSeq": self.last_seq,
                     **(self.credentials or {})}
            await ws.send(json.dumps(hello))
            while True:
                frame = json.loads(await ws.recv())
                self.take(frame)
                if frame["type"] == "welcome":
                    break
            for client_id in list(self.pending):  # the outbox, resent as the widget does
                await ws.send(_message(client_id))
            while self.to_send or self.pending:
                if not self.to_send:
                    await self.until_acked(ws, self.pending[0])
                    continue
                client_id = self.to_send.pop(0)
                self.pending.append(client_id)
                await ws.send(_message(client_id))
                roll = self.rng.random()
                if roll < 0.12:  # a lost network: gone before the ack, no close frame
                    ws.transport.abort()
                    return
                if roll < 0.22:  # a reload or a closed tab
                    return
                if roll < 0.32:  # a double send (two tabs, a retry timer)
                    await ws.send(_message(client_id))
                await self.until_acked(ws, client_id)

    async def run(self, stop: asyncio.Event) -> None:
        while not self.done and not stop.is_set():
            try:
                await self.one_socket()
            except DISCONNECTS:
                await asyncio.sleep(0.05)  # kept: the widget's reconnect backoff, shortened

    async def final_sync(self) -> None:
        """One more socket: the replay after last_seq, then history (answered after it)."""
        async with connect(self.url, origin=SITE, open_timeout=5) as ws:
            await ws.send(json.dumps({"v": 1, "type": "hello", "appId": self.app_id,
                                      "lastSeq": self.last_seq, **(self.credentials or {})}))
            await ws.send(json.dumps({"v": 1, "type": "history", "limit": 1}))
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "history":
                    return
                self.take(frame)


def _message(client_id: str) -> str:
    return json.dumps({"v": 1, "type": "message.send", "clientId": client_id, "text": f"text of {client_id}"})


class EchoOperator:
    """Answers every visitor message once (clientId `echo-<message id>`), resending unacked."""

    def __init__(self, base: str, cookie: str) -> None:
        self.base, self.cookie = base, cookie
        self.pending: dict[str, str] = {}  # clientId -> chatId
        self.acked: set[str] = set()

    async def one_socket(self, stop: asyncio.Event) -> None:
        url = self.base.replace("http", "ws") + "/ws/operator"
        async with connect(url, origin=self.base, open_timeout=5, close_timeout=1,
                           additional_headers={"Cookie": f"parley_session={self.cookie}"}) as ws:
            await ws.send(json.dumps({"type": "subscribe"}))
            for client_id, chat_id in self.pending.items():
                await ws.send(_reply(chat_id, client_id))
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                except TimeoutError:
                    continue
                if frame["type"] == "message" and frame["message"]["authorKind"] == "visitor":
                    client_id = f"echo-{frame['message']['id']}"
                    if client_id not in self.acked and client_id not in self.pending:
                        self.pending[client_id] = frame["chatId"]
                        await ws.send(_reply(frame["chatId"], client_id))
                elif frame["type"] == "ack":
                    self.pending.pop(frame["clientId"], None)
                    self.acked.add(frame["clientId"])
                elif frame["type"] == "error":
                    raise AssertionError(f"the server refused the operator's frame: {frame}")

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.one_socket(stop)
            except DISCONNECTS:
                await asyncio.sleep(0.05)  # kept: the inbox's reconnect backoff, shortened


def _reply(chat_id: str, client_id: str) -> str:
    return json.dumps({"type": "message.send", "chatId": chat_id, "clientId": client_id, "text": "echo"})


@pytest.fixture
def chaos_server(tmp_path, built_dist, server_db_url):
    env = server_env(tmp_path, server_db_url)
    db_url = server_db_url or f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    running = Server(env, free_port(), tmp_path / "server.log")
    running.start()
    yield running, app["appId"], db_url
    running.stop()


async def test_chaos_loses_nothing_and_doubles_nothing(chaos_server):
    server, app_id, db_url = chaos_server
    base = f"http://127.0.0.1:{server.port}"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    async with httpx.AsyncClient() as http:
        login = await http.post(f"{base}/api/operator/login", json={
            "appId": app_id, "email": "ann@shop.example", "password": PASSWORD})
    operator = EchoOperator(base, login.cookies["parley_session"])
    visitors = [ChaosVisitor(f"ws://127.0.0.1:{server.port}/ws/visitor", app_id,
                             random.Random(rng.random()), f"v{n}") for n in range(VISITORS)]
    stop = asyncio.Event()
    echo = asyncio.create_task(operator.run(stop))
    running = [asyncio.create_task(v.run(stop)) for v in visitors]

    # The kill: once a third of the messages are stored, SIGKILL and start again.
    await wait_until_async(lambda: sum(len(v.acked) for v in visitors) >= VISITORS * MESSAGES_EACH // 3,
                           120, "a third of the messages acknowledged")
    server.process.kill()
    server.process.wait()
    await asyncio.to_thread(server.start)

    try:
        await asyncio.wait_for(asyncio.gather(*running), timeout=120)
    finally:
        stop.set()
        await asyncio.gather(*running, echo, return_exceptions=True)
    for v in visitors:
        await v.final_sync()

    database = Database(db_url)
    try:
        async with database.session() as session:
            rows = (await session.execute(select(Message.author_kind, Message.client_message_id))).all()
    finally:
        await database.close()
    stored = Counter(client_id for kind, client_id in rows if kind == "visitor")
    echoes = Counter(client_id for kind, client_id in rows if kind == "operator")
    sent = [f"v{n}-m{m}" for n in range(VISITORS) for m in range(MESSAGES_EACH)]
    report = f"seed {seed}"
    assert sorted(stored) == sorted(sent), f"lost: {set(sent) - set(stored)} ({report})"
    assert max(stored.values()) == 1, f"stored twice: {[c for c, n in stored.items() if n > 1]} ({report})"
    assert not echoes or max(echoes.values()) == 1, report
    assert operator.acked <= set(echoes), f"an acknowledged answer is missing ({report})"
    for v in visitors:
        assert (v.duplicates, v.gaps) == (0, 0), f"{v.to_send} {report}"
        own = {c: n for c, n in v.delivered.items() if not c.startswith("echo-")}
        assert own == {c: 1 for c in v.acked}, f"each own message delivered once ({report})"
        assert all(n == 1 for c, n in v.delivered.items() if c.startswith("echo-")), report
    log = server.log.read_text()
    assert "Traceback" not in log and "Exception in ASGI" not in log, log[-6000:]
