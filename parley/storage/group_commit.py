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
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")

# A batch's units share one transaction: bounded, so a COMMIT never waits on hundreds.
MAX_BATCH = 64

_Item = tuple[Callable[[Connection], Any], asyncio.Future, asyncio.AbstractEventLoop]
_Outcome = tuple[bool, Any]  # (ok, result) or (False, exception)


class GroupWriter:
    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, savepoints: bool = True,
                 name: str = "parley-writer") -> None:
        """`savepoints=False` for units that only read (Database.read): a failing read
        leaves nothing to roll back, so the units of a batch need no SAVEPOINT each."""
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
        self.batches = 0  # how many transactions ran (the tests and the bench read these)
        self.units = 0

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Runs `unit` in the writer thread, maybe with others in one transaction; its
        result once the transaction is committed, or its exception (nothing of it stored)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            self._pending.append((unit, future, loop))
            start = not self._draining
            self._draining = True
        if start:
            self._thread.submit(self._drain)
        return await future

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch = self._pending[:self._max_batch]
                del self._pending[:self._max_batch]
                if not batch:
                    self._draining = False
                    return
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
        if self._held is not None:
            with contextlib.suppress(Exception):
                self._held.close()
            self._held = None
        self._engine.dispose()

    def close(self) -> None:
        """Disposes of the engine in the writer thread, after the units already queued."""
        self._thread.submit(self._dispose).result(timeout=30)
        self._thread.shutdown(wait=False)


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
