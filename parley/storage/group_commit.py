"""SQLite's hot-path writes, grouped: one writer thread, one transaction per batch.

SQLite has one writer at a time anyway. Each unit of work (a synchronous function of
a Core `Connection`, see parley.storage.messages) used to cost a thread hop and a
commit of its own; under load most of a message's cost was that overhead (a profile
of 150 round trips/s: commits and the hop back to the event loop were ~40 % of the
server's busy time). Here units that arrive while the thread is busy wait for it and
then run together: BEGIN IMMEDIATE, each unit in its own SAVEPOINT (a failing unit
rolls back alone and gets its exception), one COMMIT, and one wake-up of the event
loop for the whole batch. Nothing is reported stored before the COMMIT returns, so
"stored before announced" holds for every unit of the batch.

At low rates the hop itself was the cost: a unit that arrives alone paid a thread
wake-up, a wake-up of the event loop and both threads' cold caches (a message's unit
took ~0.9 ms of the writer thread's CPU at 20 round trips/s against ~0.3 ms back to
back). So the writer (`inline=True`) runs a batch of at most INLINE_MAX units on the
event loop itself when its thread is idle, after the loop's current callbacks (units
queued meanwhile join it). SQLite's busy timeout is 0 for that transaction: if another
connection (an ORM session waiting on this very loop, the CLI) holds the write lock,
the units go to the thread, which may wait for it; the loop never does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")

# A batch's units share one transaction: bounded, so a COMMIT never waits on hundreds.
MAX_BATCH = 64
# At most this many units run on the event loop (see above); more go to the thread, where
# SQLite's own work runs beside the loop's.
INLINE_MAX = 2
# How long a connection waits for SQLite's write lock (db._sqlite_pragmas sets it).
BUSY_TIMEOUT_MS = 5000
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}

_Item = tuple[Callable[[Connection], Any], asyncio.Future, asyncio.AbstractEventLoop]
_Outcome = tuple[bool, Any]  # (ok, result) or (False, exception)


class GroupWriter:
    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, savepoints: bool = True,
                 name: str = "parley-writer", inline: bool = False) -> None:
        """`savepoints=False` for units that only read (Database.read): a failing read
        leaves nothing to roll back, so the units of a batch need no SAVEPOINT each.
        `inline`: small batches may run on the event loop (see the module's doc)."""
        self._inline = inline
        self._flush_scheduled = False
        self._engine = engine
        self._savepoints = savepoints
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Item] = []
        self._draining = False
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        # The writer thread's one connection, held between batches: checking it out of the
        # pool and resetting it on return was a fifth of a one-unit batch's Python work.
        self._held: Connection | None = None
        # (driver connection, busy timeout it was given), see _busy_timeout.
        self._busy_set: tuple[object, int] | None = None
        self.batches = 0  # how many transactions ran (the tests and the bench read these)
        self.units = 0

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Runs `unit` in the writer thread, maybe with others in one transaction; its
        result once the transaction is committed, or its exception (nothing of it stored)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        start = schedule = False
        with self._lock:
            self._pending.append((unit, future, loop))
            if self._draining or self._flush_scheduled:
                pass  # whoever runs now takes it too
            elif self._inline:
                self._flush_scheduled = schedule = True
            else:
                self._draining = start = True
        if schedule:
            loop.call_soon(self._flush, loop)
        elif start:
            self._thread.submit(self._drain)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: the units queued during this iteration, run here when they
        are few and the thread is idle, else handed to the thread."""
        with self._lock:
            self._flush_scheduled = False
            if self._draining or not self._pending:
                return  # the thread is at it: it takes what is queued
            self._draining = True
            batch = None
            if len(self._pending) <= INLINE_MAX and all(item[2] is loop for item in self._pending):
                batch = self._pending[:]
                del self._pending[:]
        if batch is not None:
            outcomes = self._run_inline([unit for unit, _future, _loop in batch])
            self.batches += 1
            self.units += len(batch)
            settled, busy = [], []
            for item, (ok, value) in zip(batch, outcomes, strict=True):
                if not ok and _is_busy(value):
                    busy.append(item)
                else:
                    settled.append((item[1], (ok, value)))
            _settle(settled)
            with self._lock:
                self._pending[:0] = busy  # first in line, for the thread
                if not self._pending:
                    self._draining = False
                    return
        self._thread.submit(self._drain)

    def _run_inline(self, units: list[Callable[[Connection], Any]]) -> list[_Outcome]:
        try:
            self._busy_timeout(0)
        except Exception as error:
            return [(False, error)] * len(units)
        return self._run_batch(units)

    def _busy_timeout(self, milliseconds: int) -> None:
        """The held connection's busy timeout: 0 on the loop (a taken lock sends the units
        to the thread), BUSY_TIMEOUT_MS in the thread (it waits there). Set only when it
        changes: two PRAGMAs around every lone write were ~10 % of its statements."""
        driver = self._connection().connection.driver_connection
        if self._busy_set is not None and self._busy_set[0] is driver and self._busy_set[1] == milliseconds:
            return
        driver.execute(f"PRAGMA busy_timeout={milliseconds}")
        self._busy_set = (driver, milliseconds)

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch = self._pending[:self._max_batch]
                del self._pending[:self._max_batch]
                if not batch:
                    self._draining = False
                    return
            try:
                self._busy_timeout(BUSY_TIMEOUT_MS)
            except Exception as error:
                outcomes = [(False, error)] * len(batch)
            else:
                outcomes = self._run_batch([unit for unit, _future, _loop in batch])
            self.batches += 1
            self.units += len(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list] = defaultdict(list)
            for (_unit, future, loop), outcome in zip(batch, outcomes, strict=True):
                by_loop[loop].append((future, outcome))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, settled)

    def _run_batch(self, units: list[Callable[[Connection], Any]]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        try:
            connection = self._connection()
            with connection.begin():
                if len(units) == 1:
                    outcomes.append(_call(units[0], connection, savepoint=False))
                else:
                    outcomes.extend(_call(unit, connection, savepoint=self._savepoints) for unit in units)
                if len(units) == 1 and not outcomes[0][0]:
                    raise _RolledBack
        except _RolledBack:
            pass
        except Exception as error:  # BEGIN or COMMIT failed: nothing of the batch is stored
            return [(False, error)] * len(units)
        return outcomes

    def _connection(self) -> Connection:
        """The held connection; a new one after it was closed or invalidated (a failed
        statement that SQLAlchemy judged a disconnect)."""
        if self._held is None or self._held.closed or self._held.invalidated:
            if self._held is not None:
                with contextlib.suppress(Exception):
                    self._held.close()
            self._held = self._engine.connect()
        return self._held

    def _dispose(self) -> None:
        self._busy_set = None
        if self._held is not None:
            with contextlib.suppress(Exception):
                self._held.close()
            self._held = None
        self._engine.dispose()

    def close(self) -> None:
        """Disposes of the engine in the writer thread, after the units already queued."""
        self._thread.submit(self._dispose).result(timeout=30)
        self._thread.shutdown(wait=False)


def _is_busy(error: BaseException) -> bool:
    """SQLite's write lock was taken (raw from the driver, or wrapped by SQLAlchemy)."""
    for candidate in (error, getattr(error, "orig", None)):
        if getattr(candidate, "sqlite_errorcode", None) in _BUSY_CODES:
            return True
    return False


class _RolledBack(Exception):
    """Leaves `engine.begin()` with a rollback: the batch's only unit failed."""


def _call(unit: Callable[[Connection], Any], connection: Connection, savepoint: bool) -> _Outcome:
    if not savepoint:
        try:
            return True, unit(connection)
        except Exception as error:
            return False, error
    # A plain SAVEPOINT with one fixed name, not connection.begin_nested(): SQLAlchemy
    # numbers its savepoints, so each was a new statement to compile (~5 % of the writer
    # thread's time in a profile). The units run one after the other, so one name is enough.
    # On the sqlite3 driver itself (the writer is SQLite's only): a SQLAlchemy execution
    # costs far more than the statement (see parley.storage.direct).
    driver = connection.connection.driver_connection
    driver.execute("SAVEPOINT parley_unit")
    try:
        result = unit(connection)
    except Exception as error:
        driver.execute("ROLLBACK TO SAVEPOINT parley_unit")
        driver.execute("RELEASE SAVEPOINT parley_unit")
        return False, error
    driver.execute("RELEASE SAVEPOINT parley_unit")
    return True, result


def _settle(settled: list[tuple[asyncio.Future, _Outcome]]) -> None:
    for future, (ok, value) in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
