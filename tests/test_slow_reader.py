"""A socket that reads too slowly is closed with a documented code, never silently starved
(security issue 13, finding 4).

When an operator's fan-out queue overflowed, the subscription was dropped and the socket
stayed open, "live" in the inbox, while new visitor messages never arrived. A real
uvicorn (TCP backpressure is what fills the queue) runs here in-process, so the test can
publish straight into the app's live feed while its reader pauses.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley import fanout as channels
from parley import protocol
from parley.storage import app_queries, operator_queries
from parley.web.app import create_app
from tests.helpers.db import OPERATOR_PASSWORD
from tests.helpers.waiting import wait_until_async

CLOSE_FELL_BEHIND = 4410  # docs/protocol.md


@pytest.fixture
async def live_server(database, built_dist):
    async with database.session() as session:
        app_row = await app_queries.create_app(session, "Shop", ["https://shop.example"])
        await operator_queries.create_operator(session, app_row.id, "ann@shop.example", OPERATOR_PASSWORD,
                                               "Ann")
        await session.commit()
    app = create_app(database)
    # Port 0: the OS picks a free one as uvicorn binds it (no race), read back once it listens.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on"))
    serving = asyncio.create_task(server.serve())
    await wait_until_async(lambda: server.started or serving.done(), 30, "uvicorn listening")
    assert server.started, serving.exception() if serving.done() else "not started"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, port, app_row.id
    server.should_exit = True
    await serving


async def test_an_operator_who_stops_reading_is_closed_not_starved(live_server):
    app, port, app_id = live_server
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        logged_in = await http.post(f"{base}/api/operator/login", json={
            "appId": app_id, "email": "ann@shop.example", "password": OPERATOR_PASSWORD})
    cookie = logged_in.cookies["parley_session"]
    # A small client-side queue: a reader that pauses stops draining TCP almost at once.
    async with connect(f"ws://127.0.0.1:{port}/ws/operator", origin=base, max_queue=4,
                       additional_headers={"Cookie": f"parley_session={cookie}"}) as ws:
        await ws.send(json.dumps({"type": "subscribe"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        # The reader pauses while a burst reaches the app's feed: more than the socket's
        # queue holds before the forwarder can write any of it (it can't run meanwhile).
        feed = channels.app_channel(app_id)
        for n in range(1500):
            await app.state.fanout.publish(feed, protocol.frame("typing", visitorId=f"v{n}", text="typing"))
        # Reading again: what was buffered, then a close that says why; never an open, silent socket.
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == CLOSE_FELL_BEHIND
    # The inbox reconnects on that code and gets a working feed again.
    async with connect(f"ws://127.0.0.1:{port}/ws/operator", origin=base,
                       additional_headers={"Cookie": f"parley_session={cookie}"}) as ws:
        await ws.send(json.dumps({"type": "subscribe"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        await app.state.fanout.publish(channels.app_channel(app_id),
                                       protocol.frame("typing", visitorId="v-after", text="hi"))
        assert json.loads(await ws.recv())["visitorId"] == "v-after"
