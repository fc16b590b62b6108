"""Triggers (invitations and bot answers) of an app; each takes an AsyncSession."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity
from parley.storage.models import (
    Trigger,
)


async def create_trigger(session: AsyncSession, app_id: str, message: str, *, name: str = "",
                         kind: str = "invitation", delay_seconds: int = 0,
                         conditions: list | None = None, enabled: bool = True) -> Trigger:
    trigger = Trigger(id=identity.new_id(), app_id=app_id, name=name, kind=kind, message=message,
                      delay_seconds=delay_seconds, conditions=conditions or [], enabled=enabled)
    session.add(trigger)
    await session.flush()
    return trigger


async def list_triggers(session: AsyncSession, app_id: str) -> list[Trigger]:
    return list((await session.scalars(
        select(Trigger).where(Trigger.app_id == app_id).order_by(Trigger.created_at, Trigger.id))).all())


async def delete_trigger(session: AsyncSession, app_id: str, trigger_id: str) -> bool:
    """Deletes the app's trigger; False when the app has no trigger with that id."""
    result = await session.execute(delete(Trigger).where(Trigger.app_id == app_id, Trigger.id == trigger_id))
    return result.rowcount > 0


async def get_trigger(session: AsyncSession, app_id: str, trigger_id: str) -> Trigger | None:
    """The trigger, only if it belongs to `app_id`."""
    trigger = await session.get(Trigger, trigger_id)
    return trigger if trigger is not None and trigger.app_id == app_id else None


async def update_trigger(session: AsyncSession, trigger: Trigger, changes: dict) -> Trigger:
    """Sets validated fields (name, kind, message, delay_seconds, conditions, enabled)."""
    for field, value in changes.items():
        setattr(trigger, field, value)
    await session.flush()
    return trigger
