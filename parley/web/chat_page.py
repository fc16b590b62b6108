"""The standalone chat page (`openIn: '_blank'`): the widget full-page on Parley's origin.

The widget on the host page opens `/chat/<appId>#parley-handover` and then moves the tab
to `#parley-handover=<token>`: a one-time, 60-second token the server issued for its
visitor (parley.handover, parley.web.handover_api). The widget on this page exchanges it
for the visitor's credentials, so the visitor continues the same chat. A link never
carries credentials: this page adopting them from a link let anyone who sent one read
what the victim wrote (session fixation), so a raw `#parley=<id>.<token>` gives a new
visitor now.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from parley.storage import app_queries
from parley.web.templates import templates

_APP_ID = re.compile(r"^[0-9a-f]{24}$")

# Our own page: only our scripts, our sockets, our frames.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


async def _known(request: Request) -> str | None:
    app_id = request.path_params["app_id"].removesuffix(".js")
    if not _APP_ID.match(app_id):
        return None
    async with request.app.state.db.session() as session:
        return app_id if await app_queries.get_app(session, app_id) is not None else None


async def chat_page(request: Request) -> Response:
    app_id = await _known(request)
    if app_id is None:
        return PlainTextResponse("unknown app", status_code=404)
    return templates.TemplateResponse(request, "chat.html", {"app_id": app_id}, headers={
        "Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def chat_config(request: Request) -> Response:
    """The page's chaportConfig as a script (CSP forbids inline scripts)."""
    app_id = await _known(request)
    if app_id is None:
        return PlainTextResponse("unknown app", status_code=404)
    config = {"appId": app_id, "openIn": {"selector": "#parley-chat"}, "launcher": {"show": False},
              "closeButton": False, "history": False, "init": {"delayAfterEvent": 0}}
    # The same stub as the snippet, with open() already queued.
    stub = ("window.chaport = { _q: [['open']], _l: {},"
            " q: function () { window.chaport._q.push(arguments); },"
            " on: function (e, f) { (window.chaport._l[e] = window.chaport._l[e] || []).push(f); } };")
    body = f"window.chaportConfig = {json.dumps(config)};\n{stub}\n"
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-store"})
