"""Scaling out: PostgreSQL instead of SQLite, Redis between server processes.

The servers are real and throwaway (tests/services.py, on 127.0.0.1): PostgreSQL
started once per test run with a fresh migrated database per test, Redis once
per run (or per test when the test stops it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from parley import delivery
from parley.fanout import RESYNC, Overflow
from parley.redis_fanout import RedisFanout
from parley.storage import app_queries, event_log, message_store, visitor_store
from parley.storage.models import Chat, Message, Operator, OperatorSocket
from tests import services
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.real_sockets import Endpoints, ack_of, event_of, event_texts, fed, send_frame
from tests.helpers.server import SITE, two_servers_on
from tests.helpers.waiting import wait_until_async

# -- PostgreSQL: concurrent writers ---------------------------------------------------------

async def test_concurrent_writes_of_one_visitor_serialise_on_postgresql(pg_url):
    """Many first messages at once (some resends): one open chat, each clientId stored once,
    seqs 1..n without gaps. SQLite serialises writers itself; PostgreSQL needs the row lock."""
    from parley.storage.db import Database

    database = Database(pg_url, pool_size=10)
    try:
        async with database.session() as session:
            app = await app_queries.create_app(session, "Shop", [SITE])
            visitor = await visitor_store.resume_or_register_visitor(session, app.id, None, None)
            await session.commit()

        async def send(client_id: str):
            async def work(session):
                fresh = await session.get(type(visitor), visitor.id)
                stored = await message_store.add_visitor_message(session, fresh, client_id,
                                                                 f"text {client_id}")
                await session.commit()
                return stored
            return await delivery.write(database, work)

        client_ids = [f"c-{n % 6}" for n in range(12)]  # every clientId twice
        stored = await asyncio.gather(*(send(client_id) for client_id in client_ids))
        async with database.session() as session:
            chats = (await session.scalars(select(Chat).where(Chat.visitor_id == visitor.id))).all()
            count = await session.scalar(select(func.count()).select_from(Message))
            events = await event_log.events_after(session, visitor.id, 0)
    finally:
        await database.close()
    assert len(chats) == 1 and chats[0].status == "open"
    assert count == 6
    assert len({s.message.id for s in stored}) == 6
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert sorted(e.kind for e in events) == ["chat.started"] + ["message"] * 6


# -- Redis fan-out ------------------------------------------------------------------------------

async def _received(subscription, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(subscription.__anext__(), timeout)


async def _nothing_more(channel: str, subscriptions, publishers) -> None:
    """Nothing else came or is on its way to these subscriptions: a marker published now by
    every process (to its own subscribers directly, to the others' through Redis) is what
    each of them receives next, once. Redis hands a connection its messages in publish
    order, so anything published before the markers would have come first."""
    markers = [{"marker": n} for n in range(len(publishers))]
    for publisher, marker in zip(publishers, markers, strict=True):
        await publisher.publish(channel, marker)
    for subscription in subscriptions:
        got = [await _received(subscription) for _ in markers]
        assert sorted(str(item) for item in got) == sorted(str(marker) for marker in markers)


async def test_redis_fanout_reaches_other_processes_once(redis_server):
    one, two = RedisFanout(redis_server.url), RedisFanout(redis_server.url)
    await one.start()
    await two.start()
    try:
        assert one.up and two.up
        here, there = one.subscribe("visitor:x"), two.subscribe("visitor:x")
        await asyncio.gather(here.ready(), there.ready())
        await one.publish("visitor:x", {"seq": 1})
        await two.publish("visitor:x", {"seq": 2})
        # Each subscriber gets each publish once: its own process's directly, the other's via Redis.
        assert sorted([(await _received(here))["seq"], (await _received(here))["seq"]]) == [1, 2]
        assert sorted([(await _received(there))["seq"], (await _received(there))["seq"]]) == [1, 2]
        await _nothing_more("visitor:x", (here, there), (one, two))
        # Closing the last local subscriber unsubscribes this process in Redis.
        await there.close()
        await one.publish("visitor:x", {"seq": 3})
        assert (await _received(here))["seq"] == 3
    finally:
        await one.close()
        await two.close()


async def test_redis_fanout_overflow_is_the_same_as_in_process(redis_server):
    slow_hub, publisher = RedisFanout(redis_server.url, queue_size=3), RedisFanout(redis_server.url)
    await slow_hub.start()
    await publisher.start()
    try:
        slow = slow_hub.subscribe("app:y")
        await slow.ready()
        for n in range(10):
            await publisher.publish("app:y", {"n": n})
        with pytest.raises(Overflow):
            while True:
                await _received(slow)
        assert slow_hub.subscriber_count("app:y") == 0
    finally:
        await slow_hub.close()
        await publisher.close()


async def test_redis_fanout_survives_redis_going_away():
    redis = services.started(services.start_redis, "Redis")
    one = RedisFanout(redis.url, backoff_max=0.3)
    two = RedisFanout(redis.url, backoff_max=0.3)
    try:
        await one.start()
        await two.start()
        here, local = one.subscribe("visitor:z"), two.subscribe("visitor:z")
        await asyncio.gather(here.ready(), local.ready())

        redis.stop()
        await wait_until_async(lambda: not one.up and not two.up, what="both fanouts down")
        # Away: publishes to other processes are dropped (no error), this process's still arrive.
        await two.publish("visitor:z", {"n": "while away"})
        assert (await _received(local))["n"] == "while away"
        assert two.dropped >= 1
        # (That `here` never gets it, not even once Redis is back, is checked below.)

        redis.start()  # same port
        await wait_until_async(lambda: one.up and two.up, what="both fanouts up")
        await here.ready()  # subscribed again on the new connection
        await two.publish("visitor:z", {"n": "back"})
        # Every subscriber of both processes is also told to catch up from the database
        # (RESYNC: what other processes published meanwhile is lost), once, in either order.
        for subscription in (here, local):
            got = [await _received(subscription), await _received(subscription)]
            assert sorted(str(item) for item in got) == sorted([str(RESYNC), str({"n": "back"})])
        await _nothing_more("visitor:z", (here, local), (one, two))
        assert two.dropped == 0  # reset once the outage was logged as over
    finally:
        await one.close()
        await two.close()
        redis.close()


# -- two real servers, one PostgreSQL, one Redis -----------------------------------------------

async def _frames_until(ws, want, timeout: float = 10.0) -> list[dict]:
    """Frames up to and including the first one `want` accepts."""
    seen = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        seen.append(frame)
        if want(frame):
            return seen


async def _scalar(pg_url: str, query):
    from sqlalchemy.pool import NullPool

    from parley.storage.db import Database

    database = Database(pg_url, poolclass=NullPool)
    try:
        async with database.session() as session:
            return await session.scalar(query)
    finally:
        await database.close()


async def test_two_servers_share_postgresql_and_redis(two_servers, pg_url):
    a, b, app = two_servers
    on_a, on_b = Endpoints(a, app), Endpoints(b, app)
    cookie = on_b.login()  # the session is in the database: good on A too
    seen: list[dict] = []  # every frame the visitor's first socket (on A) got
    feed: list[dict] = []  # every frame the operator's socket (on B) got
    async with contextlib.AsyncExitStack() as sockets:
        guest = await sockets.enter_async_context(on_a.visitor())
        welcome = await on_a.hello(guest, lastSeq=0)
        assert welcome["online"] is False  # nobody in the inbox yet
        op = await sockets.enter_async_context(on_b.operator(cookie))
        await send_frame(op, "subscribe")
        feed += await _frames_until(op, lambda f: f["type"] == "subscribed")

        # Presence crosses processes: Ann came online on B, the visitor on A hears it.
        seen += await _frames_until(guest, lambda f: f["type"] == "online")
        assert seen[-1]["online"] is True

        # Visitor (A) -> operator (B) and back, live.
        await send_frame(guest, "message.send", clientId="v-1", text="hello from A")
        feed += await _frames_until(op, fed("v-1"))
        chat_id = feed[-1]["chatId"]
        await send_frame(op, "message.send", chatId=chat_id, clientId="o-1", text="hello from B")
        seen += await _frames_until(guest, event_of("o-1"))
        feed += await _frames_until(op, ack_of("o-1"))

        # Ann also opens an inbox on A and closes it again: she is still online (on B).
        open_sockets = select(func.count()).select_from(OperatorSocket)
        async with on_a.operator(cookie) as second_tab:
            await send_frame(second_tab, "subscribe")
            await _frames_until(second_tab, lambda f: f["type"] == "subscribed")
            assert await _scalar(pg_url, open_sockets) == 2
        deadline = time.monotonic() + 10
        while await _scalar(pg_url, open_sockets) != 1:  # a query per poll: not a plain predicate
            assert time.monotonic() < deadline, "the closed inbox socket was never forgotten"
            await asyncio.sleep(0.05)  # the poll interval of a condition with a deadline
        assert await _scalar(pg_url, select(Operator.presence)) == "online"
        async with on_a.visitor() as newcomer:
            assert (await on_a.hello(newcomer))["online"] is True

        # The visitor has read up to here ...
        await send_frame(guest, "message.send", clientId="v-2", text="still here")
        seen += await _frames_until(guest, ack_of("v-2"))
        seen += await _frames_until(guest, event_of("v-2"))
        assert not [f for f in seen if f["type"] == "online" and f["online"] is False]
        last_seq = max(f["seq"] for f in seen if f["type"] == "event")

        # ... Ann writes on, unread, and A dies without a goodbye.
        for n in range(2, 5):
            await send_frame(op, "message.send", chatId=chat_id, clientId=f"o-{n}", text=f"reply {n}")
        feed += await _frames_until(op, ack_of("o-4"))
        a.process.kill()
        a.process.wait(10)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(guest.recv(), 10)

        # While the visitor is away, more replies: B still serves.
        for n in range(5, 7):
            await send_frame(op, "message.send", chatId=chat_id, clientId=f"o-{n}", text=f"reply {n}")
        feed += await _frames_until(op, ack_of("o-6"))

        # The visitor reconnects to B with lastSeq: exactly what it missed, then live again.
        async with on_b.visitor() as guest:
            again = await on_b.hello(guest, lastSeq=last_seq, visitorId=welcome["visitorId"],
                                     visitorToken=welcome["visitorToken"])
            assert again["visitorId"] == welcome["visitorId"] and again["online"] is True
            replayed = await _frames_until(guest, lambda f: f["type"] == "event" and f["seq"] == again["seq"])
            await send_frame(guest, "message.send", clientId="v-3", text="back on B")
            feed += await _frames_until(op, fed("v-3"))
            await send_frame(op, "message.send", chatId=chat_id, clientId="o-7", text="welcome back")
            live = await _frames_until(guest, event_of("o-7"))

    missed = [f"reply {n}" for n in range(2, 7)]
    replayed_seqs = [f["seq"] for f in replayed if f["type"] == "event"]
    assert replayed_seqs == list(range(last_seq + 1, again["seq"] + 1))  # in order, none from before
    texts = event_texts(replayed)
    lost = [t for t in missed if t not in texts]
    duplicated = len(texts) - len(set(texts))
    assert (len(lost), duplicated) == (0, 0)
    assert texts == missed
    # Every message reached the other side once.
    assert event_texts(seen).count("hello from B") == 1 and event_texts(live).count("welcome back") == 1
    from_visitor = [f["message"]["text"] for f in feed if f["type"] == "message"]
    assert from_visitor.count("hello from A") == 1 and from_visitor.count("back on B") == 1
    every_seq = [f["seq"] for f in [*seen, *replayed, *live] if f["type"] == "event"]
    assert len(every_seq) == len(set(every_seq))


@pytest.fixture
def two_servers_own_redis(tmp_path, built_dist, pg_url):
    """As two_servers, with a Redis of this test's own: it is stopped and started again."""
    redis = services.started(services.start_redis, "Redis")
    try:
        with two_servers_on(tmp_path, pg_url, redis.url, PASSWORD) as (a, b, app):
            yield a, b, app, redis
    finally:
        redis.close()


async def test_after_a_redis_outage_operators_and_visitors_catch_up(two_servers_own_redis):
    """Issue 12: the operators' feed must not depend on Redis for correctness. While Redis
    is away, what one process stores never reaches the other's sockets (pub/sub keeps
    nothing). Once it is back, the operator's socket is told `subscribed` again (the
    inbox reloads what it shows, as after its own reconnect) and the visitor's socket
    reads the events it missed, with no new event to reveal the gap."""
    a, b, app, redis = two_servers_own_redis
    on_a, on_b = Endpoints(a, app), Endpoints(b, app)
    cookie = on_b.login()
    async with on_a.visitor() as guest, on_b.operator(cookie) as op:
        await on_a.hello(guest)
        await send_frame(op, "subscribe")
        await _frames_until(op, lambda f: f["type"] == "subscribed")
        await send_frame(guest, "message.send", clientId="v-1", text="before")
        chat_id = (await _frames_until(op, fed("v-1")))[-1]["chatId"]

        redis.stop()
        # Each side stores while the other can't hear it (acks come from their own process).
        await send_frame(guest, "message.send", clientId="v-2", text="while Redis is away")
        await _frames_until(guest, ack_of("v-2"))
        await send_frame(op, "message.send", chatId=chat_id, clientId="o-1", text="answer while away")
        await _frames_until(op, ack_of("o-1"))

        redis.start()  # same port
        # The operator's feed says `subscribed` again: reload. The visitor's stream reads
        # the operator's answer from the database.
        await _frames_until(op, lambda f: f["type"] == "subscribed", timeout=30)
        seen = await _frames_until(guest, event_of("o-1"), timeout=30)
        assert seen[-1]["event"]["message"]["text"] == "answer while away"
        # And the inbox's reload finds the visitor's message it never heard of.
        await send_frame(op, "history", chatId=chat_id)
        history = (await _frames_until(op, lambda f: f["type"] == "history"))[-1]
        assert "while Redis is away" in [m["text"] for m in history["messages"]]
