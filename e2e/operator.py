"""A scripted operator for e2e tests: logs in over HTTP, talks over /ws/operator."""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx
from websockets.sync.client import connect


class ScriptedOperator:
    def __init__(self, server_url: str, app_id: str, email: str, password: str) -> None:
        response = httpx.post(f"{server_url}/api/operator/login",
                              json={"appId": app_id, "email": email, "password": password},
                              headers={"Origin": server_url})
        response.raise_for_status()
        cookie = response.cookies["parley_session"]
        self.cookie = cookie
        ws_url = server_url.replace("http://", "ws://") + "/ws/operator"
        self.socket = connect(ws_url, origin=server_url,
                              additional_headers={"Cookie": f"parley_session={cookie}"})
        self.frames: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        self._sent = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.socket.send(json.dumps({"type": "subscribe"}))
        self.wait_for(lambda f: f["type"] == "subscribed")

    def _read(self) -> None:
        try:
            for raw in self.socket:
                self.frames.put(json.loads(raw))
        except Exception:  # closed at the end of the test
            return

    def wait_for(self, match, timeout: float = 15) -> dict:
        """The first frame (seen before or arriving within `timeout`) that `match` accepts."""
        for frame in self.seen:
            if match(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(frame)
            if match(frame):
                return frame
        raise AssertionError(f"no matching operator frame within {timeout}s; saw {self.seen}")

    def visitor_messages(self, text: str) -> list[dict]:
        self.drain()
        return [f for f in self.seen if f["type"] == "message"
                and f["message"]["authorKind"] == "visitor" and f["message"]["text"] == text]

    def drain(self) -> None:
        while True:
            try:
                self.seen.append(self.frames.get_nowait())
            except queue.Empty:
                return

    def reply(self, chat_id: str, text: str) -> dict:
        self._sent += 1
        client_id = f"op-{time.monotonic_ns()}-{self._sent}"
        self.socket.send(json.dumps({"type": "message.send", "chatId": chat_id, "clientId": client_id,
                                     "text": text}))
        return self.wait_for(lambda f: f["type"] == "ack" and f.get("clientId") == client_id)

    def send(self, **frame) -> None:
        self.socket.send(json.dumps(frame))

    def close(self) -> None:
        self.socket.close()
