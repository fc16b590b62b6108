"""Password hashing off the event loop, with a bound on how many checks may be under way.

One argon2 hash or verification costs ~0.1-0.3 s of CPU and 64 MiB (argon2-cffi's defaults).
Run on the event loop, 30 wrong logins froze every socket of the process for seconds
(issue 13). Here they run in at most THREADS worker threads (argon2 releases the GIL),
and at most MAX_IN_FLIGHT requests may be checking (running or waiting for a thread):
one more is refused at once with `Busy` (HTTP 503 + Retry-After) instead of queueing,
so a flood of guesses costs bounded memory and the loop keeps answering everyone else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread

from parley import identity

THREADS = 2  # argon2 runs at most this many at once per process
MAX_IN_FLIGHT = 8  # requests checking a password at once per process, running or waiting
BUSY_RETRY_AFTER = 1  # seconds a refused request is told to wait


class Busy(Exception):
    """MAX_IN_FLIGHT requests are checking passwords already: answer 503 with Retry-After."""

    retry_after = BUSY_RETRY_AFTER


class Passwords:
    """One per app (app.state.passwords)."""

    def __init__(self, threads: int = THREADS, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.threads = threads
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._limiter: anyio.CapacityLimiter | None = None  # made on first use, inside the event loop

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """A place among the MAX_IN_FLIGHT, held for the request's checks; Busy when there is none."""
        if self.in_flight >= self.max_in_flight:
            raise Busy
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(identity.verify_password, stored_hash, password,
                                              limiter=self._threads())

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(identity.hash_password, password, limiter=self._threads())

    def _threads(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter
