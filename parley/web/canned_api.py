"""The inbox's canned responses (saved replies, inserted by typing /shortcut) and
the people a chat can be assigned to.

- `GET /api/operator/canned` lists the app's canned responses;
- `POST /api/operator/canned` `{shortcut, text}` adds one (201);
- `PATCH /api/operator/canned/{id}` `{shortcut?, text?}` changes one;
- `DELETE /api/operator/canned/{id}` removes one;
- `GET /api/operator/assignees`: the app's operators (with presence) and teams.

Every request needs the operator session cookie and only ever sees its own app's
data (another app's id is 404, like an unknown one). Writes need an `Origin` equal
to this server's own (CSRF: the cookie rides along from any site). Any operator may
add, change and delete. After a write every inbox of the app gets a live
`canned.changed` frame, so they reload the list. See docs/protocol.md.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from parley import fanout as channels
from parley import protocol, wire
from parley.storage import canned_queries, operator_queries
from parley.storage.errors import LimitReached
from parley.web.inbox_api import _error, _json, _operator_or_error

SHORTCUT = re.compile(r"[a-z0-9_-]{1,64}\Z")
MAX_TEXT = protocol.MAX_TEXT
MAX_PER_APP = 1000
MAX_BODY = 64 * 1024


async def _operator(request: Request, write: bool):
    """(operator, None) or (None, the error answer): Origin first on writes, then the session."""
    return await _operator_or_error(
        request, "change canned responses from this server's own inbox" if write else None)


async def _body(request: Request, partial: bool) -> dict | JSONResponse:
    """The checked `{shortcut, text}` of a write (fields optional when `partial`), or an error."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, protocol.E_BAD_FRAME, "send JSON: {shortcut, text}")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(413, protocol.E_TOO_LARGE, f"requests are limited to {MAX_BODY} bytes")
    try:
        body = protocol.strict_json(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _error(400, protocol.E_BAD_FRAME, "send JSON: {shortcut, text}")
    fields = {}
    if "shortcut" in body or not partial:
        shortcut = body.get("shortcut")
        if not isinstance(shortcut, str) or not SHORTCUT.match(shortcut):
            return _error(400, protocol.E_BAD_FRAME,
                          "shortcut must be 1..64 characters of a-z, 0-9, _ and - (typed after /)")
        fields["shortcut"] = shortcut
    if "text" in body or not partial:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return _error(400, protocol.E_BAD_FRAME, f"text must be 1..{MAX_TEXT} characters")
        fields["text"] = text.strip()
    if not fields:
        return _error(400, protocol.E_BAD_FRAME, "send shortcut, text or both")
    return fields


def _taken(shortcut: str) -> JSONResponse:
    return _error(409, protocol.E_CONFLICT, f"the shortcut /{shortcut} is taken: choose another")


async def _changed(request: Request, app_id: str) -> None:
    """Tells every inbox of the app to reload its canned responses."""
    await request.app.state.fanout.publish(channels.app_channel(app_id), protocol.frame("canned.changed"))


async def canned(request: Request) -> Response:
    """GET: the list; POST: a new one."""
    operator, problem = await _operator(request, write=request.method == "POST")
    if problem is not None:
        return problem
    if request.method == "GET":
        async with request.app.state.db.session() as session:
            rows = await canned_queries.list_canned(session, operator.app_id)
        return _json({"responses": [wire.canned_dict(row) for row in rows]})
    fields = await _body(request, partial=False)
    if isinstance(fields, JSONResponse):
        return fields
    async with request.app.state.db.session() as session:
        try:
            row = await canned_queries.create_canned(session, operator.app_id, fields["shortcut"],
                                                     fields["text"], most=MAX_PER_APP)
        except LimitReached:
            return _error(400, protocol.E_BAD_FRAME, f"an app has at most {MAX_PER_APP} canned responses")
        except canned_queries.ShortcutTaken as taken:
            return _taken(taken.shortcut)
    await _changed(request, operator.app_id)
    return _json({"response": wire.canned_dict(row)}, 201)


async def canned_item(request: Request) -> Response:
    """PATCH: change one; DELETE: remove one."""
    operator, problem = await _operator(request, write=True)
    if problem is not None:
        return problem
    fields = None
    if request.method == "PATCH":
        fields = await _body(request, partial=True)
        if isinstance(fields, JSONResponse):
            return fields
    async with request.app.state.db.session() as session:
        row = await canned_queries.get_canned(session, operator.app_id, request.path_params["canned_id"][:64])
        if row is None:
            return _error(404, protocol.E_NOT_FOUND, "no such canned response")
        if fields is None:
            await canned_queries.delete_canned(session, row)
            answer = _json({"deleted": row.id})
        else:
            try:
                await canned_queries.update_canned(session, row, fields)
            except canned_queries.ShortcutTaken as taken:
                return _taken(taken.shortcut)
            answer = _json({"response": wire.canned_dict(row)})
    await _changed(request, operator.app_id)
    return answer


async def assignees(request: Request) -> Response:
    """Who a chat can go to: the app's operators (id, name, online) and teams (with members)."""
    operator, problem = await _operator(request, write=False)
    if problem is not None:
        return problem
    async with request.app.state.db.session() as session:
        operators = await operator_queries.list_operators(session, operator.app_id)
        teams = await operator_queries.list_teams(session, operator.app_id, by_name=True)
        members = await operator_queries.team_members_of_app(session, operator.app_id) if teams else {}
    return _json({
        "operators": [{**wire.public_operator_dict(o), "online": o.presence == "online"}
                      for o in operators],
        "teams": [{"id": team.id, "name": team.name, "operatorIds": sorted(members.get(team.id, []))}
                  for team in teams],
    })
