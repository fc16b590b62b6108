"""Graceful shutdown of a real `parley serve`: SIGTERM closes every socket with 1001
(going away, so clients reconnect elsewhere), the process exits in bounded time, and
nothing that was acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.helpers.server import SITE, Server, cli, server_env

PASSWORD = "correct horse battery"
# The server gives open sockets a few seconds and uvicorn 10 s more; a healthy
# shutdown with idle clients takes well under a second.
EXIT_WITHIN = 15.0


async def frames_until_closed(ws: ClientConnection) -> list[dict]:
    """Every frame until the server closes the socket (fails after EXIT_WITHIN seconds)."""
    frames = []
    async with asyncio.timeout(EXIT_WITHIN):
        try:
            while True:
                frames.append(json.loads(await ws.recv()))
        except ConnectionClosed:
            return frames


@pytest.fixture
def env(tmp_path, server_db_url):
    return server_env(tmp_path, server_db_url)


async def test_sigterm_closes_sockets_with_1001_and_keeps_acknowledged_messages(env, tmp_path):
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    log = tmp_path / "server.log"
    # JSON logs, read below; the first start may build dist/.
    server = Server(env, None, log, "--log-format", "json", start_within=120)
    server.start()
    port, base, process = server.port, server.url, server.process
    try:
        login = httpx.post(f"{base}/api/operator/login", json={
            "appId": app["appId"], "email": "ann@shop.example", "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = login.cookies["parley_session"]
        async with connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=SITE) as guest, \
                connect(f"ws://127.0.0.1:{port}/ws/operator", origin=base,
                        additional_headers={"Cookie": f"parley_session={cookie}"}) as op:
            await guest.send(json.dumps({"v": 1, "type": "hello", "appId": app["appId"], "lastSeq": 0}))
            welcome = json.loads(await guest.recv())
            assert welcome["type"] == "welcome"
            await op.send(json.dumps({"type": "subscribe"}))
            assert json.loads(await op.recv())["type"] == "subscribed"

            await guest.send(json.dumps({"type": "message.send", "clientId": "c-1", "text": "before"}))
            frames = []
            while not any(f["type"] == "ack" for f in frames):
                frames.append(json.loads(await guest.recv()))
            # One more in flight while the signal arrives: if it is acknowledged, it must be stored.
            await guest.send(json.dumps({"type": "message.send", "clientId": "c-2", "text": "racing"}))
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            frames += await frames_until_closed(guest)
            await frames_until_closed(op)
            assert (guest.close_code, op.close_code) == (1001, 1001), log.read_text()

        code = await asyncio.to_thread(process.wait, EXIT_WITHIN)
        assert code == 0, log.read_text()
        assert time.monotonic() - stopped_at < EXIT_WITHIN
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    acked = {f["clientId"]: f["message"]["text"] for f in frames if f["type"] == "ack"}
    assert "c-1" in acked

    # The shutdown was logged as JSON lines.
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(r["logger"] == "parley.shutdown" and r.get("sockets") == 2 for r in records), records

    # After a restart the acknowledged messages are in the database.
    server.start()
    port, process = server.port, server.process
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=SITE) as guest:
            await guest.send(json.dumps({
                "type": "hello", "appId": app["appId"], "visitorId": welcome["visitorId"],
                "visitorToken": welcome["visitorToken"]}))
            assert json.loads(await guest.recv())["visitorId"] == welcome["visitorId"]
            await guest.send(json.dumps({"type": "history", "limit": 100}))
            while (frame := json.loads(await guest.recv()))["type"] != "history":
                pass
        stored = {m["clientId"]: m["text"] for m in frame["messages"]}
        assert acked.items() <= stored.items()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=EXIT_WITHIN)
