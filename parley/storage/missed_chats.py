"""Chats nobody answered in time (parley.clock mails about them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import (
    Chat,
    Message,
    utcnow,
)


async def missed_chats(session: AsyncSession, started_before: datetime, limit: int = 100) -> list[Chat]:
    """Open chats started before `started_before` that no operator has answered and
    nobody was told about yet."""
    answered = select(Message.id).where(Message.chat_id == Chat.id, Message.author_kind == "operator")
    return list((await session.scalars(
        select(Chat).where(Chat.status == "open", Chat.missed_notified_at.is_(None),
                           Chat.started_at < started_before, ~answered.exists())
        .order_by(Chat.started_at).limit(limit))).all())


async def claim_missed_notice(session: AsyncSession, chat_id: str) -> bool:
    """Marks the chat as notified; False when another process did it first."""
    result = await session.execute(
        update(Chat).where(Chat.id == chat_id, Chat.missed_notified_at.is_(None))
        .values(missed_notified_at=utcnow()), execution_options={"synchronize_session": False})
    return result.rowcount == 1
