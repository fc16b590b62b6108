"""Uploaded files' rows (their bytes are parley.file_store's)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import File


async def add_file(session: AsyncSession, row: File) -> None:
    """Stores a new upload's row (the caller commits)."""
    session.add(row)
    await session.flush()


async def get_file(session: AsyncSession, file_id: str) -> File | None:
    return await session.get(File, file_id)
