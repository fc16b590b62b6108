"""Who a new chat goes to: the widget's assignees (assignment rules / `operators`), then round robin.

`message.send.assignees` lists operator ids, operator names or emails, team
ids or team names (the spec's "operator or team ID", "operator-name-2").
Matching is within the chat's app only and ignores letter case for names and
emails; unknown entries are ignored. Among the matched operators the online
ones are preferred, and the one assigned least recently (never assigned =
first) gets the chat. When nothing was asked for, or nothing matched, the
chat goes round robin to the app's online operators, or stays unassigned
when none is online.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import Operator, Team, TeamMember, utcnow

_NEVER = datetime.min.replace(tzinfo=UTC)


def _fold(text: Any) -> str:
    return text.strip().casefold() if isinstance(text, str) else ""


def matching_operators(assignees: Iterable[str], operators: list[Any], teams: list[Any],
                       members: dict[str, list[str]]) -> list[Any]:
    """The operators the assignees name, in the order first named, each once. Pure.

    `operators` and `teams` are the app's own (objects with id/name/email and
    id/name); `members` maps a team id to its operator ids.
    """
    by_id = {operator.id: operator for operator in operators}
    chosen: dict[str, Any] = {}

    def take(operator_ids: Iterable[str]) -> None:
        for operator_id in operator_ids:
            if operator_id in by_id and operator_id not in chosen:
                chosen[operator_id] = by_id[operator_id]

    for entry in assignees:
        if not isinstance(entry, str) or not entry.strip():
            continue
        folded = _fold(entry)
        if entry in by_id:
            take([entry])
            continue
        team_ids = [team.id for team in teams if team.id == entry]
        if not team_ids:
            team_ids = [team.id for team in teams if _fold(team.name) == folded]
        for team_id in team_ids:
            take(members.get(team_id, []))
        take(operator.id for operator in operators
             if _fold(operator.name) == folded or _fold(operator.email) == folded)
    return list(chosen.values())


def _last_assigned(operator: Any) -> datetime:
    value = getattr(operator, "last_assigned_at", None)
    if value is None:
        return _NEVER
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def round_robin(candidates: list[Any]) -> Any | None:
    """The candidate assigned least recently (never assigned first; ties by id). Pure."""
    if not candidates:
        return None
    return min(candidates, key=lambda operator: (_last_assigned(operator), operator.id))


def choose(assignees: list[str] | None, operators: list[Any], teams: list[Any],
           members: dict[str, list[str]]) -> Any | None:
    """The operator a new chat goes to, or None (unassigned). Pure; see the module docstring."""
    candidates = matching_operators(assignees or [], operators, teams, members)
    if candidates:
        online = [operator for operator in candidates if operator.presence == "online"]
        return round_robin(online or candidates)
    return round_robin([operator for operator in operators if operator.presence == "online"])


async def assign(session: AsyncSession, app_id: str, assignees: list[str] | None) -> list[str]:
    """Chooses the operator of a new chat of `app_id` and records the turn (the caller commits).

    Returns the chat's operator_ids: one id, or [] when it stays unassigned.
    """
    operators = list((await session.scalars(select(Operator).where(Operator.app_id == app_id))).all())
    if not operators:
        return []
    teams: list[Team] = []
    members: dict[str, list[str]] = {}
    if assignees:
        teams = list((await session.scalars(select(Team).where(Team.app_id == app_id))).all())
        if teams:
            rows = await session.execute(select(TeamMember.team_id, TeamMember.operator_id)
                                         .where(TeamMember.team_id.in_([team.id for team in teams])))
            for team_id, operator_id in rows:
                members.setdefault(team_id, []).append(operator_id)
    operator = choose(assignees, operators, teams, members)
    if operator is None:
        return []
    operator.last_assigned_at = utcnow()
    return [operator.id]
