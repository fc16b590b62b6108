"""PostgreSQL goes away under a running server and comes back (issue 12).

While the database is down, clients get a clear error with a stable code, the
server keeps serving what needs no database (/healthz) and says it is not ready
(/readyz 503); when the database is back, the same server process serves again:
the visitor's resend is stored once, a new visitor is welcomed, an operator's
socket works, without restarting anything.
"""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests import services
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.real_sockets import welcomed
from tests.helpers.server import SITE, Server, cli

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres():
    """A cluster of this test's own: it is stopped and started, which the shared one can't be."""
    try:
        server = services.start_postgres()
    except services.Unavailable as error:
        pytest.skip(f"PostgreSQL unavailable: {error}")
    yield server
    server.stop()


@pytest.fixture
def server_on_postgres(own_postgres, tmp_path, built_dist):
    db_url = own_postgres.url(own_postgres.create_database())
    env = {**os.environ, "PARLEY_DATA": str(tmp_path), "PARLEY_DB": db_url}
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    running = Server(env, None, tmp_path / "server.log")
    running.start()
    yield running, app
    running.stop()


async def _frames_until(ws, wanted: set[str], timeout: float = 20) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] in wanted:
                return frame


def _send(client_id: str, text: str) -> str:
    return json.dumps({"v": 1, "type": "message.send", "clientId": client_id, "text": text})


async def test_a_postgresql_restart_gives_clear_errors_then_recovers_without_a_server_restart(
        own_postgres, server_on_postgres):
    server, app = server_on_postgres
    base = f"http://127.0.0.1:{server.port}"
    url = f"ws://127.0.0.1:{server.port}/ws/visitor"
    ws, welcome = await welcomed(url, app["appId"])
    await ws.send(_send("before", "hello before the outage"))
    assert (await _frames_until(ws, {"ack"}))["clientId"] == "before"

    await asyncio.to_thread(own_postgres.halt)
    try:
        # A message while the database is down: a clear, stable error, then the socket is
        # closed with 1013 (try again later) so the widget reconnects and resends it.
        await ws.send(_send("during", "hello during the outage"))
        try:
            frame = await _frames_until(ws, {"error", "ack"})
            assert frame["type"] == "error" and frame["code"] == "PARLEY_E_UNAVAILABLE", frame
            assert frame.get("retryAfter", 0) > 0
            await _frames_until(ws, set())
        except ConnectionClosed:
            pass
        assert ws.close_code == 1013, (ws.close_code, ws.close_reason)
        # A hello now: the same error and close code, not a traceback or a hang.
        again = await connect(url, origin=SITE)
        await again.send(json.dumps({"v": 1, "type": "hello", "appId": app["appId"],
                                     "visitorId": welcome["visitorId"],
                                     "visitorToken": welcome["visitorToken"]}))
        try:
            frame = await _frames_until(again, {"error", "welcome"})
            assert frame["type"] == "error" and frame["code"] == "PARLEY_E_UNAVAILABLE", frame
            await _frames_until(again, set())
        except ConnectionClosed:
            pass
        assert again.close_code == 1013, (again.close_code, again.close_reason)
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 503
            login = await http.post("/api/operator/login", json={
                "appId": app["appId"], "email": "ann@shop.example", "password": PASSWORD})
            assert login.status_code == 503, login.text
            assert login.json()["code"] == "PARLEY_E_UNAVAILABLE", login.text
    finally:
        await asyncio.to_thread(own_postgres.resume)

    # Back: the same server process serves again, with nothing lost or stored twice.
    ws, _resumed = await welcomed(url, app["appId"], welcome)
    await ws.send(_send("during", "hello during the outage"))
    ack = await _frames_until(ws, {"ack"})
    assert ack["clientId"] == "during" and ack["message"]["text"] == "hello during the outage"
    await ws.send(_send("after", "hello after the outage"))
    assert (await _frames_until(ws, {"ack"}))["clientId"] == "after"
    await ws.close()
    fresh, _ = await welcomed(url, app["appId"])
    await fresh.close()
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        assert (await http.get("/readyz")).status_code == 200
        login = await http.post("/api/operator/login", json={
            "appId": app["appId"], "email": "ann@shop.example", "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = login.cookies["parley_session"]
    operator = await connect(f"ws://127.0.0.1:{server.port}/ws/operator", origin=base,
                             additional_headers={"Cookie": f"parley_session={cookie}"})
    await operator.send(json.dumps({"v": 1, "type": "subscribe"}))
    await _frames_until(operator, {"subscribed"})
    await operator.close()
    assert server.process.poll() is None, "the server process ended"
    log = server.log.read_text()
    assert "Exception in ASGI application" not in log, log[-4000:]
