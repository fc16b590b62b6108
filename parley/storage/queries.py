"""Reads and writes the rest of Parley uses; each takes an AsyncSession."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.models import App, Operator, Visitor, utcnow


async def create_app(session: AsyncSession, name: str, origins: list[str]) -> App:
    app = App(id=identity.new_id(), name=name, secret=identity.new_secret(), origins=origins)
    session.add(app)
    await session.commit()
    return app


async def get_app(session: AsyncSession, app_id: str) -> App | None:
    return await session.get(App, app_id)


async def list_apps(session: AsyncSession) -> list[App]:
    return list((await session.scalars(select(App).order_by(App.created_at))).all())


async def create_operator(
    session: AsyncSession, app_id: str, email: str, password: str, name: str, role: str = "operator"
) -> Operator:
    operator = Operator(
        id=identity.new_id(),
        app_id=app_id,
        email=email.strip().lower(),
        name=name,
        password_hash=identity.hash_password(password),
        role=role,
    )
    session.add(operator)
    await session.commit()
    return operator


async def find_operator(session: AsyncSession, app_id: str, email: str) -> Operator | None:
    return await session.scalar(
        select(Operator).where(Operator.app_id == app_id, Operator.email == email.strip().lower())
    )


async def resume_or_register_visitor(
    session: AsyncSession, app_id: str, visitor_id: str | None, token: str | None
) -> Visitor:
    """The visitor this browser proves it owns, or a new one.

    A visitor id without its matching token is not trusted: knowing someone's
    id must not open their chat, so such a browser gets a fresh visitor.
    """
    if visitor_id and token:
        visitor = await session.get(Visitor, visitor_id)
        if visitor is not None and visitor.app_id == app_id and identity.same(visitor.token, token):
            visitor.last_seen_at = utcnow()
            await session.commit()
            return visitor
    visitor = Visitor(id=identity.new_id(), app_id=app_id, token=identity.new_secret())
    session.add(visitor)
    await session.commit()
    return visitor
