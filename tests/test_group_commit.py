"""parley.storage.group_commit: a lone write runs on the event loop itself (no thread hop)
when the writer is idle; a write that finds SQLite's lock taken by another connection goes
to the writer thread and waits there, never on the loop; many at once still share one
transaction in the thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from parley.storage.db import Database


def _setup(path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{path}")

    async def create() -> None:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        await database.engine.dispose()
    asyncio.run(create())
    return database


def _insert(body: str):
    def unit(connection):
        connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
        return threading.get_ident()
    return unit


def _bodies(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT body FROM notes ORDER BY id")]


def test_a_lone_write_runs_on_the_loop(tmp_path: Path):
    database = _setup(tmp_path / "g.db")

    async def scenario():
        try:
            ran_on = await database.run(_insert("one"))
            assert ran_on == threading.get_ident()  # this loop's thread: no hop
            ran_on = await database.run(_insert("two"))
            assert ran_on == threading.get_ident()
        finally:
            await database.close()
    asyncio.run(scenario())
    assert _bodies(tmp_path / "g.db") == ["one", "two"]


def test_many_at_once_share_the_thread_and_a_transaction(tmp_path: Path):
    database = _setup(tmp_path / "g.db")

    async def scenario():
        try:
            threads = await asyncio.gather(*(database.run(_insert(f"n{i}")) for i in range(20)))
            assert threading.get_ident() not in threads
            writer = database._writer
            assert writer.units == 20 and writer.batches < 20
        finally:
            await database.close()
    asyncio.run(scenario())
    assert sorted(_bodies(tmp_path / "g.db")) == sorted(f"n{i}" for i in range(20))


def test_a_write_that_finds_the_lock_taken_waits_in_the_thread_not_on_the_loop(tmp_path: Path):
    path = tmp_path / "g.db"
    database = _setup(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")

    async def scenario():
        try:
            other.execute("BEGIN IMMEDIATE")  # another connection holds SQLite's write lock
            other.execute("INSERT INTO notes (body) VALUES ('other')")
            write = asyncio.ensure_future(database.run(_insert("mine")))
            ticks = 0
            while ticks < 20:  # the loop keeps running while the write waits for the lock
                await asyncio.sleep(0.01)
                ticks += 1
            assert not write.done()
            other.execute("COMMIT")
            ran_on = await asyncio.wait_for(write, timeout=10)
            assert ran_on != threading.get_ident()  # it went to the writer thread
            # The loop path is back for the next lone write.
            assert await database.run(_insert("after")) == threading.get_ident()
        finally:
            await database.close()
            other.close()
    asyncio.run(scenario())
    assert _bodies(path) == ["other", "mine", "after"]


def test_lone_writes_set_the_busy_timeout_once_not_around_each_write(tmp_path: Path):
    database = _setup(tmp_path / "g.db")
    statements: list[str] = []

    async def scenario():
        try:
            await database.run(_insert("first"))  # opens the writer's connection
            driver = database._writer._connection().connection.driver_connection
            driver.set_trace_callback(statements.append)
            for i in range(5):
                await database.run(_insert(f"n{i}"))
        finally:
            await database.close()
    asyncio.run(scenario())
    assert [s for s in statements if "busy_timeout" in s] == []
    assert sum(s.startswith("INSERT") for s in statements) == 5


def test_a_write_begun_is_finished_when_its_caller_is_cancelled(tmp_path: Path):
    # delivery.run skips anyio's shield on SQLite: the group writer itself must finish a
    # unit it was given, whatever happens to the task that asked (a socket gone away).
    from parley import delivery

    database = _setup(tmp_path / "g.db")

    async def scenario():
        try:
            lone = asyncio.ensure_future(delivery.run(database, _insert("lone")))
            crowd = [asyncio.ensure_future(delivery.run(database, _insert(f"c{i}"))) for i in range(5)]
            await asyncio.sleep(0)  # each is queued to the writer now
            for task in (lone, *crowd):
                task.cancel()
            for task in (lone, *crowd):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await database.run(_insert("after"))
        finally:
            await database.close()
    asyncio.run(scenario())
    assert sorted(_bodies(tmp_path / "g.db")) == sorted(["lone", *(f"c{i}" for i in range(5)), "after"])
