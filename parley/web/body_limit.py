"""A cap on every HTTP request body, enforced while it is read (issue 13).

Endpoints read bodies with `await request.body()`, which buffers all of it: an anonymous
400 MiB POST to /api/operator/login took the server to 880 MB before anything was
checked. This pure ASGI middleware counts the body bytes as the app receives them and
answers 413 as soon as they pass the cap (a Content-Length over it is refused before
reading anything), so no endpoint ever holds more than the cap.

JSON endpoints get MAX_JSON_BODY. The upload endpoints check their own, larger limit
(parley.files.max_upload_bytes), Content-Length first and then while reading, and answer
with their CORS headers (which only they know); here they only get a backstop while
reading, a little above their limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley import files, protocol

MAX_JSON_BODY = 64 * 1024  # bytes; the largest JSON API body (admin settings, canned texts) fits
UPLOAD_PATHS = ("/api/visitor/files", "/api/operator/files")
UPLOAD_SLACK = 1024 * 1024  # the upload endpoints answer first: they stop within one chunk of their limit


def body_cap(path: str) -> tuple[int, bool]:
    """(the most body bytes `path` may receive, whether a Content-Length over it is refused here)."""
    if path in UPLOAD_PATHS:
        return files.max_upload_bytes() + UPLOAD_SLACK, False
    return MAX_JSON_BODY, True


class BodyTooLarge(Exception):
    """Raised from `receive` once the body passes the cap; the middleware answers 413."""


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not `async def`: a WebSocket passes straight through (see SecurityHeaders).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap, check_declared = body_cap(scope["path"])
        declared = _content_length(scope) if check_declared else None
        if declared is not None and declared > cap:
            await _too_large(send, cap)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:  # too late to answer: the connection is dropped
                raise
            await _too_large(send, cap)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server (h11/httptools) has refused a malformed one already.
            return int(value) if value.strip().isdigit() else None
    return None


async def _too_large(send: Send, cap: int) -> None:
    answer = protocol.error(protocol.E_TOO_LARGE, f"request bodies are limited to {cap} bytes")
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        # The rest of the body is never read: the connection can't carry another request.
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
