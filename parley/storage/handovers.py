"""Handover tokens in the database (parley.handover): issue, and exchange once.

No commits here: the caller's unit of work owns the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from parley import handover
from parley.storage.models import App, HandoverToken, Visitor, utcnow
from parley.storage.visitor_store import visitor_token_ok


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back (stored as UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def issue(session: AsyncSession, app_id: str, visitor_id: str, visitor_token: str) -> str:
    """A new token for this app's visitor, whose own token (`visitor_token`) the caller has
    checked; returns the handover token. Stored: its hash, and the visitor token sealed."""
    now = utcnow()
    # Expired tokens are worthless: clear them while here (indexed on expires_at).
    await session.execute(delete(HandoverToken).where(HandoverToken.expires_at < now))
    token = handover.new_token()
    session.add(HandoverToken(token_hash=handover.token_hash(token), app_id=app_id, visitor_id=visitor_id,
                              sealed_token=handover.seal(token, visitor_token),
                              created_at=now, expires_at=now + handover.LIFETIME))
    return token


async def redeem(session: AsyncSession, app: App, token: str) -> Visitor | None:
    """The visitor this app's token was issued for, with its `token` (the one the widget
    proved, unsealed), or None; a found token is used up.

    One DELETE ... RETURNING reads and removes the row, so of two exchanges at once (any
    processes, SQLite or PostgreSQL) exactly one gets it. An expired row goes too.
    """
    row = (await session.execute(
        delete(HandoverToken)
        .where(HandoverToken.token_hash == handover.token_hash(token), HandoverToken.app_id == app.id)
        .returning(HandoverToken.visitor_id, HandoverToken.sealed_token, HandoverToken.expires_at))).first()
    if row is None or _aware(row.expires_at) <= utcnow():
        return None
    visitor = await session.get(Visitor, row.visitor_id)
    visitor_token = handover.unseal(token, row.sealed_token)
    # The token must still open the visitor (a user visitor's changes with the app secret).
    if visitor is None or visitor.app_id != app.id:
        return None
    if not visitor_token_ok(visitor, visitor_token, app.secret):
        return None
    visitor.proved_by(visitor_token)
    return visitor
