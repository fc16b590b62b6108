"""The chat queue: when every online operator has as many open chats as the app
allows (`apps.max_chats_per_operator`), new chats wait unassigned, first come
first served. A visitor whose chat waits is told its place (`queue` frames,
live only); when an operator has room again (a chat closed, someone came
online), the oldest waiting chat goes to them (round robin among those with room).

Unassigned chats from a time nobody was online are handed out the same way
as soon as somebody is, so no visitor waits for a human to notice them.
Runs from the background clock and right after chats close; several server
processes may run it at once: each hand-out is a conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from parley import assignment, protocol, wire
from parley import fanout as channels
from parley.delivery import publish
from parley.storage import assignment_queries, chat_store
from parley.storage.models import Chat, Event, Operator, utcnow


@dataclass
class Outcome:
    handed_out: list[tuple[Chat, list[Event]]] = field(default_factory=list)
    positions: dict[str, tuple[str, int]] = field(default_factory=dict)  # visitor id -> (chat id, place)


async def _hand_out(session: AsyncSession, chat: Chat, operator: Operator) -> list[Event] | None:
    if not await assignment_queries.claim_waiting_chat(session, chat, operator):
        await session.rollback()
        return None  # another process took it
    chat.operator_ids = [operator.id]
    operator.last_assigned_at = utcnow()
    line = await chat_store.add_system_line(session, chat, "assigned", operatorId=operator.id)
    await session.commit()
    return [line]


async def run(session: AsyncSession, app_id: str) -> Outcome:
    """Hands waiting chats to operators with room, then numbers the ones still waiting."""
    outcome = Outcome()
    waiting = await assignment_queries.waiting_chats(session, app_id)
    if not waiting:
        return outcome
    operators = await assignment_queries.online_operators(session, app_id)
    if not operators:
        return outcome  # nobody online: the widget shows offline, not a queue
    capacity = await assignment_queries.max_chats_per_operator(session, app_id)
    load = await assignment_queries.open_chat_load(session, app_id)
    still_waiting = []
    for chat in waiting:
        operator = assignment.round_robin([o for o in operators if assignment.has_room(o, load, capacity)])
        events = await _hand_out(session, chat, operator) if operator is not None else None
        if events is None:
            still_waiting.append(chat)
            continue
        load[operator.id] = load.get(operator.id, 0) + 1
        outcome.handed_out.append((chat, events))
    for place, chat in enumerate(still_waiting, start=1):
        outcome.positions[chat.visitor_id] = (chat.id, place)
    return outcome


async def run_and_announce(database, hub, app_id: str) -> Outcome:
    async with database.session() as session:
        outcome = await run(session, app_id)
    for chat, events in outcome.handed_out:
        await publish(hub, app_id, chat.visitor_id, events)
        await hub.publish(channels.app_channel(app_id),
                          protocol.frame("chat.assigned", chat=wire.chat_dict(chat)))
        # No longer waiting: the widget drops its "number N in line".
        await hub.publish(channels.visitor_live_channel(chat.visitor_id),
                          protocol.frame("queue", chatId=chat.id, position=None))
    for visitor_id, (chat_id, place) in outcome.positions.items():
        await hub.publish(channels.visitor_live_channel(visitor_id),
                          protocol.frame("queue", chatId=chat_id, position=place))
    return outcome

