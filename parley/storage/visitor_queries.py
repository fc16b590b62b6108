"""Reads and writes behind the inbox's visitor features: who is on the site now,
one visitor's details, search, the operator's own profile and proactive chats.

"On the site now" is kept in the database, so every server process agrees: a
visitor socket touches `visitors.last_seen_at` when it connects, on every page
view and every HEARTBEAT_SECONDS while it stays open; a visitor is online while
that is at most ONLINE_WINDOW old (parley.web.visitor_presence does the touching).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Integer,
    Select,
    column,
    delete,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity, wire
from parley.storage import chat_store, event_log, message_store, operator_queries, visitor_store
from parley.storage.errors import Conflict
from parley.storage.models import Chat, File, Message, Operator, OperatorSession, PageView, Visitor, utcnow

ONLINE_WINDOW = timedelta(seconds=90)
HEARTBEAT_SECONDS = 60
# A visit ends after this long without a page view; the next page view starts a new one.
VISIT_GAP = timedelta(minutes=30)
# At most this many of a visitor's newest page views are read to find the current visit.
VISIT_PAGES = 300
MAX_ONLINE = 200
DETAIL_PAGES = 50
DETAIL_CHATS = 50
SEARCH_LIMIT = 50
SEARCH_MIN = 2
SEARCH_MAX = 200
SNIPPET_BEFORE = 40
SNIPPET_AFTER = 100
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def language_of(accept_language: str | None) -> str | None:
    """The browser's first language from an Accept-Language header ('de-DE,de;q=0.9' -> 'de-DE')."""
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        if LANGUAGE_TAG.fullmatch(tag) and len(tag) <= 35:
            return tag
    return None


# -- presence ---------------------------------------------------------------------

# -- live visitors ------------------------------------------------------------------

def visit_of(views_newest_first: list[PageView], gap: timedelta = VISIT_GAP) -> list[PageView]:
    """The current visit's page views, oldest first: the newest run without a pause over `gap`."""
    visit: list[PageView] = []
    for view in views_newest_first:
        if visit and _aware(visit[-1].created_at) - _aware(view.created_at) > gap:
            break
        visit.append(view)
    visit.reverse()
    return visit


def _visit_source(visit: list[PageView]) -> tuple[str, dict]:
    """Where the visit came from: the entry page's referrer, and the first utm tags seen."""
    referrer = visit[0].referrer if visit else ""
    utm = next((view.utm for view in visit if view.utm), {})
    return referrer or "", dict(utm or {})


async def _recent_views(session: AsyncSession, visitor_ids: list[str], per_visitor: int) -> dict:
    """{visitor id: its newest page views, newest first} (at most `per_visitor` each)."""
    if not visitor_ids:
        return {}
    ranked = (select(PageView.id, func.row_number().over(
        partition_by=PageView.visitor_id, order_by=PageView.id.desc()).label("rank"))
        .where(PageView.visitor_id.in_(visitor_ids)).subquery())
    rows = (await session.scalars(
        select(PageView).join(ranked, ranked.c.id == PageView.id)
        .where(ranked.c.rank <= per_visitor).order_by(PageView.visitor_id, PageView.id.desc()))).all()
    views: dict[str, list[PageView]] = {}
    for view in rows:
        views.setdefault(view.visitor_id, []).append(view)
    return views


async def _open_chats(session: AsyncSession, visitor_ids: list[str]) -> dict[str, str]:
    if not visitor_ids:
        return {}
    rows = await session.execute(select(Chat.visitor_id, Chat.id)
                                 .where(Chat.visitor_id.in_(visitor_ids), Chat.status == "open")
                                 .order_by(Chat.started_at))
    return {visitor_id: chat_id for visitor_id, chat_id in rows.all()}


def is_online(visitor: Visitor, now: datetime) -> bool:
    return _aware(visitor.last_seen_at) >= now - ONLINE_WINDOW


async def online_visitors(session: AsyncSession, app_id: str, now: datetime | None = None) -> list[dict]:
    """The app's visitors on the site now, most recently active first."""
    now = now or utcnow()
    visitors = list((await session.scalars(
        select(Visitor).where(Visitor.app_id == app_id, Visitor.last_seen_at >= now - ONLINE_WINDOW)
        .order_by(Visitor.last_seen_at.desc(), Visitor.id).limit(MAX_ONLINE))).all())
    ids = [visitor.id for visitor in visitors]
    views = await _recent_views(session, ids, VISIT_PAGES)
    chats = await _open_chats(session, ids)
    answer = []
    for visitor in visitors:
        visit = visit_of(views.get(visitor.id, []))
        answer.append(wire.online_dict(visitor, visit, _visit_source(visit), chats.get(visitor.id),
                                       is_online(visitor, now)))
    return answer


# -- one visitor ----------------------------------------------------------------------

async def visitor_page_views(session: AsyncSession, visitor_id: str, limit: int = DETAIL_PAGES) -> list[dict]:
    rows = (await session.scalars(select(PageView).where(PageView.visitor_id == visitor_id)
                                  .order_by(PageView.id.desc()).limit(limit))).all()
    return [wire.page_dict(view) for view in rows]


async def visitor_chat_ids(session: AsyncSession, visitor_id: str, limit: int = DETAIL_CHATS) -> list[str]:
    return list((await session.scalars(select(Chat.id).where(Chat.visitor_id == visitor_id)
                                       .order_by(Chat.started_at.desc(), Chat.id).limit(limit))).all())


async def set_notes(session: AsyncSession, visitor: Visitor, notes: str | None) -> Visitor:
    visitor.notes = notes
    return visitor


# -- search -------------------------------------------------------------------------

def like_pattern(text: str) -> str:
    r"""A LIKE pattern (ESCAPE '\') matching `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, query: str) -> tuple[str, list[int] | None]:
    """A short piece of `text` around the first (case-insensitive) match of `query`, and
    [start, end] of the match inside the piece (None when there is no exact match)."""
    text = " ".join((text or "").split())
    found = re.search(re.escape(query), text, re.IGNORECASE)
    if found is None:
        piece = text[:SNIPPET_BEFORE + SNIPPET_AFTER]
        return piece + ("…" if len(text) > len(piece) else ""), None
    start = max(0, found.start() - SNIPPET_BEFORE)
    end = min(len(text), found.end() + SNIPPET_AFTER)
    prefix = "…" if start > 0 else ""
    piece = prefix + text[start:end] + ("…" if end < len(text) else "")
    offset = len(prefix) - start
    return piece, [found.start() + offset, found.end() + offset]


MESSAGES_FTS = table("messages_fts", column("rowid", Integer))
TRIGRAM = 3  # the shortest query the trigram index answers


def fts_phrase(text: str) -> str:
    """An FTS5 query matching `text` as one string: its syntax (AND, OR, NOT, NEAR, *, ^, -,
    parentheses, colons) taken literally, a double quote doubled."""
    return '"' + text.replace('"', '""') + '"'


async def _has_fts(session: AsyncSession) -> bool:
    """Whether the database has messages_fts (migration 0014 makes it where SQLite can)."""
    return bool(await session.scalar(
        sql_text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'")))


async def _matching_messages(session: AsyncSession, query: str) -> Select:
    """SELECT messages whose text contains `query` (case-insensitive, wildcards literal),
    through an index (the caller adds its columns, joins and conditions).

    PostgreSQL: ILIKE, which the GIN trigram index on messages.text (pg_trgm, migration 0014)
    serves for patterns with 3+ characters. SQLite: a MATCH on messages_fts, an FTS5 trigram
    index of messages.text (its rowid is messages.id), joined to messages: the matches drive
    the query (as `messages.id IN (matches)` SQLite would walk every chat of the app and
    probe each match in it). A trigram index can't answer queries under 3 characters (FTS5
    finds no row for them), so those 1-2 character queries, and a SQLite without FTS5
    trigram, scan with LIKE as before. One difference: LIKE on SQLite folds the case of
    ASCII letters only, the FTS index that of every letter (Ä = ä, Ж = ж), as ILIKE does on
    PostgreSQL under a non-C locale.
    """
    # FTS5 reads its query up to a NUL only ("unterminated string"): such a query scans too.
    if (session.bind.dialect.name != "sqlite" or len(query) < TRIGRAM or "\x00" in query
            or not await _has_fts(session)):
        return select().select_from(Message).where(Message.text.ilike(like_pattern(query), escape="\\"))
    return (select().select_from(MESSAGES_FTS).join(Message, Message.id == MESSAGES_FTS.c.rowid)
            .where(literal_column("messages_fts").op("MATCH")(fts_phrase(query))))


async def search(session: AsyncSession, app_id: str, query: str, limit: int | None = None) -> list[dict]:
    """Chats of the app whose visitor's name or email, or a message's text, contains `query`
    (case-insensitive): [{chatId, match: name|email|message, text, messageId, at}], one per
    chat, visitor matches first, then the newest matching messages."""
    limit = limit or SEARCH_LIMIT
    pattern = like_pattern(query)
    found: list[dict] = []
    seen: set[str] = set()
    visitors = (await session.scalars(
        select(Visitor).where(Visitor.app_id == app_id, or_(
            Visitor.name.ilike(pattern, escape="\\"), Visitor.email.ilike(pattern, escape="\\")))
        .order_by(Visitor.last_seen_at.desc()).limit(limit))).all()
    if visitors:
        by_id = {visitor.id: visitor for visitor in visitors}
        rows = await session.execute(select(Chat.id, Chat.visitor_id, Chat.started_at)
                                     .where(Chat.app_id == app_id, Chat.visitor_id.in_(list(by_id)))
                                     .order_by(Chat.started_at.desc()).limit(limit))
        for chat_id, visitor_id, started_at in rows.all():
            visitor = by_id[visitor_id]
            field = "name" if visitor.name and re.search(re.escape(query), visitor.name, re.I) else "email"
            found.append({"chatId": chat_id, "match": field, "text": getattr(visitor, field) or "",
                          "messageId": None, "at": wire.timestamp(started_at)})
            seen.add(chat_id)
    newest = func.max(Message.id)
    matching = await _matching_messages(session, query)
    rows = await session.execute(
        matching.add_columns(Message.chat_id, newest).join(Chat, Chat.id == Message.chat_id)
        .where(Chat.app_id == app_id, Message.author_kind != "system")
        .group_by(Message.chat_id).order_by(newest.desc()).limit(limit))
    message_ids = [message_id for chat_id, message_id in rows.all() if chat_id not in seen]
    if message_ids:
        messages = (await session.scalars(select(Message).where(Message.id.in_(message_ids))
                                          .order_by(Message.id.desc()))).all()
        for message in messages:
            found.append({"chatId": message.chat_id, "match": "message", "text": message.text,
                          "messageId": message.id, "at": wire.timestamp(message.created_at)})
    return found[:limit]


# -- the operator's own profile --------------------------------------------------------

AVATAR_URL = re.compile(r"/files/([0-9a-f]{32})/[^/]+")


async def avatar_file(session: AsyncSession, app_id: str, url: str) -> File | None:
    """The uploaded image an avatar URL names, if it is one of this app's images."""
    found = AVATAR_URL.fullmatch(url or "")
    if found is None:
        return None
    file = await session.get(File, found.group(1))
    if file is None or file.app_id != app_id or not file.content_type.startswith("image/"):
        return None
    return file


async def change_password(session: AsyncSession, operator: Operator, password_hash: str,
                          keep_token: str | None) -> int:
    """Sets a new password (hashed by the caller, off the event loop: parley.passwords) and
    ends the operator's other logins; returns how many ended."""
    operator.password_hash = password_hash
    where = OperatorSession.operator_id == operator.id
    if keep_token:
        where &= OperatorSession.token_hash != operator_queries._token_hash(keep_token)
    ended = await session.execute(delete(OperatorSession).where(where))
    return ended.rowcount


# -- proactive chats ----------------------------------------------------------------------

class ChatAlreadyOpen(Conflict):
    def __init__(self, chat: Chat) -> None:
        super().__init__(chat.id)
        self.chat = chat


async def start_chat(session: AsyncSession, operator: Operator, visitor: Visitor, client_id: str,
                     text: str) -> message_store.Stored:
    """An operator starts a chat with a visitor who has none open: the chat (assigned to the
    operator) and its first message, as the visitor's events `chat.started` and `message`.
    Once per clientId: a resend returns the stored message and no new events."""
    # The lock every write of this visitor's chats takes: a visitor's message racing this
    # would otherwise see no open chat too and open a second one.
    await visitor_store.lock_visitor(session, visitor.id)
    existing = await session.scalar(
        select(Message).join(Chat, Chat.id == Message.chat_id)
        .where(Chat.visitor_id == visitor.id, Message.author_kind == "operator",
               Message.author_id == operator.id, Message.client_message_id == client_id).limit(1))
    if existing is not None:
        return message_store.Stored(existing, await session.get(Chat, existing.chat_id), False, [])
    already = await chat_store.open_chat_of(session, visitor.id)
    if already is not None:
        raise ChatAlreadyOpen(already)
    chat = Chat(id=identity.new_id(), app_id=visitor.app_id, visitor_id=visitor.id,
                operator_ids=[operator.id])
    session.add(chat)
    await session.flush()
    # startedBy: the widget's chat.started event is for chats the visitor starts (the spec).
    events = [await event_log.append_event(session, visitor.id, "chat.started",
                                         {"chat": wire.chat_dict(chat), "startedBy": "operator"})]
    message = Message(chat_id=chat.id, author_kind="operator", author_id=operator.id, text=text,
                      client_message_id=client_id)
    session.add(message)
    await session.flush()
    events.append(await event_log.append_event(session, visitor.id, "message",
                                             {"message": wire.message_dict(message)}))
    return message_store.Stored(message, chat, True, events)
