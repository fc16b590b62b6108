"""The message hot path (parley.storage.messages through Database.run), on SQLite and
PostgreSQL: the same rows and events as the general path, once per clientId, and
nothing written when it hands over to the general path."""

from __future__ import annotations

import asyncio
import functools

import pytest
from sqlalchemy import func, select

from parley import identity, protocol, wire
from parley.ratelimit import Charge, RateLimiter
from parley.storage import app_queries, event_log, message_store, messages, operator_queries, visitor_store
from parley.storage.models import Event, File, Message, Visitor


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database")
    return request.getfixturevalue("pg_database")


async def _setup(db):
    async with db.session() as session:
        app = await app_queries.create_app(session, "Unit", [])
        operator = await operator_queries.create_operator(session, app.id, "op@example.com",
                                                          "pw-long-enough-1", "Op")
        visitor = await visitor_store.register_visitor(session, app.id)
        other = await visitor_store.register_visitor(session, app.id)
        await session.commit()
    return app, operator, visitor, other


async def _count(db, model, *where) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


def run(db, scenario):
    async def go():
        try:
            await scenario(*await _setup(db))
        finally:
            await db.close()
    asyncio.run(go())


async def first_message(session, visitor):
    """The visitor's first message, through the general path (it opens the chat)."""
    visitor_row = await session.get(Visitor, visitor.id)
    stored = await message_store.add_visitor_message(session, visitor_row, "c0", "hi")
    await session.commit()
    return stored


def visitor_unit(visitor, client_id, text="hello", file_id=None):
    return functools.partial(messages.store_visitor_message, visitor_id=visitor.id, app_id=visitor.app_id,
                             client_id=client_id, text=text, file_id=file_id)


def test_no_open_chat_hands_over_and_writes_nothing(db):
    async def scenario(app, operator, visitor, other):
        assert await db.run(visitor_unit(visitor, "c1")) is None
        assert await _count(db, Message) == 0
        assert await _count(db, Event) == 0
        async with db.session() as session:
            assert (await session.get(Visitor, visitor.id)).last_event_seq == 0
    run(db, scenario)


def test_a_message_in_the_open_chat_is_stored_once_with_its_event(db):
    async def scenario(app, operator, visitor, other):
        async with db.session() as session:
            first = await first_message(session, visitor)
        written = await db.run(visitor_unit(visitor, "c1", "second"))
        assert written.created and [e.seq for e in written.events] == [first.events[-1].seq + 1]
        shown = written.message_dict()
        assert (shown["chatId"], shown["text"], shown["clientId"], shown["authorKind"]) == (
            first.chat.id, "second", "c1", "visitor")
        again = await db.run(visitor_unit(visitor, "c1", "second"))
        assert not again.created and again.events == [] and again.message_dict() == shown
        # The stored event is what the general path would store: what a resume replays.
        async with db.session() as session:
            replay = await event_log.events_after(session, visitor.id, first.events[-1].seq)
        assert [(e.seq, wire.event_body(e)) for e in replay] == [
            (written.events[0].seq, {"type": "message", "message": shown})]
        assert await _count(db, Message, Message.client_message_id == "c1") == 1
    run(db, scenario)


def test_another_visitors_file_is_refused(db):
    async def scenario(app, operator, visitor, other):
        async with db.session() as session:
            await first_message(session, visitor)
            session.add(File(id=identity.new_id(), app_id=app.id, visitor_id=other.id,
                             uploader_kind="visitor", uploader_id=other.id, name="x.png",
                             content_type="image/png", size=1, sha256="0"))
            await session.commit()
            file_id = (await session.scalars(select(File.id))).one()
        with pytest.raises(messages.FileRefused):
            await db.run(visitor_unit(visitor, "c1", "", file_id))
        assert await _count(db, Message) == 1
    run(db, scenario)


def test_an_operator_answer_joins_the_chat_and_checks_only_new_messages(db):
    async def scenario(app, operator, visitor, other):
        async with db.session() as session:
            first = await first_message(session, visitor)
        checked = []

        def unit(client_id, text, app_id=app.id, chat_id=first.chat.id):
            return functools.partial(messages.store_operator_message, operator_id=operator.id, app_id=app_id,
                                     chat_id=chat_id, client_id=client_id, text=text, file_id=None,
                                     check_new=lambda: checked.append(client_id))

        assert await db.run(unit("o1", "x", app_id="another-app")) is None
        written = await db.run(unit("o1", "hello"))
        assert written.created and written.joined and operator.id in written.chat.operator_ids
        assert wire.chat_dict(written.chat)["operatorIds"][-1] == operator.id
        resent = await db.run(unit("o1", "hello"))
        assert not resent.created and not resent.joined
        assert checked == ["o1"]
        second = await db.run(unit("o2", "more"))
        assert second.created and not second.joined

        def refuse():
            raise protocol.FrameError(protocol.E_BAD_FRAME, "no")

        with pytest.raises(protocol.FrameError):
            await db.run(functools.partial(
                messages.store_operator_message, operator_id=operator.id, app_id=app.id,
                chat_id=first.chat.id, client_id="o3", text="", file_id=None, check_new=refuse))
        assert await _count(db, Message, Message.author_kind == "operator") == 2
    run(db, scenario)


def test_a_refunded_charge_gives_its_hits_back():
    per_visitor, per_ip = RateLimiter(2, 60), RateLimiter(5, 60)
    charge = Charge((per_visitor, "v"), (per_ip, "ip"))
    assert charge.pay()
    charge.refund()
    charge.refund()  # twice is harmless
    assert Charge((per_visitor, "v"), (per_ip, "ip")).pay()
    assert Charge((per_visitor, "v"), (per_ip, "ip")).pay()
    assert not Charge((per_visitor, "v"), (per_ip, "ip")).pay()


# Group commit is SQLite's writer thread (Database._writer); PostgreSQL runs each unit alone.
@pytest.mark.sqlite_only
def test_units_that_arrive_together_commit_together_and_fail_alone(database):
    """SQLite's group commit: 40 visitors' messages at once run in fewer transactions than
    units; a unit that fails (here: another visitor's file) rolls back alone."""
    async def scenario(app, operator, visitor, other):
        visitors = [visitor, other]
        async with database.session() as session:
            for _ in range(38):
                visitors.append(await visitor_store.register_visitor(session, app.id))
            for each in visitors:
                await first_message(session, each)
            session.add(File(id="f" * 32, app_id=app.id, visitor_id=other.id, uploader_kind="visitor",
                             uploader_id=other.id, name="x.png", content_type="image/png", size=1,
                             sha256="0"))
            await session.commit()
        def writes_then_fails(connection):
            visitor_unit(other, "c3", "half done")(connection)
            raise RuntimeError("after a write")

        units = [database.run(visitor_unit(each, "c1", "together")) for each in visitors]
        units.insert(20, database.run(writes_then_fails))
        units.append(database.run(visitor_unit(visitor, "c2", "", "f" * 32)))
        outcomes = await asyncio.gather(*units, return_exceptions=True)
        assert isinstance(outcomes.pop(20), RuntimeError)
        assert all(o.created for o in outcomes[:-1]) and isinstance(outcomes[-1], messages.FileRefused)
        assert await _count(database, Message, Message.text == "together") == 40
        assert await _count(database, Message, Message.client_message_id.in_(["c2", "c3"])) == 0
        writer = database._writer
        assert writer.units == 42 and writer.batches < writer.units
    run(database, scenario)
