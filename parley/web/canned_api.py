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
from starlette.responses import Response

from parley import fanout as channels
from parley import protocol, wire
from parley.storage import canned_queries, operator_queries
from parley.storage.errors import LimitReached
from parley.web.json_api import ApiError, answer, read_json
from parley.web.sessions import current_operator

SHORTCUT = re.compile(r"[a-z0-9_-]{1,64}\Z")
MAX_TEXT = protocol.MAX_TEXT
MAX_PER_APP = 1000
MAX_BODY = 64 * 1024


async def _operator(request: Request, write: bool):
    return await current_operator(
        request, change="change canned responses from this server's own inbox" if write else None)


async def _body(request: Request, partial: bool) -> dict:
    """The checked `{shortcut, text}` of a write (fields optional when `partial`)."""
    body = await read_json(request, MAX_BODY, usage="send JSON: {shortcut, text}")
    fields = {}
    if "shortcut" in body or not partial:
        shortcut = body.get("shortcut")
        if not isinstance(shortcut, str) or not SHORTCUT.match(shortcut):
            raise ApiError(400, protocol.E_BAD_FRAME,
                           "shortcut must be 1..64 characters of a-z, 0-9, _ and - (typed after /)")
        fields["shortcut"] = shortcut
    if "text" in body or not partial:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ApiError(400, protocol.E_BAD_FRAME, f"text must be 1..{MAX_TEXT} characters")
        fields["text"] = text.strip()
    if not fields:
        raise ApiError(400, protocol.E_BAD_FRAME, "send shortcut, text or both")
    return fields


def _taken(shortcut: str) -> ApiError:
    return ApiError(409, protocol.E_CONFLICT, f"the shortcut /{shortcut} is taken: choose another")


async def _changed(request: Request, app_id: str) -> None:
    """Tells every inbox of the app to reload its canned responses."""
    await request.app.state.fanout.publish(channels.app_channel(app_id), protocol.frame("canned.changed"))


async def canned(request: Request) -> Response:
    """GET: the list; POST: a new one."""
    operator = await _operator(request, write=request.method == "POST")
    if request.method == "GET":
        async with request.app.state.db.session() as session:
            rows = await canned_queries.list_canned(session, operator.app_id)
        return answer({"responses": [wire.canned_dict(row) for row in rows]})
    fields = await _body(request, partial=False)
    async with request.app.state.db.session() as session:
        try:
            row = await canned_queries.create_canned(session, operator.app_id, fields["shortcut"],
                                                     fields["text"], most=MAX_PER_APP)
            await session.commit()
        except LimitReached:
            raise ApiError(400, protocol.E_BAD_FRAME,
                           f"an app has at most {MAX_PER_APP} canned responses") from None
        except canned_queries.ShortcutTaken as taken:
            raise _taken(taken.shortcut) from None
    await _changed(request, operator.app_id)
    return answer({"response": wire.canned_dict(row)}, 201)


async def canned_item(request: Request) -> Response:
    """PATCH: change one; DELETE: remove one."""
    operator = await _operator(request, write=True)
    fields = None
    if request.method == "PATCH":
        fields = await _body(request, partial=True)
    async with request.app.state.db.session() as session:
        row = await canned_queries.get_canned(session, operator.app_id, request.path_params["canned_id"][:64])
        if row is None:
            raise ApiError(404, protocol.E_NOT_FOUND, "no such canned response")
        if fields is None:
            await canned_queries.delete_canned(session, row)
            await session.commit()
            result = answer({"deleted": row.id})
        else:
            try:
                await canned_queries.update_canned(session, row, fields)
                await session.commit()
            except canned_queries.ShortcutTaken as taken:
                raise _taken(taken.shortcut) from None
            result = answer({"response": wire.canned_dict(row)})
    await _changed(request, operator.app_id)
    return result


async def assignees(request: Request) -> Response:
    """Who a chat can go to: the app's operators (id, name, online) and teams (with members)."""
    operator = await _operator(request, write=False)
    async with request.app.state.db.session() as session:
        operators = await operator_queries.list_operators(session, operator.app_id)
        teams = await operator_queries.list_teams(session, operator.app_id, by_name=True)
        members = await operator_queries.team_members_of_app(session, operator.app_id) if teams else {}
    return answer({
        "operators": [{**wire.public_operator_dict(o), "online": o.presence == "online"}
                      for o in operators],
        "teams": [{"id": team.id, "name": team.name, "operatorIds": sorted(members.get(team.id, []))}
                  for team in teams],
    })
