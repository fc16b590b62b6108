"""Keepalive pings on a shared beat: every socket's next ping is rounded up to the next
whole PING_BEAT_S of the event loop's clock, so the pings due in that second go out
together in one loop iteration instead of one wake-up each.

Why: an idle server's main cost is its keepalive pings (uvicorn pings each socket every
20 s). Scheduled per socket, 1,000 sockets meant ~50 separate timer wake-ups a second,
each writing one ping and, a moment later, waking again for its pong. Measured on the
bench machine (bench/README.md, "What costs most"): the idle server with 1,000 visitor
sockets woke 78 times a second and spent 8 ms/s of CPU, the bare websockets baseline
(whose pings happen to be grouped because its sockets opened together) 9 wake-ups and
2 ms/s for the same pings. The kernel and browsers coalesce timers for the same reason.

A ping is at most PING_BEAT_S later than uvicorn would send it (20-21 s instead of 20 s):
far inside every proxy's idle timeout (nginx: 60 s). Everything else (payloads, the pong
timeout, closing a dead peer with 1011) is uvicorn's own code, unchanged.
"""

from __future__ import annotations

import math

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # an older uvicorn: its own protocol and schedule
    WebSocketsSansIOProtocol = None

PING_BEAT_S = 1.0


class CoalescedPingProtocol(WebSocketsSansIOProtocol or object):
    """uvicorn's WebSocket protocol (websockets' sans-I/O core), pings on a shared beat."""

    def schedule_ping(self) -> None:
        due = self.loop.time() + max(0.0, self.ping_interval - self.last_ping_rtt)
        beat = math.ceil(due / PING_BEAT_S) * PING_BEAT_S
        self.ping_timer = self.loop.call_at(beat, self.send_keepalive_ping)


def websocket_protocol() -> type | str:
    """The protocol class for uvicorn.Config(ws=...): ours when this uvicorn schedules its
    pings the way CoalescedPingProtocol expects, else uvicorn's own choice."""
    hooks = ("schedule_ping", "send_keepalive_ping")
    if WebSocketsSansIOProtocol is not None and all(
            callable(getattr(WebSocketsSansIOProtocol, name, None)) for name in hooks):
        return CoalescedPingProtocol
    return "auto"
