"""An operator socket ends with its login (security issue 13, finding 1).

The login was checked only when the socket opened: after a logout, a password reset or
change, or the operator's deletion, an open inbox socket kept receiving visitors'
messages and could still send as that operator. Now it is closed with 4401, within
a second, whichever process or command ended the login.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley.storage import operator_queries
from parley.storage.models import Operator
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli
from tests.helpers.sockets import ORIGIN, SERVER, Tab, login, operator


def closed_code(tab, within: float = 10) -> int | None:
    """Keeps the socket busy (subscribe is answered every time) until the server closes it;
    its close code, or None if it is still open after `within` seconds."""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            tab.send(type="subscribe")
            while tab.receive()["type"] != "subscribed":
                pass
    except WebSocketDisconnect as closed:
        return closed.code
    return None


def test_logout_closes_the_open_inbox_socket(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    response = login(client, app.id)
    cookie = response.cookies["parley_session"]
    with client.websocket_connect("/ws/operator", headers={
            "Origin": SERVER, "Cookie": f"parley_session={cookie}"}) as ws:
        ws.send_text(json.dumps({"type": "subscribe"}))
        assert ws.receive_json()["type"] == "subscribed"
        out = client.post("/api/operator/logout",
                          headers={"Origin": SERVER, "Cookie": f"parley_session={cookie}"})
        assert out.status_code == 200
        assert closed_code(Tab(ws)) == 4401


@pytest.mark.parametrize("ending", ["reset", "change", "delete", "expire"])
def test_every_ending_of_a_login_closes_its_sockets(client, make_app, make_operator, database, ending):
    app = make_app([ORIGIN])
    ann = make_operator(app.id)
    with operator(client, app.id) as tab:
        if ending == "reset":
            run(database, lambda s: operator_queries.reset_operator_password(s, ann, "another good password"))
        elif ending == "change":
            # The inbox's own password change keeps the login it came from, ends the others.
            other = login(client, app.id).cookies["parley_session"]
            changed = client.patch("/api/operator/me", json={
                "currentPassword": PASSWORD, "newPassword": "another good password"},
                headers={"Origin": SERVER, "Cookie": f"parley_session={other}"})
            assert changed.status_code == 200, changed.text
        elif ending == "delete":
            async def delete(session):
                await operator_queries.delete_operator(session, await session.get(Operator, ann.id))
            run(database, delete)
        else:
            async def expire(session):
                from datetime import timedelta

                from sqlalchemy import update

                from parley.storage.models import OperatorSession, utcnow
                past = utcnow() - timedelta(seconds=1)
                await session.execute(update(OperatorSession).values(expires_at=past))
                await session.commit()
            run(database, expire)
        assert closed_code(tab) == 4401


def test_an_ended_login_can_not_come_back(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    ann = make_operator(app.id)
    response = login(client, app.id)
    cookie = response.cookies["parley_session"]
    headers = {"Origin": SERVER, "Cookie": f"parley_session={cookie}"}
    with client.websocket_connect("/ws/operator", headers=headers) as ws:
        run(database, lambda s: operator_queries.reset_operator_password(s, ann, "another good password"))
        assert closed_code(Tab(ws)) == 4401
    # The inbox's reconnect with the old cookie is refused the same way.
    with pytest.raises(WebSocketDisconnect) as refused, \
            client.websocket_connect("/ws/operator", headers=headers) as ws:
        ws.receive_json()
    assert refused.value.code == 4401


@pytest.fixture
def two_servers(tmp_path, built_dist, pg_url):
    """Two server processes sharing one PostgreSQL database (no Redis needed for this)."""
    env = {**os.environ, "PARLEY_DATA": str(tmp_path), "PARLEY_DB": pg_url}
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    servers = [Server(env, free_port(), tmp_path / f"server-{n}.log") for n in range(2)]
    for server in servers:
        server.start()
    yield servers, app["appId"], env
    for server in servers:
        server.stop()


async def test_a_reset_from_the_cli_closes_sockets_on_every_process(two_servers):
    servers, app_id, env = two_servers
    cookies = []
    async with httpx.AsyncClient() as http:
        for server in servers:
            response = await http.post(f"http://127.0.0.1:{server.port}/api/operator/login", json={
                "appId": app_id, "email": "ann@shop.example", "password": PASSWORD})
            cookies.append(response.cookies["parley_session"])
    sockets = [await connect(f"ws://127.0.0.1:{s.port}/ws/operator", origin=f"http://127.0.0.1:{s.port}",
                             additional_headers={"Cookie": f"parley_session={c}"})
               for s, c in zip(servers, cookies, strict=True)]
    for ws in sockets:
        await ws.send(json.dumps({"type": "subscribe"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
    await asyncio.to_thread(cli, env, "operator", "reset-password", "--app", app_id,
                            "--email", "ann@shop.example", "--password", "another good password")
    for ws in sockets:
        with pytest.raises((ConnectionClosed, TimeoutError)):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4401
