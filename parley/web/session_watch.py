"""Ends the live sockets of operator logins that ended.

A login is checked when an operator socket opens; without this, a socket opened before
a logout, a password reset or change, the operator's deletion or the login's expiry
kept reading and writing (issue 13, finding 1). Every such ending deletes (or expires)
the `operator_sessions` row, whichever process or CLI command did it, so one query per
tick over this process's open sockets finds them all: no message between processes is
needed, and an ending can't be missed while Redis is down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from parley.storage import operator_queries
from parley.storage.db import Database

log = logging.getLogger("parley.sessions")

CHECK_SECONDS = 0.5  # "closed within a second" of the ending
RENEW_SECONDS = 300  # an open inbox keeps its login alive (operator_queries.SESSION_IDLE), renewed this often


class SessionWatch:
    def __init__(self, database: Database, every: float = CHECK_SECONDS) -> None:
        self._database = database
        self._every = every
        self._watched: dict[int, tuple[str, Callable[[], Awaitable[None]]]] = {}
        self._next_id = 0
        self._renewed_at = 0.0

    def watch(self, token: str, end: Callable[[], Awaitable[None]]) -> int:
        """Calls `end()` once the login of `token` has ended; returns a handle for `unwatch`."""
        self._next_id += 1
        self._watched[self._next_id] = (operator_queries.session_token_hash(token), end)
        return self._next_id

    def unwatch(self, handle: int) -> None:
        self._watched.pop(handle, None)

    async def check(self) -> None:
        """One tick: ends the sockets whose login is gone."""
        if not self._watched:
            return
        # Only the sockets of this read: one opened while the tick awaits (the read, the
        # renewal) was not asked about, and is checked by the next tick.
        checked = list(self._watched.items())
        hashes = {token_hash for _handle, (token_hash, _end) in checked}
        # The twice-a-second read as one Core unit: through an ORM session it was a quarter of
        # an idle server's CPU (13 -> 10 ms/s with 1,000 visitors and 6 operators connected,
        # bench/profile_server.py at 0.5 round trips/s; most of the rest is keepalive pings).
        live = await self._database.read(functools.partial(operator_queries.live_session_hashes,
                                                           token_hashes=hashes))
        now = time.monotonic()
        if live and now - self._renewed_at >= RENEW_SECONDS:
            self._renewed_at = now
            async with self._database.session() as session:
                await operator_queries.renew_logins(session, live)
                await session.commit()
        for handle, (token_hash, end) in checked:
            if token_hash not in live and self._watched.pop(handle, None) is not None:
                try:
                    await end()
                except Exception:  # one socket's trouble never stops the watch
                    log.exception("ending a socket of an ended login failed")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.check()
            except Exception:  # the database away for a moment: try again next tick
                log.warning("checking operator logins failed; retrying", exc_info=True)
