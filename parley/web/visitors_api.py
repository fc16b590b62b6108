"""The inbox's visitor features over HTTP:

- `GET /api/operator/visitors/online`: who is on the site now (current page, visit, source);
- `GET /api/operator/visitors/{id}` and `PATCH` (notes): the details pane;
- `GET /api/operator/search?q=`: chats by message text, visitor name or email.

Every endpoint needs the operator session and answers only with the operator's own
app's data; the PATCH also needs `Origin` equal to this server's (CSRF). The operator's
own profile is parley.web.profile_api; a proactive chat, parley.web.proactive_chat.
See docs/protocol.md.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parley import delivery, protocol, rules, wire
from parley import fanout as channels
from parley.storage import chat_list, search_index, visitor_queries, visitor_store
from parley.storage.models import Visitor, utcnow
from parley.web.json_api import ApiError, answer, read_json
from parley.web.sessions import current_operator

MAX_BODY = 16 * 1024


async def chat_items(session, app_id: str, chat_ids: list[str]) -> dict[str, dict]:
    """{chat id: the chat as GET /api/operator/chats lists it} for these chats of the app."""
    listed = await chat_list.list_chats(session, app_id, chat_ids=chat_ids)
    return {item.chat.id: wire.listed_chat(item) for item in listed}


# -- live visitors ------------------------------------------------------------------------

async def online(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    async with request.app.state.db.session() as session:
        visitors = await visitor_queries.online_visitors(session, operator.app_id)
    return answer({"visitors": visitors, "windowSeconds": int(visitor_queries.ONLINE_WINDOW.total_seconds()),
                  "now": wire.timestamp(utcnow())})


# -- one visitor: the details pane -------------------------------------------------------

async def _details(session, app_id: str, visitor: Visitor) -> dict:
    chat_ids = await visitor_queries.visitor_chat_ids(session, visitor.id)
    items = await chat_items(session, app_id, chat_ids)
    online = visitor_queries.is_online(visitor, utcnow())
    return {"visitor": wire.detail_dict(visitor, online),
            "chats": [items[chat_id] for chat_id in chat_ids if chat_id in items],
            "pageViews": await visitor_queries.visitor_page_views(session, visitor.id)}


async def visitor_detail(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    async with request.app.state.db.session() as session:
        visitor = await visitor_store.get_visitor(session, operator.app_id, request.path_params["visitor_id"])
        if visitor is None:  # another app's visitor gets the same answer as no visitor
            raise ApiError(404, protocol.E_NOT_FOUND, "no such visitor")
        return answer(await _details(session, operator.app_id, visitor))


async def visitor_update(request: Request) -> JSONResponse:
    """PATCH {notes}: the operator's notes about the visitor (other inbox tabs hear `visitor.updated`)."""
    operator = await current_operator(request, change="change visitors from this server's own pages")
    limit = rules.IDENTIFYING_FIELDS["notes"]
    usage = f"send JSON {{notes}}: a string of at most {limit} chars"
    body = await read_json(request, MAX_BODY, usage=usage, only_400=True)
    if set(body) != {"notes"} or not (
            body["notes"] is None or (isinstance(body["notes"], str) and len(body["notes"]) <= limit)):
        raise ApiError(400, protocol.E_BAD_FRAME, usage)
    notes = body["notes"].strip() if body["notes"] is not None else None
    visitor_id = request.path_params["visitor_id"]
    app_id = operator.app_id

    async def work(session):
        visitor = await visitor_store.get_visitor(session, app_id, visitor_id)
        if visitor is None:
            return None, None
        await visitor_queries.set_notes(session, visitor, notes or None)
        await session.commit()
        return visitor, await _details(session, app_id, visitor)

    visitor, details = await delivery.write(request.app.state.db, work)
    if visitor is None:
        raise ApiError(404, protocol.E_NOT_FOUND, "no such visitor")
    await request.app.state.fanout.publish(channels.app_channel(app_id), protocol.frame(
        "visitor.updated", visitor=wire.visitor_dict(visitor)))
    return answer(details)


# -- search ----------------------------------------------------------------------------

async def search(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    query = " ".join(request.query_params.get("q", "").split())
    # A NUL can't be in any stored text (PostgreSQL refuses it; so does an FTS5 query).
    if not visitor_queries.SEARCH_MIN <= len(query) <= visitor_queries.SEARCH_MAX or "\x00" in query:
        raise ApiError(400, protocol.E_BAD_FRAME,
                       f"q must be {visitor_queries.SEARCH_MIN}..{visitor_queries.SEARCH_MAX} characters")
    # Every stored message is in SQLite's search index before the search looks.
    await search_index.catch_up(request.app.state.db)
    async with request.app.state.db.session() as session:
        found = await visitor_queries.search(session, operator.app_id, query)
        items = await chat_items(session, operator.app_id, [hit["chatId"] for hit in found])
    results = []
    for hit in found:
        chat = items.get(hit["chatId"])
        if chat is None:
            continue
        text, highlight = visitor_queries.snippet(hit["text"], query)
        results.append({"chat": chat, "match": hit["match"], "snippet": text, "highlight": highlight,
                        "messageId": hit["messageId"], "at": hit["at"]})
    return answer({"query": query, "results": results})


def routes() -> list[Route]:
    """This module's HTTP routes (parley.web.app adds them)."""
    return [
        Route("/api/operator/visitors/online", online),
        Route("/api/operator/visitors/{visitor_id}", visitor_detail),
        Route("/api/operator/visitors/{visitor_id}", visitor_update, methods=["PATCH"]),
        Route("/api/operator/search", search),
    ]
