"""The operator WebSocket: one per inbox tab, authenticated by the session cookie."""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from parley import delivery, protocol
from parley import fanout as channels
from parley.storage import queries
from parley.storage.models import Operator
from parley.web.operator_api import SESSION_COOKIE, own_origin
from parley.web.visitor_socket import Outbox, finish, forward, receive_frame

log = logging.getLogger("parley.operator")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 4403


async def operator_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    # Cross-site WebSocket hijacking: the cookie rides along from any page, so the
    # Origin must be our own, checked before the handshake completes.
    if websocket.headers.get("origin") != own_origin(websocket):
        await websocket.close(CLOSE_POLICY)
        return
    async with state.db.session() as session:
        operator = await queries.operator_for_session(session, websocket.cookies.get(SESSION_COOKIE))
    if operator is None:
        await websocket.close(CLOSE_UNAUTHENTICATED)
        return
    await websocket.accept()
    outbox = Outbox(websocket)
    tab = _OperatorTab(state, operator, outbox)
    await _came_online(state, operator)
    try:
        while True:
            raw = await receive_frame(websocket)
            try:
                await tab.handle(protocol.decode_operator_frame(raw))
            except protocol.FrameError as error:
                await outbox.send(protocol.error(error.code, error.message))
    except WebSocketDisconnect:
        return
    finally:
        await tab.close()
        with anyio.CancelScope(shield=True):
            await _went_away(state, operator)


async def _came_online(state, operator: Operator) -> None:
    sockets = state.operator_sockets
    sockets[operator.id] = sockets.get(operator.id, 0) + 1
    if sockets[operator.id] == 1:
        await _set_presence(state, operator, "online")


async def _went_away(state, operator: Operator) -> None:
    sockets = state.operator_sockets
    sockets[operator.id] = sockets.get(operator.id, 1) - 1
    if sockets[operator.id] <= 0:
        del sockets[operator.id]
        await _set_presence(state, operator, "offline")


async def _set_presence(state, operator: Operator, presence: str) -> None:
    """Stores the presence and tells the app's visitors when the app's online state flips."""
    async def work(session):
        before = await queries.app_online(session, operator.app_id)
        await queries.set_presence(session, operator.id, presence)
        return before, await queries.app_online(session, operator.app_id)

    before, after = await delivery.write(state.db, work)
    if before != after:
        await state.fanout.publish(channels.app_visitors_channel(operator.app_id),
                                   protocol.frame("online", online=after))


class _OperatorTab:
    """Handles one operator tab's frames; everything is scoped to the operator's app."""

    def __init__(self, state, operator: Operator, outbox: Outbox) -> None:
        self.state = state
        self.operator = operator
        self.outbox = outbox
        self.tasks: list[asyncio.Task] = []
        self.subscription = None

    async def handle(self, frame) -> None:
        await self._handlers[type(frame)](self, frame)

    async def _chat(self, session, chat_id: str):
        chat = await queries.get_chat(session, self.operator.app_id, chat_id)
        if chat is None:
            # Same answer for "no such chat" and "another app's chat": nothing leaks.
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such chat")
        return chat

    async def subscribe(self, _frame: protocol.Subscribe) -> None:
        if self.subscription is None:
            self.subscription = self.state.fanout.subscribe(channels.app_channel(self.operator.app_id))
            self.tasks.append(asyncio.create_task(forward(self.subscription, self.outbox.send)))
        await self.outbox.send(protocol.frame("subscribed", appId=self.operator.app_id))

    async def message_send(self, frame: protocol.OperatorMessageSend) -> None:
        operator = self.operator
        limiter = self.state.limits.operator_messages

        async def work(session):
            chat = await self._chat(session, frame.chatId)
            existing = await queries.find_chat_message(session, chat.id, frame.clientId)
            if existing is None:
                protocol.check_message_body(frame.text, frame.fileId)
                if not limiter.hit(operator.id):
                    raise protocol.FrameError(protocol.E_RATE_LIMIT, "too many messages; wait a moment")
            try:
                return await queries.add_operator_message(session, operator, chat, frame.clientId,
                                                          frame.text, frame.fileId)
            except queries.FileNotUsable:
                raise protocol.FrameError(protocol.E_NOT_FOUND, "no such file: upload it first") from None

        try:
            stored = await delivery.write(self.state.db, work)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.error(error.code, error.message, clientId=frame.clientId))
            return
        if stored.created:
            await delivery.publish(self.state.fanout, operator.app_id, stored.chat.visitor_id, stored.events)
        await self.outbox.send(protocol.ack(frame.clientId, stored.message_dict()))

    async def history(self, frame: protocol.OperatorHistory) -> None:
        async with self.state.db.session() as session:
            chat = await self._chat(session, frame.chatId)
            messages, has_more = await queries.message_page(session, [chat.id], frame.before, frame.limit)
            dicts = await queries.message_dicts(session, messages)
        await self.outbox.send(protocol.history(dicts, has_more, chat_id=chat.id))

    async def chat_close(self, frame: protocol.ChatClose) -> None:
        async def work(session):
            chat = await self._chat(session, frame.chatId)
            return chat, await queries.close_chat(session, chat, by="operator")

        chat, events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)
        await self.outbox.send(protocol.frame("chat", chat=queries.chat_dict(chat)))

    async def typing(self, frame: protocol.OperatorTyping) -> None:
        # Live only, never stored; excess is dropped, not an error.
        if not self.state.limits.operator_typing.hit(self.operator.id):
            return
        async with self.state.db.session() as session:
            chat = await self._chat(session, frame.chatId)
        operator = self.operator
        who = {"id": operator.id, "name": operator.name}
        await self.state.fanout.publish(channels.visitor_live_channel(chat.visitor_id), protocol.frame(
            "typing", chatId=chat.id, typing=frame.typing, operator=who))

    async def seen(self, frame: protocol.OperatorSeen) -> None:
        async def work(session):
            chat = await self._chat(session, frame.chatId)
            changed = await queries.mark_seen(session, [chat.id], ("visitor",), frame.upTo)
            events = [await queries.append_event(session, chat.visitor_id, "seen",
                                                 {"chatId": chat.id, "upTo": up_to, "by": "operator"})
                      for up_to in changed.values()]
            await session.commit()
            return chat, events

        chat, events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)

    async def close(self) -> None:
        await finish(self.tasks, [self.subscription] if self.subscription else [])

    _handlers: ClassVar[dict] = {
        protocol.Subscribe: subscribe,
        protocol.OperatorMessageSend: message_send,
        protocol.OperatorHistory: history,
        protocol.ChatClose: chat_close,
        protocol.OperatorTyping: typing,
        protocol.OperatorSeen: seen,
    }
