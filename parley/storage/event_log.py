"""The visitor's event log in ORM sessions: appending the next event and reading what came
after a seq (hello_read and messages.py hold the Core versions)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import (
    Event,
    Visitor,
)


async def append_event(session: AsyncSession, visitor_id: str, kind: str, payload: dict) -> Event:
    """Adds the visitor's next event to the session (the caller commits).

    The counter bump is one UPDATE on the visitor row, which serialises writers
    of one visitor in every database; the unique (visitor_id, seq) is the net.
    """
    seq = await session.scalar(
        update(Visitor).where(Visitor.id == visitor_id)
        .values(last_event_seq=Visitor.last_event_seq + 1)
        .returning(Visitor.last_event_seq),
        execution_options={"synchronize_session": False})
    event = Event(visitor_id=visitor_id, seq=seq, kind=kind, payload=payload)
    session.add(event)
    return event


async def newest_seq(session: AsyncSession, visitor_id: str) -> int:
    return await session.scalar(select(Visitor.last_event_seq).where(Visitor.id == visitor_id)) or 0


async def oldest_kept_seq(session: AsyncSession, visitor_id: str) -> int | None:
    return await session.scalar(select(func.min(Event.seq)).where(Event.visitor_id == visitor_id))


async def events_after(session: AsyncSession, visitor_id: str, after_seq: int,
                       limit: int | None = None) -> list[Event]:
    query = (select(Event).where(Event.visitor_id == visitor_id, Event.seq > after_seq)
             .order_by(Event.seq))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())
