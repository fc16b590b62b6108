"""When the database can't be reached (storage.outage): clear answers, no tracebacks.

HTTP answers 503 with PARLEY_E_UNAVAILABLE and Retry-After; a socket gets that error
frame and is closed with 1013 ("try again later"), which the widget, the inbox and
parley.client treat as "reconnect", so a visitor's unsent message is resent from its
outbox once the database is back. Nothing in the server needs a restart: the pool
drops dead connections and the next request connects afresh (issue 12).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketState

from parley import protocol
from parley.storage import outage

log = logging.getLogger("parley.unavailable")

CLOSE_TRY_AGAIN = 1013
MESSAGE = "the chat server can't reach its database right now; try again shortly"


def _unavailable_error() -> dict:
    return protocol.error(protocol.E_UNAVAILABLE, MESSAGE, retryAfter=outage.RETRY_AFTER)


async def _http_unavailable(_request: Request, error: Exception) -> JSONResponse:
    if not outage.database_unavailable(error):
        raise error  # any other database error stays a 500 with its traceback in the log
    log.warning("the database is unavailable (%s: %s): answered 503", type(error).__name__, error)
    return JSONResponse(_unavailable_error(), status_code=503,
                        headers={"Retry-After": str(outage.RETRY_AFTER), "Cache-Control": "no-store"})


def database_unavailable_handlers() -> dict:
    """Starlette exception_handlers for the errors storage.outage recognises."""
    return {kind: _http_unavailable for kind in (DBAPIError, PoolTimeout, ConnectionError, socket.gaierror)}


async def refuse_unavailable(websocket: WebSocket, error: BaseException) -> None:
    log.warning("the database is unavailable (%s: %s): socket closed with 1013", type(error).__name__, error)
    with contextlib.suppress(Exception):
        if websocket.application_state == WebSocketState.CONNECTING:
            await websocket.accept()
        await websocket.send_json(_unavailable_error())
        await websocket.close(CLOSE_TRY_AGAIN, "database unavailable")


def closes_when_unavailable(endpoint):
    """Wraps a socket endpoint: a database outage ends it with refuse_unavailable()."""
    @functools.wraps(endpoint)
    async def guarded(websocket: WebSocket) -> None:
        try:
            await endpoint(websocket)
        except Exception as error:
            if not outage.database_unavailable(error):
                raise
            await refuse_unavailable(websocket, error)
    return guarded
