"""The database a command works on: which one, migrating it, one unit of work; `parley db upgrade`."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from parley.cli.errors import CommandError, UsageError, first_line
from parley.settings import database_url
from parley.storage import app_queries
from parley.storage.db import Database


def database_of(url: str | None) -> Database:
    """The database of --db / $PARLEY_DB / the data folder."""
    resolved = database_url(url)
    try:
        return Database(resolved)
    except ModuleNotFoundError as missing:  # the driver of an optional extra
        raise CommandError(f"{shown(resolved)} needs the {missing.name} package: "
                           "pip install 'parley[postgres]'") from None


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


async def open_database(database: Database) -> None:
    """Migrates the database to the newest schema; "can't reach it" becomes one clear line."""
    try:
        await database.upgrade()
    except (OSError, DBAPIError) as error:  # refused, unknown host, timeout, bad password, no such file
        raise CommandError(f"could not open the database {shown(database.url)}: "
                           f"{first_line(error)}") from None


async def with_database(url: str | None, work):
    """Runs `await work(session)` on the database of --db, migrated first, as one unit of work."""
    database = database_of(url)
    try:
        await open_database(database)
        async with database.session() as session:
            result = await work(session)
            await session.commit()  # the command's one unit of work
            return result
    finally:
        await database.close()


async def need_app(session, app_id: str):
    """The app with this id, or the UsageError every command gives for an unknown one."""
    app = await app_queries.get_app(session, app_id)
    if app is None:
        raise UsageError(f"no app with id {app_id!r} (see `parley app list`)")
    return app


def cmd_db_upgrade(args) -> int:
    async def upgrade():
        database = database_of(args.db)
        try:
            await open_database(database)
        finally:
            await database.close()
    asyncio.run(upgrade())
    print("database is at the newest schema")
    return 0
