"""Operator presence across server processes (parley.presence): sockets counted in the database."""

from __future__ import annotations

from datetime import timedelta

from parley.fanout import InProcessFanout, app_visitors_channel
from parley.presence import Presence
from parley.storage import app_queries, operator_queries, presence_queries
from parley.storage.models import Operator, utcnow
from tests.helpers.db import OPERATOR_PASSWORD


async def _setup(database):
    async with database.session() as session:
        app = await app_queries.create_app(session, "Shop", [])
        ann = await operator_queries.create_operator(session, app.id, "ann@shop.example", OPERATOR_PASSWORD,
                                                     "Ann")
        await session.commit()
    return app, ann


async def _presence(database, operator_id: str) -> str:
    async with database.session() as session:
        return (await session.get(Operator, operator_id)).presence


def _frames(subscription) -> list[dict]:
    return subscription.pending()


async def test_an_operator_open_on_two_processes_stays_online_until_both_close(database):
    app, ann = await _setup(database)
    hub = InProcessFanout()  # stands in for Redis: both "processes" publish to the same visitors
    visitors = hub.subscribe(app_visitors_channel(app.id))
    a, b = Presence(database, hub), Presence(database, hub)
    on_a = await a.opened(ann)
    on_b = await b.opened(ann)
    assert await _presence(database, ann.id) == "online"
    assert _frames(visitors) == [{"v": 1, "type": "online", "online": True}]  # once, not per socket

    await a.closed(ann, on_a)  # B still has a socket: nothing changes for visitors
    assert await _presence(database, ann.id) == "online"
    assert _frames(visitors) == []
    async with database.session() as session:
        assert await presence_queries.app_online(session, app.id)

    await b.closed(ann, on_b)
    assert await _presence(database, ann.id) == "offline"
    assert _frames(visitors) == [{"v": 1, "type": "online", "online": False}]
    await database.close()


async def test_the_sockets_of_a_dead_process_expire_and_are_swept_by_another(database):
    app, ann = await _setup(database)
    hub = InProcessFanout()
    visitors = hub.subscribe(app_visitors_channel(app.id))
    dead, alive = Presence(database, hub), Presence(database, hub)
    await dead.opened(ann)  # ... and then the process is SIGKILLed: it never closes, never renews
    _frames(visitors)

    await alive.heartbeat(utcnow() + timedelta(seconds=30))  # within the lease: still online
    assert await _presence(database, ann.id) == "online"
    await alive.heartbeat(utcnow() + dead.lease + timedelta(seconds=1))
    assert await _presence(database, ann.id) == "offline"
    assert _frames(visitors) == [{"v": 1, "type": "online", "online": False}]
    await database.close()


async def test_a_stalled_process_restores_its_swept_sockets(database):
    _app, ann = await _setup(database)
    hub = InProcessFanout()
    stalled, other = Presence(database, hub), Presence(database, hub)
    await stalled.opened(ann)
    await other.heartbeat(utcnow() + stalled.lease + timedelta(seconds=1))  # swept meanwhile
    assert await _presence(database, ann.id) == "offline"
    await stalled.heartbeat()  # its socket is still open: it records it again
    assert await _presence(database, ann.id) == "online"
    await database.close()


async def test_renewing_keeps_a_live_process_online(database):
    _app, ann = await _setup(database)
    hub = InProcessFanout()
    live = Presence(database, hub)
    await live.opened(ann)
    later = utcnow() + live.lease - timedelta(seconds=5)
    await live.heartbeat(later)  # renews to later + lease
    await Presence(database, hub).heartbeat(later + timedelta(seconds=30))
    assert await _presence(database, ann.id) == "online"
    await database.close()
