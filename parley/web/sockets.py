"""What both WebSockets (visitor and operator) are built from: one serialised sender per
socket (`Outbox`), reading frames (`receive_frame`), forwarding a live feed (`forward`)
and ending a socket's tasks (`finish`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio
import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from parley import fanout as channels
from parley.fanout import Overflow

log = logging.getLogger("parley.sockets")

_encode_json = msgspec.json.Encoder().encode


class Outbox:
    """Serialises sends on one socket (the reader and the live forwarders share it)."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._lock = asyncio.Lock()

    async def send(self, frame: dict) -> None:
        """Raises WebSocketDisconnect when the peer is gone, like a receive does."""
        async with self._lock:
            # Raw UTF-8, not \uXXXX escapes: MicroPython's json (the widget, the inbox) does
            # not join escaped surrogate pairs, so an emoji would arrive as garbage. msgspec
            # writes the same compact JSON as json.dumps(ensure_ascii=False) at a tenth of its
            # cost (~10 µs a frame, ~6 frames a round trip); uvicorn encodes the str again.
            text = _encode_json(frame).decode()
            try:
                await self._websocket.send_text(text)
            except WebSocketDisconnected:
                # A peer that closed before its ack (a reload, a lost network) is a normal
                # event: the message is stored and its resend gets the same ack.
                raise WebSocketDisconnect(1006) from None

    async def close(self, code: int, reason: str = "") -> None:
        """Closes the socket after whatever is being sent now; a peer already gone is fine."""
        async with self._lock:
            with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
                await self._websocket.close(code, reason)


async def receive_frame(websocket: WebSocket) -> str | bytes:
    """The next text or binary frame; raises WebSocketDisconnect when the peer leaves."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return text if text is not None else (message.get("bytes") or b"")


CLOSE_FELL_BEHIND = 4410  # the socket read too slowly for its live feed: reconnect and catch up


async def forward(subscription, outbox: Outbox, send=None) -> None:
    """Sends every payload of a live subscription (app-wide state, operator feeds) through
    `send` (default: the outbox's). A socket whose reader fell so far behind that the feed
    overflowed is closed with CLOSE_FELL_BEHIND, never left open and silently fed nothing:
    the client reconnects and reloads (the inbox on `subscribed`, the widget by lastSeq)."""
    try:
        async for payload in subscription:
            if channels.is_resync(payload) and send is None:
                continue  # nothing to catch up on a live-only feed (typing); never sent as it is
            await (send or outbox.send)(payload)
    except Overflow:
        log.warning("a socket fell behind its live feed (%s); closing it", subscription.channel)
        await outbox.close(CLOSE_FELL_BEHIND, "fell behind: reconnect")


async def finish(tasks: list[asyncio.Task], closers: list) -> None:
    """Closes subscriptions so their tasks end by themselves; cancels only stragglers.

    Shielded: a task is never cancelled in the middle of a database query.
    """
    with anyio.CancelScope(shield=True):
        for closer in closers:
            await closer.close()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
