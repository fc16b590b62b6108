"""Erasure and retention: what leaves with a visitor or with age, files included."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import (
    Chat,
    Event,
    File,
    Message,
    PageView,
    Visitor,
    utcnow,
)


def _files_going_with(visitor_ids, chat_ids):
    """Which files leave with these visitors and chats (both SELECTs of ids): the visitors'
    own uploads, and the attachments of the chats' messages that no other message uses
    (an operator's upload has no visitor, so no cascade reaches it)."""
    used_elsewhere = select(Message.id).where(
        Message.file_id == File.id, Message.chat_id.not_in(chat_ids)).exists()
    attached = select(Message.file_id).where(Message.chat_id.in_(chat_ids), Message.file_id.is_not(None))
    return File.visitor_id.in_(visitor_ids) | (File.id.in_(attached) & ~used_elsewhere)


async def _remove_files(session: AsyncSession, where, dry_run: bool) -> list[str]:
    """The ids of the files `where` selects, deleted unless `dry_run` (the bytes are the caller's)."""
    if dry_run:
        return list((await session.scalars(select(File.id).where(where))).all())
    # One statement, so the ids are exactly the rows deleted (and on SQLite it takes the
    # write lock first: the server can't change what the following statements see).
    return list((await session.scalars(
        delete(File).where(where).returning(File.id), execution_options={"synchronize_session": False}
    )).all())


async def purge_unattached_uploads(session: AsyncSession, created_before: datetime,
                                   created_after: datetime | None = None) -> list[str]:
    """Deletes visitors' uploads made before `created_before` (and not before
    `created_after`) that no message uses; returns their ids (the bytes are
    the caller's). Operators' uploads stay: an avatar is attached to no message."""
    attached = select(Message.id).where(Message.file_id == File.id).exists()
    where = (File.uploader_kind == "visitor") & (File.created_at < created_before) & ~attached
    if created_after is not None:
        where &= File.created_at >= created_after
    file_ids = await _remove_files(session, where, dry_run=False)
    return file_ids


async def _count(session: AsyncSession, model, where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(where)) or 0


async def _count_or_delete(session: AsyncSession, model, where, dry_run: bool) -> int:
    if dry_run:
        return await _count(session, model, where)
    result = await session.execute(delete(model).where(where),
                                   execution_options={"synchronize_session": False})
    return result.rowcount


async def erase_visitor(session: AsyncSession, visitor: Visitor) -> tuple[dict, list[str]]:
    """Deletes the visitor and everything of theirs (GDPR erasure); the caller commits.

    Chats (and their messages), events, page views and their own files go by the
    foreign keys' ON DELETE CASCADE; files attached in their chats by operators are
    deleted here. Returns the counts and the ids of the deleted files, whose bytes
    the caller removes.
    """
    visitor_ids = select(Visitor.id).where(Visitor.id == visitor.id)
    chat_ids = select(Chat.id).where(Chat.visitor_id == visitor.id)
    file_ids = await _remove_files(
        session, _files_going_with(visitor_ids, chat_ids) & (File.app_id == visitor.app_id), dry_run=False)
    counts = {
        "chats": await _count(session, Chat, Chat.visitor_id == visitor.id),
        "messages": await _count(session, Message, Message.chat_id.in_(chat_ids)),
        "events": await _count(session, Event, Event.visitor_id == visitor.id),
        "pageViews": await _count(session, PageView, PageView.visitor_id == visitor.id),
        "files": len(file_ids),
    }
    await session.execute(delete(Visitor).where(Visitor.id == visitor.id))
    return counts, file_ids


async def purge_old(session: AsyncSession, days: int, app_id: str | None = None,
                    dry_run: bool = False) -> tuple[dict, list[str]]:
    """Retention: deletes what is older than `days` (in one app, or all); the caller commits.

    - closed chats that ended before the cutoff, with their messages;
    - page views and events created before it;
    - visitors last seen before it who have no open chat, with everything of theirs;
    - the files of all of these (see `_files_going_with`).

    Returns the counts and the ids of the deleted files (their bytes are the
    caller's, after its commit); with `dry_run` only counts, changing nothing.
    """
    cutoff = utcnow() - timedelta(days=days)
    has_open_chat = select(Chat.id).where(Chat.visitor_id == Visitor.id, Chat.status == "open") \
        .correlate(Visitor).exists()
    gone_visitor = (Visitor.last_seen_at < cutoff) & ~has_open_chat
    gone_chat = (Chat.status == "closed") & (Chat.ended_at < cutoff)
    if app_id is not None:
        gone_visitor &= Visitor.app_id == app_id
        gone_chat &= Chat.app_id == app_id
    visitor_ids = select(Visitor.id).where(gone_visitor)
    gone_chat |= Chat.visitor_id.in_(visitor_ids)  # gone_visitor already scopes it to the app
    chat_ids = select(Chat.id).where(gone_chat)
    in_app = select(Visitor.id).where(Visitor.app_id == app_id) if app_id is not None else None

    def older(model):  # page views and events: old ones, and all of the visitors that go
        where = model.created_at < cutoff
        if in_app is not None:
            where &= model.visitor_id.in_(in_app)
        return where | model.visitor_id.in_(visitor_ids)

    file_where = _files_going_with(visitor_ids, chat_ids)
    if app_id is not None:
        file_where &= File.app_id == app_id
    file_ids = await _remove_files(session, file_where, dry_run)
    counts = {"messages": await _count(session, Message, Message.chat_id.in_(chat_ids))}
    counts["chats"] = await _count_or_delete(session, Chat, gone_chat, dry_run)
    counts["pageViews"] = await _count_or_delete(session, PageView, older(PageView), dry_run)
    counts["events"] = await _count_or_delete(session, Event, older(Event), dry_run)
    counts["visitors"] = await _count_or_delete(session, Visitor, gone_visitor, dry_run)
    counts["files"] = len(file_ids)
    return counts, file_ids
