"""parley.storage.direct: a Core statement run on the sqlite3 driver gives what
SQLAlchemy's own `Connection.execute` gives: the same rows, values and types (DATETIME
and JSON through SQLAlchemy's processors), the same stored values, and the statements
it can't run faithfully are refused rather than run wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, insert, select, update

from parley.storage import direct, messages
from parley.storage.models import Base, Chat, Event, Message, Visitor, utcnow


@pytest.fixture
def engine(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(Base.metadata.tables["apps"]), {
            "id": "a1", "name": "A", "secret": "s" * 32, "origins": ["https://shop.example"],
            "created_at": utcnow()})
        connection.execute(insert(Visitor.__table__), {
            "id": "v1", "app_id": "a1", "token_hash": "t" * 64, "first_seen_at": utcnow(),
            "last_seen_at": utcnow(), "custom": {"plan": "pro"}, "verified": False, "last_event_seq": 0})
        connection.execute(insert(Chat.__table__), {
            "id": "c1", "app_id": "a1", "visitor_id": "v1", "status": "open", "started_at": utcnow(),
            "operator_ids": ["o1"]})
    yield engine
    engine.dispose()


def both(engine, statement, params):
    """(direct's rows, SQLAlchemy's rows) for one statement, each in its own transaction
    that is rolled back, so both see the same database."""
    out = []
    for run in (direct.execute, lambda c, s, p: c.execute(s, p)):
        with engine.connect() as connection, connection.begin() as transaction:
            result = run(connection, statement, params)
            out.append([tuple(row) for row in result.all()] if statement.is_select else result.rowcount)
            transaction.rollback()
    return out


def test_selects_give_sqlalchemys_rows_with_its_types(engine):
    ours, theirs = both(engine, select(Chat.__table__).where(Chat.__table__.c.id == bindparam("chat_id")),
                        {"chat_id": "c1"})
    assert ours == theirs and len(ours) == 1
    row = dict(zip(Chat.__table__.c.keys(), ours[0], strict=True))
    assert isinstance(row["started_at"], dt.datetime)  # DATETIME text parsed back
    assert row["operator_ids"] == ["o1"]  # JSON decoded
    visitor = both(engine, select(Visitor.__table__).where(Visitor.__table__.c.id == "v1"), {})
    custom = Visitor.__table__.c.keys().index("custom")
    assert visitor[0] == visitor[1] and visitor[0][0][custom] == {"plan": "pro"}


def test_rows_read_by_name_attribute_and_mapping(engine):
    with engine.begin() as connection:
        row = direct.execute(connection, messages._CHAT, {"chat_id": "c1"}).first()
        assert row.id == "c1" and row._mapping["visitor_id"] == "v1" and row[0] == "c1"
        assert direct.execute(connection, messages._CHAT, {"chat_id": "nope"}).first() is None
        assert direct.execute(connection, messages._OPEN_CHAT_ID, {"visitor_id": "v1"}).scalar() == "c1"


def test_writes_store_what_sqlalchemy_stores(engine):
    """The message unit's inserts and updates through direct, read back by SQLAlchemy."""
    with engine.begin() as connection:
        stored = messages.store_visitor_message(connection, "v1", "a1", "k1", "héllo 👋", None)
    assert stored is not None and stored.created and stored.events[0].seq == 1
    with engine.connect() as connection:
        message = connection.execute(select(Message.__table__)).one()
        event = connection.execute(select(Event.__table__)).one()
        seq = connection.execute(select(Visitor.__table__.c.last_event_seq)).scalar_one()
    assert (message.id, message.text, message.client_message_id) == (stored.message.id, "héllo 👋", "k1")
    # SQLite keeps no time zone: read back naive, as SQLAlchemy's own path did (UTC by convention).
    assert message.created_at == stored.message.created_at.replace(tzinfo=None)
    assert event.payload == {"message": stored.message_dict()} and seq == 1
    with engine.begin() as connection:  # the same clientId again: the stored one, nothing written
        again = messages.store_visitor_message(connection, "v1", "a1", "k1", "other", None)
        assert not again.created and again.message.id == message.id and again.message.text == "héllo 👋"
        assert direct.execute(connection, messages._SET_OPERATORS,
                              {"chat_id": "c1", "operator_ids": ["o1", "o2"]}).rowcount == 1
    with engine.connect() as connection:
        assert connection.execute(select(Chat.__table__.c.operator_ids)).scalar_one() == ["o1", "o2"]


def test_a_statement_that_needs_sqlalchemys_defaults_is_refused(engine):
    """Visitor.first_seen_at has a Python-side default: leaving it out would store NULL
    (or fail) here where SQLAlchemy fills it in, so direct refuses instead."""
    with engine.begin() as connection, pytest.raises(ValueError, match="every value"):
        direct.execute(connection, insert(Visitor.__table__), {"id": "v2", "app_id": "a1", "token_hash": "t"})


def test_postgresql_and_other_dialects_go_through_sqlalchemy(engine):
    class NotSqlite:
        class dialect:  # stands in for a Connection's dialect attribute
            name = "postgresql"

        def execute(self, statement, params):
            return ("sqlalchemy", params)

    statement = update(Chat.__table__).values(status="closed")
    assert direct.execute(NotSqlite(), statement, {"x": 1}) == ("sqlalchemy", {"x": 1})
