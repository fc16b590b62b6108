"""Reads and writes behind assignment and the queue (parley.assignment and
parley.queueing decide; this module only fetches and claims)."""

from __future__ import annotations

from sqlalchemy import String, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import App, Chat, Operator, TeamMember

# An unassigned chat's operator_ids is the empty JSON list (or null).
_UNASSIGNED = cast(Chat.operator_ids, String).in_(["[]", "null"])


async def team_member_operators(session: AsyncSession, app_id: str, team_id: str) -> list[Operator]:
    """The operators of team `team_id` (of `app_id`)."""
    return list((await session.scalars(
        select(Operator).join(TeamMember, TeamMember.operator_id == Operator.id)
        .where(TeamMember.team_id == team_id, Operator.app_id == app_id))).all())


async def open_chat_load(session: AsyncSession, app_id: str) -> dict[str, int]:
    """How many open chats each operator of the app has now."""
    load: dict[str, int] = {}
    rows = await session.scalars(select(Chat.operator_ids).where(Chat.app_id == app_id,
                                                                 Chat.status == "open"))
    for operator_ids in rows:
        for operator_id in operator_ids or []:
            load[operator_id] = load.get(operator_id, 0) + 1
    return load


async def max_chats_per_operator(session: AsyncSession, app_id: str) -> int | None:
    """The app's cap on open chats per operator (None: no cap), read now: an admin may
    have changed it a moment ago."""
    return await session.scalar(select(App.max_chats_per_operator).where(App.id == app_id))


async def online_operators(session: AsyncSession, app_id: str) -> list[Operator]:
    return list((await session.scalars(select(Operator).where(
        Operator.app_id == app_id, Operator.presence == "online"))).all())


async def waiting_chats(session: AsyncSession, app_id: str) -> list[Chat]:
    """Open, unassigned chats of the app, oldest first."""
    return list((await session.scalars(
        select(Chat).where(Chat.app_id == app_id, Chat.status == "open", _UNASSIGNED)
        .order_by(Chat.started_at, Chat.id))).all())


async def claim_waiting_chat(session: AsyncSession, chat: Chat, operator: Operator) -> bool:
    """Gives a still unassigned chat to `operator` (the caller commits); False when another
    process took it first."""
    claimed = await session.execute(
        update(Chat).where(Chat.id == chat.id, _UNASSIGNED)
        .values(operator_ids=[operator.id]), execution_options={"synchronize_session": False})
    return claimed.rowcount == 1


async def apps_with_waiting_chats(session: AsyncSession) -> list[str]:
    return list((await session.scalars(
        select(Chat.app_id).where(Chat.status == "open", _UNASSIGNED).distinct())).all())
