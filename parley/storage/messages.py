"""The message hot path in SQLAlchemy Core: a message in an open chat, stored in one unit.

Every function here takes a synchronous `Connection` inside a transaction that
`Database.run` began (one thread hop on SQLite, run_sync on PostgreSQL). They cover
the common case only: a visitor's message in their open chat, an operator's message
in a chat. A visitor's first message (a new chat: assignment, the bot's answer, a
system line) goes through `message_store.add_visitor_message`, which stays the general path;
`store_visitor_message` says so by returning None before it writes anything.

The rows they return are the table's own columns (`Row`s, or a namespace for a chat
that changed), so `wire.message_dict` / `chat_dict` shape them as for ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from parley import wire
from parley.storage.direct import execute
from parley.storage.models import Chat, Event, File, Message, Visitor, utcnow

CHATS = Chat.__table__
MESSAGES = Message.__table__
EVENTS = Event.__table__
VISITORS = Visitor.__table__
FILES = File.__table__


@dataclass(frozen=True)
class StoredEvent:
    """A visitor event as written: what delivery.publish needs (seq, kind, payload)."""

    visitor_id: str
    seq: int
    kind: str
    payload: dict


@dataclass
class Written:
    """A message write's outcome, shaped like message_store.Stored for the socket handlers."""

    message: Any
    chat: Any  # the chat row; None for a new visitor message (its chatId is in the message)
    created: bool
    events: list[StoredEvent]
    file: Any = None
    joined: bool = False  # the operator was added to the chat's operators by this message

    def message_dict(self) -> dict:
        return wire.message_dict(self.message, self.file)


class FileRefused(Exception):
    """The fileId is unknown, another app's, or (for a visitor) another visitor's."""


# Statements built once, with bind parameters: building a statement costs more than
# running it (~200 µs against ~55 µs on SQLite, measured), and SQLAlchemy then finds
# the compiled form in its cache.
_LOCK_VISITOR = (select(VISITORS.c.id).where(VISITORS.c.id == bindparam("visitor_id"))
                 .with_for_update(key_share=True))
_VISITOR_MESSAGE = select(MESSAGES).where(
    MESSAGES.c.author_id == bindparam("visitor_id"), MESSAGES.c.author_kind == "visitor",
    MESSAGES.c.client_message_id == bindparam("client_id"))
_CHAT_MESSAGE = select(MESSAGES).where(
    MESSAGES.c.chat_id == bindparam("chat_id"), MESSAGES.c.client_message_id == bindparam("client_id"))
_FILE = select(FILES).where(FILES.c.id == bindparam("file_id"))
_CHAT = select(CHATS).where(CHATS.c.id == bindparam("chat_id"))
_OPEN_CHAT_ID = (select(CHATS.c.id)
                 .where(CHATS.c.visitor_id == bindparam("visitor_id"), CHATS.c.status == "open")
                 .order_by(CHATS.c.started_at.desc()).limit(1))
_CHAT_OF_APP = select(CHATS).where(CHATS.c.id == bindparam("chat_id"), CHATS.c.app_id == bindparam("app_id"))
_NEXT_SEQ = (update(VISITORS).where(VISITORS.c.id == bindparam("visitor_id"))
             .values(last_event_seq=VISITORS.c.last_event_seq + 1).returning(VISITORS.c.last_event_seq))
_INSERT_EVENT = insert(EVENTS)
_INSERT_MESSAGE = insert(MESSAGES)
_SET_OPERATORS = update(CHATS).where(CHATS.c.id == bindparam("chat_id")).values(
    operator_ids=bindparam("operator_ids", type_=CHATS.c.operator_ids.type))


def lock_visitor_row(connection: Connection, visitor_id: str) -> None:
    """Serialises writes of one visitor's chat on PostgreSQL (a row lock till commit, as
    visitor_store.lock_visitor); on SQLite Database.run's BEGIN IMMEDIATE already holds the
    database's write lock."""
    if connection.dialect.name != "sqlite":
        execute(connection, _LOCK_VISITOR, {"visitor_id": visitor_id})


def visitor_message(connection: Connection, visitor_id: str, client_id: str):
    """The visitor's stored message with this clientId (the partial unique index's terms)."""
    return execute(connection, _VISITOR_MESSAGE, {"visitor_id": visitor_id, "client_id": client_id}).first()


def chat_message(connection: Connection, chat_id: str, client_id: str):
    return execute(connection, _CHAT_MESSAGE, {"chat_id": chat_id, "client_id": client_id}).first()


def file_row(connection: Connection, file_id: str | None):
    if file_id is None:
        return None
    return execute(connection, _FILE, {"file_id": file_id}).first()


def usable_file(connection: Connection, file_id: str | None, app_id: str, visitor_id: str | None):
    """As message_store.usable_file: the upload, if this sender may attach it; else FileRefused."""
    if file_id is None:
        return None
    file = file_row(connection, file_id)
    if file is None or file.app_id != app_id or (visitor_id is not None and file.visitor_id != visitor_id):
        raise FileRefused(file_id)
    return file


def open_chat_id(connection: Connection, visitor_id: str) -> str | None:
    return execute(connection, _OPEN_CHAT_ID, {"visitor_id": visitor_id}).scalar()


def chat_of_app(connection: Connection, app_id: str, chat_id: str):
    """The chat, only if it belongs to `app_id`."""
    return execute(connection, _CHAT_OF_APP, {"chat_id": chat_id, "app_id": app_id}).first()


def append_event(connection: Connection, visitor_id: str, kind: str, payload: dict) -> StoredEvent:
    """The visitor's next event (as event_log.append_event: the counter bump on the visitor
    row serialises writers of one visitor; unique (visitor_id, seq) is the net)."""
    seq = execute(connection, _NEXT_SEQ, {"visitor_id": visitor_id}).scalar_one()
    execute(connection, _INSERT_EVENT,
            {"visitor_id": visitor_id, "seq": seq, "kind": kind, "payload": payload, "created_at": utcnow()})
    return StoredEvent(visitor_id, seq, kind, payload)


def _insert_message(connection: Connection, chat_id: str, author_kind: str, author_id: str, text: str,
                    client_id: str, file_id: str | None) -> SimpleNamespace:
    values = {"chat_id": chat_id, "author_kind": author_kind, "author_id": author_id, "text": text,
              "client_message_id": client_id, "created_at": utcnow(), "file_id": file_id, "seen_at": None}
    result = execute(connection, _INSERT_MESSAGE, values)
    return SimpleNamespace(id=result.inserted_primary_key[0], **values)


def store_visitor_message(connection: Connection, visitor_id: str, app_id: str, client_id: str,
                          text: str, file_id: str | None) -> Written | None:
    """A visitor's message in their open chat, once per clientId.

    Returns the stored message when this clientId is already stored (created=False,
    nothing written), None when the visitor has no open chat (the caller takes the
    general path: nothing was written), else the new message and its event.
    """
    lock_visitor_row(connection, visitor_id)
    existing = visitor_message(connection, visitor_id, client_id)
    if existing is not None:
        chat = execute(connection, _CHAT, {"chat_id": existing.chat_id}).first()
        return Written(existing, chat, False, [], file_row(connection, existing.file_id))
    chat_id = open_chat_id(connection, visitor_id)
    if chat_id is None:
        return None
    file = usable_file(connection, file_id, app_id, visitor_id)
    message = _insert_message(connection, chat_id, "visitor", visitor_id, text, client_id,
                              file.id if file is not None else None)
    event = append_event(connection, visitor_id, "message", {"message": wire.message_dict(message, file)})
    return Written(message, None, True, [event], file)


def store_operator_message(connection: Connection, operator_id: str, app_id: str, chat_id: str,
                           client_id: str, text: str, file_id: str | None, check_new,
                           author_kind: str = "operator") -> Written | None:
    """An operator's message in one of the app's chats, once per clientId.

    None: no such chat in this app. A new clientId is first passed to `check_new()`
    (the caller's validation; it raises to refuse), then stored; answering a chat adds
    the operator to its operators (`joined`). A bot login (author_kind "bot") answers
    without joining: the chat stays with the humans it is assigned to.
    """
    chat = chat_of_app(connection, app_id, chat_id)
    if chat is None:
        return None
    lock_visitor_row(connection, chat.visitor_id)
    existing = chat_message(connection, chat.id, client_id)
    if existing is not None:
        return Written(existing, chat, False, [], file_row(connection, existing.file_id))
    check_new()
    file = usable_file(connection, file_id, app_id, None)
    operator_ids = list(chat.operator_ids or [])
    joined = author_kind == "operator" and operator_id not in operator_ids
    if joined:
        operator_ids.append(operator_id)
        execute(connection, _SET_OPERATORS, {"chat_id": chat.id, "operator_ids": operator_ids})
        chat = SimpleNamespace(**{**chat._mapping, "operator_ids": operator_ids})
    message = _insert_message(connection, chat.id, author_kind, operator_id, text, client_id,
                              file.id if file is not None else None)
    body = {"message": wire.message_dict(message, file)}
    event = append_event(connection, chat.visitor_id, "message", body)
    return Written(message, chat, True, [event], file, joined)
