"""The operator side, for integrations (bots, bridges): log in, list chats, reply,
assign, close. The operator socket's live feed arrives as events named after its
frames (`message`, `chat.started`, `chat.closed`, …; docs/protocol.md). The feed is live
only (no replay): after a reconnect `connected` fires again, and an integration that
must not miss anything reads `list_chats()` then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from parley.client import http
from parley.client.connection import Connection, Timing
from parley.client.errors import CONNECTION_LOST, REQUEST_TIMEOUT, ClientError
from parley.client.link import LinkEvents
from parley.client.outbox import Outbox, check_file_id, check_page_size, check_text, new_client_id

SESSION_COOKIES = ("__Host-parley_session", "parley_session")


def _answer(kind: str) -> Callable[[dict], bool]:
    return lambda frame: frame.get("type") == kind


class OperatorClient(LinkEvents):
    def __init__(self, server: str, *, timing: Timing | None = None) -> None:
        super().__init__()
        self._base = http.http_base(server)
        # Origin: the operator socket and the write APIs accept only the server's own (CSRF).
        self._http = httpx.AsyncClient(base_url=self._base, headers={"Origin": self._base},
                                       timeout=(timing or Timing()).request_timeout)
        self._connection = Connection(http.ws_base(server) + "/ws/operator", self, origin=self._base,
                                      headers=self._cookie_header, timing=timing)
        self._outbox = Outbox(self._connection.send)
        self.profile: dict | None = None

    @property
    def connected(self) -> bool:
        return self._connection.connected

    def _cookie_header(self) -> dict[str, str]:
        for name in SESSION_COOKIES:
            value = self._http.cookies.get(name)
            if value:
                return {"Cookie": f"{name}={value}"}
        return {}

    # -- logging in ----------------------------------------------------------------------

    async def login(self, email: str, password: str, app_id: str | None = None) -> dict:
        """POST /api/operator/login: `{operatorId, appId, email, name, role}`. AUTHENTICATION
        for a wrong login (with `details["needAppId"]` when the login is in several apps),
        RATE_LIMIT after too many failures, SERVICE_UNAVAILABLE when the server is busy."""
        body: dict[str, Any] = {"email": email, "password": password}
        if app_id is not None:
            body["appId"] = app_id
        response = await self._http.post("/api/operator/login", json=body)
        if response.status_code != 200:
            raise http.error_of(response)
        self.profile = response.json()
        return self.profile

    async def logout(self) -> None:
        await self.disconnect()
        await self._http.post("/api/operator/logout")

    async def aclose(self) -> None:
        """Disconnects and closes the HTTP client (the login stays valid)."""
        await self.disconnect()
        await self._http.aclose()

    async def __aenter__(self) -> OperatorClient:
        return self  # log in and connect inside: they need the email and password

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def _get(self, path: str, **params: Any) -> dict:
        response = await self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        if response.status_code != 200:
            raise http.error_of(response)
        return response.json()

    async def me(self) -> dict:
        return await self._get("/api/operator/me")

    async def list_chats(self, status: str = "open", *, mine: bool | None = None,
                         assigned: bool | None = None, limit: int = 50) -> list[dict]:
        """GET /api/operator/chats: CHAT + {visitor, lastMessage, unread}, most recent first."""
        answer = await self._get("/api/operator/chats", status=status, limit=limit,
                                 mine=None if mine is None else int(mine),
                                 assigned=None if assigned is None else int(assigned))
        return answer["chats"]

    async def assignees(self) -> dict:
        """Who a chat can be assigned to: `{operators: [{id, name, online}], teams: [...]}`."""
        return await self._get("/api/operator/assignees")

    async def upload_file(self, file: bytes | str | Path, name: str | None = None, *,
                          on_progress: Callable[[float], object] | None = None) -> dict:
        data, path_name = http.file_bytes(file)
        return await http.upload(self._http, "/api/operator/files", data, name or path_name or "file",
                                 self._cookie_header(), on_progress)

    # -- the socket ------------------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> None:
        """Opens the operator socket and subscribes to the app's live feed (log in first)."""
        if not self._cookie_header():
            raise ClientError("AUTHENTICATION", "log in first")
        await self._connection.start(timeout)

    async def disconnect(self) -> None:
        await self._connection.stop()
        self._outbox.close()

    async def drop_connection(self) -> None:
        """Drops the socket as a lost network would (the client reconnects); for tests."""
        await self._connection.drop()

    async def opened(self, connection: Connection) -> None:
        await connection.request({"type": "subscribe"}, _answer("subscribed"), opening=True)

    def up(self) -> None:
        self._came_up()
        self.emit("connected", {"profile": self.profile})


    def frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind in ("ack", "error") and self._outbox.take(frame):
            return
        if kind == "error":
            self.emit("error", ClientError.from_frame(frame))
        elif kind in ("history", "chat", "subscribed"):
            return  # answers, returned by the call that asked
        elif isinstance(kind, str):
            self.emit(kind, frame)

    # -- chats ---------------------------------------------------------------------------

    async def get_chat_history(self, chat_id: str, *, page_size: int = 50,
                               timeout: float | None = None) -> AsyncIterator[list[dict]]:
        """Pages of the chat's messages (internal notes included), newest page first,
        each oldest first."""
        check_page_size(page_size)
        before: int | None = None
        while True:
            frame: dict[str, Any] = {"type": "history", "chatId": chat_id, "limit": page_size}
            if before is not None:
                frame["before"] = before
            answer = await self._connection.request(frame, _answer("history"), timeout=timeout)
            messages = answer.get("messages") or []
            if messages:
                yield messages
            if not answer.get("hasMore") or not messages:
                return
            before = messages[0]["id"]

    async def _put(self, frame: dict, context: str, timeout: float | None) -> dict:
        acked = await self._outbox.put(frame, context)
        if not self._connection.running:
            raise ClientError(CONNECTION_LOST, "not connected: it is queued and goes on the next connect()")
        try:
            return await asyncio.wait_for(asyncio.shield(acked), timeout)
        except TimeoutError:
            raise ClientError(REQUEST_TIMEOUT, "not acknowledged yet; it stays queued and will be sent",
                              details={"clientId": frame["clientId"]}) from None

    async def send_message(self, chat_id: str, text: str = "", *, file_id: str | None = None,
                           timeout: float | None = None) -> dict:
        """Replies in a chat (joining it); returns the stored MESSAGE. Kept and resent
        until acknowledged, like the visitor's (see VisitorClient.send_event)."""
        check_text(text, required=file_id is None)
        check_file_id(file_id)
        frame: dict[str, Any] = {"type": "message.send", "chatId": chat_id, "clientId": new_client_id(),
                                 "text": text}
        if file_id is not None:
            frame["fileId"] = file_id
        return (await self._put(frame, "file" if file_id else "message", timeout))["message"]

    async def add_note(self, chat_id: str, text: str, timeout: float | None = None) -> dict:
        """An internal note: operators see it, the visitor never does."""
        check_text(text, required=True)
        frame = {"type": "note.add", "chatId": chat_id, "clientId": new_client_id(), "text": text}
        return (await self._put(frame, "message", timeout))["message"]

    async def start_chat(self, visitor_id: str, text: str, timeout: float | None = None) -> dict:
        """Proactive chat: writes first to a visitor with no open chat: `{chat, message}`.
        CHAT_ALREADY_ACTIVE (with `details["openChatId"]`) when the visitor has one."""
        check_text(text, required=True)
        frame = {"type": "chat.start", "visitorId": visitor_id, "clientId": new_client_id(), "text": text}
        ack = await self._put(frame, "start", timeout)
        return {"chat": ack.get("chat"), "message": ack["message"]}

    async def assign(self, chat_id: str, *, operator_id: str | None = None, team_id: str | None = None,
                     timeout: float | None = None) -> dict:
        """Assigns (transfers) a chat to an operator or a team; returns the CHAT."""
        if (operator_id is None) == (team_id is None):
            raise ClientError("VALIDATION", "give operator_id or team_id (one)")
        frame: dict[str, Any] = {"type": "chat.assign", "chatId": chat_id}
        frame |= {"operatorId": operator_id} if operator_id else {"teamId": team_id}
        answer = await self._connection.request(frame, _answer("chat"), context="assign", timeout=timeout)
        return answer["chat"]

    async def close_chat(self, chat_id: str, timeout: float | None = None) -> dict:
        answer = await self._connection.request({"type": "chat.close", "chatId": chat_id}, _answer("chat"),
                                                timeout=timeout)
        return answer["chat"]

    async def reopen_chat(self, chat_id: str, timeout: float | None = None) -> dict:
        """CHAT_ALREADY_ACTIVE (with `details["openChatId"]`) while the visitor has another open chat."""
        answer = await self._connection.request({"type": "chat.reopen", "chatId": chat_id}, _answer("chat"),
                                                timeout=timeout)
        return answer["chat"]

    async def mark_seen(self, chat_id: str, up_to: int, timeout: float | None = None) -> None:
        """Marks the visitor's messages up to this id as seen (the visitor gets a `seen` event)."""
        await self._connection.request({"type": "seen", "chatId": chat_id, "upTo": up_to}, timeout=timeout)

    async def set_typing(self, chat_id: str, typing: bool = True) -> None:
        """The visitor sees the operator typing (live only; dropped when not connected)."""
        with contextlib.suppress(ClientError):
            await self._connection.send({"type": "typing", "chatId": chat_id, "typing": typing})
