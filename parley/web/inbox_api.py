"""What the operator inbox reads over HTTP: who am I, and this app's chats.

Every endpoint needs the operator session cookie (the same session the login
sets and /ws/operator checks) and only ever answers with the operator's own
app's data. Errors are JSON `{code, message}` with the protocol's stable codes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import protocol, wire
from parley.storage import chat_list, operator_queries
from parley.storage.models import Operator
from parley.web.operator_api import own_origin, session_token

DEFAULT_CHAT_PAGE = 100
MAX_CHAT_PAGE = 200
NO_STORE = {"Cache-Control": "no-store"}


# The inbox's other JSON endpoints (visitors_api, canned_api, presence_api) answer with these too.

def _error(status: int, code: str, message: str, **headers) -> JSONResponse:
    return JSONResponse(protocol.error(code, message), status_code=status, headers={**NO_STORE, **headers})


def _json(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def _operator(request: Request) -> Operator | None:
    async with request.app.state.db.session() as session:
        return await operator_queries.operator_for_session(session, session_token(request))


def _unauthenticated() -> JSONResponse:
    return _error(401, protocol.E_AUTH, "log in first")


async def _operator_or_error(request: Request, foreign_origin: str | None = None):
    """(operator, None), or (None, the error answer). A change names itself in
    `foreign_origin`, the message for a request from another origin: it needs `Origin`
    equal to this server's (browsers always send it on a change; CSRF defence), which is
    checked before the session."""
    if foreign_origin is not None and request.headers.get("origin") != own_origin(request):
        return None, _error(403, protocol.E_ORIGIN, foreign_origin)
    operator = await _operator(request)
    if operator is None:
        return None, _unauthenticated()
    return operator, None


async def me(request: Request) -> JSONResponse:
    operator = await _operator(request)
    if operator is None:
        return _unauthenticated()
    async with request.app.state.db.session() as session:
        colleagues = await operator_queries.list_operators(session, operator.app_id)
    # The app's operators (id and name only) let the inbox name who joined a chat in
    # system lines ({"code": "assigned", "operatorId"}) without another request.
    return _json({"id": operator.id, "name": operator.name, "email": operator.email,
                  "appId": operator.app_id, "role": operator.role, "status": operator.chosen_status,
                  "operators": [wire.public_operator_dict(o) for o in colleagues]})


async def chats(request: Request) -> JSONResponse:
    operator = await _operator(request)
    if operator is None:
        return _unauthenticated()
    params = request.query_params
    status = params.get("status", "open")
    if status not in chat_list.STATUSES:
        return _error(400, protocol.E_BAD_FRAME, "status must be open, closed or all")
    assigned = params.get("assigned")
    if assigned not in (None, "0", "1"):
        return _error(400, protocol.E_BAD_FRAME, "assigned must be 0 or 1")
    mine = params.get("mine", "0")
    if mine not in ("0", "1"):
        return _error(400, protocol.E_BAD_FRAME, "mine must be 0 or 1")
    try:
        limit = int(params.get("limit", DEFAULT_CHAT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_CHAT_PAGE:
        return _error(400, protocol.E_BAD_FRAME, f"limit must be 1..{MAX_CHAT_PAGE}")
    async with request.app.state.db.session() as session:
        page = await chat_list.list_chats(
            session, operator.app_id, status=status, operator_id=operator.id if mine == "1" else None,
            assigned=None if assigned is None else assigned == "1", limit=limit)
    return _json({"chats": [wire.listed_chat(listed) for listed in page]})
