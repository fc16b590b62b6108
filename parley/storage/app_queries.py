"""Apps: create, read, change, rotate the secret; each takes an AsyncSession."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.models import (
    App,
)


async def create_app(session: AsyncSession, name: str, origins: list[str]) -> App:
    app = App(id=identity.new_id(), name=name, secret=identity.new_secret(), origins=origins)
    session.add(app)
    await session.flush()
    return app


async def get_app(session: AsyncSession, app_id: str) -> App | None:
    return await session.get(App, app_id)


async def list_apps(session: AsyncSession) -> list[App]:
    return list((await session.scalars(select(App).order_by(App.created_at))).all())


async def apps_with_working_hours(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(App.id).where(App.working_hours.is_not(None)))).all())


async def update_app(session: AsyncSession, app: App, changes: dict) -> App:
    """Sets validated fields (name, origins, appearance, working_hours, ...), as `parley app set`."""
    for field, value in changes.items():
        setattr(app, field, value)
    return app


async def rotate_app_secret(session: AsyncSession, app: App) -> str:
    """A new secret: integrity hashes and user tokens signed with the old one stop verifying."""
    app.secret = identity.new_secret()
    return app.secret


async def app_appearance(session: AsyncSession, app_id: str) -> dict | None:
    """The app's appearance settings, read now (a setting changed after a socket's hello
    holds at once): rules.requires_signed_identity, rules.transcript_address read it."""
    return await session.scalar(select(App.appearance).where(App.id == app_id))
