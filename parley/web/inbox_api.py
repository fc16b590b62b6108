"""What the operator inbox reads over HTTP: who am I, and this app's chats.

Every endpoint needs the operator session cookie (the same session the login
sets and /ws/operator checks) and only ever answers with the operator's own
app's data. Errors are JSON `{code, message}` with the protocol's stable codes.
"""

from __future__ import annotations

from sqlalchemy import String, cast, func, select
from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import files, protocol
from parley.storage import operator_queries, queries
from parley.storage.models import Chat, File, Message, Operator, Visitor
from parley.web.operator_api import own_origin, session_token

STATUSES = ("open", "closed", "all")
DEFAULT_CHAT_PAGE = 100
MAX_CHAT_PAGE = 200
PREVIEW_CHARS = 140
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
                  "operators": [queries.public_operator_dict(o) for o in colleagues]})


def _preview(message: Message | None, file: File | None) -> dict | None:
    if message is None:
        return None
    text = message.text if len(message.text) <= PREVIEW_CHARS else message.text[:PREVIEW_CHARS - 1] + "…"
    return {"id": message.id, "authorKind": message.author_kind, "text": text,
            "createdAt": queries.timestamp(message.created_at),
            "file": files.file_dict(file) if file is not None else None}


def _visitor(visitor: Visitor) -> dict:
    return {"id": visitor.id, "name": visitor.name, "email": visitor.email, "country": visitor.country}


async def chat_page(session, app_id: str, status: str, operator_id: str | None,
                    limit: int, assigned: bool | None = None) -> list[dict]:
    """The app's chats, most recent activity first, each with its visitor, last message
    (with its attachment) and unread count (visitor messages no operator has seen yet)."""
    # Message ids are one global increasing sequence: the largest id is the newest message.
    # System lines are left out: their text is machine JSON, and "Ann joined the chat"
    # is no preview of what the visitor asked, nor activity to sort by. Internal notes
    # neither: they are the team talking to itself, not the conversation.
    last = (select(Message.chat_id, func.max(Message.id).label("last_id"))
            .where(Message.author_kind.not_in(("system", "note")))
            .group_by(Message.chat_id).subquery())
    query = (select(Chat, Visitor, Message, File)
             .join(Visitor, Visitor.id == Chat.visitor_id)
             .outerjoin(last, last.c.chat_id == Chat.id)
             .outerjoin(Message, Message.id == last.c.last_id)
             .outerjoin(File, File.id == Message.file_id)
             .where(Chat.app_id == app_id, Visitor.app_id == app_id))
    if status != "all":
        query = query.where(Chat.status == status)
    if assigned is not None:
        # An unassigned chat's operator_ids is the empty JSON list.
        empty = cast(Chat.operator_ids, String).in_(("[]", "null")) | Chat.operator_ids.is_(None)
        query = query.where(~empty if assigned else empty)
    if operator_id is not None:
        # operator_ids is a JSON list of hex ids: its text holds "<id>" exactly when it has the id.
        query = query.where(cast(Chat.operator_ids, String).like(f'%"{operator_id}"%'))
    query = query.order_by(func.coalesce(last.c.last_id, 0).desc(), Chat.started_at.desc()).limit(limit)
    rows = (await session.execute(query)).all()
    unread = await _unread_counts(session, [chat.id for chat, _, _, _ in rows])
    # chat_dict carries closedBy, rating, ratingComment and transcriptEmail for the header.
    return [{**queries.chat_dict(chat), "visitor": _visitor(visitor), "lastMessage": _preview(message, file),
             "unread": unread.get(chat.id, 0)} for chat, visitor, message, file in rows]


async def _unread_counts(session, chat_ids: list[str]) -> dict[str, int]:
    """{chat id: visitor messages with no `seen_at`}: an operator's `seen` frame sets it
    when a chat is on screen, so replying without reading no longer counts as read."""
    if not chat_ids:
        return {}
    query = (select(Message.chat_id, func.count())
             .where(Message.chat_id.in_(chat_ids), Message.author_kind == "visitor",
                    Message.seen_at.is_(None))
             .group_by(Message.chat_id))
    return {chat_id: count for chat_id, count in (await session.execute(query)).all()}


async def chats(request: Request) -> JSONResponse:
    operator = await _operator(request)
    if operator is None:
        return _unauthenticated()
    params = request.query_params
    status = params.get("status", "open")
    if status not in STATUSES:
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
        page = await chat_page(session, operator.app_id, status,
                               operator.id if mine == "1" else None, limit,
                               None if assigned is None else assigned == "1")
    return _json({"chats": page})
