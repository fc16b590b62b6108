"""The visitor side: the LiveChat Customer SDK's calls and events on Parley's visitor socket.

Names are the SDK's in snake_case. Parley's objects (CHAT, MESSAGE, FILE, the visitor's
profile) are handed over as the protocol's dicts (docs/protocol.md); payloads the client
builds itself use snake_case keys. Where Parley has no such concept the call raises
ClientError NOT_SUPPORTED (docs/client.md lists them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from parley import protocol
from parley.client import http
from parley.client.connection import Connection, Timing
from parley.client.errors import CONNECTION_LOST, NOT_SUPPORTED, REQUEST_TIMEOUT, ClientError
from parley.client.link import LinkEvents
from parley.client.outbox import Outbox, check_file_id, check_page_size, new_client_id
from widget.core.validation import looks_like_email

log = logging.getLogger("parley.client")


@dataclass
class Credentials:
    """What continues the same visitor in a new client (save it as `to_dict()`): the
    visitor's id and token, the newest event seq processed (resume), and the messages
    not acknowledged yet (they are sent again, so a restart loses nothing)."""

    visitor_id: str
    visitor_token: str
    last_seq: int | None = None
    outbox: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"visitorId": self.visitor_id, "visitorToken": self.visitor_token,
                "lastSeq": self.last_seq, "outbox": self.outbox}

    @classmethod
    def from_dict(cls, data: dict) -> Credentials:
        return cls(data["visitorId"], data["visitorToken"], data.get("lastSeq"),
                   list(data.get("outbox") or []))


def _answer(kind: str) -> Callable[[dict], bool]:
    return lambda frame: frame.get("type") == kind


class VisitorClient(LinkEvents):
    """A visitor (the SDK's "customer") of one app.

    `server`: Parley's URL (http(s) or ws(s)); `origin`: the site the client speaks
    for (the app's allowed origins are checked against it; leave it out for apps that
    allow any site); `credentials` continue a visitor; `user` ({id, token}) logs in a
    site's user (`session.user`); `page` ({url, title?, referrer?}) is where it is.
    """

    def __init__(self, server: str, app_id: str, *, origin: str | None = None,
                 credentials: Credentials | dict | None = None, user: dict | None = None,
                 page: dict | None = None, timing: Timing | None = None) -> None:
        super().__init__()
        self.app_id = app_id
        self.origin = origin
        self.user = user
        self.page = page
        self._http_base = http.http_base(server)
        if isinstance(credentials, dict):
            credentials = Credentials.from_dict(credentials)
        self._visitor_id = credentials.visitor_id if credentials else None
        self._visitor_token = credentials.visitor_token if credentials else None
        # Restored credentials without a seq replay the whole log (lastSeq 0), which also
        # tells this client every chat the visitor had.
        self._last_seq: int | None = (credentials.last_seq or 0) if credentials else None
        self._connection = Connection(http.ws_base(server) + "/ws/visitor", self, origin=origin,
                                      timing=timing)
        self._outbox = Outbox(self._connection.send)
        self._restored = list(credentials.outbox) if credentials else []
        self._chats: dict[str, dict] = {}
        self._open_chat_id: str | None = None
        self._message_ids: set[int] = set()
        self.availability: str | None = None
        self.welcome: dict | None = None

    # -- state -----------------------------------------------------------------------

    @property
    def visitor_id(self) -> str | None:
        return self._visitor_id

    @property
    def connected(self) -> bool:
        return self._connection.connected

    @property
    def credentials(self) -> Credentials | None:
        """None until the first `welcome` gave the visitor an id and a token."""
        if self._visitor_id is None or self._visitor_token is None:
            return None
        return Credentials(self._visitor_id, self._visitor_token, self._last_seq, self._outbox.frames())

    @property
    def active_chat(self) -> dict | None:
        return self._chats.get(self._open_chat_id) if self._open_chat_id else None

    # -- connecting ------------------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> dict:
        """Connects (and keeps reconnecting until `disconnect()`); returns the `welcome`
        frame. Raises ClientError for a refusal retrying can't change (unknown app,
        origin not allowed, a wrong user token), REQUEST_TIMEOUT after `timeout`."""
        if self._restored:
            restored, self._restored = self._restored, []
            for frame in restored:
                await self._outbox.put(frame)
        await self._connection.start(timeout)
        assert self.welcome is not None
        return self.welcome

    async def disconnect(self) -> None:
        await self._connection.stop()
        self._outbox.close()

    async def __aenter__(self) -> VisitorClient:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.disconnect()

    async def drop_connection(self) -> None:
        """Drops the socket as a lost network would (the client reconnects); for tests."""
        await self._connection.drop()

    async def opened(self, connection: Connection) -> None:
        hello: dict[str, Any] = {"type": "hello", "appId": self.app_id}
        if self._visitor_id and self._visitor_token:
            hello |= {"visitorId": self._visitor_id, "visitorToken": self._visitor_token}
        if self._last_seq is not None:
            hello["lastSeq"] = self._last_seq
        if self.page:
            hello["page"] = self.page
        if self.user:
            hello["user"] = self.user
        await connection.request(hello, _answer("welcome"), context="hello", opening=True)

    def _welcome(self, welcome: dict) -> None:
        # Applied as the frame arrives, before the reader takes the replayed events after it.
        new_visitor = welcome["visitorId"] != self._visitor_id
        if new_visitor:
            self._message_ids.clear()
            self._chats.clear()
        self._visitor_id, self._visitor_token = welcome["visitorId"], welcome["visitorToken"]
        if self._last_seq is None or new_visitor:
            self._last_seq = int(welcome.get("seq") or 0)  # a first visit: nothing is replayed
        self.welcome = welcome
        chat = welcome.get("chat")
        self._open_chat_id = chat["id"] if chat else None
        if chat:
            self._chats[chat["id"]] = chat
        self.availability = "online" if welcome.get("online") else "offline"
        if new_visitor:
            self.emit("customer_id", self._visitor_id)

    def up(self) -> None:
        self._came_up()
        self.emit("connected", {"customer_id": self._visitor_id, "availability": self.availability,
                                "chat": self.active_chat, "welcome": self.welcome})

    # -- frames from the server --------------------------------------------------------

    def frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "event":
            self._event(frame)
        elif kind == "welcome":
            self._welcome(frame)
        elif kind == "ack":
            # The ack only settles send_event: the message itself comes as an event too
            # (on every tab), in the log's order, after the chat.started of a new chat.
            self._outbox.take(frame)
        elif kind == "error":
            if not self._outbox.take(frame):
                self.emit("error", ClientError.from_frame(frame))
        elif kind == "online":
            self.availability = "online" if frame.get("online") else "offline"
            self.emit("availability_updated", {"availability": self.availability})
        elif kind == "typing":
            operator = frame.get("operator") or {}
            self.emit("incoming_typing_indicator", {"chat_id": frame.get("chatId"), "typing_indicator": {
                "author_id": operator.get("id"), "author_name": operator.get("name"),
                "is_typing": bool(frame.get("typing"))}})
        elif kind == "queue":
            self.emit("queue_position_updated", {"chat_id": frame.get("chatId"),
                                                 "queue": {"position": frame.get("position")}})
        elif kind == "reset":
            # Too much was missed to replay: what this client holds is dropped; callers
            # reload with get_chat_history().
            self._last_seq = int(frame["seq"])
            self._message_ids.clear()
            self.emit("history_reset", {"seq": self._last_seq})
        # welcome, history, visitor, transcript, agent.predicted, chat.properties: answers,
        # returned by the call that asked.

    def _event(self, frame: dict) -> None:
        seq = int(frame.get("seq") or 0)
        if self._last_seq is not None and seq <= self._last_seq:
            return  # already processed (each event once, even across sockets)
        self._last_seq = seq
        body = frame.get("event") or {}
        kind = body.get("type")
        chat = body.get("chat")
        welcome = self.welcome or {}
        replayed = seq <= int(welcome.get("seq") or 0)
        if chat and not (replayed and chat["id"] == (welcome.get("chat") or {}).get("id")):
            # An event's CHAT is a snapshot from when it happened: a replayed one must not
            # replace the open chat as `welcome` has it now.
            self._chats[chat["id"]] = chat
        if kind == "message":
            self._message(body["message"])
        elif kind in ("chat.started", "chat.reopened"):
            self._open_chat_id = chat["id"]
            self.emit("incoming_chat", {"chat": chat, "started_by": body.get("startedBy"),
                                        "reopened": kind == "chat.reopened"})
        elif kind == "chat.closed":
            if self._open_chat_id == chat["id"]:
                self._open_chat_id = None
            self.emit("chat_deactivated", {"chat_id": chat["id"], "chat": chat})
        elif kind == "seen":
            self.emit("events_marked_as_seen", {"chat_id": body.get("chatId"), "seen_up_to": body.get("upTo"),
                                                "by": body.get("by")})
        elif kind == "chat.rated":
            self.emit("chat_rated", {"chat_id": chat["id"], "chat": chat})

    def _message(self, message: dict) -> None:
        # Once per message, even if a log were replayed over what this client has shown.
        if message["id"] in self._message_ids:
            return
        self._message_ids.add(message["id"])
        self.emit("incoming_event", {"chat_id": message.get("chatId"), "event": message})
        system = message.get("system") or {}
        chat = self._chats.get(message.get("chatId") or "")
        if system.get("code") == "assigned" and chat is not None:
            # The visitor's log has no chat.assigned: the system line is how CHAT changes.
            chat["operatorIds"] = [system.get("operatorId")]
            chat["teamId"] = system.get("teamId")
        if system.get("code") == "assigned" and system.get("by"):
            self.emit("chat_transferred", {"chat_id": message.get("chatId"), "requester_id": system["by"],
                                           "transferred_to": {"agent_ids": [system.get("operatorId")],
                                                              "group_ids": [system["teamId"]]
                                                              if system.get("teamId") else []}})

    # -- chats -----------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float:
        return self._connection.timing.request_timeout if timeout is None else timeout

    async def start_chat(self, text: str = "", *, file_id: str | None = None,
                         assignees: list[str] | None = None, timeout: float | None = None) -> dict:
        """Starts a chat with its first message (a Parley chat starts with one):
        `{"chat": CHAT, "message": MESSAGE}`. CHAT_ALREADY_ACTIVE when one is open."""
        if self._open_chat_id is not None:
            raise ClientError("CHAT_ALREADY_ACTIVE", "the visitor already has an active chat",
                              details={"openChatId": self._open_chat_id})
        message = await self._send(text, file_id, assignees, timeout)
        chat = await self._chat_known(message["chatId"], timeout)
        return {"chat": chat, "message": message}

    async def _chat_known(self, chat_id: str, timeout: float | None) -> dict:
        if chat_id in self._chats:
            return self._chats[chat_id]
        waiting = self.expect("incoming_chat", lambda p: p["chat"]["id"] == chat_id)
        try:
            return (await asyncio.wait_for(waiting, self._timeout(timeout)))["chat"]
        except TimeoutError:
            raise ClientError(REQUEST_TIMEOUT, "the chat's start was not announced in time") from None

    async def resume_chat(self, chat_id: str) -> dict:
        """Parley visitors can't reopen a closed chat (operators can, `chat.reopen`); the
        next message starts a new chat: use start_chat."""
        if chat_id == self._open_chat_id:
            raise ClientError("CHAT_ALREADY_ACTIVE", "the chat is already active")
        raise ClientError(NOT_SUPPORTED, "a visitor can't reopen a closed chat; start_chat starts a new one")

    async def deactivate_chat(self, chat_id: str | None = None, timeout: float | None = None) -> dict:
        """Closes the visitor's active chat (`chat.close`); returns the closed CHAT."""
        open_id = self._open_chat_id
        if open_id is None or (chat_id is not None and chat_id != open_id):
            raise ClientError("MISSING_CHAT", "no active chat with that id")
        closed = self.expect("chat_deactivated", lambda p: p["chat_id"] == open_id)
        try:
            await self._connection.request({"type": "chat.close"}, timeout=timeout)
            return (await asyncio.wait_for(closed, self._timeout(timeout)))["chat"]
        except TimeoutError:
            raise ClientError(REQUEST_TIMEOUT, "the chat's end was not announced in time") from None
        finally:
            closed.cancel()

    def get_chat(self, chat_id: str) -> dict:
        """The CHAT as the visitor's event log describes it (kept up to date live)."""
        if chat_id not in self._chats:
            raise ClientError("MISSING_CHAT", "no such chat known to this client")
        return self._chats[chat_id]

    def list_chats(self) -> list[dict]:
        """The visitor's chats this client knows, newest first: the open one from
        `welcome`, and every chat the event log announced (all of them when the log was
        replayed from the start, as restored credentials without a seq do)."""
        return sorted(self._chats.values(), key=lambda chat: chat.get("startedAt") or "", reverse=True)

    async def get_chat_history(self, chat_id: str | None = None, *, page_size: int = 50,
                               timeout: float | None = None) -> AsyncIterator[list[dict]]:
        """Pages of messages, newest page first, each oldest first (the SDK's history
        iterator). Parley pages over all the visitor's chats; `chat_id` keeps one chat's."""
        check_page_size(page_size)
        before: int | None = None
        while True:
            frame: dict[str, Any] = {"type": "history", "limit": page_size}
            if before is not None:
                frame["before"] = before
            answer = await self._connection.request(frame, _answer("history"), timeout=timeout)
            if answer.get("chat"):
                self._chats[answer["chat"]["id"]] = answer["chat"]
            messages = answer.get("messages") or []
            page = [m for m in messages if chat_id is None or m.get("chatId") == chat_id]
            if page:
                yield page
            if not answer.get("hasMore") or not messages:
                return
            before = messages[0]["id"]

    # -- events ----------------------------------------------------------------------

    async def send_event(self, event: dict, chat_id: str | None = None, *,
                         timeout: float | None = None) -> dict:
        """Sends `{"type": "message", "text"}` or `{"type": "file", "file_id" (or "file":
        FILE), "text"?}` to the active chat (a visitor without one starts a chat); returns
        the stored MESSAGE. The message is kept until acknowledged and sent again after a
        reconnect, so it is stored exactly once; `timeout` (default: none) bounds only
        the wait: on REQUEST_TIMEOUT it is still queued and will be sent."""
        if chat_id is not None and chat_id != self._open_chat_id:
            raise ClientError("MISSING_CHAT", "not the visitor's active chat (a closed chat can't take "
                                              "messages; send without chat_id to start a new one)")
        kind = event.get("type")
        if kind == "message":
            return await self._send(event.get("text", ""), None, None, timeout, wait_forever=True)
        if kind == "file":
            file_id = event.get("file_id") or (event.get("file") or {}).get("id")
            if not file_id:
                raise ClientError("VALIDATION", "a file event needs file_id (from upload_file)")
            return await self._send(event.get("text", ""), file_id, None, timeout, wait_forever=True)
        raise ClientError(NOT_SUPPORTED if isinstance(kind, str) else "VALIDATION",
                          f"Parley's visitors send 'message' and 'file' events, not {kind!r}")

    async def _send(self, text: str, file_id: str | None, assignees: list[str] | None,
                    timeout: float | None, wait_forever: bool = False) -> dict:
        if not isinstance(text, str) or len(text) > protocol.MAX_TEXT:
            raise ClientError("VALIDATION", f"text is a string of at most {protocol.MAX_TEXT} characters")
        if not text.strip() and file_id is None:
            raise ClientError("VALIDATION", "a message needs text or a file")
        check_file_id(file_id)
        if assignees is not None and (len(assignees) > protocol.MAX_ASSIGNEES or not all(
                isinstance(a, str) and 0 < len(a) <= 320 for a in assignees)):
            raise ClientError("VALIDATION", f"assignees: at most {protocol.MAX_ASSIGNEES} strings "
                                            "of 1..320 characters")
        frame: dict[str, Any] = {"type": "message.send", "clientId": new_client_id(), "text": text}
        if file_id is not None:
            frame["fileId"] = file_id
        if assignees:
            frame["assignees"] = assignees
        acked = await self._outbox.put(frame, "file" if file_id else "message")
        if not self._connection.running:
            raise ClientError(CONNECTION_LOST, "not connected: the message is queued (and in the "
                                               "credentials) and goes on the next connect()")
        limit = timeout if (timeout is not None or wait_forever) else self._timeout(None)
        try:
            ack = await asyncio.wait_for(asyncio.shield(acked), limit)
        except TimeoutError:
            raise ClientError(REQUEST_TIMEOUT, "not acknowledged yet; the message stays queued and will "
                                               "be sent", details={"clientId": frame["clientId"]}) from None
        return ack["message"]

    async def mark_events_as_seen(self, seen_up_to: int, timeout: float | None = None) -> None:
        """Marks the operators' and system messages up to this message id as seen, in all
        the visitor's chats (Parley's receipts are by message id, not by time)."""
        await self._connection.request({"type": "seen", "upTo": seen_up_to}, timeout=timeout)

    async def rate_chat(self, chat_id: str | None = None, *, score: int, comment: str = "",
                        timeout: float | None = None) -> dict:
        """Rates a chat (default: the newest): score 1 good, 0 bad; returns the rated CHAT."""
        if score not in (0, 1):
            raise ClientError("VALIDATION", "score is 1 (good) or 0 (bad)")
        frame: dict[str, Any] = {"type": "chat.rate", "rating": "good" if score else "bad",
                                 "comment": comment}
        if chat_id is not None:
            frame["chatId"] = chat_id
        rated = self.expect("chat_rated", lambda p: chat_id is None or p["chat_id"] == chat_id)
        try:
            await self._connection.request(frame, timeout=timeout)
            return (await asyncio.wait_for(rated, self._timeout(timeout)))["chat"]
        except TimeoutError:
            raise ClientError(REQUEST_TIMEOUT, "the rating was not announced in time") from None
        finally:
            rated.cancel()

    async def request_transcript(self, email: str, chat_id: str | None = None,
                                 timeout: float | None = None) -> dict:
        """Mails the chat's transcript (default: the newest chat): `{chatId, email, sent}`."""
        frame: dict[str, Any] = {"type": "transcript.request", "email": email}
        if chat_id is not None:
            frame["chatId"] = chat_id
        return await self._connection.request(frame, _answer("transcript"), context="transcript",
                                              timeout=timeout)

    async def update_chat_properties(self, properties: dict[str, Any], timeout: float | None = None) -> dict:
        """Merges properties into the active chat (a None value removes one); returns them all."""
        answer = await self._connection.request({"type": "chat.properties", "properties": properties},
                                                _answer("chat.properties"), timeout=timeout)
        self.emit("chat_properties_updated", {"chat_id": answer.get("chatId"),
                                              "properties": answer.get("properties")})
        return answer.get("properties") or {}

    async def delete_chat_properties(self, keys: list[str], timeout: float | None = None) -> dict:
        return await self.update_chat_properties(dict.fromkeys(keys), timeout)

    # -- files -----------------------------------------------------------------------

    async def upload_file(self, file: bytes | str | Path, name: str | None = None, *,
                          on_progress: Callable[[float], object] | None = None) -> dict:
        """Uploads bytes or a file (POST /api/visitor/files); returns the FILE, whose id
        goes into send_event({"type": "file", "file_id": …}). Needs a connected visitor."""
        if self._visitor_id is None or self._visitor_token is None:
            raise ClientError("VALIDATION", "connect first: uploads belong to a visitor")
        data, path_name = http.file_bytes(file)
        headers = {"X-Parley-App": self.app_id, "X-Parley-Visitor": self._visitor_id,
                   "X-Parley-Visitor-Token": self._visitor_token}
        if self.origin:
            headers["Origin"] = self.origin
        async with httpx.AsyncClient(timeout=self._timeout(None) * 4) as client:
            return await http.upload(client, f"{self._http_base}/api/visitor/files", data,
                                     name or path_name or "file", headers, on_progress)

    # -- the customer ------------------------------------------------------------------

    async def get_customer(self, timeout: float | None = None) -> dict:
        """The visitor's profile as stored: {id, name, email, phone, notes, custom, verified}."""
        answer = await self._connection.request({"type": "visitor.get"}, _answer("visitor"), timeout=timeout)
        return answer["visitor"]

    async def update_customer(self, *, name: str | None = None, email: str | None = None,
                              phone: str | None = None, notes: str | None = None,
                              fields: dict[str, Any] | None = None, timeout: float | None = None) -> dict:
        """Unsigned data: name, email, phone and notes fill only empty fields, `fields`
        (Parley's custom fields) are merged. Returns the profile as stored."""
        if email and not looks_like_email(email.strip()):
            # The server would leave it out (PARLEY_E_INVALID_EMAIL) after saving the rest.
            raise ClientError("VALIDATION", f"email is not an email address: {email[:80]!r}")
        data: dict[str, Any] = {k: v for k, v in
                                {"name": name, "email": email, "phone": phone, "notes": notes}.items()
                                if v is not None}
        if fields is not None:
            data["custom"] = fields
        return await self._update({"type": "visitor.update", "data": data}, timeout)

    async def update_customer_signed(self, data_json: str, hash: str, timeout: float | None = None) -> dict:
        """Data the site signed: `hash` = sha1(app secret + data_json) (Chaport's
        visitorIntegrityHash); it replaces the fields and marks the visitor verified."""
        json.loads(data_json)  # a ValueError here beats a VALIDATION from the server
        return await self._update({"type": "visitor.update", "dataJson": data_json, "hash": hash}, timeout)

    async def set_customer_session_fields(self, session_fields: dict[str, Any],
                                          timeout: float | None = None) -> dict:
        """Parley keeps them as the visitor's custom fields (they outlive the session)."""
        return await self.update_customer(fields=session_fields, timeout=timeout)

    async def _update(self, frame: dict, timeout: float | None) -> dict:
        answer = await self._connection.request(frame, _answer("visitor"), timeout=timeout)
        self.emit("customer_updated", answer["visitor"])
        return answer["visitor"]

    async def update_customer_page(self, url: str, title: str = "", referrer: str = "",
                                   timeout: float | None = None) -> None:
        """A page view; also the page the next reconnect's hello names."""
        self.page = {"url": url, "title": title, "referrer": referrer}
        await self._connection.request({"type": "page.view", **self.page}, timeout=timeout)

    async def set_sneak_peek(self, text: str) -> None:
        """What the visitor is typing, shown live to operators (dropped when offline)."""
        # A preview is not worth an error: the SDK's setSneakPeek returns nothing either.
        with contextlib.suppress(ClientError):
            await self._connection.send({"type": "typing", "text": text[:protocol.MAX_TEXT]})

    async def get_predicted_agent(self, assignees: list[str] | None = None,
                                  timeout: float | None = None) -> dict:
        """Who a chat started now would go to: `{"agent": {id, name} | None, "queue": bool}`."""
        frame: dict[str, Any] = {"type": "agent.predict"}
        if assignees:
            frame["assignees"] = assignees
        answer = await self._connection.request(frame, _answer("agent.predicted"), timeout=timeout)
        return {"agent": answer.get("operator"), "queue": bool(answer.get("queued"))}

    async def accept_greeting(self, greeting_id: str, timeout: float | None = None) -> None:
        """Tells operators the visitor opened an invitation (a trigger of `welcome.triggers`)."""
        await self._connection.request({"type": "greeting", "action": "accept", "triggerId": greeting_id},
                                       timeout=timeout)

    async def cancel_greeting(self, greeting_id: str, timeout: float | None = None) -> None:
        await self._connection.request({"type": "greeting", "action": "cancel", "triggerId": greeting_id},
                                       timeout=timeout)
