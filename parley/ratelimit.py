"""Sliding-window rate limits kept in memory (one process).

A limit is a cache of recent hits, not a fact, so it may live in process
memory; with several server processes each enforces its own share. A shared
(Redis) limiter can replace this class without changing callers.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Hashable

from parley.settings import ConfigError

MIB = 1024 * 1024


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def allowed(self, key: Hashable) -> bool:
        """True if one more hit would be within the limit (records nothing)."""
        return len(self._recent(key, self._clock())) < self.limit

    def hit(self, key: Hashable) -> bool:
        """Records a hit if the key is under its limit; False (and nothing recorded) if over."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            return False
        if key not in self._hits:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            self._hits[key] = hits
        hits.append(now)
        return True

    def unhit(self, key: Hashable) -> None:
        """Takes back the newest hit of `key` (a request paid up front that cost nothing)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def retry_after(self, key: Hashable) -> float:
        """Seconds until the next hit for `key` would be allowed (0 if now)."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[0] + self.window - now)

    def reset(self, key: Hashable) -> None:
        self._hits.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        for key in list(self._hits):
            self._recent(key, now)
        if len(self._hits) >= self._max_keys:
            # Still full of active keys: drop the oldest rather than grow without bound.
            for key in list(self._hits)[: len(self._hits) // 10 or 1]:
                del self._hits[key]


class ByteQuota:
    """At most `limit` bytes per `window` seconds for each key (a RateLimiter weighted by size)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._taken: dict[Hashable, deque[tuple[float, int]]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[tuple[float, int]]:
        taken = self._taken.get(key)
        if taken is None:
            return deque()
        while taken and taken[0][0] <= now - self.window:
            taken.popleft()
        if not taken:
            del self._taken[key]
        return taken

    def used(self, key: Hashable) -> int:
        return sum(size for _at, size in self._recent(key, self._clock()))

    def allowed(self, key: Hashable, size: int) -> bool:
        """True if `size` more bytes would be within the quota (records nothing)."""
        return self.used(key) + size <= self.limit

    def take(self, key: Hashable, size: int) -> bool:
        """Records `size` bytes if they fit; False (and nothing recorded) if they don't.
        Checked and recorded at once, so parallel uploads can't all pass the same check."""
        now = self._clock()
        taken = self._recent(key, now)
        if sum(amount for _at, amount in taken) + size > self.limit:
            return False
        if key not in self._taken:
            if len(self._taken) >= self._max_keys:
                for stale in list(self._taken)[: len(self._taken) // 10 or 1]:
                    del self._taken[stale]
            self._taken[key] = taken
        taken.append((now, size))
        return True

    def retry_after(self, key: Hashable, size: int) -> float:
        """Seconds until `size` more bytes would fit (the whole window if they never will)."""
        now = self._clock()
        taken = self._recent(key, now)
        excess = sum(amount for _at, amount in taken) + size - self.limit
        if excess <= 0:
            return 0.0
        if size > self.limit:
            return self.window
        for at, amount in taken:
            excess -= amount
            if excess <= 0:
                return max(0.0, at + self.window - now)
        return self.window


class OpenCount:
    """At most `limit` things open at once for each key (sockets per address)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[Hashable, int] = {}

    def count(self, key: Hashable) -> int:
        return self._open.get(key, 0)

    def enter(self, key: Hashable) -> bool:
        """Counts one more open for `key`; False (nothing counted) when it has `limit` already."""
        if self._open.get(key, 0) >= self.limit:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def leave(self, key: Hashable) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)


class Limits:
    """Every limit the server enforces, one limiter each (per app instance, so tests stay apart).

    Each number can be changed by name in $PARLEY_LIMITS, e.g.
    `PARLEY_LIMITS="new_visitors_per_ip=200,hello_timeout=5"` (a limiter's count, keeping
    its window; a cap; seconds): for sites whose visitors share few addresses, and for
    load tests and browser tests, where every visitor comes from 127.0.0.1.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, overrides: str | None = None) -> None:
        self.visitor_messages = RateLimiter(30, 60, clock)  # per visitor
        self.page_views = RateLimiter(60, 60, clock)  # per visitor
        self.messages_per_ip = RateLimiter(120, 60, clock)  # per IP address, all its visitors
        self.typing = RateLimiter(240, 60, clock)  # per visitor; excess is dropped silently
        self.operator_typing = RateLimiter(240, 60, clock)  # per operator; excess is dropped
        self.transcripts = RateLimiter(5, 3600, clock)  # per visitor: each one sends an email
        self.operator_messages = RateLimiter(120, 60, clock)  # per operator
        self.failed_logins = RateLimiter(5, 60, clock)  # per (ip, app, email)
        self.failed_logins_per_ip = RateLimiter(30, 60, clock)  # per ip, any email
        self.visitor_uploads = RateLimiter(10, 60, clock)  # per visitor (POST /api/visitor/files)
        self.operator_uploads = RateLimiter(30, 60, clock)  # per operator (POST /api/operator/files)
        # The visitor socket's other frames, per visitor: each reads or writes the database or
        # reaches every operator tab (issue 13). Widgets send far fewer: a visitor.update per
        # setVisitorData call, history on (re)connect and scroll, seen as messages are read.
        self.visitor_updates = RateLimiter(20, 60, clock)
        self.visitor_history = RateLimiter(120, 60, clock)
        self.visitor_seen = RateLimiter(120, 60, clock)
        self.visitor_gets = RateLimiter(30, 60, clock)
        self.agent_predictions = RateLimiter(30, 60, clock)
        self.greetings = RateLimiter(30, 60, clock)
        self.chat_properties = RateLimiter(30, 60, clock)
        self.chat_ratings = RateLimiter(10, 60, clock)
        self.chat_closes = RateLimiter(10, 60, clock)
        # Free visitors (issue 13): a hello without credentials creates a visitor, which
        # costs nothing to ask for. Returning visitors (their token) and logged-in users
        # (the site's signature) are not counted. 20 a minute is a busy office behind one
        # NAT opening the site; 600 a minute per app is far above a small shop's traffic.
        self.new_visitors_per_ip = RateLimiter(20, 60, clock)
        self.new_visitors_per_app = RateLimiter(600, 60, clock)
        # Open visitor sockets per address (one per tab), with or without hello: counted
        # by this process.
        self.visitor_sockets_per_ip = OpenCount(50)
        # Seconds a new visitor socket may take to send its hello (the widget sends it at once).
        self.hello_timeout = 10.0
        # Hellos answered at once by one process (database reads, welcome, replay); more wait
        # their turn, so that a reconnect storm never starves keepalives and operators.
        self.hellos_at_once = 32
        # Upload bytes per address per hour, on top of the per-visitor count: uploads are
        # stored on disk, and visitors are cheap.
        self.upload_bytes_per_ip = ByteQuota(50 * MIB, 3600, clock)
        # Uploads attached to no message are deleted this long after they were made (rows
        # and bytes), by the background clock: the widget sends its message right away.
        self.unattached_upload_seconds = 3600
        # Transcripts are emails with visitor-written text: per address and per app too,
        # besides the per-visitor budget (`transcripts`) and one per chat.
        self.transcripts_per_ip = RateLimiter(5, 3600, clock)
        self.transcripts_per_app = RateLimiter(100, 3600, clock)
        self.override(os.environ.get("PARLEY_LIMITS", "") if overrides is None else overrides)

    def override(self, spec: str) -> None:
        """Applies `name=number,...` (see the class); a wrong name or number is a ConfigError."""
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, raw = item.partition("=")
            name = name.strip()
            current = getattr(self, name, None) if not name.startswith("_") else None
            try:
                number = float(raw)
            except ValueError:
                number = -1.0
            if current is None or callable(current) or number < 0:
                raise ConfigError(f"$PARLEY_LIMITS: {item!r} is not <limit name>=<number ≥ 0>")
            if isinstance(current, RateLimiter | ByteQuota | OpenCount):
                current.limit = int(number)
            elif isinstance(current, int):
                setattr(self, name, int(number))
            else:
                setattr(self, name, number)


class Charge:
    """The hits one request costs, recorded once however often its work runs.

    `delivery.write` retries a write from the start after a race; counting a hit on
    each try made a busy operator hit the limit early (~110 of 120 messages a minute).
    A charge takes a hit from every (limiter, key) at once, or from none.
    """

    def __init__(self, *costs: tuple[RateLimiter, Hashable]) -> None:
        self._costs = costs
        self._paid = False

    def pay(self) -> bool:
        """True if paid (now or on an earlier try); False, recording nothing, when over a limit."""
        if self._paid:
            return True
        if not all(limiter.allowed(key) for limiter, key in self._costs):
            return False
        for limiter, key in self._costs:
            limiter.hit(key)
        self._paid = True
        return True

    def refund(self) -> None:
        """Takes the hits back: the request turned out to cost nothing (a resend of a stored
        message) or failed before doing anything."""
        if self._paid:
            for limiter, key in self._costs:
                limiter.unhit(key)
            self._paid = False

    def retry_after(self) -> float:
        return max((limiter.retry_after(key) for limiter, key in self._costs), default=0.0)
