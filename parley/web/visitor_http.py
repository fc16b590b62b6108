"""The common edge of the visitor's HTTP endpoints (uploads, chat handover).

A site's page proves its visitor with `X-Parley-App`, `X-Parley-Visitor` and
`X-Parley-Visitor-Token`, from a page origin the app allows (or Parley's own chat page,
as on /ws/visitor), with CORS and no credentials (no cookies are involved).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from parley import identity, protocol
from parley.storage import app_queries, visitor_store
from parley.storage.models import App, Visitor
from parley.web.json_api import ApiError
from parley.web.peers import page_may_use

VISITOR_HEADERS = ("X-Parley-App", "X-Parley-Visitor", "X-Parley-Visitor-Token")
CORS_MAX_AGE = "600"
# Checked in place of an unknown visitor, so the answer takes as long either way.
_NOBODY = Visitor(id="", app_id="", token=identity.new_secret())


def cors(origin: str | None, allow_headers: tuple[str, ...] = VISITOR_HEADERS) -> dict:
    """The CORS answer for a page origin that may use the endpoint (no credentials)."""
    headers = {"Vary": "Origin"}
    if origin:
        headers.update({
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": ", ".join(allow_headers),
            "Access-Control-Expose-Headers": "Retry-After",
            "Access-Control-Max-Age": CORS_MAX_AGE,
        })
    return headers


@dataclass(frozen=True)
class Proven:
    app: App
    visitor: Visitor
    cors: dict


async def prove_visitor(request: Request, session,
                        allow_headers: tuple[str, ...] = VISITOR_HEADERS) -> Proven:
    """The app and visitor the request's headers prove, with the CORS headers for its answer;
    or an `ApiError` (unknown app 404, foreign origin 403, wrong visitor or token 403)."""
    origin = request.headers.get("origin")
    app_id, visitor_id, token = (request.headers.get(name, "") for name in VISITOR_HEADERS)
    app = await app_queries.get_app(session, app_id) if app_id and len(app_id) <= 64 else None
    if app is None:
        raise ApiError(404, protocol.E_UNKNOWN_APP, "unknown app: send its id in X-Parley-App",
                       headers={"Vary": "Origin"})
    if not page_may_use(request, app.origins):
        raise ApiError(403, protocol.E_ORIGIN, f"this site ({origin}) is not an allowed origin of the app",
                       headers={"Vary": "Origin"})
    answer_cors = cors(origin, allow_headers)
    visitor = None
    if visitor_id and len(visitor_id) <= 64:
        visitor = await visitor_store.get_visitor(session, app.id, visitor_id)
    known = visitor is not None
    # visitor_store.visitor_token_ok: the token's hash, compared in constant time, for an unknown
    # visitor too, so the answer takes as long either way.
    token_ok = visitor_store.visitor_token_ok(visitor if known else _NOBODY, token, app.secret)
    if not (known and token_ok):
        raise ApiError(403, protocol.E_AUTH, "unknown visitor or wrong token for this app",
                       headers=answer_cors)
    return Proven(app, visitor, answer_cors)
