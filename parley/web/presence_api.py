"""`PUT /api/operator/presence`: the operator chooses online, away or offline.

Online takes chats while an inbox is open; away stays connected but takes no new
chats (and does not make the app online); offline looks offline to everyone even
while connected. The widget's online state follows at once, on every process.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import delivery, protocol
from parley import fanout as channels
from parley.storage import operator_queries, presence_queries
from parley.web.inbox_api import _error, _json, _operator
from parley.web.operator_api import own_origin

STATUSES = ("online", "away", "offline")


async def set_presence(request: Request) -> JSONResponse:
    if request.headers.get("origin") != own_origin(request):
        return _error(403, protocol.E_ORIGIN, "change your status from this server's own pages")
    operator = await _operator(request)
    if operator is None:
        return _error(401, protocol.E_AUTH, "log in first")
    try:
        body = protocol.strict_json(await request.body())
    except ValueError:
        body = None
    status = body.get("status") if isinstance(body, dict) else None
    if status not in STATUSES:
        return _error(400, protocol.E_BAD_FRAME, "status must be online, away or offline")
    operator_id, app_id = operator.id, operator.app_id

    async def work(session):
        me = await operator_queries.get_operator(session, app_id, operator_id)
        return await presence_queries.choose_status(session, me, status)

    before, after, presence = await delivery.write(request.app.state.db, work)
    hub = request.app.state.fanout
    if before != after:
        await hub.publish(channels.app_visitors_channel(operator.app_id),
                          protocol.frame("online", online=after))
    await hub.publish(channels.app_channel(operator.app_id), protocol.frame(
        "operator.presence", operatorId=operator.id, status=status, presence=presence))
    return _json({"status": status, "presence": presence, "appOnline": after})
