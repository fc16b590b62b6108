"""The Parley ASGI application."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from parley import clock, presence
from parley.fanout import create_fanout
from parley.passwords import Passwords
from parley.ratelimit import Limits
from parley.settings import DIST
from parley.storage import health
from parley.storage.db import Database
from parley.web import admin_api, json_api
from parley.web.app_state_feed import AppStateFeeds
from parley.web.assets import DistFiles
from parley.web.body_limit import BodyLimit
from parley.web.canned_api import assignees, canned, canned_item
from parley.web.chat_page import chat_config, chat_page
from parley.web.files_api import download, operator_upload, visitor_upload
from parley.web.handover_api import routes as handover_routes
from parley.web.hello_cache import HelloCache
from parley.web.inbox_api import chats, me
from parley.web.nul_paths import NoNulInPaths
from parley.web.operator_api import login, logout
from parley.web.operator_socket import operator_socket
from parley.web.presence_api import set_presence
from parley.web.profile_api import routes as profile_routes
from parley.web.security_headers import SecurityHeaders
from parley.web.session_watch import SessionWatch
from parley.web.shutdown import OpenSockets, TrackSockets
from parley.web.templates import templates
from parley.web.unavailable import database_unavailable_handlers
from parley.web.visitor_socket import visitor_socket
from parley.web.visitors_api import routes as visitor_routes

log = logging.getLogger("parley.web")

def create_app(database: Database, dist: Path = DIST, redis_url: str | None = None) -> Starlette:
    """Builds the app; the caller owns migrating the database and building dist/.

    Live events reach the sockets of this process only, or with `redis_url` those of
    every process sharing that Redis (and the database): parley.fanout.
    """
    assets = DistFiles(dist)

    async def widget_asset(request: Request):
        return await assets.serve(request, "widget/" + request.path_params["name"])

    async def inbox_asset(request: Request):
        return await assets.serve(request, "inbox/" + request.path_params["name"])

    async def static_asset(request: Request):
        return await assets.serve(request, "static/" + request.path_params["name"])

    async def inbox(request: Request):
        return templates.TemplateResponse(request, "inbox.html",
                                          {"build_id": assets.manifest["build_id"],
                                           "script": assets.page_script("inbox")},
                                          headers={"Cache-Control": "no-store"})

    async def healthz(_request: Request):
        return PlainTextResponse("ok")

    async def readyz(_request: Request):
        try:
            await health.ping(database)
        except Exception as error:  # report, don't crash: this is the probe
            # The detail (host, user, driver message) is for the log, not for whoever asks.
            log.warning("readiness check failed: the database is unavailable: %s", error)
            return JSONResponse({"ready": False, "reason": "database unavailable"}, status_code=503)
        return JSONResponse({"ready": True})

    async def root(_request: Request):
        return HTMLResponse('<p>Parley is running. Operators: <a href="/inbox">/inbox</a></p>')

    @asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.db = database
        app.state.fanout = create_fanout(redis_url)
        app.state.limits = Limits()
        app.state.passwords = Passwords()  # argon2 in threads, bounded (parley.passwords)
        # Open operator sockets, recorded in the database so presence holds across processes.
        app.state.presence = presence.Presence(database, app.state.fanout)
        # Operator sockets whose login ends (logout, reset, deletion) are closed: session_watch.
        app.state.sessions = SessionWatch(database)
        app.state.open_sockets = OpenSockets()  # closed with 1001 on shutdown (parley.web.shutdown)
        # Each app's triggers and operators for welcomes, dropped when they change (any process).
        app.state.hello_cache = HelloCache(app.state.fanout)
        # One subscription per app to its visitors' state, shared by its sockets here.
        app.state.app_state_feeds = AppStateFeeds(app.state.fanout, database)
        try:
            await app.state.fanout.start()
            ticker = clock.Clock(database, app.state.fanout, limits=app.state.limits)
            async with clock.running(ticker), \
                    clock.running(app.state.presence), clock.running(app.state.sessions), \
                    clock.running(app.state.hello_cache):
                app.state.clock = ticker
                yield
        finally:
            await app.state.fanout.close()

    return Starlette(
        exception_handlers={**database_unavailable_handlers(), **json_api.exception_handlers()},
        routes=[
            Route("/", root),
            Route("/widget/{name:path}", widget_asset),
            *admin_api.routes(assets.manifest["build_id"], assets.page_script("admin")),  # /inbox/admin first
            Route("/inbox/{name:path}", inbox_asset),
            Route("/static/{name:path}", static_asset),
            Route("/inbox", inbox),
            Route("/chat/{app_id}", chat_page),
            Route("/chat-config/{app_id}", chat_config),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/api/operator/login", login, methods=["POST"]),
            Route("/api/operator/logout", logout, methods=["POST"]),
            Route("/api/operator/me", me),
            Route("/api/operator/presence", set_presence, methods=["PUT"]),
            Route("/api/operator/chats", chats),
            *visitor_routes(),  # live visitors, details, search
            *profile_routes(),  # the operator's own name, avatar, password
            Route("/api/operator/canned", canned, methods=["GET", "POST"]),
            Route("/api/operator/canned/{canned_id}", canned_item, methods=["PATCH", "DELETE"]),
            Route("/api/operator/assignees", assignees),
            Route("/api/visitor/files", visitor_upload, methods=["POST", "OPTIONS"]),
            *handover_routes(),  # openIn '_blank': the chat moves to /chat/<appId> (parley.handover)
            Route("/api/operator/files", operator_upload, methods=["POST"]),
            Route("/files/{file_id}/{name}", download),
            WebSocketRoute("/ws/visitor", visitor_socket),
            WebSocketRoute("/ws/operator", operator_socket),
        ],
        # Outermost first: every answer gets the headers, the 413 of BodyLimit and the 404 of
        # NoNulInPaths too.
        middleware=[Middleware(SecurityHeaders), Middleware(NoNulInPaths), Middleware(BodyLimit),
                    Middleware(TrackSockets)],
        lifespan=lifespan,
    )
