"""Visitor and operator sockets on the in-process app (Starlette's TestClient), and what
the tests do with them: hello, login, subscribe, signed updates, refused hellos."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from parley import identity
from parley.storage.models import Visitor
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run

ORIGIN = "https://shop.example"
SERVER = "http://testserver"


class Tab:
    """One socket; frames that are not what a test waits for are kept for later."""

    def __init__(self, ws, first: dict | None = None) -> None:
        self.ws = ws
        self.first = first
        self.kept: list[dict] = []
        self.seqs: list[int] = []  # every event seq this socket received, in order

    def receive(self) -> dict:
        frame = self.ws.receive_json()
        if frame["type"] == "event":
            self.seqs.append(frame["seq"])
        return frame

    def send(self, **frame) -> None:
        self.ws.send_text(json.dumps({"v": 1, **frame}))

    def next(self, want) -> dict:
        for i, frame in enumerate(self.kept):
            if want(frame):
                return self.kept.pop(i)
        while True:
            frame = self.receive()
            if want(frame):
                return frame
            self.kept.append(frame)

    def of_type(self, kind: str) -> dict:
        return self.next(lambda f: f["type"] == kind)

    def ack(self, client_id: str) -> dict:
        return self.next(lambda f: f["type"] in ("ack", "error") and f.get("clientId") == client_id)

    def message_event(self, message_id: int) -> dict:
        return self.next(lambda f: f["type"] == "event" and f["event"]["type"] == "message"
                         and f["event"]["message"]["id"] == message_id)

    def say(self, client_id: str, text: str) -> dict:
        self.send(type="message.send", clientId=client_id, text=text)
        return self.ack(client_id)

    def sync(self) -> list[dict]:
        """Waits for every frame sent so far (history is answered in order) and returns them."""
        self.send(type="history")
        frames = []
        while True:
            frame = self.receive()
            if frame["type"] == "history":
                return [*self.kept, *frames]
            frames.append(frame)


@contextmanager
def visitor(client, app_id, origin=ORIGIN, **hello):
    with client.websocket_connect("/ws/visitor", headers={"Origin": origin}) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id, **hello}))
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome", welcome
        yield Tab(ws, welcome)


def same_visitor(tab: Tab) -> dict:
    return {"visitorId": tab.first["visitorId"], "visitorToken": tab.first["visitorToken"]}


def login(client, app_id, email="ann@shop.example", password=PASSWORD, **kwargs):
    response = client.post("/api/operator/login",
                           json={"appId": app_id, "email": email, "password": password}, **kwargs)
    client.cookies.clear()  # tests pass the session explicitly, so two operators can coexist
    return response


@contextmanager
def operator(client, app_id, email="ann@shop.example", subscribe=True):
    response = login(client, app_id, email)
    assert response.status_code == 200, response.text
    cookie = response.cookies["parley_session"]
    with client.websocket_connect("/ws/operator", headers={
            "Origin": SERVER, "Cookie": f"parley_session={cookie}"}) as ws:
        tab = Tab(ws)
        if subscribe:
            tab.send(type="subscribe")
            tab.of_type("subscribed")
        yield tab


def token(app, user_id: str) -> str:
    """What the site's server computes: sha1($personalSalt . $chaportVisitorId)."""
    return hashlib.sha1((app.secret + user_id).encode()).hexdigest()


def refused(client, app_id, **hello) -> dict:
    with client.websocket_connect("/ws/visitor", headers={"Origin": ORIGIN}) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id, **hello}))
        frame = ws.receive_json()
        assert frame["type"] == "error", frame
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        frame["closeCode"] = closed.value.code
        return frame


def visitor_count(database) -> int:
    return run(database, lambda s: s.scalar(select(func.count()).select_from(Visitor)))


def signed_update(tab, app, data: dict) -> dict:
    data_json = json.dumps(data)
    tab.send(type="visitor.update", dataJson=data_json, hash=identity.sha1_hex(app.secret + data_json))
    return tab.next(lambda f: f["type"] in ("visitor", "error"))
