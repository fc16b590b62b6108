"""Canned responses (saved replies an operator inserts by typing /shortcut)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.errors import Conflict, LimitReached
from parley.storage.models import CannedResponse


class ShortcutTaken(Conflict):
    """Another canned response of the app has this shortcut (a unique index)."""

    def __init__(self, shortcut: str) -> None:
        super().__init__(shortcut)
        self.shortcut = shortcut


async def list_canned(session: AsyncSession, app_id: str) -> list[CannedResponse]:
    return list((await session.scalars(select(CannedResponse).where(
        CannedResponse.app_id == app_id).order_by(CannedResponse.shortcut))).all())


async def get_canned(session: AsyncSession, app_id: str, canned_id: str) -> CannedResponse | None:
    """The canned response, only if it belongs to `app_id`."""
    row = await session.get(CannedResponse, canned_id)
    return row if row is not None and row.app_id == app_id else None


async def create_canned(session: AsyncSession, app_id: str, shortcut: str, text: str,
                        most: int) -> CannedResponse:
    """Adds one (the caller commits); raises LimitReached when the app has `most` already, and
    ShortcutTaken when the shortcut is."""
    count = await session.scalar(select(func.count()).select_from(CannedResponse)
                                 .where(CannedResponse.app_id == app_id))
    if count >= most:
        raise LimitReached(most)
    row = CannedResponse(id=identity.new_id(), app_id=app_id, shortcut=shortcut, text=text)
    session.add(row)
    await _flush(session, shortcut)
    return row


async def update_canned(session: AsyncSession, row: CannedResponse, changes: dict) -> CannedResponse:
    """Sets checked fields (shortcut, text) (the caller commits); raises ShortcutTaken."""
    for name, value in changes.items():
        setattr(row, name, value)
    await _flush(session, changes.get("shortcut", ""))
    return row


async def delete_canned(session: AsyncSession, row: CannedResponse) -> None:
    await session.delete(row)


async def _flush(session: AsyncSession, shortcut: str) -> None:
    # The unique (app, shortcut) speaks at the INSERT/UPDATE: flushing here turns it into
    # ShortcutTaken for the caller, who then commits (or not).
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise ShortcutTaken(shortcut) from None
