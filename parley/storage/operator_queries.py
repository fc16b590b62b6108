"""Operators, their logins (sessions) and their teams; each takes an AsyncSession."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.models import (
    Operator,
    OperatorSession,
    Team,
    TeamMember,
    aware,
    utcnow,
)


async def create_operator(
    session: AsyncSession, app_id: str, email: str, password: str | None, name: str,
    role: str = "operator", password_hash: str | None = None,
) -> Operator:
    """`password_hash`, when given, was computed off the event loop (parley.passwords)."""
    operator = Operator(
        id=identity.new_id(),
        app_id=app_id,
        email=email.strip().lower(),
        name=name,
        password_hash=password_hash or identity.hash_password(password or ""),
        role=role,
    )
    session.add(operator)
    await session.flush()
    return operator


async def find_operator(session: AsyncSession, app_id: str, email: str) -> Operator | None:
    return await session.scalar(
        select(Operator).where(Operator.app_id == app_id, Operator.email == email.strip().lower())
    )


async def get_operator(session: AsyncSession, app_id: str, operator_id: str) -> Operator | None:
    """The operator, only if it belongs to `app_id`."""
    operator = await session.get(Operator, operator_id)
    return operator if operator is not None and operator.app_id == app_id else None


async def list_operators(session: AsyncSession, app_id: str) -> list[Operator]:
    return list((await session.scalars(
        select(Operator).where(Operator.app_id == app_id).order_by(Operator.created_at, Operator.id))).all())


async def update_operator(session: AsyncSession, operator: Operator, changes: dict) -> Operator:
    """Sets checked fields (name, avatar_url, password_hash, ...); the
    operator's logins stay (reset_operator_password ends them)."""
    for field, value in changes.items():
        setattr(operator, field, value)
    return operator


async def reset_operator_password(session: AsyncSession, operator: Operator, password: str | None,
                                  password_hash: str | None = None) -> int:
    """Sets a new password (or its hash, computed off the event loop) and ends all the
    operator's logins; returns how many ended."""
    operator.password_hash = password_hash or identity.hash_password(password or "")
    ended = await session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
    return ended.rowcount


async def count_admins(session: AsyncSession, app_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(Operator).where(
        Operator.app_id == app_id, Operator.role == "admin")) or 0


async def set_operator_role(session: AsyncSession, operator: Operator, role: str) -> None:
    operator.role = role


async def delete_operator(session: AsyncSession, operator: Operator) -> None:
    """Deletes the operator; its logins and team memberships go with it (ON DELETE CASCADE).
    Chats and messages keep its id, as they keep a deleted visitor's messages' authors."""
    await session.execute(delete(Operator).where(Operator.id == operator.id,
                                                 Operator.app_id == operator.app_id))


SESSION_DAYS = 14  # a login lasts at most this long from its creation ...


SESSION_IDLE = timedelta(hours=24)  # ... and ends after this long unused (no request, no open inbox)


# A login in use is renewed at most this often: one small write per operator per interval.
SESSION_RENEW_AFTER = timedelta(minutes=5)


def session_expiry(created_at: datetime, now: datetime) -> datetime:
    """When a login used `now` expires: after SESSION_IDLE unused, never past SESSION_DAYS."""
    return min(aware(created_at) + timedelta(days=SESSION_DAYS), now + SESSION_IDLE)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_token_hash(token: str) -> str:
    """How an operator login's token is stored (and looked up)."""
    return _token_hash(token)


# Built once: the session watch runs it twice a second (web.session_watch).
_LIVE_SESSIONS = (select(OperatorSession.token_hash, OperatorSession.expires_at)
                  .join(Operator, Operator.id == OperatorSession.operator_id)
                  .where(OperatorSession.token_hash.in_(bindparam("token_hashes", expanding=True)),
                         Operator.app_id == OperatorSession.app_id))


def live_session_hashes(connection: Connection, token_hashes: set[str]) -> set[str]:
    """Which of these logins still exist, unexpired, for an existing operator of their app.
    A Core unit for Database.read: one hop, not an ORM session's several through aiosqlite."""
    rows = connection.execute(_LIVE_SESSIONS, {"token_hashes": sorted(token_hashes)})
    now = utcnow()
    return {token_hash for token_hash, expires_at in rows.all() if aware(expires_at) > now}


async def create_operator_session(session: AsyncSession, operator: Operator) -> str:
    """A new login; returns the token for the cookie (only its hash is stored)."""
    token = identity.new_secret()
    now = utcnow()
    session.add(OperatorSession(
        token_hash=_token_hash(token), operator_id=operator.id, app_id=operator.app_id,
        created_at=now, expires_at=session_expiry(now, now)))
    await session.flush()
    return token


async def operator_for_session(session: AsyncSession, token: str | None) -> Operator | None:
    if not token or len(token) > 200:
        return None
    row = await session.get(OperatorSession, _token_hash(token))
    if row is None or aware(row.expires_at) < utcnow():
        return None
    operator = await session.get(Operator, row.operator_id)
    if operator is None or operator.app_id != row.app_id:
        return None
    await _renew_login(session, row)
    return operator


async def _renew_login(session: AsyncSession, row: OperatorSession) -> None:
    """A login in use stays alive for SESSION_IDLE more (written at most every SESSION_RENEW_AFTER)."""
    renewed = session_expiry(row.created_at, utcnow())
    if renewed - aware(row.expires_at) >= SESSION_RENEW_AFTER:
        await session.execute(update(OperatorSession).where(OperatorSession.token_hash == row.token_hash)
                              .values(expires_at=renewed), execution_options={"synchronize_session": False})


async def renew_logins(session: AsyncSession, token_hashes: set[str]) -> None:
    """Renews the logins of open inbox sockets: an inbox left open is a login in use."""
    rows = await session.scalars(select(OperatorSession).where(OperatorSession.token_hash.in_(token_hashes)))
    now = utcnow()
    for row in rows.all():
        renewed = session_expiry(row.created_at, now)
        if renewed - aware(row.expires_at) >= SESSION_RENEW_AFTER:
            row.expires_at = renewed


async def delete_operator_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(delete(OperatorSession).where(
            OperatorSession.token_hash == _token_hash(token)))


async def create_team(session: AsyncSession, app_id: str, name: str) -> Team:
    team = Team(id=identity.new_id(), app_id=app_id, name=name)
    session.add(team)
    await session.flush()
    return team


async def get_team(session: AsyncSession, app_id: str, team_id: str) -> Team | None:
    """The team, only if it belongs to `app_id`."""
    team = await session.get(Team, team_id)
    return team if team is not None and team.app_id == app_id else None


async def add_team_member(session: AsyncSession, team: Team, operator: Operator) -> bool:
    """Adds the operator (of the team's app) to the team; False if it already was a member."""
    assert team.app_id == operator.app_id
    if await session.get(TeamMember, (team.id, operator.id)) is not None:
        return False
    session.add(TeamMember(team_id=team.id, operator_id=operator.id))
    await session.flush()
    return True


async def team_member_ids(session: AsyncSession, team_id: str) -> list[str]:
    return list((await session.scalars(
        select(TeamMember.operator_id).where(TeamMember.team_id == team_id)
        .order_by(TeamMember.operator_id))).all())


async def team_ids_by_operator(session: AsyncSession, app_id: str) -> dict[str, list[str]]:
    """operator id -> the ids of the app's teams the operator is in."""
    rows = (await session.execute(
        select(TeamMember.operator_id, TeamMember.team_id).join(Team, Team.id == TeamMember.team_id)
        .where(Team.app_id == app_id).order_by(TeamMember.team_id))).all()
    found: dict[str, list[str]] = {}
    for operator_id, team_id in rows:
        found.setdefault(operator_id, []).append(team_id)
    return found


async def list_teams(session: AsyncSession, app_id: str, by_name: bool = False) -> list[Team]:
    """The app's teams, oldest first (or by name)."""
    order = (Team.name, Team.id) if by_name else (Team.created_at, Team.id)
    return list((await session.scalars(select(Team).where(Team.app_id == app_id).order_by(*order))).all())


async def rename_team(session: AsyncSession, team: Team, name: str) -> None:
    team.name = name


async def delete_team(session: AsyncSession, team: Team) -> None:
    """Deletes the team and its memberships (ON DELETE CASCADE); the operators stay."""
    await session.execute(delete(Team).where(Team.id == team.id, Team.app_id == team.app_id))


async def remove_team_member(session: AsyncSession, team: Team, operator_id: str) -> bool:
    """Removes the operator from the team; False if it was no member."""
    result = await session.execute(delete(TeamMember).where(
        TeamMember.team_id == team.id, TeamMember.operator_id == operator_id))
    return result.rowcount > 0


async def operators_with_email(session: AsyncSession, email: str, limit: int = 20) -> list[Operator]:
    """Every app's operator with this email, oldest first (a login without an app id)."""
    return list((await session.scalars(select(Operator).where(Operator.email == email)
                                       .order_by(Operator.created_at).limit(limit))).all())


async def team_members_of_app(session: AsyncSession, app_id: str) -> dict[str, list[str]]:
    """{team id: [operator id, ...]} for every team of the app that has members."""
    rows = await session.execute(
        select(TeamMember.team_id, TeamMember.operator_id).join(Team, Team.id == TeamMember.team_id)
        .where(Team.app_id == app_id).order_by(TeamMember.team_id, TeamMember.operator_id))
    members: dict[str, list[str]] = {}
    for team_id, operator_id in rows:
        members.setdefault(team_id, []).append(operator_id)
    return members
