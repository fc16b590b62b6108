"""The visitor WebSocket: one per widget tab. Frames: docs/protocol.md."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from types import SimpleNamespace
from typing import ClassVar

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from parley import delivery, files, geo, identity, mail, protocol, rules, wire
from parley import fanout as channels
from parley.ratelimit import Charge
from parley.storage import (
    app_queries,
    chat_store,
    event_log,
    hello_read,
    message_store,
    messages,
    operator_queries,
    visitor_store,
    visitor_writes,
)
from parley.storage.models import App, Visitor
from parley.web import visitor_extras, visitor_presence
from parley.web.hello_cache import HelloCache
from parley.web.peers import client_ip, page_may_use
from parley.web.sockets import Outbox, finish, forward, receive_frame
from parley.web.unavailable import closes_when_unavailable

log = logging.getLogger("parley.visitor")

CLOSE_BAD_FRAME = 4400  # the first frame was not a valid hello
CLOSE_BAD_TOKEN = 4401  # hello.user's token is not sha1(secret + id)
CLOSE_POLICY = 4403  # origin not allowed
CLOSE_NOT_FOUND = 4404  # unknown app
CLOSE_NO_HELLO = 4408  # no hello within Limits.hello_timeout
CLOSE_TOO_MANY = 4429  # too many new visitors (per address, per app) or open sockets (per address)
# Nothing frees a place among an address's open sockets at a known time: a hint to back off.
SOCKETS_RETRY_AFTER = 30.0


def hello_gate(state) -> asyncio.Semaphore:
    """The process's limit on hellos being answered at once (Limits.hellos_at_once)."""
    loop = asyncio.get_running_loop()
    held = getattr(state, "hello_gate", None)
    # Per event loop: an asyncio.Semaphore belongs to the loop it first waited in, and
    # tests run one app in several loops one after the other.
    if held is None or held[0] is not loop:
        held = state.hello_gate = (loop, asyncio.Semaphore(max(1, state.limits.hellos_at_once)))
    return held[1]


@closes_when_unavailable
async def visitor_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    limits = state.limits
    ip = client_ip(websocket)
    await websocket.accept()
    # Counted from the handshake on, hello or not: a socket that says nothing still holds
    # a connection and a task (issue 13: 1,500 of them stayed open).
    if not limits.visitor_sockets_per_ip.enter(ip):
        with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
            await websocket.send_json(protocol.error(
                protocol.E_RATE_LIMIT, "too many open chat connections from your address",
                retryAfter=SOCKETS_RETRY_AFTER))
            await websocket.close(CLOSE_TOO_MANY)
        return
    tasks: list[asyncio.Task] = []
    closers = []
    gate = hello_gate(state)
    gate_held = False
    try:
        try:
            with anyio.fail_after(limits.hello_timeout):
                raw = await receive_frame(websocket)
        except TimeoutError:
            await websocket.close(CLOSE_NO_HELLO, "no hello in time")
            return
        try:
            hello = protocol.decode_visitor_frame(raw)
            if not isinstance(hello, protocol.Hello):
                raise protocol.FrameError(protocol.E_BAD_FRAME, "the first frame must be hello")
        except protocol.FrameError as error:
            await websocket.send_json(protocol.refusal(error))
            await websocket.close(CLOSE_BAD_FRAME)
            return
        # Hello -> welcome -> replay, a bounded number at once: in a reconnect storm the
        # rest wait their turn here, so keepalives and operators' frames are not stuck
        # behind thousands of half-done hellos in the event loop's queue (issue 12: the
        # old server closed 24 of 26 operator sockets with "keepalive ping timeout").
        await gate.acquire()
        gate_held = True
        hub = state.fanout
        cache: HelloCache = state.hello_cache
        outbox = Outbox(websocket)
        user = hello.user

        async def subscribe_visitor(visitor_id: str):
            """The visitor's channels: live signals, and its events (EventStream)."""
            live = hub.subscribe(channels.visitor_live_channel(visitor_id))
            closers.append(live)
            stream = delivery.EventStream(state.db, hub, visitor_id, outbox.send)
            closers.append(stream)
            await asyncio.gather(live.ready(), stream.subscribe())
            return live, stream

        def read(visitor_id: str | None, with_parts: bool, trusted: bool = False):
            return state.db.read(functools.partial(
                hello_read.read_hello, app_id=hello.appId, visitor_id=visitor_id, token=hello.visitorToken,
                last_seq=hello.lastSeq, with_parts=with_parts, plan=delivery.resume_plan,
                limit=delivery.MAX_REPLAY, trusted=trusted))

        # Subscribe before reading the database (`online`, the events to replay), so nothing
        # falls in between; ready(): other processes' publishes included. A returning
        # visitor's channels are subscribed before its token is checked: then its whole
        # hello is one read (storage.hello_read); nothing is sent to it before the check.
        # The app's "online" flips come through the process's one feed for the app
        # (web.app_state_feed); those that arrive before the welcome wait for it.
        told: dict = {"online": None, "welcomed": False, "early": []}
        state_sends: set[asyncio.Task] = set()

        async def send_state(frame: dict) -> None:
            # `online` frames are changes only: subscribed before `online` was read, so a
            # flip in between is already in the welcome.
            if frame.get("type") == "online":
                if frame["online"] == told["online"]:
                    return
                told["online"] = frame["online"]
            with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
                await outbox.send(frame)

        def on_app_state(frame: dict) -> None:
            if not told["welcomed"]:
                told["early"].append(frame)
                return
            task = asyncio.get_running_loop().create_task(send_state(frame))
            state_sends.add(task)
            task.add_done_callback(state_sends.discard)

        app_state = state.app_state_feeds.join(hello.appId, on_app_state)
        closers.append(app_state)
        claimed = hello.visitorId if user is None and hello.visitorId and hello.visitorToken else None
        subscribed = None
        if claimed is not None and len(claimed) <= 64:
            subscribed, _ = await asyncio.gather(subscribe_visitor(claimed), app_state.ready())
        else:
            await app_state.ready()
        parts, ticket = cache.get(hello.appId), cache.ticket(hello.appId)
        with anyio.CancelScope(shield=True):  # a query is never cancelled halfway
            found = await read(claimed, with_parts=parts is None)
        app = found.app
        if app is None:
            await websocket.send_json(protocol.error(
                protocol.E_UNKNOWN_APP, f"unknown appId '{hello.appId[:64]}': check chaportConfig.appId"))
            await websocket.close(CLOSE_NOT_FOUND)
            return
        if parts is None:
            parts = found.parts
            cache.put(app.id, parts, ticket)
        origin = websocket.headers.get("origin")
        if not app.origins:
            log.warning("app %s allows every origin; set its origins", app.id)
        if not page_may_use(websocket, app.origins):
            await websocket.send_json(protocol.error(
                protocol.E_ORIGIN, f"this site ({origin}) is not an allowed origin of the app"))
            await websocket.close(CLOSE_POLICY)
            return
        if user is not None and not identity.user_token_ok(app.secret, user.id, user.token):
            await websocket.send_json(protocol.error(
                protocol.E_BAD_TOKEN, "session.user.token must be sha1(personal salt + user id)"))
            await websocket.close(CLOSE_BAD_TOKEN)
            return
        if found.visitor is not None:  # a returning visitor, proved by its token
            visitor_id, token = found.visitor.id, hello.visitorToken
            live, stream = subscribed
            replay = found.replay
        elif user is not None:
            # Two browsers of one user may arrive at once: a race on creating it is retried.
            async def login(session):
                visitor = await visitor_store.visitor_for_user(session, app, user.id)
                await session.commit()
                return visitor
            visitor = await delivery.write(state.db, login)
            visitor_id, token = visitor.id, visitor.token
            live, stream = await subscribe_visitor(visitor_id)
            with anyio.CancelScope(shield=True):
                found = await read(visitor_id, with_parts=False, trusted=True)
            replay = found.replay
        else:
            # A new visitor costs its browser nothing, so the address and the app pay:
            # returning visitors and signed users (above) are not counted.
            charge = Charge((limits.new_visitors_per_ip, ip), (limits.new_visitors_per_app, app.id))
            if not charge.pay():
                await websocket.send_json(protocol.refusal(
                    protocol.rate_limited("new visitors", charge.retry_after())))
                await websocket.close(CLOSE_TOO_MANY)
                return
            if subscribed is not None:  # subscribed for a visitor it could not prove
                await finish([], closers[1:])
                del closers[1:]
            visitor = await delivery.run(state.db, functools.partial(visitor_writes.register, app_id=app.id))
            visitor_id, token = visitor.id, visitor.token
            live, stream = await subscribe_visitor(visitor_id)
            # Registered a moment ago: no events yet (a lastSeq from elsewhere resets).
            plan = delivery.resume_plan(hello.lastSeq, 0, None)
            replay = hello_read.Replay(0, plan.reset, plan.after)
            found.open_chat = None
        online = found.online
        host = websocket.client.host if websocket.client else None
        # The first lookup loads GeoIP data: that one stays off the event loop.
        country = (await anyio.to_thread.run_sync(geo.country_for_ip, host) if geo.needs_loading(host)
                   else geo.country_for_ip(host))
        open_chat = found.open_chat

        async def send_welcome(newest_seq: int) -> None:
            await outbox.send(protocol.welcome(
                visitor_id, token, online=online, seq=newest_seq, country=country,
                triggers=parts.triggers, operators=parts.operators, assignment_rules=app.assignment_rules,
                max_upload_bytes=files.max_upload_bytes(),
                appearance=rules.widget_appearance(app.appearance), languages=app.languages,
                chat=wire.chat_dict(open_chat) if open_chat is not None else None))

        # "On the site now" for the inbox: last_seen_at kept fresh while this socket is open.
        # Stored before the welcome, so a visitor that has its welcome is on the operators' list.
        presence = visitor_presence.VisitorPresence(state, app.id, visitor_id, websocket.headers, hello.page)
        closers.append(presence)
        await presence.start(country)
        await stream.deliver(replay, send_welcome)
        # This frame lives as long as the socket: what only the welcome needed goes now (a
        # resumed visitor's replay may be hundreds of events; issue 12, memory per socket).
        del found, replay
        open_chat = parts = None  # the welcome's closure held them
        gate.release()
        gate_held = False
        tasks.append(asyncio.create_task(stream.run()))
        told["online"] = online
        told["welcomed"] = True
        for frame in told.pop("early"):
            await send_state(frame)
        tasks.append(asyncio.create_task(forward(live, outbox)))
        tab = _VisitorTab(state, app, SimpleNamespace(id=visitor_id, app_id=app.id), outbox, ip)
        while True:
            raw = await receive_frame(websocket)
            try:
                await tab.handle(protocol.decode_visitor_frame(raw))
            except protocol.FrameError as error:
                await outbox.send(protocol.refusal(error))
    except (WebSocketDisconnect, WebSocketDisconnected):  # the peer left: a normal end
        return
    finally:
        limits.visitor_sockets_per_ip.leave(ip)  # first, before anything that awaits
        if gate_held:
            gate.release()
        await finish(tasks, closers)


class _VisitorTab:
    """Handles the frames of one visitor tab after hello."""

    def __init__(self, state, app: App, visitor: Visitor, outbox: Outbox, ip: str) -> None:
        self.ip = ip  # many visitors behind one address share a second, larger budget
        self.state = state
        self.app = app
        self.visitor = visitor
        self.outbox = outbox
        self.limits = state.limits

    async def handle(self, frame) -> None:
        handler = self._handlers.get(type(frame))
        if handler is None:
            raise protocol.FrameError(protocol.E_BAD_FRAME, "hello was already sent on this socket")
        try:
            budget = self._budgets.get(type(frame))
            if budget is not None:
                limiter_name, what = budget
                limiter = getattr(self.limits, limiter_name)
                if not limiter.hit(self.visitor.id):
                    raise protocol.rate_limited(what, limiter.retry_after(self.visitor.id))
            await handler(self, frame)
        except protocol.FrameError as error:
            # Errors carry no request id: the widget's transcript panel tells its own apart by this.
            if isinstance(frame, protocol.TranscriptRequest):
                error.extra.setdefault("request", "transcript.request")
            raise

    async def message_send(self, frame: protocol.MessageSend) -> None:
        visitor = self.visitor
        limiter = self.limits.visitor_messages
        try:
            protocol.check_message_body(frame.text, frame.fileId)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return

        charge = Charge((limiter, visitor.id), (self.limits.messages_per_ip, self.ip))
        stored = None
        try:
            if charge.pay():
                # The common case, a message in the open chat: one Core unit (storage.messages).
                # Paid up front; a resend of a stored message costs nothing and is refunded.
                stored = await delivery.run(self.state.db, functools.partial(
                    messages.store_visitor_message, visitor_id=visitor.id, app_id=self.app.id,
                    client_id=frame.clientId, text=frame.text, file_id=frame.fileId))
                if stored is not None and not stored.created:
                    charge.refund()
            if stored is None:
                # A new chat (assignment, the bot's answer), or over the limit, where a resend
                # of a stored message still gets its ack: the general path.
                async def work(session):
                    existing = await message_store.find_visitor_message(session, visitor.id, frame.clientId)
                    if existing is None and not charge.pay():
                        raise protocol.rate_limited("messages", charge.retry_after())
                    stored = await message_store.add_visitor_message(
                        session, visitor, frame.clientId, frame.text,
                        frame.assignees, frame.fileId, frame.triggerId)
                    await session.commit()  # before the events are published
                    return stored

                stored = await delivery.write(self.state.db, work)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return
        except (message_store.FileNotUsable, messages.FileRefused):
            charge.refund()
            await self.outbox.send(protocol.error(
                protocol.E_NOT_FOUND, "no such file: upload it first", clientId=frame.clientId))
            return
        if stored.created:
            await delivery.publish(self.state.fanout, self.app.id, visitor.id, stored.events)
        await self.outbox.send(protocol.ack(frame.clientId, stored.message_dict()))

    async def visitor_update(self, frame: protocol.VisitorUpdate) -> None:
        signed = frame.hash is not None
        if not signed:
            async with self.state.db.session() as session:
                if rules.requires_signed_identity(await app_queries.app_appearance(session, self.app.id)):
                    raise protocol.FrameError(protocol.E_HASH_REQUIRED, "this app accepts visitor data only "
                                              "with a valid visitorIntegrityHash; nothing was changed")
        if signed:
            if frame.dataJson is None:
                raise protocol.FrameError(
                    protocol.E_BAD_FRAME, "a hash needs dataJson, the exact JSON text that was signed")
            if not identity.integrity_hash_ok(self.app.secret, frame.dataJson, frame.hash):
                raise protocol.FrameError(
                    protocol.E_BAD_HASH, "visitor data hash does not match: sha1(secret + dataJson)")
        if frame.dataJson is not None:
            data = protocol.decode_visitor_data(frame.dataJson)
        else:
            data = frame.data or {}
        cleaned = protocol.clean_visitor_data(data)
        # An email that is no address (the spec's own example carries a mangled one) would be
        # where transcripts go: it is left out, the rest is saved, and the page hears why.
        not_an_address = rules.email_not_an_address(cleaned)
        if not_an_address is not None:
            del cleaned["email"]
        visitor_id, app_id = self.visitor.id, self.app.id

        async def work(session):
            visitor = await visitor_store.get_visitor(session, app_id, visitor_id)
            changes, values = rules.visitor_update(visitor, cleaned, signed)
            updated = await visitor_store.set_visitor_fields(session, visitor, values)
            await session.commit()
            return updated, changes

        updated, changed = await delivery.write(self.state.db, work)
        if changed:
            # What changed only: every operator tab of the app gets this frame, and a whole
            # profile per update let one visitor push a gigabyte into them (issue 13).
            await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
                "visitor.updated", visitor={"id": visitor_id, **changed}))
        await self.outbox.send(protocol.frame("visitor", visitor=wire.visitor_dict(updated)))
        if not_an_address is not None:
            await self.outbox.send(protocol.error(
                protocol.E_INVALID_EMAIL, f"visitor.email is not an email address: {not_an_address[:80]!r}; "
                "left out, the other fields were saved"))

    async def page_view(self, frame: protocol.PageView) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            view = await visitor_store.add_page_view(session, visitor_id, frame.url, frame.title,
                                                     frame.referrer)
            await session.commit()
            return view

        view = await delivery.write(self.state.db, work)
        await visitor_presence.touch(self.state, visitor_id)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "page.view", visitorId=visitor_id, url=frame.url, title=frame.title, referrer=frame.referrer,
            utm=view.utm or {}, createdAt=wire.timestamp(view.created_at)))

    async def typing(self, frame: protocol.Typing) -> None:
        # Sneak peek: live only, never stored; excess is dropped, not an error.
        if not self.limits.typing.hit(self.visitor.id):
            return
        async with self.state.db.session() as session:
            chat = await chat_store.open_chat_of(session, self.visitor.id)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "typing", visitorId=self.visitor.id, chatId=chat.id if chat else None, text=frame.text))

    async def history(self, frame: protocol.VisitorHistory) -> None:
        async with self.state.db.session() as session:
            chat_ids = await chat_store.chat_ids_of_visitor(session, self.visitor.id)
            messages, has_more = await message_store.message_page(session, chat_ids, frame.before,
                                                                   frame.limit)
            dicts = await message_store.message_dicts(session, messages)
            chat = await chat_store.newest_chat_of(session, self.visitor.id)
        answer = protocol.history(dicts, has_more)
        # The newest chat's state (closed? rated?) so a reloaded window knows what to show.
        answer["chat"] = wire.chat_dict(chat) if chat is not None else None
        await self.outbox.send(answer)

    async def seen(self, frame: protocol.Seen) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            chat_ids = await chat_store.chat_ids_of_visitor(session, visitor_id)
            changed = await message_store.mark_seen(session, chat_ids, ("operator", "system"), frame.upTo)
            events = [await event_log.append_event(session, visitor_id, "seen",
                                                 {"chatId": chat_id, "upTo": up_to, "by": "visitor"})
                      for chat_id, up_to in sorted(changed.items())]
            await session.commit()
            return events

        events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, visitor_id, events)

    async def _own_chat(self, session, chat_id: str | None):
        chat = await chat_store.newest_chat_of(session, self.visitor.id, chat_id)
        if chat is None:
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such chat")
        return chat

    async def chat_rate(self, frame: protocol.ChatRate) -> None:
        async def work(session):
            chat = await self._own_chat(session, frame.chatId)
            event = await chat_store.rate_chat(session, chat, frame.rating, frame.comment)
            await session.commit()
            return event

        event = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, self.visitor.id, [event])

    async def transcript_request(self, frame: protocol.TranscriptRequest) -> None:
        # A transcript is a mail from the site's sender with visitor-written text (issue 13:
        # a phishing relay). Besides the visitor's own budget: one per chat, to the visitor's
        # signed email only (rules.transcript_address), and budgets per address and app,
        # paid only by requests that would send.
        limits = self.limits
        charge = Charge((limits.transcripts_per_ip, self.ip), (limits.transcripts_per_app, self.app.id))

        def already(chat) -> protocol.FrameError:
            return protocol.FrameError(
                protocol.E_CONFLICT, "the transcript of this chat was already requested", chatId=chat.id)

        async def work(session):
            chat = await self._own_chat(session, frame.chatId)
            if chat.transcript_requested_at is not None:
                raise already(chat)
            visitor = await visitor_store.get_visitor(session, self.app.id, self.visitor.id)
            appearance = await app_queries.app_appearance(session, self.app.id)
            address = rules.transcript_address(appearance, visitor, frame.email)
            if address is None:
                raise protocol.FrameError(protocol.E_FORBIDDEN, "transcripts are sent only to the email "
                                          "address the site confirmed for you")
            if not charge.pay():
                raise protocol.rate_limited("transcripts", charge.retry_after())
            if not await chat_store.request_transcript(session, chat, address):
                raise already(chat)  # another tab asked first
            await session.commit()  # the one claim, before the mail goes
            messages, _ = await message_store.message_page(session, [chat.id], None, 10_000)
            names = {o.id: o.name for o in await operator_queries.list_operators(session, self.app.id)}
            return chat, await message_store.message_dicts(session, messages), names, address

        chat, messages, names, address = await delivery.write(self.state.db, work)
        sent = await mail.send_transcript(self.app, chat, messages, address, names)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "transcript.requested", chat=wire.chat_dict(chat), email=address, sent=sent))
        await self.outbox.send(protocol.frame("transcript", chatId=chat.id, email=address, sent=sent))

    async def chat_close(self, _frame: protocol.VisitorChatClose) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            chat = await chat_store.open_chat_of(session, visitor_id)
            if chat is None:
                return []
            events = await chat_store.close_chat(session, chat, by="visitor")
            await session.commit()
            return events

        events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, visitor_id, events)

    # Each frame kind after hello costs a per-visitor budget (parley.ratelimit.Limits): each
    # reads or writes the database, or goes to every operator tab. Over it: PARLEY_E_RATE_LIMIT
    # with retryAfter. message.send charges its own limits (resends of stored messages are
    # free); typing drops its excess silently in its handler (a preview, not worth an error).
    _budgets: ClassVar[dict] = {
        protocol.VisitorUpdate: ("visitor_updates", "visitor updates"),
        protocol.PageView: ("page_views", "page views"),
        protocol.VisitorHistory: ("visitor_history", "history requests"),
        protocol.Seen: ("visitor_seen", "seen receipts"),
        protocol.ChatRate: ("chat_ratings", "chat ratings"),
        protocol.TranscriptRequest: ("transcripts", "transcript requests"),
        protocol.VisitorChatClose: ("chat_closes", "chat closes"),
        protocol.VisitorGet: ("visitor_gets", "visitor profile reads"),
        protocol.AgentPredict: ("agent_predictions", "agent predictions"),
        protocol.Greeting: ("greetings", "greetings"),
        protocol.ChatProperties: ("chat_properties", "chat property changes"),
    }

    async def sync(self, frame: protocol.Sync) -> None:
        await self.outbox.send(protocol.synced(frame.id))

    _handlers: ClassVar[dict] = {
        protocol.Sync: sync,
        protocol.MessageSend: message_send,
        protocol.VisitorUpdate: visitor_update,
        protocol.PageView: page_view,
        protocol.Typing: typing,
        protocol.VisitorHistory: history,
        protocol.Seen: seen,
        protocol.ChatRate: chat_rate,
        protocol.TranscriptRequest: transcript_request,
        protocol.VisitorChatClose: chat_close,
        protocol.VisitorGet: visitor_extras.visitor_get,
        protocol.AgentPredict: visitor_extras.agent_predict,
        protocol.Greeting: visitor_extras.greeting,
        protocol.ChatProperties: visitor_extras.chat_properties,
    }
