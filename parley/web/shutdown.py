"""Graceful shutdown: every open WebSocket is closed with 1001 ("going away").

What uvicorn 0.54 does on SIGTERM on its own (websockets-sansio protocol): it stops
listening, then for each open WebSocket sends a close frame with **1012** ("service
restart"), hands the handler a disconnect and closes the TCP connection at once,
without waiting for the client's closing handshake; then it waits up to
`timeout_graceful_shutdown` for the handlers and cancels what is left.

Parley wants 1001: the server is going away and a client should reconnect, possibly
to another server. So `GracefulServer.shutdown` first stops accepting, closes every
socket `TrackSockets` registered with 1001 through ASGI (uvicorn then does a proper
closing handshake), waits a bounded time for the handlers to finish what they were
writing (their `finally` blocks run: subscriptions closed, operator presence
stored), and only then runs uvicorn's own shutdown for whatever remains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("parley.shutdown")

GOING_AWAY = 1001
REASON = "server shutting down"
# How long open sockets get to finish before uvicorn's own (1012) shutdown takes over.
DRAIN_SECONDS = 5.0


class _Socket:
    """One WebSocket's ASGI `send`, serialised so a shutdown close never lands mid-frame."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = asyncio.Lock()
        self._closed_by_shutdown = False

    async def send(self, message: Message) -> None:
        async with self._lock:
            if self._closed_by_shutdown:
                if message["type"] == "websocket.close":
                    return  # already closed
                # Starlette turns an OSError into WebSocketDisconnect, which the handlers
                # treat as the peer leaving (uvicorn itself would raise a RuntimeError).
                raise OSError("the WebSocket was closed for shutdown")
            await self._send(message)

    async def close(self, code: int) -> None:
        async with self._lock:
            if not self._closed_by_shutdown:
                self._closed_by_shutdown = True
                await self._send({"type": "websocket.close", "code": code, "reason": REASON})


class OpenSockets:
    """The accepted WebSockets of this process (kept on `app.state.open_sockets`)."""

    def __init__(self) -> None:
        self._open: set[_Socket] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._open)

    async def add(self, socket: _Socket) -> None:
        self._open.add(socket)
        if self.closing:  # accepted while shutting down: tell it to go elsewhere at once
            await _close_quietly(socket, GOING_AWAY)

    def discard(self, socket: _Socket) -> None:
        self._open.discard(socket)

    async def close_all(self, code: int = GOING_AWAY, timeout: float = DRAIN_SECONDS) -> int:
        """Closes every open socket with `code`, then waits up to `timeout` seconds in all
        for their handlers to return. Returns how many are still open."""
        self.closing = True
        started = time.monotonic()
        sockets = list(self._open)
        log.info("closing open websockets", extra={"sockets": len(sockets), "code": code})
        if sockets:
            # A send stuck on a slow client holds its lock: bounded, not awaited forever.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(_close_quietly(s, code) for s in sockets)), timeout)
        while self._open and time.monotonic() - started < timeout:
            await asyncio.sleep(0.05)
        left = len(self._open)
        log.info("websockets closed", extra={"remaining": left,
                                             "seconds": round(time.monotonic() - started, 3)})
        return left


async def _close_quietly(socket: _Socket, code: int) -> None:
    # The client may have gone already; there is nothing left to tell it then.
    with contextlib.suppress(Exception):
        await socket.close(code)


class TrackSockets:
    """ASGI middleware: registers each accepted WebSocket in `app.state.open_sockets`
    (set by the lifespan) until its handler returns. Without the registry it does nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        registry: OpenSockets | None = None
        if scope["type"] == "websocket" and "app" in scope:  # Starlette puts itself in the scope
            registry = getattr(scope["app"].state, "open_sockets", None)
        if registry is None:
            await self.app(scope, receive, send)
            return
        socket = _Socket(send)

        async def tracked_send(message: Message) -> None:
            await socket.send(message)
            if message["type"] == "websocket.accept":
                await registry.add(socket)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            registry.discard(socket)


class GracefulServer(uvicorn.Server):
    """A uvicorn server that closes the Parley app's WebSockets with 1001 before its own shutdown."""

    def __init__(self, config: uvicorn.Config, app: Starlette, drain_seconds: float = DRAIN_SECONDS) -> None:
        super().__init__(config)
        self.parley_app = app
        self.drain_seconds = drain_seconds

    async def shutdown(self, sockets=None) -> None:
        # Stop accepting first, so a closed client can't come straight back here
        # (uvicorn closes these again below; closing twice is harmless).
        for server in self.servers:
            server.close()
        registry: OpenSockets | None = getattr(self.parley_app.state, "open_sockets", None)
        if registry is not None and not self.force_exit:
            await registry.close_all(GOING_AWAY, self.drain_seconds)
        await super().shutdown(sockets)
