"""The visitor writes every socket makes (hello, presence) as Core units for Database.run.

A visitor socket's hello used to make two or three small commits through the ORM
(resume, touch, page view), each a transaction of its own competing for SQLite's
write lock: under a reconnect storm most of the time went to SQLite's busy handler
sleeping, not to work (a py-spy profile of 1,000 connecting visitors: half the
samples idle). As units they go through the one writer (grouped on SQLite).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Connection, bindparam, func, insert, select, update

from parley import identity
from parley.storage import visitor_store
from parley.storage.direct import execute
from parley.storage.models import PageView, Visitor, utcnow
from parley.storage.visitor_queries import ONLINE_WINDOW

VISITORS = Visitor.__table__
PAGE_VIEWS = PageView.__table__

_NEWEST_URL = (select(PAGE_VIEWS.c.url).where(PAGE_VIEWS.c.visitor_id == bindparam("visitor_id"))
               .order_by(PAGE_VIEWS.c.id.desc()).limit(1))
_INSERT_VIEW = insert(PAGE_VIEWS)
_INSERT_VISITOR = insert(VISITORS)
# Every socket's hello and goodbye: built once (storage.direct), a None keeping what is stored.
_TOUCH = (update(VISITORS).where(VISITORS.c.id == bindparam("visitor_id"))
          .values(last_seen_at=bindparam("at", type_=VISITORS.c.last_seen_at.type),
                  language=func.coalesce(bindparam("language", type_=VISITORS.c.language.type),
                                         VISITORS.c.language),
                  user_agent=func.coalesce(bindparam("user_agent", type_=VISITORS.c.user_agent.type),
                                           VISITORS.c.user_agent),
                  country=func.coalesce(bindparam("country", type_=VISITORS.c.country.type),
                                        VISITORS.c.country)))
_MARK_LEFT = (update(VISITORS)
              .where(VISITORS.c.id == bindparam("visitor_id"),
                     VISITORS.c.last_seen_at <= bindparam("touched", type_=VISITORS.c.last_seen_at.type))
              .values(last_seen_at=bindparam("gone_at", type_=VISITORS.c.last_seen_at.type)))


def register(connection: Connection, app_id: str) -> Visitor:
    """A new visitor with a fresh token (`visitor.token`; only its hash is stored). The
    returned object is not in any ORM session: read its fields, don't change them."""
    now = utcnow()
    visitor = Visitor(id=identity.new_id(), app_id=app_id, token=identity.new_secret(), first_seen_at=now,
                      last_seen_at=now, custom={}, verified=False, last_event_seq=0)
    execute(connection, _INSERT_VISITOR, {
        "id": visitor.id, "app_id": app_id, "token_hash": visitor.token_hash, "first_seen_at": now,
        "last_seen_at": now, "custom": {}, "verified": False, "last_event_seq": 0})
    return visitor


def touch(connection: Connection, visitor_id: str, at: datetime, language: str | None = None,
          user_agent: str | None = None, country: str | None = None) -> None:
    """The visitor was on the site at `at` (plus, at connect, its browser's language and agent,
    and the country of its address: the newest connection's; None keeps the stored one)."""
    execute(connection, _TOUCH, {"visitor_id": visitor_id, "at": at,
                                 "language": language[:35] if language else None,
                                 "user_agent": user_agent[:500] if user_agent else None,
                                 "country": country or None})


def touch_many(connection: Connection, visitor_ids: list[str], at: datetime) -> None:
    """The heartbeat: every visitor in `visitor_ids` was on the site at `at` (500 at a time:
    SQLite's bound-parameter limit is far above, a statement's size stays small)."""
    for start in range(0, len(visitor_ids), 500):
        connection.execute(update(VISITORS).where(VISITORS.c.id.in_(visitor_ids[start:start + 500]))
                           .values(last_seen_at=at))


def connect(connection: Connection, visitor_id: str, at: datetime, language: str | None,
            user_agent: str | None, country: str | None, page) -> SimpleNamespace | None:
    """A visitor socket's writes at hello, in one unit: touch() and, when the socket names
    the page it opened on (`page`: url, title, referrer), arrive()."""
    touch(connection, visitor_id, at, language, user_agent, country)
    if page is None or not page.url:
        return None
    return arrive(connection, visitor_id, page.url, page.title, page.referrer)


def mark_left(connection: Connection, visitor_id: str, touched: datetime, now: datetime) -> bool:
    """As visitor_queries.mark_left: True when the visitor now counts as gone."""
    gone_at = min(touched, now - ONLINE_WINDOW - timedelta(seconds=1))
    result = execute(connection, _MARK_LEFT,
                     {"visitor_id": visitor_id, "touched": touched, "gone_at": gone_at})
    return result.rowcount == 1


def arrive(connection: Connection, visitor_id: str, url: str, title: str, referrer: str):
    """As visitor_queries.arrive: the page view the socket opened on, or None when the
    visitor's newest page view already is that URL (a reconnect, a reload)."""
    if execute(connection, _NEWEST_URL, {"visitor_id": visitor_id}).scalar() == url:
        return None
    values = {"visitor_id": visitor_id, "url": url, "title": title, "referrer": referrer,
              "utm": visitor_store.utm_of(url), "created_at": utcnow()}
    result = execute(connection, _INSERT_VIEW, values)
    return SimpleNamespace(id=result.inserted_primary_key[0], **values)

