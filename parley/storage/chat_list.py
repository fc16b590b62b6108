"""The inbox's chat list: one query behind every list of chats an operator sees (the
chat list, a visitor's details pane, search results), so they never disagree."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import Chat, File, Message, Visitor

STATUSES = ("open", "closed", "all")


class ListedChat(NamedTuple):
    """A chat as lists show it: its visitor, last message (with its attachment) and how
    many visitor messages no operator has seen yet."""

    chat: Chat
    visitor: Visitor
    last_message: Message | None
    file: File | None
    unread: int


async def list_chats(session: AsyncSession, app_id: str, *, status: str = "all",
                     operator_id: str | None = None, assigned: bool | None = None,
                     chat_ids: list[str] | None = None, limit: int | None = None) -> list[ListedChat]:
    """The app's chats, most recent activity first: all of them, or those with `status`,
    assigned (or not), the operator's (`operator_id`), or these `chat_ids`."""
    if chat_ids is not None and not chat_ids:
        return []
    # Message ids are one global increasing sequence: the largest id is the newest message.
    # System lines are left out: their text is machine JSON, and "Ann joined the chat"
    # is no preview of what the visitor asked, nor activity to sort by. Internal notes
    # neither: they are the team talking to itself, not the conversation.
    last = (select(Message.chat_id, func.max(Message.id).label("last_id"))
            .where(Message.author_kind.not_in(("system", "note"))))
    if chat_ids is not None:
        last = last.where(Message.chat_id.in_(chat_ids))
    last = last.group_by(Message.chat_id).subquery()
    query = (select(Chat, Visitor, Message, File)
             .join(Visitor, Visitor.id == Chat.visitor_id)
             .outerjoin(last, last.c.chat_id == Chat.id)
             .outerjoin(Message, Message.id == last.c.last_id)
             .outerjoin(File, File.id == Message.file_id)
             .where(Chat.app_id == app_id, Visitor.app_id == app_id))
    if chat_ids is not None:
        query = query.where(Chat.id.in_(chat_ids))
    if status != "all":
        query = query.where(Chat.status == status)
    if assigned is not None:
        # An unassigned chat's operator_ids is the empty JSON list.
        empty = cast(Chat.operator_ids, String).in_(("[]", "null")) | Chat.operator_ids.is_(None)
        query = query.where(~empty if assigned else empty)
    if operator_id is not None:
        # operator_ids is a JSON list of hex ids: its text holds "<id>" exactly when it has the id.
        query = query.where(cast(Chat.operator_ids, String).like(f'%"{operator_id}"%'))
    query = query.order_by(func.coalesce(last.c.last_id, 0).desc(), Chat.started_at.desc())
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    unread = await _unread_counts(session, [chat.id for chat, _, _, _ in rows])
    return [ListedChat(chat, visitor, message, file, unread.get(chat.id, 0))
            for chat, visitor, message, file in rows]


async def _unread_counts(session: AsyncSession, chat_ids: list[str]) -> dict[str, int]:
    """{chat id: visitor messages with no `seen_at`}: an operator's `seen` frame sets it
    when a chat is on screen, so replying without reading no longer counts as read."""
    if not chat_ids:
        return {}
    query = (select(Message.chat_id, func.count())
             .where(Message.chat_id.in_(chat_ids), Message.author_kind == "visitor",
                    Message.seen_at.is_(None))
             .group_by(Message.chat_id))
    return {chat_id: count for chat_id, count in (await session.execute(query)).all()}
