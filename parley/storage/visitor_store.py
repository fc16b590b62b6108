"""Visitor rows in ORM sessions: proving, registering, a logged-in user's visitor, profile
fields, page views, and the per-visitor write lock (the hello's Core units are
storage/visitor_writes.py). The caller owns the transaction."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.models import (
    App,
    PageView,
    Visitor,
    utcnow,
)


def visitor_token_ok(visitor: Visitor, token: str | None, app_secret: str) -> bool:
    """Does `token` prove the browser owns `visitor`? Its SHA-256 is the stored hash, or,
    for a logged-in user's visitor, it is the token the user's browsers get
    (identity.user_visitor_token). Compared in constant time."""
    if not token or len(token) > 200:
        return False
    ok = identity.same(visitor.token_hash, identity.token_hash(token))
    if visitor.user_id is not None:
        ok = identity.same(identity.user_visitor_token(app_secret, visitor.id), token) or ok
    return ok


async def resume_visitor(session: AsyncSession, app: App, visitor_id: str | None,
                         token: str | None, touch: bool = True) -> Visitor | None:
    """The app's visitor this browser proves it owns (its `token` then echoes what was sent),
    or None. A visitor id without its matching token is not trusted: knowing someone's id
    must not open their chat. `touch=False`: reads only (the visitor socket touches the
    visitor itself right after, through its presence)."""
    if not (visitor_id and token) or len(visitor_id) > 64:
        return None
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None or visitor.app_id != app.id or not visitor_token_ok(visitor, token, app.secret):
        return None
    if touch:
        visitor.last_seen_at = utcnow()
    visitor.proved_by(token)
    return visitor


async def register_visitor(session: AsyncSession, app_id: str) -> Visitor:
    """A new visitor with a fresh token (`visitor.token`; only its hash is stored)."""
    visitor = Visitor(id=identity.new_id(), app_id=app_id, token=identity.new_secret())
    session.add(visitor)
    await session.flush()
    return visitor


async def resume_or_register_visitor(
    session: AsyncSession, app_id: str, visitor_id: str | None, token: str | None
) -> Visitor:
    """The visitor this browser proves it owns, or a new one (no limits: the visitor
    socket counts new visitors itself)."""
    app = await session.get(App, app_id)
    visitor = await resume_visitor(session, app, visitor_id, token) if app is not None else None
    return visitor if visitor is not None else await register_visitor(session, app_id)


async def visitor_for_user(session: AsyncSession, app: App, user_id: str) -> Visitor:
    """The visitor a logged-in user (session.user, token already checked) is, in this app.

    That is the visitor whose id is `user_id` (the site stored it from `ready`),
    else the one an earlier login created for it, else a new visitor with that
    id. Only when the id is taken by another app's visitor does the user get a
    visitor with a fresh id (found again by `user_id`): apps never share one.
    Its `token` is the user's visitor token (identity.user_visitor_token), the same in
    every browser; the stored hash is left alone, so the token a browser had before
    the login keeps working.
    """
    app_id = app.id
    visitor = await session.get(Visitor, user_id)
    if visitor is None or visitor.app_id != app_id:
        taken = visitor is not None
        visitor = await session.scalar(
            select(Visitor).where(Visitor.app_id == app_id, Visitor.user_id == user_id)
            .order_by(Visitor.first_seen_at).limit(1))
        if visitor is None:
            # A random token nobody gets: the user's own is derived (and changes with the secret).
            visitor = Visitor(id=identity.new_id() if taken else user_id, app_id=app_id,
                              token=identity.new_secret())
            session.add(visitor)
    visitor.user_id = user_id
    visitor.verified = True
    visitor.last_seen_at = utcnow()
    await session.flush()
    visitor.proved_by(identity.user_visitor_token(app.secret, visitor.id))
    return visitor


async def set_visitor_country(session: AsyncSession, visitor: Visitor, country: str | None) -> None:
    """Keeps the country of the visitor's newest connection (None: unknown, nothing stored)."""
    if country and visitor.country != country:
        await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(country=country),
                              execution_options={"synchronize_session": False})
        visitor.country = country


async def set_visitor_fields(session: AsyncSession, visitor: Visitor, values: dict) -> Visitor:
    """Sets checked profile fields (rules.visitor_update decides them)."""
    for field, value in values.items():
        setattr(visitor, field, value)
    return visitor


async def get_visitor(session: AsyncSession, app_id: str, visitor_id: str) -> Visitor | None:
    """The visitor, only if it belongs to `app_id`."""
    visitor = await session.get(Visitor, visitor_id)
    return visitor if visitor is not None and visitor.app_id == app_id else None


async def lock_visitor(session: AsyncSession, visitor_id: str) -> None:
    """Serialises the writes of one visitor's chat, so a write that first reads (is a chat
    open? was this clientId stored?) reads what the previous one committed. Every such write
    takes it first, so they never deadlock.

    PostgreSQL: a row lock till commit (FOR NO KEY UPDATE: rows referencing the visitor may
    still be added). SQLite has no row locks, and its driver opens a transaction only at the
    first write, so two writers could both read "no open chat" and then each open one
    (issue 19). There a no-op UPDATE of the visitor's row takes the database's write lock
    first: the reads after it see every committed write and no other writer runs until
    commit. It must come before the transaction's other statements, as it does here."""
    if session.bind.dialect.name == "sqlite":
        await session.execute(
            update(Visitor).where(Visitor.id == visitor_id).values(last_seen_at=Visitor.last_seen_at),
            execution_options={"synchronize_session": False})
        return
    await session.execute(select(Visitor.id).where(Visitor.id == visitor_id).with_for_update(key_share=True))


def utm_of(url: str) -> dict:
    """The utm_* parameters of a page URL, without the prefix ({} for a URL urlsplit refuses)."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:  # e.g. "http://[::1": a visitor's page URL is whatever the page says
        return {}
    return {key[4:]: values[0] for key, values in query.items()
            if key.startswith("utm_") and len(key) > 4 and values}


async def add_page_view(session: AsyncSession, visitor_id: str, url: str, title: str,
                        referrer: str) -> PageView:
    view = PageView(visitor_id=visitor_id, url=url, title=title, referrer=referrer, utm=utm_of(url))
    session.add(view)
    await session.flush()
    return view
