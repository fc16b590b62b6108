"""The async engine, sessions, and migrating to the newest schema.

SQLite (the default, `sqlite+aiosqlite://`) and PostgreSQL (`postgresql+asyncpg://`,
the `postgres` extra) run the same queries and migrations.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# Held while migrating PostgreSQL, so servers started at once don't migrate it twice.
MIGRATION_LOCK = 0x7061726C6579  # "parley"


class Database:
    def __init__(self, url: str, **engine_options) -> None:
        """`engine_options` go to SQLAlchemy's create_async_engine (e.g. poolclass)."""
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **engine_options)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)

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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers and the writer work at once; foreign keys make cascades real.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
