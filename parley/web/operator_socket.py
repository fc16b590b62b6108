"""The operator WebSocket: one per inbox tab, authenticated by the session cookie."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import ClassVar

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from parley import assignment, delivery, protocol, wire
from parley import fanout as channels
from parley.ratelimit import Charge
from parley.storage import chat_store, event_log, message_store, messages, operator_queries
from parley.storage.models import Operator
from parley.web import proactive_chat
from parley.web.peers import from_own_pages
from parley.web.sessions import session_token
from parley.web.sockets import Outbox, finish, forward, receive_frame
from parley.web.unavailable import closes_when_unavailable

log = logging.getLogger("parley.operator")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 4403


@closes_when_unavailable
async def operator_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    # Cross-site WebSocket hijacking: the cookie rides along from any page, so the
    # Origin must be our own, checked before the handshake completes.
    if not from_own_pages(websocket):
        await websocket.close(CLOSE_POLICY)
        return
    token = session_token(websocket)
    async with state.db.session() as session:
        operator = await operator_queries.operator_for_session(session, token)
        await session.commit()  # the login's renewal, if it was due
    if operator is None:
        await websocket.close(CLOSE_UNAUTHENTICATED)
        return
    await websocket.accept()
    outbox = Outbox(websocket)
    tab = _OperatorTab(state, operator, outbox)
    login_ended = asyncio.Event()

    async def end_login() -> None:
        # Logged out, reset, deleted or expired elsewhere: nothing more in or out.
        login_ended.set()
        await tab.stop_feed()
        await outbox.close(CLOSE_UNAUTHENTICATED, "the login ended")

    watch = state.sessions.watch(token, end_login)
    # Presence counts sockets in the database, so it holds across server processes.
    socket_id = await state.presence.opened(operator)
    try:
        while True:
            raw = await receive_frame(websocket)
            if login_ended.is_set():
                return
            try:
                await tab.handle(protocol.decode_operator_frame(raw))
            except protocol.FrameError as error:
                await outbox.send(protocol.refusal(error))
    except (WebSocketDisconnect, WebSocketDisconnected):  # the peer left: a normal end
        return
    finally:
        state.sessions.unwatch(watch)
        await tab.close()
        with anyio.CancelScope(shield=True):
            await state.presence.closed(operator, socket_id)


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
        chat = await chat_store.get_chat(session, self.operator.app_id, chat_id)
        if chat is None:
            # Same answer for "no such chat" and "another app's chat": nothing leaks.
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such chat")
        return chat

    async def subscribe(self, _frame: protocol.Subscribe) -> None:
        if self.subscription is None:
            self.subscription = self.state.fanout.subscribe(channels.app_channel(self.operator.app_id))
            # `subscribed` promises the live feed: other processes' publishes included.
            await self.subscription.ready()
            self.tasks.append(asyncio.create_task(forward(self.subscription, self.outbox, self._feed)))
        await self.outbox.send(protocol.frame("subscribed", appId=self.operator.app_id))

    async def _feed(self, frame: dict) -> None:
        # After a Redis outage the feed may have lost frames of other processes: `subscribed`
        # again makes the inbox reload what it shows, as after its own reconnect.
        if channels.is_resync(frame):
            frame = protocol.frame("subscribed", appId=self.operator.app_id)
        await self.outbox.send(frame)

    def _message_charge(self) -> Charge:
        return Charge((self.state.limits.operator_messages, self.operator.id))

    async def _chat_to_write_in(self, session, frame, file_id: str | None, charge: Charge):
        """The frame's chat. A clientId new in it must carry a valid text (or file) and fit
        the operator's message limit; a resend of a stored message passes as it is."""
        chat = await self._chat(session, frame.chatId)
        if await message_store.find_chat_message(session, chat.id, frame.clientId) is None:
            protocol.check_message_body(frame.text, file_id)
            if not charge.pay():
                raise protocol.rate_limited("messages", charge.retry_after())
        return chat

    async def message_send(self, frame: protocol.OperatorMessageSend) -> None:
        operator = self.operator
        # Paid up front (one Core unit, storage.messages, does the rest); refunded when the
        # frame turns out to be a resend of a stored message, or is refused.
        charge = self._message_charge()
        paid = charge.pay()
        retry_after = 0.0 if paid else charge.retry_after()

        def check_new() -> None:  # in the unit, for a clientId new in the chat
            protocol.check_message_body(frame.text, frame.fileId)
            if not paid:
                raise protocol.rate_limited("messages", retry_after)

        try:
            stored = await delivery.run(self.state.db, functools.partial(
                messages.store_operator_message, operator_id=operator.id, app_id=operator.app_id,
                chat_id=frame.chatId, client_id=frame.clientId, text=frame.text, file_id=frame.fileId,
                check_new=check_new, author_kind="bot" if operator.role == "bot" else "operator"))
            if stored is None:
                # Same answer for "no such chat" and "another app's chat": nothing leaks.
                raise protocol.FrameError(protocol.E_NOT_FOUND, "no such chat")
        except protocol.FrameError as error:
            charge.refund()
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return
        except messages.FileRefused:
            charge.refund()
            await self.outbox.send(protocol.refusal(protocol.FrameError(
                protocol.E_NOT_FOUND, "no such file: upload it first"), clientId=frame.clientId))
            return
        if not stored.created:
            charge.refund()
        joins = stored.joined
        if stored.created:
            await delivery.publish(self.state.fanout, operator.app_id, stored.chat.visitor_id, stored.events)
            if joins:  # answering a chat joins it: other inboxes move it out of "Unassigned"
                await self.state.fanout.publish(channels.app_channel(operator.app_id), protocol.frame(
                    "chat.assigned", chat=wire.chat_dict(stored.chat)))
        await self.outbox.send(protocol.ack(frame.clientId, stored.message_dict()))

    async def history(self, frame: protocol.OperatorHistory) -> None:
        async with self.state.db.session() as session:
            chat = await self._chat(session, frame.chatId)
            messages, has_more = await message_store.message_page(
                session, [chat.id], frame.before, frame.limit, include_notes=True)
            dicts = await message_store.message_dicts(session, messages)
        await self.outbox.send(protocol.history(dicts, has_more, chat_id=chat.id))

    async def chat_close(self, frame: protocol.ChatClose) -> None:
        async def work(session):
            chat = await self._chat(session, frame.chatId)
            events = await chat_store.close_chat(session, chat, by="operator")
            await session.commit()
            return chat, events

        chat, events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)
        await self.outbox.send(protocol.frame("chat", chat=wire.chat_dict(chat)))

    async def chat_assign(self, frame: protocol.ChatAssign) -> None:
        """Assigns (transfers) a chat to an operator or a team of this app."""
        if (frame.operatorId is None) == (frame.teamId is None):
            raise protocol.FrameError(protocol.E_BAD_FRAME, "chat.assign needs operatorId or teamId (one)")
        app_id = self.operator.app_id

        async def work(session):
            chat = await self._chat(session, frame.chatId)
            if frame.operatorId is not None:
                target = await operator_queries.get_operator(session, app_id, frame.operatorId)
                if target is None:
                    raise protocol.FrameError(protocol.E_NOT_FOUND, "no such operator")
            else:
                # Another app's team is "no such team", like an unknown id: nothing leaks.
                if await operator_queries.get_team(session, app_id, frame.teamId) is None:
                    raise protocol.FrameError(protocol.E_NOT_FOUND, "no such team")
                target = await assignment.team_member(session, app_id, frame.teamId)
                if target is None:
                    raise protocol.FrameError(protocol.E_CONFLICT, "the team has no members")
            try:
                events = await chat_store.assign_chat(session, chat, target, self.operator.id, frame.teamId)
            except chat_store.ChatClosed:
                raise protocol.FrameError(protocol.E_CONFLICT,
                                          "the chat is closed: reopen it first") from None
            await session.commit()
            return chat, events

        try:
            chat, events = await delivery.write(self.state.db, work)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, chatId=frame.chatId))
            return
        chat_frame = wire.chat_dict(chat)
        if events:
            await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)
            await self.state.fanout.publish(channels.app_channel(self.operator.app_id),
                                            protocol.frame("chat.assigned", chat=chat_frame))
        await self.outbox.send(protocol.frame("chat", chat=chat_frame))

    async def note_add(self, frame: protocol.NoteAdd) -> None:
        """An internal note: stored and shown to operators only (never in the visitor's log)."""
        operator = self.operator
        charge = self._message_charge()

        async def work(session):
            chat = await self._chat_to_write_in(session, frame, None, charge)
            stored = await message_store.add_note(session, operator, chat, frame.clientId, frame.text)
            await session.commit()
            return stored

        try:
            stored = await delivery.write(self.state.db, work)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return
        message = stored.message_dict()
        if stored.created:
            # The operators' feed only: no visitor event, so no visitor tab or replay sees it.
            await self.state.fanout.publish(channels.app_channel(operator.app_id), protocol.frame(
                "message", chatId=stored.chat.id, visitorId=stored.chat.visitor_id, message=message))
        await self.outbox.send(protocol.ack(frame.clientId, message))

    async def chat_reopen(self, frame: protocol.ChatReopen) -> None:
        async def work(session):
            chat = await self._chat(session, frame.chatId)
            events = await chat_store.reopen_chat(session, chat, self.operator.id)
            await session.commit()
            return chat, events

        try:
            chat, events = await delivery.write(self.state.db, work)
        except chat_store.ChatConflict as conflict:
            await self.outbox.send(protocol.error(
                protocol.E_CONFLICT, "the visitor has another open chat: continue there",
                chatId=frame.chatId, openChatId=conflict.chat_id))
            return
        await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)
        await self.outbox.send(protocol.frame("chat", chat=wire.chat_dict(chat)))

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
            changed = await message_store.mark_seen(session, [chat.id], ("visitor",), frame.upTo)
            events = [await event_log.append_event(session, chat.visitor_id, "seen",
                                                 {"chatId": chat.id, "upTo": up_to, "by": "operator"})
                      for up_to in changed.values()]
            await session.commit()
            return chat, events

        chat, events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.operator.app_id, chat.visitor_id, events)

    async def stop_feed(self) -> None:
        """Ends the live feed: nothing more is forwarded to this socket."""
        if self.subscription is not None:
            await self.subscription.close()

    async def close(self) -> None:
        await finish(self.tasks, [self.subscription] if self.subscription else [])

    async def sync(self, frame: protocol.Sync) -> None:
        await self.outbox.send(protocol.synced(frame.id))

    _handlers: ClassVar[dict] = {
        protocol.Sync: sync,
        protocol.Subscribe: subscribe,
        protocol.OperatorMessageSend: message_send,
        protocol.OperatorHistory: history,
        protocol.ChatClose: chat_close,
        protocol.OperatorTyping: typing,
        protocol.OperatorSeen: seen,
        protocol.ChatAssign: chat_assign,
        protocol.NoteAdd: note_add,
        protocol.ChatReopen: chat_reopen,
        protocol.ChatStart: proactive_chat.chat_start,  # proactive chat (docs/protocol.md)
    }

