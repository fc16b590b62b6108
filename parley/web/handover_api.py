"""Handing a chat over to Parley's own page in a new tab (`openIn: '_blank'`): parley.handover.

- `POST /api/visitor/handover`: the widget, proving its visitor as on the uploads API
  (`X-Parley-App`, `X-Parley-Visitor`, `X-Parley-Visitor-Token`, from a page origin the
  app allows, or Parley's own chat page), gets `{"handover", "expiresIn"}`. CORS, no
  credentials. 10 per minute per visitor.
- `POST /api/visitor/handover/redeem` with `{"appId", "handover"}`: only Parley's own
  chat page (`Origin` equal to this server's) exchanges the token, once, for
  `{"visitorId", "visitorToken"}`. Every refused token (unknown, expired, used, another
  app's, malformed) gets the same 403, so an answer tells nothing about other tokens.

See docs/protocol.md, "Handing a chat over to a new tab".
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from parley import handover, protocol
from parley.ratelimit import RateLimiter
from parley.storage import app_queries, handovers
from parley.web import visitor_http
from parley.web.json_api import NO_STORE, ApiError, read_json
from parley.web.peers import check_origin

ISSUES_PER_MINUTE = 10  # a visitor opens the chat in a new tab a few times at most
MAX_REDEEM_BODY = 1024  # {"appId", "handover"}: well under this


def routes() -> list[Route]:
    return [
        Route("/api/visitor/handover", issue, methods=["POST", "OPTIONS"]),
        Route("/api/visitor/handover/redeem", redeem, methods=["POST"]),
    ]


def _issue_limiter(request: Request) -> RateLimiter:
    # Kept on the app (per app instance, like parley.ratelimit.Limits), made on first use.
    state = request.app.state
    limiter = getattr(state, "handover_issues", None)
    if limiter is None:
        limiter = state.handover_issues = RateLimiter(ISSUES_PER_MINUTE, 60)
    return limiter


async def issue(request: Request) -> Response:
    origin = request.headers.get("origin")
    if request.method == "OPTIONS":
        # A preflight names no app (custom header values are not sent): the POST is checked.
        return Response(status_code=204, headers=visitor_http.cors(origin))
    token = request.headers.get("X-Parley-Visitor-Token", "")
    async with request.app.state.db.session() as session:
        proven = await visitor_http.prove_visitor(request, session)
        app, visitor, cors = proven.app, proven.visitor, proven.cors
        limiter = _issue_limiter(request)
        if not limiter.hit(visitor.id):
            wait = limiter.retry_after(visitor.id)
            raise ApiError(429, protocol.E_RATE_LIMIT, f"too many handovers; retry in {wait:.0f}s",
                           headers={**cors, "Retry-After": str(int(wait) + 1)})
        handover_token = await handovers.issue(session, app.id, visitor.id, token)
        await session.commit()
    return JSONResponse({"handover": handover_token, "expiresIn": int(handover.LIFETIME.total_seconds())},
                        status_code=201, headers={**NO_STORE, **cors})


async def redeem(request: Request) -> Response:
    # Only the chat page exchanges tokens: a site's page (or any other) never needs to.
    check_origin(request, "only Parley's own chat page exchanges a handover")
    usage = 'send {"appId": "…", "handover": "…"} as JSON'
    # Any Content-Type, as ever; too large, like any unusable body, is a 400 here.
    data = await read_json(request, MAX_REDEEM_BODY, usage=usage, require_json_type=False, only_400=True)
    if not isinstance(data.get("appId"), str) or not isinstance(data.get("handover"), str):
        raise ApiError(400, protocol.E_BAD_FRAME, usage)
    refused = ApiError(403, protocol.E_AUTH, "unknown, expired or already used handover")
    if not handover.well_formed(data["handover"]) or len(data["appId"]) > 64:
        raise refused
    async with request.app.state.db.session() as session:
        app = await app_queries.get_app(session, data["appId"])
        visitor = await handovers.redeem(session, app, data["handover"]) if app is not None else None
        await session.commit()
    if visitor is None or visitor.token is None:
        raise refused
    return JSONResponse({"visitorId": visitor.id, "visitorToken": visitor.token}, headers=NO_STORE)
