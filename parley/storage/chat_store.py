"""Chats in ORM sessions: finding them, system lines, and closing, reopening, assigning,
rating and transcript requests. The caller owns the transaction and publishes the
returned events after its commit."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import wire
from parley.storage.errors import Conflict
from parley.storage.event_log import append_event
from parley.storage.models import (
    Chat,
    Event,
    Message,
    Operator,
    utcnow,
)
from parley.storage.visitor_store import lock_visitor


async def get_chat(session: AsyncSession, app_id: str, chat_id: str) -> Chat | None:
    """The chat, only if it belongs to `app_id` (callers never see other apps' chats)."""
    chat = await session.get(Chat, chat_id)
    return chat if chat is not None and chat.app_id == app_id else None


async def open_chat_of(session: AsyncSession, visitor_id: str) -> Chat | None:
    return await session.scalar(select(Chat).where(
        Chat.visitor_id == visitor_id, Chat.status == "open").order_by(Chat.started_at.desc()).limit(1))


async def newest_chat_of(session: AsyncSession, visitor_id: str, chat_id: str | None = None) -> Chat | None:
    """The visitor's chat `chat_id`, or their newest chat; None when not theirs or none."""
    if chat_id is not None:
        chat = await session.get(Chat, chat_id)
        return chat if chat is not None and chat.visitor_id == visitor_id else None
    return await session.scalar(select(Chat).where(Chat.visitor_id == visitor_id)
                                .order_by(Chat.started_at.desc()).limit(1))


async def chat_ids_of_visitor(session: AsyncSession, visitor_id: str) -> list[str]:
    return list((await session.scalars(select(Chat.id).where(Chat.visitor_id == visitor_id))).all())


async def add_system_line(session: AsyncSession, chat: Chat, code: str, **fields) -> Event:
    """A system line in the chat (assigned, closed, ...), as a message and a visitor event."""
    line = Message(chat_id=chat.id, author_kind="system", author_id=None,
                   text=json.dumps({"code": code, **fields}, separators=(",", ":")))
    session.add(line)
    await session.flush()
    return await append_event(session, chat.visitor_id, "message", {"message": wire.message_dict(line)})


async def close_chat(session: AsyncSession, chat: Chat, by: str = "operator") -> list[Event]:
    """Closes an open chat with a system line; returns the visitor's events ([] if already closed)."""
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)  # closed by another process a moment ago?
    if chat.status == "closed":
        return []
    chat.status = "closed"
    chat.ended_at = utcnow()
    chat.closed_by = by
    line = await add_system_line(session, chat, "closed", by=by)
    event = await append_event(session, chat.visitor_id, "chat.closed", {"chat": wire.chat_dict(chat)})
    return [line, event]


class ChatClosed(Conflict):
    """The chat is closed: it must be reopened first."""


class ChatConflict(Conflict):
    """The visitor already has another open chat (`chat_id`): this one cannot be reopened."""

    def __init__(self, chat_id: str) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


async def reopen_chat(session: AsyncSession, chat: Chat, by: str) -> list[Event]:
    """Opens a closed chat again (operator `by`); [] when it is open already.

    A visitor has at most one open chat (their messages go to it): when another one
    is open, raises ChatConflict and changes nothing.
    """
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)  # reopened by another operator a moment ago?
    if chat.status == "open":
        return []
    other = await open_chat_of(session, chat.visitor_id)
    if other is not None:
        raise ChatConflict(other.id)
    chat.status = "open"
    chat.ended_at = None
    chat.closed_by = None
    event = await append_event(session, chat.visitor_id, "chat.reopened", {"chat": wire.chat_dict(chat)})
    line = await add_system_line(session, chat, "reopened", by=by)
    return [event, line]


async def assign_chat(session: AsyncSession, chat: Chat, operator: Operator, by: str,
                      team_id: str | None = None) -> list[Event]:
    """Gives the chat to `operator` (of the chat's app; picked from team `team_id`, if any),
    replacing its operators, with an "assigned" system line; [] when nothing changes.
    `by` is the id of the operator who did it. The turn counts for round robin. Raises
    ChatClosed when the chat is closed."""
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)
    if chat.status != "open":
        raise ChatClosed(chat.id)
    if list(chat.operator_ids or []) == [operator.id] and chat.team_id == team_id:
        return []
    chat.operator_ids = [operator.id]
    chat.team_id = team_id
    operator.last_assigned_at = utcnow()
    fields = {"operatorId": operator.id, "by": by}
    if team_id is not None:
        fields["teamId"] = team_id
    line = await add_system_line(session, chat, "assigned", **fields)
    return [line]


async def rate_chat(session: AsyncSession, chat: Chat, rating: str, comment: str) -> Event:
    """Stores (or changes) the visitor's rating; the visitor's tabs get chat.rated."""
    await lock_visitor(session, chat.visitor_id)
    chat.rating = rating
    chat.rating_comment = comment.strip() or None
    chat.rated_at = utcnow()
    event = await append_event(session, chat.visitor_id, "chat.rated", {"chat": wire.chat_dict(chat)})
    return event


async def request_transcript(session: AsyncSession, chat: Chat, email: str) -> bool:
    """Records the chat's one transcript request; False when it already had one. A
    conditional UPDATE, so two tabs asking at once can't both get a mail sent."""
    now = utcnow()
    claimed = await session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.transcript_requested_at.is_(None))
        .values(transcript_email=email, transcript_requested_at=now),
        execution_options={"synchronize_session": False})
    if claimed.rowcount != 1:
        return False
    chat.transcript_email = email
    chat.transcript_requested_at = now
    return True
