"""Who is on the site now: each open visitor socket keeps its visitor's `last_seen_at` fresh.

The database is the truth, so every server process sees the same visitors online
(parley.storage.visitor_queries.ONLINE_WINDOW). A socket touches the visitor when
it connects (storing the browser's language and user agent), on every page view
(`touch`, called by the socket's page.view handler) and every HEARTBEAT_SECONDS
(the process's one heartbeat task touches all its visitors that are due at once).

When a process closes the last socket it holds for a visitor, it tells the app's
operators at once (`visitor.left` on the operator feed) and moves `last_seen_at`
out of the window, unless another process touched the visitor after this one did
(its socket is still open there). A process that dies without closing anything
tells nobody: its visitors drop out of the window within ONLINE_WINDOW.

The per-process socket counts are only a hint for `visitor.left`; nothing else
trusts them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta

from parley import delivery, protocol, wire
from parley import fanout as channels
from parley.storage import visitor_queries, visitor_writes
from parley.storage.models import utcnow

log = logging.getLogger("parley.visitor")

# A heartbeat is skipped when this process touched the visitor more recently than this.
FRESH = timedelta(seconds=visitor_queries.HEARTBEAT_SECONDS - 5)


class _Seen:
    __slots__ = ("sockets", "touched")

    def __init__(self) -> None:
        self.sockets = 0
        self.touched = None  # this process's newest touch (a datetime)


def _registry(state) -> dict[str, _Seen]:
    registry = getattr(state, "visitor_presence", None)
    if registry is None:
        registry = {}
        state.visitor_presence = registry
    return registry


async def touch(state, visitor_id: str, **extra) -> None:
    """Marks the visitor as on the site now (`extra`: language, user_agent)."""
    now = utcnow()

    await delivery.run(state.db, functools.partial(visitor_writes.touch, visitor_id=visitor_id, at=now,
                                                   **extra))
    seen = _registry(state).get(visitor_id)
    if seen is not None and (seen.touched is None or now > seen.touched):
        seen.touched = now


# The process's heartbeat looks this often for visitors due a touch (FRESH or older), and
# touches them all in one statement: their last_seen_at then stays under HEARTBEAT_SECONDS
# + BEAT_SECONDS old, inside ONLINE_WINDOW. One task and one UPDATE per beat for the whole
# process, instead of a task and an UPDATE per socket (1,000 visitors made ~17 writes/s).
BEAT_SECONDS = 10.0


def _beat_lock(state) -> asyncio.Lock:
    """Held by a heartbeat for its write. A socket's goodbye (`close`) waits for a beat in
    flight before it marks the visitor gone: without that, a beat that chose the visitor
    before its last socket closed could store its touch after the goodbye (the visitor back
    online for ONLINE_WINDOW), or just before it, so that the goodbye, holding an older
    touch, found a newer one and kept the visitor online. Goodbyes don't wait for each other."""
    lock = getattr(state, "visitor_beat_lock", None)
    if lock is None:
        lock = asyncio.Lock()
        state.visitor_beat_lock = lock
    return lock


def _ensure_heartbeat(state) -> None:
    if getattr(state, "visitor_heartbeat", None) is None:
        state.visitor_heartbeat = asyncio.create_task(_heartbeat(state))


async def _heartbeat(state) -> None:
    """Runs while this process holds visitor sockets; ends when it holds none."""
    try:
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            registry = _registry(state)
            if not registry:
                return
            async with _beat_lock(state):
                await _beat(state, registry)
    finally:
        state.visitor_heartbeat = None


async def _beat(state, registry: dict[str, _Seen]) -> None:
    now = utcnow()
    due = {visitor_id: seen for visitor_id, seen in registry.items()
           if seen.touched is None or now - seen.touched >= FRESH}
    if not due:
        return
    try:
        await delivery.run(state.db, functools.partial(visitor_writes.touch_many, visitor_ids=list(due),
                                                       at=now))
    except Exception:  # a busy database: the next beat tries again
        log.warning("could not refresh %d visitors", len(due), exc_info=True)
        return
    # Also for a visitor whose last socket closed meanwhile: its goodbye reads this touch.
    for seen in due.values():
        if seen.touched is None or now > seen.touched:
            seen.touched = now


class VisitorPresence:
    """One visitor socket's share of "on the site now": `start`, and `close` (idempotent)
    when the socket ends; the process's heartbeat keeps it fresh in between."""

    def __init__(self, state, app_id: str, visitor_id: str, headers, page=None) -> None:
        self.state = state
        self.page = page  # hello.page: the page this socket was opened on
        self.app_id = app_id
        self.visitor_id = visitor_id
        self.language = visitor_queries.language_of(headers.get("accept-language"))
        self.user_agent = headers.get("user-agent")
        self._started = False
        self._closed = False

    async def start(self, country: str | None = None) -> None:
        """Touches the visitor (with its language, user agent and `country`) and records the
        page the socket opened on as a page view, unless it is the one the visitor is
        already on (a reconnect, a reload): operators see the visitor arrive or move on.
        One unit for all of it: a reconnect storm makes one write per socket, not three."""
        seen = _registry(self.state).setdefault(self.visitor_id, _Seen())
        seen.sockets += 1
        self._started = True
        _ensure_heartbeat(self.state)
        now = utcnow()
        view = await delivery.run(self.state.db, functools.partial(
            visitor_writes.connect, visitor_id=self.visitor_id, at=now, language=self.language,
            user_agent=self.user_agent, country=country, page=self.page))
        if seen.touched is None or now > seen.touched:
            seen.touched = now
        if view is not None:
            await self.state.fanout.publish(channels.app_channel(self.app_id), protocol.frame(
                "page.view", visitorId=self.visitor_id, url=view.url, title=view.title,
                referrer=view.referrer, utm=view.utm or {}, createdAt=wire.timestamp(view.created_at)))

    async def close(self) -> None:
        if not self._started or self._closed:
            return
        self._closed = True
        registry = _registry(self.state)
        seen = registry.get(self.visitor_id)
        if seen is None:
            return
        seen.sockets -= 1
        if seen.sockets > 0:
            return
        del registry[self.visitor_id]  # no beat from now on chooses this visitor
        try:
            async with _beat_lock(self.state):
                pass  # a beat that chose it has stored its touch (and set seen.touched)
            touched = seen.touched
            if touched is None:
                return  # never stored as here: nothing to take back
            # Not gone when another process touched the visitor later: its socket is open.
            if await delivery.run(self.state.db, functools.partial(
                    visitor_writes.mark_left, visitor_id=self.visitor_id, touched=touched, now=utcnow())):
                await self.state.fanout.publish(channels.app_channel(self.app_id), protocol.frame(
                    "visitor.left", visitorId=self.visitor_id))
        except Exception:  # never let the goodbye break the socket's own cleanup
            log.warning("could not mark visitor %s as gone", self.visitor_id, exc_info=True)
