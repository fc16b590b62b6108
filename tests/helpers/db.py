"""The database from sync test code: running work in a session, migrating, seeding."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from alembic import command

from parley import rules
from parley.storage import app_queries, message_store, visitor_store
from parley.storage.db import Database, alembic_config
from parley.storage.models import Chat

# Every test operator's password (the CLI, the in-process app and the real servers alike).
OPERATOR_PASSWORD = "correct horse battery"


def run(database: Database, work):
    """Runs `work(session)` against the database from sync test code, as one unit of work
    (committed at the end, like a handler's)."""
    async def go():
        try:
            async with database.session() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await database.engine.dispose()
    return asyncio.run(go())


def allow_transcripts_to_any_email(database: Database, app_id: str) -> None:
    """What `parley app set --transcripts-to-any-email` does: by default a transcript goes
    only to the email the site signed for the visitor."""
    async def work(session):
        app = await app_queries.get_app(session, app_id)
        app.appearance = {**(app.appearance or {}), rules.TRANSCRIPTS_TO_ANY_EMAIL: True}
        await session.commit()
    run(database, work)


def upgrade(connection, target: str = "head") -> None:
    """Migrates a sync connection's database to `target` with alembic."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def old_chat(database, app_id: str, text: str, minutes_ago: float, visitor_name: str | None = None):
    """A new visitor's chat with one message, started `minutes_ago`."""
    async def work(session):
        visitor = await visitor_store.resume_or_register_visitor(session, app_id, None, None)
        if visitor_name:
            visitor.name = visitor_name
            visitor.email = "guest@example.org"
        stored = await message_store.add_visitor_message(session, visitor, "c-1", text)
        chat = await session.get(Chat, stored.chat.id)
        chat.started_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        await session.commit()
        return chat
    return run(database, work)
