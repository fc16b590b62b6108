"""The visitor WebSocket: one per widget tab. Frames: docs/protocol.md.

This module is the connection's life: the open-socket count, hello (at most
Limits.hellos_at_once at a time), the welcome and replay, then the read loop, which
hands each frame to parley.web.visitor_frames.VisitorTab, and the cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from types import SimpleNamespace

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from parley import delivery, files, geo, identity, protocol, rules, wire
from parley import fanout as channels
from parley.ratelimit import Charge
from parley.storage import hello_read, visitor_store, visitor_writes
from parley.web import visitor_presence
from parley.web.hello_cache import HelloCache
from parley.web.peers import client_ip, page_may_use
from parley.web.sockets import Outbox, finish, forward, receive_frame
from parley.web.unavailable import closes_when_unavailable
from parley.web.visitor_frames import VisitorTab

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
        tab = VisitorTab(state, app, SimpleNamespace(id=visitor_id, app_id=app.id), outbox, ip)
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
