"""The inbox's visitor features over HTTP (and the operator socket's `chat.start`):

- `GET /api/operator/visitors/online`: who is on the site now (current page, visit, source);
- `GET /api/operator/visitors/{id}` and `PATCH` (notes): the details pane;
- `GET /api/operator/search?q=`: chats by message text, visitor name or email;
- `GET /api/operator/profile`, `PATCH /api/operator/me`: the operator's name, avatar, password;
- `chat.start` (operator socket): a proactive chat with a visitor.

Every endpoint needs the operator session and answers only with the operator's own
app's data; the PATCHes also need `Origin` equal to this server's (CSRF). See
docs/protocol.md.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parley import delivery, files, protocol, rules, wire
from parley import fanout as channels
from parley.passwords import Busy
from parley.storage import chat_list, operator_queries, queries, visitor_queries
from parley.storage.models import Visitor, utcnow
from parley.web import hello_cache
from parley.web.json_api import ApiError, answer, read_json
from parley.web.operator_api import busy_error
from parley.web.sessions import current_operator, session_token

MAX_BODY = 16 * 1024


async def _json_body(request: Request, usage: str) -> dict:
    """The body as a JSON object of at most MAX_BODY bytes, or 400 `PARLEY_E_BAD_FRAME` with
    `usage`: these endpoints have always answered 400 to every unusable body (never 413 or 415)."""
    try:
        return await read_json(request, MAX_BODY, usage=usage)
    except ApiError:
        raise ApiError(400, protocol.E_BAD_FRAME, usage) from None


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
        visitor = await queries.get_visitor(session, operator.app_id, request.path_params["visitor_id"])
        if visitor is None:  # another app's visitor gets the same answer as no visitor
            raise ApiError(404, protocol.E_NOT_FOUND, "no such visitor")
        return answer(await _details(session, operator.app_id, visitor))


async def visitor_update(request: Request) -> JSONResponse:
    """PATCH {notes}: the operator's notes about the visitor (other inbox tabs hear `visitor.updated`)."""
    operator = await current_operator(request, change="change visitors from this server's own pages")
    limit = protocol.IDENTIFYING_FIELDS["notes"]
    usage = f"send JSON {{notes}}: a string of at most {limit} chars"
    body = await _json_body(request, usage)
    if set(body) != {"notes"} or not (
            body["notes"] is None or (isinstance(body["notes"], str) and len(body["notes"]) <= limit)):
        raise ApiError(400, protocol.E_BAD_FRAME, usage)
    notes = body["notes"].strip() if body["notes"] is not None else None
    visitor_id = request.path_params["visitor_id"]
    app_id = operator.app_id

    async def work(session):
        visitor = await queries.get_visitor(session, app_id, visitor_id)
        if visitor is None:
            return None, None
        await visitor_queries.set_notes(session, visitor, notes or None)
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


# -- the operator's profile -------------------------------------------------------------

async def profile(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    return answer({"profile": wire.profile_dict(operator)})


def _profile_changes(body: dict) -> tuple[dict | None, str | None]:
    """The checked fields of a PATCH /api/operator/me body, or (None, the problem)."""
    allowed = {"name", "avatarUrl", "currentPassword", "newPassword"}
    if not body or not set(body) <= allowed:
        return None, "send JSON with any of: name, avatarUrl, currentPassword + newPassword"
    changes: dict = {}
    if "name" in body:
        try:
            changes["name"] = " ".join(rules.name(body["name"]).split())
        except rules.InvalidInput as invalid:
            return None, str(invalid)
    if "avatarUrl" in body:
        if body["avatarUrl"] is not None and not isinstance(body["avatarUrl"], str):
            return None, "avatarUrl must be an uploaded image's url or null"
        changes["avatarUrl"] = body["avatarUrl"]
    if "newPassword" in body or "currentPassword" in body:
        new, current = body.get("newPassword"), body.get("currentPassword")
        if not isinstance(current, str) or not current:
            return None, "changing the password needs currentPassword"
        try:
            rules.password(new, "newPassword")
        except rules.InvalidInput as invalid:
            return None, str(invalid)
        changes["password"] = (current, new)
    return changes, None


async def update_me(request: Request) -> JSONResponse:
    """PATCH {name?, avatarUrl?, currentPassword?, newPassword?}: the operator's own profile."""
    operator = await current_operator(request, change="change your profile from this server's own pages")
    body = await _json_body(request, "send a JSON object")
    changes, problem = _profile_changes(body)
    if changes is None:
        raise ApiError(400, protocol.E_BAD_FRAME, problem)
    limits = request.app.state.limits
    ip = request.client.host if request.client else "?"
    key = (ip, operator.app_id, operator.email)
    # The same budget as logins: a stolen session can't guess the password either.
    if "password" in changes and not (limits.failed_logins.allowed(key)
                                      and limits.failed_logins_per_ip.allowed(ip)):
        wait = max(limits.failed_logins.retry_after(key), limits.failed_logins_per_ip.retry_after(ip))
        raise ApiError(429, protocol.E_RATE_LIMIT, "too many wrong passwords; wait a minute",
                       headers={"Retry-After": str(int(wait) + 1)})
    token = session_token(request)
    operator_id, app_id = operator.id, operator.app_id
    checked_hash, new_hash = operator.password_hash, None
    if "password" in changes:
        # argon2 runs in a thread, before the write, so neither the event loop nor a
        # transaction waits on it (parley.passwords).
        passwords = request.app.state.passwords
        current, new = changes["password"]
        try:
            async with passwords.admitted():
                if await passwords.verify(checked_hash, current):
                    new_hash = await passwords.hash(new)
        except Busy as busy:
            raise busy_error(busy) from None

    async def work(session):
        me = await operator_queries.get_operator(session, app_id, operator_id)
        if "avatarUrl" in changes and changes["avatarUrl"] is not None:
            file = await visitor_queries.avatar_file(session, me.app_id, changes["avatarUrl"])
            if file is None:
                return me, "avatar", 0
            changes["avatarUrl"] = files.url_for(file.id, file.name)
        # Wrong, or changed elsewhere since it was checked: refused like a wrong password.
        if "password" in changes and (new_hash is None or me.password_hash != checked_hash):
            return me, "password", 0
        if "name" in changes:
            me.name = changes["name"]
        if "avatarUrl" in changes:
            me.avatar_url = changes["avatarUrl"]
        ended = 0
        if "password" in changes:
            ended = await visitor_queries.change_password(session, me, new_hash, token)
        await session.commit()
        return me, None, ended

    me, refused, ended = await delivery.write(request.app.state.db, work)
    if refused == "avatar":
        raise ApiError(400, protocol.E_BAD_FRAME,
                       "avatarUrl must be the url of an image uploaded to this app")
    if refused == "password":
        limits.failed_logins.hit(key)
        limits.failed_logins_per_ip.hit(ip)
        raise ApiError(403, protocol.E_AUTH, "the current password is wrong")
    if "name" in changes:
        await hello_cache.app_changed(request.app.state, me.app_id)  # welcomes show operators' names
    if "name" in changes or "avatarUrl" in changes:
        await request.app.state.fanout.publish(channels.app_channel(me.app_id), protocol.frame(
            "operator.updated", operator={"id": me.id, "name": me.name, "avatarUrl": me.avatar_url}))
    result = {"profile": wire.profile_dict(me)}
    if "password" in changes:
        result["sessionsEnded"] = ended
    return answer(result)


# -- proactive chats (the operator socket's `chat.start`) ----------------------------------

async def chat_start(tab, frame: protocol.ChatStart) -> None:
    """Starts a chat with a visitor of the operator's app who has none open; answers `ack`
    (with `chat`), or an error with the clientId (`PARLEY_E_CONFLICT` + `openChatId` when the
    visitor already has an open chat). `tab` is the operator socket's tab."""
    operator = tab.operator
    state = tab.state
    limiter = state.limits.operator_messages

    async def work(session):
        visitor = await queries.get_visitor(session, operator.app_id, frame.visitorId)
        if visitor is None:
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such visitor")
        protocol.check_message_body(frame.text, None)
        if not limiter.allowed(operator.id):
            raise protocol.rate_limited("messages", limiter.retry_after(operator.id))
        stored = await visitor_queries.start_chat(session, operator, visitor, frame.clientId, frame.text)
        if stored.created:
            limiter.hit(operator.id)
        return stored

    try:
        stored = await delivery.write(state.db, work)
    except protocol.FrameError as error:
        await tab.outbox.send(protocol.refusal(error, clientId=frame.clientId))
        return
    except visitor_queries.ChatAlreadyOpen as already:
        await tab.outbox.send(protocol.error(
            protocol.E_CONFLICT, "the visitor already has an open chat: write there",
            clientId=frame.clientId, openChatId=already.chat.id))
        return
    if stored.created:
        await delivery.publish(state.fanout, operator.app_id, stored.chat.visitor_id, stored.events)
    answer = protocol.ack(frame.clientId, stored.message_dict())
    answer["chat"] = wire.chat_dict(stored.chat)
    await tab.outbox.send(answer)


def routes() -> list[Route]:
    """This module's HTTP routes (parley.web.app adds them)."""
    return [
        Route("/api/operator/visitors/online", online),
        Route("/api/operator/visitors/{visitor_id}", visitor_detail),
        Route("/api/operator/visitors/{visitor_id}", visitor_update, methods=["PATCH"]),
        Route("/api/operator/search", search),
        Route("/api/operator/profile", profile),
        Route("/api/operator/me", update_me, methods=["PATCH"]),
    ]
