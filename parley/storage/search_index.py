"""SQLite's search index is filled in batches, not by every message's own transaction.

Migration 0015: `messages_fts` (the FTS5 trigram index of migration 0014) holds the
messages up to `search_progress.indexed_through`; newer ones are added by `index_pending`,
which the search runs before it looks (so a search always sees every stored message) and
the clock every few seconds (so that catch-up stays small). The triggers on messages only
touch the index for rows it already holds: deleting or editing a message that is not
indexed yet leaves the index alone, and `index_pending` later indexes what the row says
then. A new message whose id is not above the mark (SQLite reuses the highest id after
that row is deleted) is indexed by its insert trigger at once.

Why: indexing inside each message's transaction cost ~50-75 µs of the server's CPU per
message (bench/README.md, "What costs most": an FTS5 commit writes a new segment and its
structure record every time), a third of a message unit on the hot path; a batch of 40
costs a fraction of that per message.

PostgreSQL maintains its pg_trgm index itself (its GIN pending list batches the same way):
everything here is a no-op there, as on a SQLite without FTS5 trigram (search scans).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from parley.storage.db import Database

_PROGRESS_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_progress'"


BATCH = 200  # messages a unit indexes: ~5 ms of the writer, so messages interleave with it


def index_pending(connection: Connection, limit: int = BATCH) -> int:
    """Adds up to `limit` of the messages stored since the last call to the index, in the
    caller's transaction; how many. 0 where there is no deferred index (PostgreSQL, no FTS5)."""
    if connection.dialect.name != "sqlite":
        return 0
    return index_pending_sqlite3(connection.connection.driver_connection, limit)


def index_pending_sqlite3(driver: sqlite3.Connection, limit: int = BATCH) -> int:
    """index_pending on the sqlite3 driver's connection, in its write transaction."""
    if driver.execute(_PROGRESS_EXISTS).fetchone() is None:
        return 0
    (through,) = driver.execute("SELECT indexed_through FROM search_progress").fetchone()
    ids = [row[0] for row in driver.execute(
        "SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?", (through, limit))]
    if not ids:
        return 0
    driver.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
                   "WHERE id > ? AND id <= ?", (through, ids[-1]))
    driver.execute("UPDATE search_progress SET indexed_through = ?", (ids[-1],))
    return len(ids)


async def catch_up(database: Database) -> int:
    """Everything pending into the index, BATCH messages a unit of the database's writer:
    serialised with every other write (its read of the mark and its insert can't race a
    message's transaction), and short, so the messages stored meanwhile don't wait long
    behind it (a server at 800 messages/s has 4,000 to index every 5 s)."""
    if database.dialect != "sqlite":
        return 0
    total = 0
    while True:
        added = await database.run(index_pending)
        total += added
        if added < BATCH:
            return total
