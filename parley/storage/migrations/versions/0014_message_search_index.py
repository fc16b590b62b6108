"""An index for the inbox's search over message text, instead of a full scan with LIKE

SQLite: `messages_fts`, an FTS5 table over messages.text with the `trigram` tokenizer
(SQLite >= 3.34), external content (its rows are messages.id; the text stays only in
messages), kept in sync by triggers on messages and backfilled here. A trigram index
answers substring queries of 3 or more characters, case-insensitively, in any script
(parley.storage.visitor_queries.search falls back to LIKE for shorter ones). Where the
SQLite has no FTS5 or no trigram tokenizer, nothing is created and search keeps using
LIKE (a warning says so).

PostgreSQL: the pg_trgm extension and a GIN trigram index on messages.text, which
`ILIKE '%...%'` itself uses: the same query, the same exact-substring meaning. Where
`CREATE EXTENSION pg_trgm` is not allowed (or pg_trgm is not installed), nothing is
created, search keeps working by a scan, and a warning says what to ask for.

Careful with later migrations: rebuilding `messages` on SQLite (batch mode, which
Alembic uses here for any ALTER) drops these triggers with the old table; such a
migration has to create them again (TRIGGERS below) and rebuild messages_fts.
tests/test_search_index.py checks that the newest schema has them.

Revision ID: 0014
Revises: 0013
"""

import logging
import sqlite3
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

log = logging.getLogger("parley.migrations")

PG_INDEX = "ix_messages_text_trgm"

FTS_TABLE = """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='id', tokenize='trigram')
"""

# External content: the index must be told the old text to remove (the 'delete' command).
TRIGGERS = {
    "messages_fts_insert": """
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
        END
    """,
    "messages_fts_delete": """
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END
    """,
    "messages_fts_update": """
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, text ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
        END
    """,
}


def _warn(message: str) -> None:
    log.warning(message)
    warnings.warn(message, stacklevel=2)


def sqlite_has_trigram() -> bool:
    """Whether this Python's SQLite (the one every Parley connection uses) has FTS5 with the
    trigram tokenizer; asked of a throwaway in-memory database, outside any transaction."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False
    finally:
        probe.close()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if not sqlite_has_trigram():
            _warn(f"SQLite {sqlite3.sqlite_version} has no FTS5 trigram tokenizer (needs 3.34+): "
                  "search keeps scanning messages with LIKE")
            return
        op.execute(FTS_TABLE)
        for trigger in TRIGGERS.values():
            op.execute(trigger)
        op.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")  # the existing messages
        # One segment instead of the many the rebuild leaves: without this, the merges that the
        # next writes trigger make each message INSERT ~5x slower for a long while (bench/search.py).
        op.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError as error:
            _warn("could not CREATE EXTENSION pg_trgm, so messages.text gets no trigram index and search "
                  "scans messages; a superuser can run `CREATE EXTENSION pg_trgm` in this database and "
                  f"`CREATE INDEX {PG_INDEX} ON messages USING gin (text gin_trgm_ops)` "
                  f"({str(error.orig).strip().splitlines()[0]})")
            return
        op.create_index(PG_INDEX, "messages", ["text"], postgresql_using="gin",
                        postgresql_ops={"text": "gin_trgm_ops"})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        try:  # only when nothing else in the database uses pg_trgm (RESTRICT)
            with bind.begin_nested():
                bind.exec_driver_sql("DROP EXTENSION IF EXISTS pg_trgm")
        except sa.exc.DBAPIError:
            pass
