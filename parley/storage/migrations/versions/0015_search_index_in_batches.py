"""SQLite's message search index filled in batches (parley.storage.search_index)

Where migration 0014 made `messages_fts`: a one-row table `search_progress` holds the id
up to which the index holds the messages, and the triggers on messages touch the index
only for rows at or below that mark. Messages above it are indexed by
`search_index.index_pending` (the search runs it before it looks; the clock every few
seconds). PostgreSQL and a SQLite without messages_fts: nothing to do.

Revision ID: 0015
Revises: 0014
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None

INDEXED = "(SELECT indexed_through FROM search_progress)"

# The same three triggers as 0014's, each statement guarded by the mark.
TRIGGERS = {
    "messages_fts_insert": f"""
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.id <= {INDEXED};
        END
    """,
    "messages_fts_delete": f"""
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text)
                SELECT 'delete', old.id, old.text WHERE old.id <= {INDEXED};
        END
    """,
    "messages_fts_update": f"""
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, text ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text)
                SELECT 'delete', old.id, old.text WHERE old.id <= {INDEXED};
            INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.id <= {INDEXED};
        END
    """,
}


def _has_fts(bind) -> bool:
    return bind.dialect.name == "sqlite" and bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'").first() is not None


def _triggers_of_0014() -> dict:
    path = Path(__file__).with_name("0014_message_search_index.py")
    spec = importlib.util.spec_from_file_location("parley_migration_0014", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TRIGGERS


def upgrade() -> None:
    bind = op.get_bind()
    if not _has_fts(bind):
        return
    op.execute("CREATE TABLE search_progress (id INTEGER PRIMARY KEY CHECK (id = 1), "
               "indexed_through INTEGER NOT NULL)")
    # 0014's triggers kept the index complete: every message there now is in it.
    op.execute("INSERT INTO search_progress (id, indexed_through) "
               "SELECT 1, COALESCE(max(id), 0) FROM messages")
    for name, trigger in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(trigger)


def downgrade() -> None:
    bind = op.get_bind()
    if not _has_fts(bind) or bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_progress'").first() is None:
        return
    # Index what is pending, then 0014's unguarded triggers again.
    op.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
               f"WHERE id > {INDEXED}")
    for name, trigger in _triggers_of_0014().items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(trigger)
    op.execute("DROP TABLE search_progress")
