"""A scripted operator for e2e tests: logs in over HTTP, talks over /ws/operator."""

from __future__ import annotations

import json
import time

import httpx
from websockets.sync.client import connect

from e2e.frames import FrameSocket


class ScriptedOperator(FrameSocket):
    who = "operator"

    def __init__(self, server_url: str, app_id: str, email: str, password: str) -> None:
        response = httpx.post(f"{server_url}/api/operator/login",
                              json={"appId": app_id, "email": email, "password": password},
                              headers={"Origin": server_url})
        response.raise_for_status()
        cookie = response.cookies["parley_session"]
        self.cookie = cookie
        ws_url = server_url.replace("http://", "ws://") + "/ws/operator"
        super().__init__(connect(ws_url, origin=server_url,
                                 additional_headers={"Cookie": f"parley_session={cookie}"}))
        self._sent = 0
        self.socket.send(json.dumps({"type": "subscribe"}))
        self.wait_for(lambda f: f["type"] == "subscribed")

    def visitor_messages(self, text: str) -> list[dict]:
        self.drain()
        return [f for f in self.seen if f["type"] == "message"
                and f["message"]["authorKind"] == "visitor" and f["message"]["text"] == text]

    def reply(self, chat_id: str, text: str) -> dict:
        self._sent += 1
        client_id = f"op-{time.monotonic_ns()}-{self._sent}"
        self.socket.send(json.dumps({"type": "message.send", "chatId": chat_id, "clientId": client_id,
                                     "text": text}))
        return self.wait_for(lambda f: f["type"] == "ack" and f.get("clientId") == client_id)

    def send(self, **frame) -> None:
        self.socket.send(json.dumps(frame))
