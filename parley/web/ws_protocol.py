"""uvicorn's WebSocket protocol (websockets' sans-I/O core) with two changes for a server
that holds thousands of sockets and sends each a few small frames at a time.

1. Keepalive pings on a shared beat. Every socket's next ping is rounded up to the next
   whole PING_BEAT_S of the event loop's clock, so the pings due in that second go out
   together in one loop iteration instead of one wake-up each. A ping is at most
   PING_BEAT_S later than uvicorn would send it (20-21 s instead of 20 s): far inside every
   proxy's idle timeout (nginx: 60 s). Payloads, the pong timeout and closing a dead peer
   with 1011 stay uvicorn's own code.

2. One write per socket per loop iteration (`CorkedTransport`). The frames a socket is
   given in one iteration go to the kernel in one send(): a visitor's `ack` and the
   `event` of the same message, an operator's `ack` and the feed frame of their reply,
   a burst of feed frames at a busy moment. Order is kept (one buffer, flushed in order);
   the flush is a callback queued behind whatever the iteration woke, so it costs no
   latency worth measuring.

Why (bench/LATEST.md, "What costs most"): on the bench machine a send() on loopback cost
~30-90 µs of server CPU (the kernel's TCP path and the receiver's wake-up), most of a
round trip's 2 ms at 20 round trips/s, and an idle server with 1,000 sockets woke ~80
times a second for its pings and pongs. Measured A/B at 20 round trips/s with 1,000
sockets: pings on the beat took the server from 3.1 to 2.7 ms of CPU per round trip.
"""

from __future__ import annotations

import asyncio
import math

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # an older uvicorn: its own protocol and schedule
    WebSocketsSansIOProtocol = None

PING_BEAT_S = 1.0


class CorkedTransport:
    """A transport whose writes of one loop iteration reach the real one as one write."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        # The writes waiting for the end of this iteration; None when nothing waits (no
        # list kept per idle socket: 10,000 of them); a list means a flush is queued.
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if not pending or self._transport.is_closing():
            return  # the real transport drops writes once closing; so do we
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()  # what was written before close() goes out, as with the real one
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending or ())

    def __getattr__(self, name: str):
        # Everything else (reading, extra info, buffer limits) is the real transport's.
        return getattr(self._transport, name)


class ParleyWebSocketProtocol(WebSocketsSansIOProtocol or object):
    """uvicorn's protocol with pings on a shared beat and corked writes (see above)."""

    def connection_made(self, transport) -> None:
        super().connection_made(CorkedTransport(transport, self.loop))

    def start_keepalive(self) -> None:
        # Called once, right after the 101 response went out. uvicorn keeps the upgrade
        # request and that response (websockets' Request and Response, with their Headers:
        # ~40 objects) for the socket's life, though nothing reads them again; the cyclic
        # collector walked them in every collection (issue 12: 0.8-0.9 s of collection in
        # a 5,000-visitor reconnect storm).
        self.request = self.response = None
        super().start_keepalive()

    def schedule_ping(self) -> None:
        due = self.loop.time() + max(0.0, self.ping_interval - self.last_ping_rtt)
        beat = math.ceil(due / PING_BEAT_S) * PING_BEAT_S
        self.ping_timer = self.loop.call_at(beat, self.send_keepalive_ping)


def websocket_protocol() -> type | str:
    """The protocol class for uvicorn.Config(ws=...): ours when this uvicorn has the hooks
    ParleyWebSocketProtocol overrides, else uvicorn's own choice."""
    hooks = ("connection_made", "schedule_ping", "send_keepalive_ping", "start_keepalive")
    if WebSocketsSansIOProtocol is not None and all(
            callable(getattr(WebSocketsSansIOProtocol, name, None)) for name in hooks):
        return ParleyWebSocketProtocol
    return "auto"
