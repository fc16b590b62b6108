"""The Alembic migrations build exactly the schema the models describe, and go back down."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from parley.storage.db import alembic_config
from parley.storage.models import Base, include_name
from tests.helpers.db import upgrade


def _context(connection) -> MigrationContext:
    # The search index (migration 0014) is not in the models: see models.include_name.
    return MigrationContext.configure(connection, opts={"include_name": include_name})


def test_migrations_match_models(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as connection:
        upgrade(connection)
        diff = compare_metadata(_context(connection), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as connection:
        upgrade(connection)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        upgrade(connection)
        assert compare_metadata(_context(connection), Base.metadata) == []


async def test_upgrade_from_0004_keeps_data(tmp_path):
    """Widening the visitor id columns rebuilds tables on SQLite; nothing may cascade away."""
    from sqlalchemy import text

    from parley.storage.db import Database

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: upgrade(sync, "0004"))
        await connection.execute(text(
            "INSERT INTO apps (id, name, secret, origins, created_at) "
            "VALUES ('a1', 'A', 's', '[]', '2025-01-01')"))
        await connection.execute(text(
            "INSERT INTO visitors (id, app_id, token, first_seen_at, last_seen_at, custom, verified, "
            "last_event_seq) VALUES ('v1', 'a1', 't', '2025-01-01', '2025-01-01', '{}', 0, 1)"))
        await connection.execute(text(
            "INSERT INTO chats (id, app_id, visitor_id, status, operator_ids, started_at) "
            "VALUES ('c1', 'a1', 'v1', 'open', '[]', '2025-01-01')"))
        await connection.execute(text(
            "INSERT INTO messages (chat_id, author_kind, text, created_at) "
            "VALUES ('c1', 'visitor', 'hello', '2025-01-01')"))
        await connection.execute(text(
            "INSERT INTO events (visitor_id, seq, kind, payload, created_at) "
            "VALUES ('v1', 1, 'message', '{}', '2025-01-01')"))
    await database.upgrade()
    async with database.engine.connect() as connection:
        counts = [(await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
                  for table in ("visitors", "chats", "messages", "events")]
    await database.close()
    assert counts == [1, 1, 1, 1]
