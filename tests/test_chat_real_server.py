"""A scripted visitor and operator over real sockets against a real uvicorn, across a restart."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli, server_env


@pytest.fixture
def server(tmp_path, built_dist, server_db_url):
    env = server_env(tmp_path, server_db_url)
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    running = Server(env, free_port(), tmp_path / "server.log")
    running.start()
    yield running, app
    running.stop()


async def frames_until(ws, want):
    """Frames up to and including the first one `want` accepts."""
    seen = []
    while True:
        frame = json.loads(await ws.recv())
        seen.append(frame)
        if want(frame):
            return seen


async def test_chat_survives_a_server_restart(server):
    srv, app = server
    base = f"http://127.0.0.1:{srv.port}"
    visitor_url = f"ws://127.0.0.1:{srv.port}/ws/visitor"
    operator_url = f"ws://127.0.0.1:{srv.port}/ws/operator"

    def operator_login() -> str:
        response = httpx.post(f"{base}/api/operator/login", json={
            "appId": app["appId"], "email": "ann@shop.example", "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.cookies["parley_session"]

    def operator_socket(cookie):
        return connect(operator_url, origin=base, additional_headers={"Cookie": f"parley_session={cookie}"})

    cookie = operator_login()
    visitor_seen: list[dict] = []  # every event frame the visitor's tabs got

    async with connect(visitor_url, origin=SITE) as guest, operator_socket(cookie) as op:
        await guest.send(json.dumps({"v": 1, "type": "hello", "appId": app["appId"], "lastSeq": 0}))
        welcome = json.loads(await guest.recv())
        assert welcome["type"] == "welcome"
        await op.send(json.dumps({"type": "subscribe"}))
        await frames_until(op, lambda f: f["type"] == "subscribed")

        for n in range(3):
            await guest.send(json.dumps({"type": "message.send", "clientId": f"v-{n}", "text": f"hi {n}"}))
        got = await frames_until(guest, lambda f: f["type"] == "ack" and f["clientId"] == "v-2")
        visitor_seen += [f for f in got if f["type"] == "event"]
        feed = await frames_until(op, lambda f: f["type"] == "message" and f["message"]["clientId"] == "v-2")
        chat_id = feed[-1]["chatId"]
        assert [f["message"]["text"] for f in feed
                if f["type"] == "message" and not f["message"]["system"]] == ["hi 0", "hi 1", "hi 2"]

        # The operator's replies are acknowledged (stored) ...
        for n in range(3):
            await op.send(json.dumps({"type": "message.send", "chatId": chat_id, "clientId": f"o-{n}",
                                      "text": f"reply {n}"}))
        await frames_until(op, lambda f: f["type"] == "ack" and f["clientId"] == "o-2")
        # ... and the visitor sends one more whose ack it never reads.
        await guest.send(json.dumps({"type": "message.send", "clientId": "v-3", "text": "hi 3"}))
        last_seq = max([f["seq"] for f in visitor_seen])

    # Restart between the send and the read.
    srv.stop()
    srv.start()

    async with connect(visitor_url, origin=SITE) as guest:
        await guest.send(json.dumps({"v": 1, "type": "hello", "appId": app["appId"], "lastSeq": last_seq,
                                     "visitorId": welcome["visitorId"],
                                     "visitorToken": welcome["visitorToken"]}))
        # The offline queue resends v-3 on reconnect; the server must not store it twice.
        await guest.send(json.dumps({"type": "message.send", "clientId": "v-3", "text": "hi 3"}))
        got = await frames_until(guest, lambda f: f["type"] == "ack" and f["clientId"] == "v-3")
        assert got[0]["type"] == "welcome" and got[0]["visitorId"] == welcome["visitorId"]
        await guest.send(json.dumps({"type": "history", "limit": 100}))
        got += await frames_until(guest, lambda f: f["type"] == "history")
        visitor_seen += [f for f in got if f["type"] == "event"]
        history = got[-1]["messages"]

    seqs = [f["seq"] for f in visitor_seen]
    assert seqs == list(range(1, len(seqs) + 1))  # every event once, in order, no gap
    # System lines ("Ann joined the chat") are events too; the test counts the chat's words.
    texts = [f["event"]["message"]["text"] for f in visitor_seen
             if f["event"]["type"] == "message" and not f["event"]["message"]["system"]]
    expected = ["hi 0", "hi 1", "hi 2", "reply 0", "reply 1", "reply 2", "hi 3"]
    lost = [t for t in expected if t not in texts]
    duplicated = len(texts) - len(set(texts))
    assert (lost, duplicated) == ([], 0)
    assert sorted(texts) == sorted(expected)
    assert sorted(m["text"] for m in history if not m["system"]) == sorted(expected)

    # The operator's session survives the restart too (it is in the database).
    async with operator_socket(cookie) as op:
        await op.send(json.dumps({"type": "history", "chatId": chat_id, "limit": 100}))
        page = (await frames_until(op, lambda f: f["type"] == "history"))[-1]
        assert sorted(m["text"] for m in page["messages"] if not m["system"]) == sorted(expected)
