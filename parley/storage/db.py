"""The async engine, sessions, and migrating to the newest schema.

SQLite (the default, `sqlite+aiosqlite://`) and PostgreSQL (`postgresql+asyncpg://`,
the `postgres` extra) run the same queries and migrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from parley import settings
from parley.storage.group_commit import BUSY_TIMEOUT_MS, GroupWriter

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# Held while migrating PostgreSQL, so servers started at once don't migrate it twice.
MIGRATION_LOCK = 0x7061726C6579  # "parley"


class Database:
    def __init__(self, url: str, **engine_options) -> None:
        """`engine_options` go to SQLAlchemy's create_async_engine (e.g. poolclass)."""
        self.url = url
        if not url.startswith("sqlite") and "poolclass" not in engine_options:
            size = settings.database_pool_size()
            engine_options = {"pool_size": size, "max_overflow": size,
                              "pool_timeout": settings.POOL_TIMEOUT, **engine_options}
        self.engine: AsyncEngine = create_async_engine(url, **engine_options)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        # The hot path's writes on SQLite (parley.storage.messages): see run().
        self._writer: GroupWriter | None = None
        # The hello's reads on SQLite (parley.storage.hello_read): see read().
        self._reader: GroupWriter | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def run(self, unit: Callable[[Connection], T]) -> T:
        """Runs `unit(connection)`, plain synchronous SQLAlchemy Core, as one transaction.

        Why: through aiosqlite every statement is a hop to its thread and back, and the
        ORM session adds its own work on top; a message write is ~7 statements. Here the
        whole unit is one hop: on SQLite it runs in one writer thread with its own
        connection, in a transaction begun with BEGIN IMMEDIATE (the write lock first, so
        the reads in it see every committed write and two writers never interleave),
        grouped with the units that arrived meanwhile (parley.storage.group_commit).
        On PostgreSQL it runs in the async engine's connection through run_sync
        (asyncpg needs no thread); callers lock rows themselves (lock_visitor_row).
        Commits at the end, rolls back on an exception (which propagates).
        """
        if self.dialect != "sqlite":
            async with self.engine.begin() as connection:
                return await connection.run_sync(unit)
        if self._writer is None:
            self._writer = GroupWriter(_sqlite_writer(self.url), inline=True)
        return await self._writer.run(unit)

    async def read(self, unit: Callable[[Connection], T]) -> T:
        """Runs `unit(connection)`, synchronous Core that only reads, in one transaction.

        On SQLite: one reader thread with its own connection, not the writer's. In WAL
        mode a read transaction sees one snapshot and never waits for the writer, so a
        reconnect storm's reads don't queue in front of messages being stored (or hold
        SQLite's write lock, as a unit in run() would). Units that arrive while the
        thread is busy share one read transaction (parley.storage.group_commit): each
        batch begins after its units were queued, so a unit sees every write committed
        before it was queued. On PostgreSQL: run_sync on one pooled connection.
        """
        if self.dialect != "sqlite":
            async with self.engine.connect() as connection:
                return await connection.run_sync(unit)
        if self._reader is None:
            self._reader = GroupWriter(_sqlite_reader(self.url), savepoints=False, name="parley-reader")
        return await self._reader.run(unit)

    async def upgrade(self) -> None:
        """Runs Alembic migrations up to head on this database."""
        if not self.url.startswith("sqlite"):
            async with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                             {"key": MIGRATION_LOCK})
                await connection.run_sync(_upgrade)
            return
        # SQLite rebuilds a table to alter it (batch mode); with foreign keys on,
        # dropping the old table would cascade-delete every child row. The pragma
        # only works outside a transaction, so it is set before Alembic begins one.
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()  # ends SQLAlchemy's autobegun (empty) transaction
            try:
                async with connection.begin():
                    await connection.run_sync(_upgrade)
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
                    if broken:
                        raise RuntimeError(f"migration left dangling references: {broken[:5]}")
            finally:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()

    async def close(self) -> None:
        await self.engine.dispose()
        for name in ("_writer", "_reader"):
            thread = getattr(self, name)
            if thread is not None:
                setattr(self, name, None)
                await asyncio.get_running_loop().run_in_executor(None, thread.close)


def _sqlite_writer(url: str) -> Engine:
    """A synchronous engine on the same SQLite file for the writer thread: one connection,
    the driver's own transaction handling off (isolation_level=None) so that SQLAlchemy's
    begin is ours: BEGIN IMMEDIATE (SQLAlchemy's documented recipe for pysqlite)."""
    engine = create_engine(url.replace("+aiosqlite", "+pysqlite", 1), poolclass=StaticPool,
                           connect_args={"isolation_level": None, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        # On the driver itself: exec_driver_sql is a whole SQLAlchemy execution, a tenth
        # of a message's time in the writer thread (measured with thread_time per part).
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")

    return engine


def _sqlite_reader(url: str) -> Engine:
    """The reader thread's engine: as the writer's, but a plain (deferred) BEGIN, so that
    the statements of a unit share one snapshot without taking the write lock."""
    engine = create_engine(url.replace("+aiosqlite", "+pysqlite", 1), poolclass=StaticPool,
                           connect_args={"isolation_level": None, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.connection.driver_connection.execute("BEGIN")

    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers and the writer work at once; foreign keys make cascades real.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL is durable against crashes of the process (a power cut may lose
    # the last commits, never corrupt); FULL would fsync every commit, one per message.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
