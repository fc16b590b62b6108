"""Messages on the general (ORM) path: storing visitor, operator and note messages once per
clientId, seen marks and history pages (the hot path's Core unit is storage/messages.py).
The caller owns the transaction and publishes the returned events after its commit."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import assignment, identity, wire
from parley.storage import trigger_queries
from parley.storage.chat_store import add_system_line, open_chat_of
from parley.storage.event_log import append_event
from parley.storage.models import (
    Chat,
    Event,
    File,
    Message,
    Operator,
    Visitor,
    utcnow,
)
from parley.storage.visitor_store import lock_visitor

# The largest id an INTEGER column holds everywhere (PostgreSQL's is 32-bit); ids a
# client sends (history `before`, seen `upTo`) are clamped to it, not passed on raw.
MAX_ID = 2**31 - 1


async def message_dicts(session: AsyncSession, messages: list[Message]) -> list[dict]:
    """message_dict for a page of messages, loading their files in one query."""
    file_ids = {m.file_id for m in messages if m.file_id}
    files = {}
    if file_ids:
        files = {f.id: f for f in (await session.scalars(select(File).where(File.id.in_(file_ids)))).all()}
    return [wire.message_dict(m, files.get(m.file_id) if m.file_id else None) for m in messages]


async def find_visitor_message(session: AsyncSession, visitor_id: str, client_id: str) -> Message | None:
    """A message this visitor already sent with `client_id`, in any of their chats."""
    return await session.scalar(
        select(Message).join(Chat, Message.chat_id == Chat.id)
        .where(Chat.visitor_id == visitor_id, Message.author_kind == "visitor",
               Message.client_message_id == client_id).limit(1))


async def find_chat_message(session: AsyncSession, chat_id: str, client_id: str) -> Message | None:
    return await session.scalar(select(Message).where(
        Message.chat_id == chat_id, Message.client_message_id == client_id))


class Stored:
    """What a write produced: the row, whether it is new, and the events to publish."""

    def __init__(self, message: Message, chat: Chat, created: bool, events: list[Event],
                 file: File | None = None) -> None:
        self.message = message
        self.chat = chat
        self.created = created
        self.events = events
        self.file = file

    def message_dict(self) -> dict:
        return wire.message_dict(self.message, self.file)


class FileNotUsable(Exception):
    """The fileId is unknown, another app's or visitor's, or already sent in a message."""


async def usable_file(session: AsyncSession, file_id: str | None, app_id: str,
                      visitor_id: str | None) -> File | None:
    """The upload `file_id` names, if this sender may attach it; raises FileNotUsable."""
    if file_id is None:
        return None
    file = await session.get(File, file_id)
    if file is None or file.app_id != app_id or (visitor_id is not None and file.visitor_id != visitor_id):
        raise FileNotUsable(file_id)
    return file


async def add_visitor_message(session: AsyncSession, visitor: Visitor, client_id: str,
                              text: str, assignees: list[str] | None = None,
                              file_id: str | None = None, trigger_id: str | None = None) -> Stored:
    """Stores a visitor's message once per clientId, opening a chat if none is open.

    A new chat is assigned (parley.assignment) from `assignees`, then round robin. It also
    gets the message of the app's trigger `trigger_id` (one whose `message_text` conditions
    the message matched, in the widget) as the bot's answer.
    """
    await lock_visitor(session, visitor.id)
    existing = await find_visitor_message(session, visitor.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, await session.get(Chat, existing.chat_id), False, [], file)
    file = await usable_file(session, file_id, visitor.app_id, visitor.id)
    events = []
    assigned = False
    chat = await open_chat_of(session, visitor.id)
    if chat is None:
        operator_ids = await assignment.assign(session, visitor.app_id, assignees)
        chat = Chat(id=identity.new_id(), app_id=visitor.app_id, visitor_id=visitor.id,
                    operator_ids=operator_ids)
        session.add(chat)
        await session.flush()
        events.append(await append_event(session, visitor.id, "chat.started",
                                         {"chat": wire.chat_dict(chat), "startedBy": "visitor"}))
        assigned = bool(operator_ids)
    message = Message(chat_id=chat.id, author_kind="visitor", author_id=visitor.id, text=text,
                      client_message_id=client_id, file_id=file.id if file else None)
    session.add(message)
    await session.flush()
    events.append(await append_event(session, visitor.id, "message",
                                     {"message": wire.message_dict(message, file)}))
    if events[0].kind == "chat.started" and trigger_id is not None:
        events.extend(await _bot_answer(session, chat, trigger_id))
    if assigned:
        events.append(await add_system_line(session, chat, "assigned", operatorId=chat.operator_ids[0]))
    return Stored(message, chat, True, events, file)


async def _bot_answer(session: AsyncSession, chat: Chat, trigger_id: str) -> list[Event]:
    """The trigger's message in the chat, said by the bot (author: the trigger). Only an
    enabled trigger of the chat's app that has a `message_text` condition: the visitor
    names it, so it can make the bot say nothing but what the app already says."""
    trigger = await trigger_queries.get_trigger(session, chat.app_id, trigger_id)
    if trigger is None or not trigger.enabled or not any(
            isinstance(c, list) and c and c[0] == "message_text" for c in trigger.conditions or []):
        return []
    answer = Message(chat_id=chat.id, author_kind="bot", author_id=trigger.id, text=trigger.message)
    session.add(answer)
    await session.flush()
    return [await append_event(session, chat.visitor_id, "message", {"message": wire.message_dict(answer)})]


async def add_operator_message(session: AsyncSession, operator: Operator, chat: Chat, client_id: str,
                               text: str, file_id: str | None = None) -> Stored:
    """Stores an operator's message in `chat` once per clientId."""
    await lock_visitor(session, chat.visitor_id)
    existing = await find_chat_message(session, chat.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, chat, False, [], file)
    file = await usable_file(session, file_id, operator.app_id, None)
    if operator.id not in (chat.operator_ids or []):
        chat.operator_ids = [*(chat.operator_ids or []), operator.id]
    message = Message(chat_id=chat.id, author_kind="operator", author_id=operator.id, text=text,
                      client_message_id=client_id, file_id=file.id if file else None)
    session.add(message)
    await session.flush()
    event = await append_event(session, chat.visitor_id, "message",
                               {"message": wire.message_dict(message, file)})
    return Stored(message, chat, True, [event], file)


async def add_note(session: AsyncSession, operator: Operator, chat: Chat, client_id: str,
                   text: str) -> Stored:
    """Stores an internal note once per clientId. A note is a message with author_kind
    "note": it gets no visitor event, and visitor-facing reads leave it out."""
    await lock_visitor(session, chat.visitor_id)
    existing = await find_chat_message(session, chat.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, chat, False, [], file)
    note = Message(chat_id=chat.id, author_kind="note", author_id=operator.id, text=text,
                   client_message_id=client_id)
    session.add(note)
    await session.flush()
    return Stored(note, chat, True, [])


async def mark_seen(session: AsyncSession, chat_ids: list[str], authors: tuple[str, ...],
                    up_to: int) -> dict[str, int]:
    """Marks unseen messages by `authors` with id <= up_to as seen now.

    Returns {chat id: newest message id marked} for the chats where something changed.
    """
    if not chat_ids:
        return {}
    up_to = min(up_to, MAX_ID)
    rows = (await session.execute(
        select(Message.chat_id, func.max(Message.id))
        .where(Message.chat_id.in_(chat_ids), Message.author_kind.in_(authors),
               Message.id <= up_to, Message.seen_at.is_(None))
        .group_by(Message.chat_id))).all()
    if not rows:
        return {}
    await session.execute(
        update(Message)
        .where(Message.chat_id.in_([chat_id for chat_id, _ in rows]), Message.author_kind.in_(authors),
               Message.id <= up_to, Message.seen_at.is_(None))
        .values(seen_at=utcnow()), execution_options={"synchronize_session": False})
    return dict(rows)


async def message_page(session: AsyncSession, chat_ids: list[str], before: int | None,
                       limit: int, include_notes: bool = False) -> tuple[list[Message], bool]:
    """Up to `limit` messages of the chats older than message id `before`, oldest first.

    Internal notes are left out unless `include_notes` (only the operators' history asks):
    what a visitor, a transcript or a mail reads never holds one.
    """
    if not chat_ids:
        return [], False
    query = select(Message).where(Message.chat_id.in_(chat_ids))
    if not include_notes:
        query = query.where(Message.author_kind != "note")
    if before is not None:
        query = query.where(Message.id <= max(min(before - 1, MAX_ID), 0))
    rows = list((await session.scalars(query.order_by(Message.id.desc()).limit(limit + 1))).all())
    return list(reversed(rows[:limit])), len(rows) > limit
