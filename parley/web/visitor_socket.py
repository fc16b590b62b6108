"""The visitor WebSocket: one per widget tab."""

from __future__ import annotations

import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from parley import protocol
from parley.storage import queries

log = logging.getLogger("parley.visitor")

CLOSE_POLICY = 4403  # origin not allowed
CLOSE_NOT_FOUND = 4404  # unknown app


def origin_allowed(allowed: list[str], origin: str | None) -> bool:
    """Exact match of scheme://host[:port]; an empty list allows every origin."""
    if not allowed:
        return True
    return origin is not None and origin.rstrip("/") in {o.rstrip("/") for o in allowed}


async def visitor_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    await websocket.accept()
    try:
        raw = await websocket.receive_text()
        try:
            hello = protocol.decode_client_frame(raw)
        except protocol.FrameError as error:
            await websocket.send_json(protocol.error(error.code, error.message))
            await websocket.close(4400)
            return
        async with state.db.session() as session:
            app = await queries.get_app(session, hello.appId)
            if app is None:
                await websocket.send_json(protocol.error(
                    protocol.E_UNKNOWN_APP, f"unknown appId '{hello.appId[:64]}': check chaportConfig.appId"))
                await websocket.close(CLOSE_NOT_FOUND)
                return
            origin = websocket.headers.get("origin")
            if not app.origins:
                log.warning("app %s allows every origin; set its origins", app.id)
            if not origin_allowed(app.origins, origin):
                await websocket.send_json(protocol.error(
                    protocol.E_ORIGIN, f"this site ({origin}) is not an allowed origin of the app"))
                await websocket.close(CLOSE_POLICY)
                return
            visitor = await queries.resume_or_register_visitor(
                session, app.id, hello.visitorId, hello.visitorToken)
        await websocket.send_json(protocol.welcome(visitor.id, visitor.token, online=False))
        while True:
            # The skeleton has nothing more to say; keep the socket for later frames.
            await websocket.receive_text()
    except WebSocketDisconnect:
        return
