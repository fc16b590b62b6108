"""Whether the database answers: the readiness probe's one query (GET /readyz)."""

from __future__ import annotations

from sqlalchemy import text

from parley.storage.db import Database


async def ping(database: Database) -> None:
    """Runs `SELECT 1` on a connection from the pool; raises what the driver raises when the
    database does not answer (refused, timed out, restarted)."""
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
