"""Raw frames over real sockets to a real server (tests/helpers/server.py): what the
scale-out tests send and wait for."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.server import SITE, Server


async def welcomed(url: str, app_id: str, visitor: dict | None = None, timeout: float = 20):
    """A visitor socket on `url` (/ws/visitor) after its welcome: (socket, welcome). With
    `visitor` (a welcome), the same visitor again, replaying from the start."""
    ws = await connect(url, origin=SITE)
    hello = {"v": 1, "type": "hello", "appId": app_id}
    if visitor:
        hello |= {"visitorId": visitor["visitorId"], "visitorToken": visitor["visitorToken"], "lastSeq": 0}
    await ws.send(json.dumps(hello))
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "welcome":
                return ws, frame


async def send_frame(ws, type: str, **fields) -> None:
    await ws.send(json.dumps({"type": type, **fields}))


def ack_of(client_id: str):
    return lambda f: f["type"] == "ack" and f["clientId"] == client_id


def event_of(client_id: str):
    return lambda f: (f["type"] == "event" and f["event"]["type"] == "message"
                      and f["event"]["message"]["clientId"] == client_id)


def fed(client_id: str):
    """The operators' live feed frame of a visitor's message."""
    return lambda f: f["type"] == "message" and f["message"]["clientId"] == client_id


def event_texts(frames) -> list[str]:
    return [f["event"]["message"]["text"] for f in frames if f["type"] == "event"
            and f["event"]["type"] == "message" and not f["event"]["message"]["system"]]


class Endpoints:
    def __init__(self, server: Server, app: dict) -> None:
        self.base = f"http://127.0.0.1:{server.port}"
        self.app = app

    def visitor(self):
        return connect(self.base.replace("http", "ws") + "/ws/visitor", origin=SITE)

    async def hello(self, ws, **fields) -> dict:
        await send_frame(ws, "hello", v=1, appId=self.app["appId"], **fields)
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "welcome", welcome
        return welcome

    def login(self) -> str:
        response = httpx.post(f"{self.base}/api/operator/login", json={
            "appId": self.app["appId"], "email": "ann@shop.example", "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.cookies["parley_session"]

    def operator(self, cookie: str):
        return connect(self.base.replace("http", "ws") + "/ws/operator", origin=self.base,
                       additional_headers={"Cookie": f"parley_session={cookie}"})
