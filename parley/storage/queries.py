"""Visitors, the event log, chats and messages in ORM sessions (the hot path's Core units
are storage/messages.py and storage/visitor_writes.py); each takes an AsyncSession."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import assignment, identity, wire
from parley.storage import trigger_queries
from parley.storage.errors import Conflict
from parley.storage.models import (
    App,
    Chat,
    Event,
    File,
    Message,
    Operator,
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
        await session.commit()
    visitor.proved_by(token)
    return visitor


async def register_visitor(session: AsyncSession, app_id: str) -> Visitor:
    """A new visitor with a fresh token (`visitor.token`; only its hash is stored)."""
    visitor = Visitor(id=identity.new_id(), app_id=app_id, token=identity.new_secret())
    session.add(visitor)
    await session.commit()
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
    await session.commit()
    visitor.proved_by(identity.user_visitor_token(app.secret, visitor.id))
    return visitor


async def set_visitor_country(session: AsyncSession, visitor: Visitor, country: str | None) -> None:
    """Keeps the country of the visitor's newest connection (None: unknown, nothing stored)."""
    if country and visitor.country != country:
        await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(country=country),
                              execution_options={"synchronize_session": False})
        await session.commit()
        visitor.country = country


async def set_visitor_fields(session: AsyncSession, visitor: Visitor, values: dict) -> Visitor:
    """Sets checked profile fields (rules.visitor_update decides them) and commits."""
    for field, value in values.items():
        setattr(visitor, field, value)
    if values:
        await session.commit()
    return visitor


async def get_visitor(session: AsyncSession, app_id: str, visitor_id: str) -> Visitor | None:
    """The visitor, only if it belongs to `app_id`."""
    visitor = await session.get(Visitor, visitor_id)
    return visitor if visitor is not None and visitor.app_id == app_id else None


# -- the visitor lock -------------------------------------------------------------

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


# -- visitors: profile and page views --------------------------------------------


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
    await session.commit()
    return view


# -- the event log ----------------------------------------------------------------

async def append_event(session: AsyncSession, visitor_id: str, kind: str, payload: dict) -> Event:
    """Adds the visitor's next event to the session (the caller commits).

    The counter bump is one UPDATE on the visitor row, which serialises writers
    of one visitor in every database; the unique (visitor_id, seq) is the net.
    """
    seq = await session.scalar(
        update(Visitor).where(Visitor.id == visitor_id)
        .values(last_event_seq=Visitor.last_event_seq + 1)
        .returning(Visitor.last_event_seq),
        execution_options={"synchronize_session": False})
    event = Event(visitor_id=visitor_id, seq=seq, kind=kind, payload=payload)
    session.add(event)
    return event


async def newest_seq(session: AsyncSession, visitor_id: str) -> int:
    return await session.scalar(select(Visitor.last_event_seq).where(Visitor.id == visitor_id)) or 0


async def oldest_kept_seq(session: AsyncSession, visitor_id: str) -> int | None:
    return await session.scalar(select(func.min(Event.seq)).where(Event.visitor_id == visitor_id))


async def events_after(session: AsyncSession, visitor_id: str, after_seq: int,
                       limit: int | None = None) -> list[Event]:
    query = (select(Event).where(Event.visitor_id == visitor_id, Event.seq > after_seq)
             .order_by(Event.seq))
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


# -- chats and messages -------------------------------------------------------------

# The largest id an INTEGER column holds everywhere (PostgreSQL's is 32-bit); ids a
# client sends (history `before`, seen `upTo`) are clamped to it, not passed on raw.
MAX_ID = 2**31 - 1


async def message_dicts(session: AsyncSession, messages: list[Message]) -> list[dict]:
    """message_dict for a page of messages, loading their files in one query."""
    file_ids = {m.file_id for m in messages if m.file_id}
    files = {}
    if file_ids:
        files = {f.id: f for f in (await session.scalars(select(File).where(File.id.in_(file_ids)))).all()}
    return [wire.message_dict(m, files.get(m.file_id) if m.file_id else None) for m in messages]


async def get_chat(session: AsyncSession, app_id: str, chat_id: str) -> Chat | None:
    """The chat, only if it belongs to `app_id` (callers never see other apps' chats)."""
    chat = await session.get(Chat, chat_id)
    return chat if chat is not None and chat.app_id == app_id else None


async def open_chat_of(session: AsyncSession, visitor_id: str) -> Chat | None:
    return await session.scalar(select(Chat).where(
        Chat.visitor_id == visitor_id, Chat.status == "open").order_by(Chat.started_at.desc()).limit(1))


async def find_visitor_message(session: AsyncSession, visitor_id: str, client_id: str) -> Message | None:
    """A message this visitor already sent with `client_id`, in any of their chats."""
    return await session.scalar(
        select(Message).join(Chat, Message.chat_id == Chat.id)
        .where(Chat.visitor_id == visitor_id, Message.author_kind == "visitor",
               Message.client_message_id == client_id).limit(1))


async def find_chat_message(session: AsyncSession, chat_id: str, client_id: str) -> Message | None:
    return await session.scalar(select(Message).where(
        Message.chat_id == chat_id, Message.client_message_id == client_id))


class Stored:
    """What a write produced: the row, whether it is new, and the events to publish."""

    def __init__(self, message: Message, chat: Chat, created: bool, events: list[Event],
                 file: File | None = None) -> None:
        self.message = message
        self.chat = chat
        self.created = created
        self.events = events
        self.file = file

    def message_dict(self) -> dict:
        return wire.message_dict(self.message, self.file)


class FileNotUsable(Exception):
    """The fileId is unknown, another app's or visitor's, or already sent in a message."""


async def usable_file(session: AsyncSession, file_id: str | None, app_id: str,
                      visitor_id: str | None) -> File | None:
    """The upload `file_id` names, if this sender may attach it; raises FileNotUsable."""
    if file_id is None:
        return None
    file = await session.get(File, file_id)
    if file is None or file.app_id != app_id or (visitor_id is not None and file.visitor_id != visitor_id):
        raise FileNotUsable(file_id)
    return file


async def add_visitor_message(session: AsyncSession, visitor: Visitor, client_id: str,
                              text: str, assignees: list[str] | None = None,
                              file_id: str | None = None, trigger_id: str | None = None) -> Stored:
    """Stores a visitor's message once per clientId, opening a chat if none is open.

    A new chat is assigned (parley.assignment) from `assignees`, then round robin. It also
    gets the message of the app's trigger `trigger_id` (one whose `message_text` conditions
    the message matched, in the widget) as the bot's answer.
    """
    await lock_visitor(session, visitor.id)
    existing = await find_visitor_message(session, visitor.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, await session.get(Chat, existing.chat_id), False, [], file)
    file = await usable_file(session, file_id, visitor.app_id, visitor.id)
    events = []
    assigned = False
    chat = await open_chat_of(session, visitor.id)
    if chat is None:
        operator_ids = await assignment.assign(session, visitor.app_id, assignees)
        chat = Chat(id=identity.new_id(), app_id=visitor.app_id, visitor_id=visitor.id,
                    operator_ids=operator_ids)
        session.add(chat)
        await session.flush()
        events.append(await append_event(session, visitor.id, "chat.started",
                                         {"chat": wire.chat_dict(chat), "startedBy": "visitor"}))
        assigned = bool(operator_ids)
    message = Message(chat_id=chat.id, author_kind="visitor", author_id=visitor.id, text=text,
                      client_message_id=client_id, file_id=file.id if file else None)
    session.add(message)
    await session.flush()
    events.append(await append_event(session, visitor.id, "message",
                                     {"message": wire.message_dict(message, file)}))
    if events[0].kind == "chat.started" and trigger_id is not None:
        events.extend(await _bot_answer(session, chat, trigger_id))
    if assigned:
        events.append(await add_system_line(session, chat, "assigned", operatorId=chat.operator_ids[0]))
    await session.commit()
    return Stored(message, chat, True, events, file)


async def _bot_answer(session: AsyncSession, chat: Chat, trigger_id: str) -> list[Event]:
    """The trigger's message in the chat, said by the bot (author: the trigger). Only an
    enabled trigger of the chat's app that has a `message_text` condition: the visitor
    names it, so it can make the bot say nothing but what the app already says."""
    trigger = await trigger_queries.get_trigger(session, chat.app_id, trigger_id)
    if trigger is None or not trigger.enabled or not any(
            isinstance(c, list) and c and c[0] == "message_text" for c in trigger.conditions or []):
        return []
    answer = Message(chat_id=chat.id, author_kind="bot", author_id=trigger.id, text=trigger.message)
    session.add(answer)
    await session.flush()
    return [await append_event(session, chat.visitor_id, "message", {"message": wire.message_dict(answer)})]


async def add_system_line(session: AsyncSession, chat: Chat, code: str, **fields) -> Event:
    """A system line in the chat (assigned, closed, ...), as a message and a visitor event."""
    line = Message(chat_id=chat.id, author_kind="system", author_id=None,
                   text=json.dumps({"code": code, **fields}, separators=(",", ":")))
    session.add(line)
    await session.flush()
    return await append_event(session, chat.visitor_id, "message", {"message": wire.message_dict(line)})


async def add_operator_message(session: AsyncSession, operator: Operator, chat: Chat, client_id: str,
                               text: str, file_id: str | None = None) -> Stored:
    """Stores an operator's message in `chat` once per clientId."""
    await lock_visitor(session, chat.visitor_id)
    existing = await find_chat_message(session, chat.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, chat, False, [], file)
    file = await usable_file(session, file_id, operator.app_id, None)
    if operator.id not in (chat.operator_ids or []):
        chat.operator_ids = [*(chat.operator_ids or []), operator.id]
    message = Message(chat_id=chat.id, author_kind="operator", author_id=operator.id, text=text,
                      client_message_id=client_id, file_id=file.id if file else None)
    session.add(message)
    await session.flush()
    event = await append_event(session, chat.visitor_id, "message",
                               {"message": wire.message_dict(message, file)})
    await session.commit()
    return Stored(message, chat, True, [event], file)


async def close_chat(session: AsyncSession, chat: Chat, by: str = "operator") -> list[Event]:
    """Closes an open chat with a system line; returns the visitor's events ([] if already closed)."""
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)  # closed by another process a moment ago?
    if chat.status == "closed":
        return []
    chat.status = "closed"
    chat.ended_at = utcnow()
    chat.closed_by = by
    line = await add_system_line(session, chat, "closed", by=by)
    event = await append_event(session, chat.visitor_id, "chat.closed", {"chat": wire.chat_dict(chat)})
    await session.commit()
    return [line, event]


class ChatClosed(Conflict):
    """The chat is closed: it must be reopened first."""


class ChatConflict(Conflict):
    """The visitor already has another open chat (`chat_id`): this one cannot be reopened."""

    def __init__(self, chat_id: str) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


async def reopen_chat(session: AsyncSession, chat: Chat, by: str) -> list[Event]:
    """Opens a closed chat again (operator `by`); [] when it is open already.

    A visitor has at most one open chat (their messages go to it): when another one
    is open, raises ChatConflict and changes nothing.
    """
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)  # reopened by another operator a moment ago?
    if chat.status == "open":
        return []
    other = await open_chat_of(session, chat.visitor_id)
    if other is not None:
        raise ChatConflict(other.id)
    chat.status = "open"
    chat.ended_at = None
    chat.closed_by = None
    event = await append_event(session, chat.visitor_id, "chat.reopened", {"chat": wire.chat_dict(chat)})
    line = await add_system_line(session, chat, "reopened", by=by)
    await session.commit()
    return [event, line]


async def assign_chat(session: AsyncSession, chat: Chat, operator: Operator, by: str,
                      team_id: str | None = None) -> list[Event]:
    """Gives the chat to `operator` (of the chat's app; picked from team `team_id`, if any),
    replacing its operators, with an "assigned" system line; [] when nothing changes.
    `by` is the id of the operator who did it. The turn counts for round robin. Raises
    ChatClosed when the chat is closed."""
    await lock_visitor(session, chat.visitor_id)
    await session.refresh(chat)
    if chat.status != "open":
        raise ChatClosed(chat.id)
    if list(chat.operator_ids or []) == [operator.id] and chat.team_id == team_id:
        return []
    chat.operator_ids = [operator.id]
    chat.team_id = team_id
    operator.last_assigned_at = utcnow()
    fields = {"operatorId": operator.id, "by": by}
    if team_id is not None:
        fields["teamId"] = team_id
    line = await add_system_line(session, chat, "assigned", **fields)
    await session.commit()
    return [line]


async def add_note(session: AsyncSession, operator: Operator, chat: Chat, client_id: str,
                   text: str) -> Stored:
    """Stores an internal note once per clientId. A note is a message with author_kind
    "note": it gets no visitor event, and visitor-facing reads leave it out."""
    await lock_visitor(session, chat.visitor_id)
    existing = await find_chat_message(session, chat.id, client_id)
    if existing is not None:
        file = await session.get(File, existing.file_id) if existing.file_id else None
        return Stored(existing, chat, False, [], file)
    note = Message(chat_id=chat.id, author_kind="note", author_id=operator.id, text=text,
                   client_message_id=client_id)
    session.add(note)
    await session.commit()
    return Stored(note, chat, True, [])


async def newest_chat_of(session: AsyncSession, visitor_id: str, chat_id: str | None = None) -> Chat | None:
    """The visitor's chat `chat_id`, or their newest chat; None when not theirs or none."""
    if chat_id is not None:
        chat = await session.get(Chat, chat_id)
        return chat if chat is not None and chat.visitor_id == visitor_id else None
    return await session.scalar(select(Chat).where(Chat.visitor_id == visitor_id)
                                .order_by(Chat.started_at.desc()).limit(1))


async def rate_chat(session: AsyncSession, chat: Chat, rating: str, comment: str) -> Event:
    """Stores (or changes) the visitor's rating; the visitor's tabs get chat.rated."""
    await lock_visitor(session, chat.visitor_id)
    chat.rating = rating
    chat.rating_comment = comment.strip() or None
    chat.rated_at = utcnow()
    event = await append_event(session, chat.visitor_id, "chat.rated", {"chat": wire.chat_dict(chat)})
    await session.commit()
    return event


async def request_transcript(session: AsyncSession, chat: Chat, email: str) -> bool:
    """Records the chat's one transcript request; False when it already had one. A
    conditional UPDATE, so two tabs asking at once can't both get a mail sent."""
    now = utcnow()
    claimed = await session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.transcript_requested_at.is_(None))
        .values(transcript_email=email, transcript_requested_at=now),
        execution_options={"synchronize_session": False})
    await session.commit()
    if claimed.rowcount != 1:
        return False
    chat.transcript_email = email
    chat.transcript_requested_at = now
    return True


async def mark_seen(session: AsyncSession, chat_ids: list[str], authors: tuple[str, ...],
                    up_to: int) -> dict[str, int]:
    """Marks unseen messages by `authors` with id <= up_to as seen now.

    Returns {chat id: newest message id marked} for the chats where something changed.
    """
    if not chat_ids:
        return {}
    up_to = min(up_to, MAX_ID)
    rows = (await session.execute(
        select(Message.chat_id, func.max(Message.id))
        .where(Message.chat_id.in_(chat_ids), Message.author_kind.in_(authors),
               Message.id <= up_to, Message.seen_at.is_(None))
        .group_by(Message.chat_id))).all()
    if not rows:
        return {}
    await session.execute(
        update(Message)
        .where(Message.chat_id.in_([chat_id for chat_id, _ in rows]), Message.author_kind.in_(authors),
               Message.id <= up_to, Message.seen_at.is_(None))
        .values(seen_at=utcnow()), execution_options={"synchronize_session": False})
    return dict(rows)


async def message_page(session: AsyncSession, chat_ids: list[str], before: int | None,
                       limit: int, include_notes: bool = False) -> tuple[list[Message], bool]:
    """Up to `limit` messages of the chats older than message id `before`, oldest first.

    Internal notes are left out unless `include_notes` (only the operators' history asks):
    what a visitor, a transcript or a mail reads never holds one.
    """
    if not chat_ids:
        return [], False
    query = select(Message).where(Message.chat_id.in_(chat_ids))
    if not include_notes:
        query = query.where(Message.author_kind != "note")
    if before is not None:
        query = query.where(Message.id <= max(min(before - 1, MAX_ID), 0))
    rows = list((await session.scalars(query.order_by(Message.id.desc()).limit(limit + 1))).all())
    return list(reversed(rows[:limit])), len(rows) > limit


async def chat_ids_of_visitor(session: AsyncSession, visitor_id: str) -> list[str]:
    return list((await session.scalars(select(Chat.id).where(Chat.visitor_id == visitor_id))).all())


