"""Sliding-window rate limits kept in memory (one process).

A limit is a cache of recent hits, not a fact, so it may live in process
memory; with several server processes each enforces its own share. A shared
(Redis) limiter can replace this class without changing callers.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


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


class Limits:
    """Every limit the server enforces, one limiter each (per app instance, so tests stay apart)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
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
