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
from parley.web.json_api import ApiError, answer, read_json
from parley.web.sessions import current_operator

STATUSES = ("online", "away", "offline")
USAGE = "status must be online, away or offline"


async def set_presence(request: Request) -> JSONResponse:
    operator = await current_operator(request, change="change your status from this server's own pages")
    # Any Content-Type, as ever: the inbox's PUT is all this takes, and Origin guards it.
    body = await read_json(request, usage=USAGE, require_json_type=False)
    status = body.get("status")
    if status not in STATUSES:
        raise ApiError(400, protocol.E_BAD_FRAME, USAGE)
    operator_id, app_id = operator.id, operator.app_id

    async def work(session):
        me = await operator_queries.get_operator(session, app_id, operator_id)
        changed = await presence_queries.choose_status(session, me, status)
        await session.commit()
        return changed

    before, after, presence = await delivery.write(request.app.state.db, work)
    hub = request.app.state.fanout
    if before != after:
        await hub.publish(channels.app_visitors_channel(operator.app_id),
                          protocol.frame("online", online=after))
    await hub.publish(channels.app_channel(operator.app_id), protocol.frame(
        "operator.presence", operatorId=operator.id, status=status, presence=presence))
    return answer({"status": status, "presence": presence, "appOnline": after})
