"""Work on a clock: working hours open and close an app live; missed chats are emailed once."""

from __future__ import annotations

import asyncio
import email
from datetime import UTC, datetime, timedelta

from parley import fanout as channels
from parley import hours
from parley.clock import Clock
from parley.fanout import InProcessFanout
from parley.storage import message_store, operator_queries, presence_queries, visitor_store
from parley.storage.models import App, Chat
from tests.helpers.db import old_chat, run
from tests.helpers.sockets import ORIGIN, operator, visitor

MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MONDAY_20_BERLIN = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def set_hours(database, app_id: str, spec: str | None) -> None:
    async def work(session):
        app = await session.get(App, app_id)
        app.working_hours = hours.parse(spec, "Europe/Berlin") if spec else None
        await session.commit()
    run(database, work)


def test_outside_working_hours_the_app_is_offline_even_with_operators(client, make_app, make_operator,
                                                                        database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id):
        with visitor(client, app.id) as open_now:
            assert open_now.first["online"] is True
        # Closed all week but one minute: now is (almost surely) outside.
        set_hours(database, app.id, "mon 00:00-00:01")
        with visitor(client, app.id) as closed:
            assert closed.first["online"] is False


def test_the_clock_announces_opening_and_closing(database, make_app, make_operator):
    app = make_app([ORIGIN])
    ann = make_operator(app.id)
    run(database, lambda s: presence_queries.set_presence(s, ann.id, "online"))
    set_hours(database, app.id, "mon-fri 09:00-17:00")

    async def scenario():
        hub = InProcessFanout()
        feed = hub.subscribe(channels.app_visitors_channel(app.id))
        clock = Clock(database, hub)
        await clock.tick(MONDAY_10_BERLIN)  # first look: remembered, nothing to announce
        await clock.tick(MONDAY_10_BERLIN + timedelta(minutes=1))
        await clock.tick(MONDAY_20_BERLIN)  # closed now
        await clock.tick(MONDAY_20_BERLIN + timedelta(minutes=1))
        await clock.tick(MONDAY_10_BERLIN + timedelta(days=1))  # Tuesday morning: open again
        # A marker published now comes after everything the ticks published (one queue, in order).
        await hub.publish(channels.app_visitors_channel(app.id), {"marker": True})
        frames = []
        while (frame := await asyncio.wait_for(feed.__anext__(), 5)) != {"marker": True}:
            frames.append(frame)
        await feed.close()
        await database.engine.dispose()
        return frames

    frames = asyncio.run(scenario())
    assert [f["online"] for f in frames] == [False, True]


def test_missed_chats_are_mailed_once_to_the_team(database, make_app, make_operator, smtp, monkeypatch):
    monkeypatch.setenv("PARLEY_PUBLIC_URL", "https://chat.shop.example")
    app = make_app([ORIGIN])
    make_operator(app.id)
    make_operator(app.id, "bob@shop.example")
    missed = old_chat(database, app.id, "Hello? Anyone?", 10, "Grace")
    old_chat(database, app.id, "Just asked", 1)  # still inside the 5 minutes

    async def answered_chat():
        async with database.session() as session:
            operator = (await operator_queries.list_operators(session, app.id))[0]
            visitor = await visitor_store.resume_or_register_visitor(session, app.id, None, None)
            stored = await message_store.add_visitor_message(session, visitor, "c-2", "Answered one")
            stored.chat.started_at = datetime.now(UTC) - timedelta(minutes=30)
            await session.commit()
            await message_store.add_operator_message(session, operator, stored.chat, "o-1", "Hi!")
            await session.commit()
        await database.engine.dispose()
    asyncio.run(answered_chat())

    async def ticks():
        clock = Clock(database, InProcessFanout())
        first = await clock.notify_missed_chats(datetime.now(UTC))
        second = await clock.notify_missed_chats(datetime.now(UTC))
        await database.engine.dispose()
        return first, second

    assert asyncio.run(ticks()) == (2, 0)  # both operators, once
    recipients = sorted(m.rcpt_tos[0] for m in smtp.messages)
    assert recipients == ["ann@shop.example", "bob@shop.example"]
    body = email.message_from_bytes(smtp.messages[0].content).get_payload(decode=True).decode()
    assert email.message_from_bytes(smtp.messages[0].content)["Subject"] == "[Test] Missed chat from Grace"
    assert "Grace wrote on Test" in body and "> Hello? Anyone?" in body
    assert "Email: guest@example.org" in body
    assert f"https://chat.shop.example/inbox#chat={missed.id}" in body


def test_without_mail_nothing_is_claimed(database, make_app, monkeypatch):
    monkeypatch.delenv("PARLEY_SMTP_URL", raising=False)
    app = make_app([ORIGIN])
    chat = old_chat(database, app.id, "hi", 10)

    async def tick():
        await Clock(database, InProcessFanout()).tick()
        async with database.session() as session:
            notified = (await session.get(Chat, chat.id)).missed_notified_at
        await database.engine.dispose()
        return notified

    assert asyncio.run(tick()) is None  # configured later, it will still be sent
