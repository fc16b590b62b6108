"""Everything a visitor's hello reads, in one synchronous Core unit (Database.read).

A returning visitor's hello used to be ~20 statements through the ORM and aiosqlite,
each a hop to aiosqlite's thread and back: ~13 ms of server CPU per hello, most of
it in that machinery rather than in SQLite (bench/hello_cpu.py). Here one unit reads,
in one transaction (one snapshot on SQLite): the app (its secret and origins, read
fresh every time: they decide who gets in), the visitor and its token check, whether
the app is online, the open chat, the visitor's newest seq and the events to replay
after `lastSeq`; and, when the caller's per-app cache has nothing, the app's triggers
and public operators (parley.web.hello_cache).

The caller subscribes to the visitor's channels before it runs the unit, so an event
committed meanwhile is either in what was read or arrives live (de-duplicated by seq).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from parley import hours, wire
from parley.storage import visitor_store
from parley.storage.direct import execute
from parley.storage.models import App, Chat, Event, Operator, Team, TeamMember, Trigger, Visitor, utcnow

APPS = App.__table__
VISITORS = Visitor.__table__
CHATS = Chat.__table__
EVENTS = Event.__table__
OPERATORS = Operator.__table__
TRIGGERS = Trigger.__table__
TEAMS = Team.__table__
TEAM_MEMBERS = TeamMember.__table__

# Built once with bind parameters (see storage.messages: building costs more than running).
_APP = select(APPS).where(APPS.c.id == bindparam("app_id"))
_VISITOR = (select(VISITORS.c.id, VISITORS.c.app_id, VISITORS.c.token_hash, VISITORS.c.user_id,
                   VISITORS.c.country, VISITORS.c.last_event_seq)
            .where(VISITORS.c.id == bindparam("visitor_id")))
_ONLINE_OPERATOR = (select(OPERATORS.c.id)
                    .where(OPERATORS.c.app_id == bindparam("app_id"), OPERATORS.c.presence == "online")
                    .limit(1))
_OPEN_CHAT = (select(CHATS).where(CHATS.c.visitor_id == bindparam("visitor_id"), CHATS.c.status == "open")
              .order_by(CHATS.c.started_at.desc()).limit(1))
_NEWEST_SEQ = select(VISITORS.c.last_event_seq).where(VISITORS.c.id == bindparam("visitor_id"))
_OLDEST_SEQ = select(func.min(EVENTS.c.seq)).where(EVENTS.c.visitor_id == bindparam("visitor_id"))
_EVENTS_AFTER = (select(EVENTS.c.seq, EVENTS.c.kind, EVENTS.c.payload)
                 .where(EVENTS.c.visitor_id == bindparam("visitor_id"), EVENTS.c.seq > bindparam("after"))
                 .order_by(EVENTS.c.seq).limit(bindparam("limit")))
_TRIGGERS = (select(TRIGGERS).where(TRIGGERS.c.app_id == bindparam("app_id"))
             .order_by(TRIGGERS.c.created_at, TRIGGERS.c.id))
_OPERATORS = (select(OPERATORS.c.id, OPERATORS.c.name).where(OPERATORS.c.app_id == bindparam("app_id"))
              .order_by(OPERATORS.c.created_at, OPERATORS.c.id))
_TEAMS_OF_OPERATORS = (select(TEAM_MEMBERS.c.operator_id, TEAM_MEMBERS.c.team_id)
                       .join(TEAMS, TEAMS.c.id == TEAM_MEMBERS.c.team_id)
                       .where(TEAMS.c.app_id == bindparam("app_id")).order_by(TEAM_MEMBERS.c.team_id))


@dataclass(frozen=True)
class AppParts:
    """What every welcome of an app carries and admins rarely change (cached per app)."""

    triggers: list[dict]
    operators: list[dict]  # public: id, name, teamIds (never an email)


@dataclass
class Replay:
    """Where a tab resumes: the newest seq, and a reset or the events after its lastSeq."""

    newest: int
    reset: bool
    after: int
    events: list = field(default_factory=list)  # rows with seq, kind, payload


@dataclass
class HelloRead:
    """What one hello read. `app` None: no such app. `visitor` None: no visitor proved
    (none claimed, unknown, another app's, or a wrong token); then nothing else is read."""

    app: Any = None
    visitor: Any = None  # the visitor row (id, app_id, country, last_event_seq, ...)
    online: bool = False
    open_chat: Any = None
    replay: Replay | None = None
    parts: AppParts | None = None


def app_parts(connection: Connection, app_id: str) -> AppParts:
    """The app's triggers and public operators (with the ids of their teams: the widget's
    `operators` option may name a team)."""
    params = {"app_id": app_id}
    teams: dict[str, list[str]] = {}
    for operator_id, team_id in execute(connection, _TEAMS_OF_OPERATORS, params):
        teams.setdefault(operator_id, []).append(team_id)
    operators = [{**wire.public_operator_dict(row), "teamIds": teams.get(row.id, [])}
                 for row in execute(connection, _OPERATORS, params)]
    triggers = [wire.trigger_dict(row) for row in execute(connection, _TRIGGERS, params)]
    return AppParts(triggers, operators)


def online(connection: Connection, app: Any) -> bool:
    """As presence_queries.app_online, for an app row already read."""
    if not hours.is_open(app.working_hours, utcnow()):
        return False
    return execute(connection, _ONLINE_OPERATOR, {"app_id": app.id}).first() is not None


# (last_seq, newest_seq, oldest_kept_seq) -> a plan with .reset and .after: delivery.resume_plan,
# passed in by the caller so that storage decides nothing about the resume contract.
Planner = Callable[[int | None, int, int | None], Any]


def replay(connection: Connection, visitor_id: str, newest: int, last_seq: int | None, plan: Planner,
           limit: int) -> Replay:
    """The resume plan on what is stored, and the events to replay (at most `limit`)."""
    oldest = None
    if last_seq is not None:
        oldest = execute(connection, _OLDEST_SEQ, {"visitor_id": visitor_id}).scalar()
    planned = plan(last_seq, newest, oldest)
    if planned.reset or planned.after >= newest:
        return Replay(newest, planned.reset, planned.after)
    events = execute(connection, _EVENTS_AFTER, {"visitor_id": visitor_id, "after": planned.after,
                                                "limit": limit}).all()
    return Replay(newest, False, planned.after, events)


def visitor_replay(connection: Connection, visitor_id: str, last_seq: int | None, plan: Planner,
                   limit: int) -> Replay:
    """replay() for a visitor whose newest seq is read here too."""
    newest = execute(connection, _NEWEST_SEQ, {"visitor_id": visitor_id}).scalar()
    return replay(connection, visitor_id, newest or 0, last_seq, plan, limit)


def read_hello(connection: Connection, app_id: str, visitor_id: str | None, token: str | None,
               last_seq: int | None, with_parts: bool, plan: Planner, limit: int,
               trusted: bool = False) -> HelloRead:
    """One hello's reads. `token` must prove `visitor_id` (visitor_store.visitor_token_ok) unless
    `trusted` (the caller proved it: a signed user it just logged in). `with_parts`: also
    read AppParts (the caller's cache had none). `plan`, `limit`: see replay()."""
    app = execute(connection, _APP, {"app_id": app_id}).first()
    if app is None:
        return HelloRead()
    found = HelloRead(app=app, online=online(connection, app))
    if with_parts:
        found.parts = app_parts(connection, app_id)
    if not visitor_id or len(visitor_id) > 64 or not (trusted or token):
        return found
    visitor = execute(connection, _VISITOR, {"visitor_id": visitor_id}).first()
    if visitor is None or visitor.app_id != app_id:
        return found
    if not trusted and not visitor_store.visitor_token_ok(visitor, token, app.secret):
        return found
    found.visitor = visitor
    found.open_chat = execute(connection, _OPEN_CHAT, {"visitor_id": visitor_id}).first()
    found.replay = replay(connection, visitor_id, visitor.last_event_seq or 0, last_seq, plan, limit)
    return found
