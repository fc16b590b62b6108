"""No NUL in a request's path: such a path names nothing, and is answered 404 before any route.

Path parameters (/api/operator/visitors/{visitor_id}, /api/admin/teams/{team_id}, ...) go to
the database as text. PostgreSQL can't hold a NUL in text and refuses the whole query
("invalid byte sequence for encoding UTF8: 0x00"), so `/api/operator/visitors/%00` was an
HTTP 500 there, where SQLite looked the id up and answered 404. No id, name or asset
contains a NUL, so 404 is the answer on both, without asking the database.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

from parley import protocol


class NoNulInPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not `async def`: what passes goes straight through (see SecurityHeaders).
        # scope["path"] is percent-decoded: %00 is a NUL here.
        if scope["type"] == "http" and "\x00" in scope["path"]:
            return _not_found(send)
        return self.app(scope, receive, send)


async def _not_found(send: Send) -> None:
    body = json.dumps(protocol.error(protocol.E_NOT_FOUND, "no such address: it has a NUL in it")).encode()
    await send({"type": "http.response.start", "status": 404, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]})
    await send({"type": "http.response.body", "body": body})
