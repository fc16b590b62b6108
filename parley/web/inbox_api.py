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
from parley.web.json_api import ApiError, answer
from parley.web.sessions import current_operator

DEFAULT_CHAT_PAGE = 100
MAX_CHAT_PAGE = 200


async def me(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    async with request.app.state.db.session() as session:
        colleagues = await operator_queries.list_operators(session, operator.app_id)
    # The app's operators (id and name only) let the inbox name who joined a chat in
    # system lines ({"code": "assigned", "operatorId"}) without another request.
    return answer({"id": operator.id, "name": operator.name, "email": operator.email,
                   "appId": operator.app_id, "role": operator.role, "status": operator.chosen_status,
                   "operators": [wire.public_operator_dict(o) for o in colleagues]})


async def chats(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    params = request.query_params
    status = params.get("status", "open")
    if status not in chat_list.STATUSES:
        raise ApiError(400, protocol.E_BAD_FRAME, "status must be open, closed or all")
    assigned = params.get("assigned")
    if assigned not in (None, "0", "1"):
        raise ApiError(400, protocol.E_BAD_FRAME, "assigned must be 0 or 1")
    mine = params.get("mine", "0")
    if mine not in ("0", "1"):
        raise ApiError(400, protocol.E_BAD_FRAME, "mine must be 0 or 1")
    try:
        limit = int(params.get("limit", DEFAULT_CHAT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_CHAT_PAGE:
        raise ApiError(400, protocol.E_BAD_FRAME, f"limit must be 1..{MAX_CHAT_PAGE}")
    async with request.app.state.db.session() as session:
        page = await chat_list.list_chats(
            session, operator.app_id, status=status, operator_id=operator.id if mine == "1" else None,
            assigned=None if assigned is None else assigned == "1", limit=limit)
    return answer({"chats": [wire.listed_chat(listed) for listed in page]})
