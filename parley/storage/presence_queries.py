"""Operator presence across server processes: one `operator_sockets` row per open inbox
socket (parley.presence keeps them); `operators.presence` is their summary, which the rest
reads (app_online, assignment)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import hours
from parley.storage.models import (
    App,
    Operator,
    OperatorSocket,
    utcnow,
)


async def set_presence(session: AsyncSession, operator_id: str, presence: str) -> None:
    await session.execute(update(Operator).where(Operator.id == operator_id).values(presence=presence))


async def lock_app(session: AsyncSession, app_id: str) -> None:
    """Serialises presence changes of one app across processes, so each computes the
    app's online state before and after from what the previous one committed.
    FOR NO KEY UPDATE: rows referencing the app (new chats, visitors) are not blocked.
    SQLite has no row locks (nothing is rendered): its writers are serialised anyway."""
    await session.execute(select(App.id).where(App.id == app_id).with_for_update(key_share=True))


async def _refresh_presence(session: AsyncSession, operator_ids: list[str], now: datetime) -> None:
    live = (select(OperatorSocket.id)
            .where(OperatorSocket.operator_id == Operator.id, OperatorSocket.expires_at > now)
            .correlate(Operator).exists())
    # Connected operators show what they chose (online, away, offline); others are offline.
    await session.execute(
        update(Operator).where(Operator.id.in_(operator_ids))
        .values(presence=case((live, Operator.chosen_status), else_="offline")),
        execution_options={"synchronize_session": False})


async def choose_status(session: AsyncSession, operator: Operator, status: str) -> tuple[bool, bool, str]:
    """Sets the operator's chosen status; returns the app's online state before
    and after, and the operator's resulting presence."""
    await lock_app(session, operator.app_id)
    before = await app_online(session, operator.app_id)
    await session.execute(update(Operator).where(Operator.id == operator.id).values(chosen_status=status),
                          execution_options={"synchronize_session": False})
    await _refresh_presence(session, [operator.id], utcnow())
    after = await app_online(session, operator.app_id)
    presence = await session.scalar(select(Operator.presence).where(Operator.id == operator.id))
    return before, after, presence


async def open_operator_socket(session: AsyncSession, operator: Operator, socket_id: str,
                               server_id: str, expires_at: datetime) -> tuple[bool, bool]:
    """Records an open inbox socket; returns the app's online state before and after."""
    await lock_app(session, operator.app_id)
    before = await app_online(session, operator.app_id)
    session.add(OperatorSocket(id=socket_id, operator_id=operator.id, app_id=operator.app_id,
                               server_id=server_id, expires_at=expires_at))
    await session.flush()
    await _refresh_presence(session, [operator.id], utcnow())
    after = await app_online(session, operator.app_id)
    return before, after


async def close_operator_socket(session: AsyncSession, operator: Operator,
                                socket_id: str) -> tuple[bool, bool]:
    """Forgets a closed inbox socket; returns the app's online state before and after.
    The operator stays online while another socket of theirs is open, on any process."""
    await lock_app(session, operator.app_id)
    before = await app_online(session, operator.app_id)
    await session.execute(delete(OperatorSocket).where(OperatorSocket.id == socket_id))
    await _refresh_presence(session, [operator.id], utcnow())
    after = await app_online(session, operator.app_id)
    return before, after


async def renew_operator_sockets(session: AsyncSession, server_id: str, expires_at: datetime) -> set[str]:
    """Extends the lease of a process's sockets; returns the ids still recorded
    (a row swept while the process stalled is missing: the caller records it again)."""
    await session.execute(update(OperatorSocket).where(OperatorSocket.server_id == server_id)
                          .values(expires_at=expires_at), execution_options={"synchronize_session": False})
    kept = set((await session.scalars(
        select(OperatorSocket.id).where(OperatorSocket.server_id == server_id))).all())
    return kept


async def apps_with_expired_sockets(session: AsyncSession, now: datetime) -> list[str]:
    """The apps that have sockets expired by `now` (of processes that died)."""
    return sorted(set((await session.scalars(
        select(OperatorSocket.app_id).where(OperatorSocket.expires_at <= now))).all()))


async def sweep_app_sockets(session: AsyncSession, app_id: str, now: datetime) -> tuple[bool, bool]:
    """Deletes the app's expired sockets; returns the app's online state before and after.
    It takes the app's lock: the caller commits each app's sweep on its own."""
    await lock_app(session, app_id)
    before = await app_online(session, app_id, now)
    expired = (OperatorSocket.app_id == app_id) & (OperatorSocket.expires_at <= now)
    operator_ids = sorted(set((await session.scalars(
        select(OperatorSocket.operator_id).where(expired))).all()))
    await session.execute(delete(OperatorSocket).where(expired))
    await _refresh_presence(session, operator_ids, now)
    return before, await app_online(session, app_id, now)


async def app_online(session: AsyncSession, app_id: str, now: datetime | None = None) -> bool:
    """An app is online while any of its operators is online, inside its working hours."""
    working_hours = await session.scalar(select(App.working_hours).where(App.id == app_id))
    if not hours.is_open(working_hours, now or utcnow()):
        return False
    found = await session.scalar(select(Operator.id).where(
        Operator.app_id == app_id, Operator.presence == "online").limit(1))
    return found is not None
