"""Who a new chat goes to: the widget's assignees (assignment rules / `operators`), then round robin.

`message.send.assignees` lists operator ids, operator names or emails, team
ids or team names (the spec's "operator or team ID", "operator-name-2").
Matching is within the chat's app only and ignores letter case for names and
emails; unknown entries are ignored. Among the matched operators the online
ones are preferred, and the one assigned least recently (never assigned =
first) gets the chat. When nothing was asked for, or nothing matched, the
chat goes round robin to the app's online operators, or stays unassigned
when none is online. An app may cap the open chats per operator
(`max_chats_per_operator`): full operators are passed over, and when every
online one is full the chat waits in the queue (parley.queueing).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage import assignment_queries, operator_queries
from parley.storage.models import Operator, Team, utcnow

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


def has_room(operator: Any, load: dict[str, int] | None, capacity: int | None) -> bool:
    """False when the operator already has `capacity` open chats (None = no limit)."""
    return capacity is None or (load or {}).get(operator.id, 0) < capacity


def choose(assignees: list[str] | None, operators: list[Any], teams: list[Any],
           members: dict[str, list[str]], load: dict[str, int] | None = None,
           capacity: int | None = None) -> Any | None:
    """The operator a new chat goes to, or None (unassigned). Pure; see the module docstring.

    With a `capacity` (the app's max open chats per operator), online operators who are
    full are passed over; when every online candidate is full the chat waits (queue).
    """
    candidates = matching_operators(assignees or [], operators, teams, members)
    if candidates:
        online = [operator for operator in candidates if operator.presence == "online"]
        if online:
            return round_robin([o for o in online if has_room(o, load, capacity)])
        return round_robin(candidates)
    return round_robin([operator for operator in operators
                        if operator.presence == "online" and has_room(operator, load, capacity)])


async def assign(session: AsyncSession, app_id: str, assignees: list[str] | None) -> list[str]:
    """Chooses the operator of a new chat of `app_id` and records the turn (the caller commits).

    Returns the chat's operator_ids: one id, or [] when it stays unassigned.
    """
    operators = await operator_queries.list_operators(session, app_id)
    if not operators:
        return []
    teams: list[Team] = []
    members: dict[str, list[str]] = {}
    if assignees:
        teams = await operator_queries.list_teams(session, app_id)
        if teams:
            members = await operator_queries.team_members_of_app(session, app_id)
    capacity = await assignment_queries.max_chats_per_operator(session, app_id)
    load = await assignment_queries.open_chat_load(session, app_id) if capacity else None
    operator = choose(assignees, operators, teams, members, load, capacity)
    if operator is None:
        return []
    operator.last_assigned_at = utcnow()
    return [operator.id]


async def team_member(session: AsyncSession, app_id: str, team_id: str) -> Operator | None:
    """The member of team `team_id` (of `app_id`) a chat transferred to the team goes to:
    online members first (those under the app's open-chat cap before full ones), the one
    assigned least recently among them (round robin). A transfer is an operator's
    decision, so it never waits in the queue: with nobody online or everyone full it
    still goes to a member. None when the team has no members. The caller records the turn."""
    members = await assignment_queries.team_member_operators(session, app_id, team_id)
    online = [operator for operator in members if operator.presence == "online"]
    capacity = await assignment_queries.max_chats_per_operator(session, app_id)
    if capacity and online:
        load = await assignment_queries.open_chat_load(session, app_id)
        with_room = [operator for operator in online if has_room(operator, load, capacity)]
        online = with_room or online
    return round_robin(online or members)
