"""Reads and writes the rest of Parley uses; each takes an AsyncSession."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley import identity, protocol
from parley.storage.models import (
    App,
    Chat,
    Event,
    Message,
    Operator,
    OperatorSession,
    PageView,
    Visitor,
    utcnow,
)


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


# -- operator sessions and presence --------------------------------------------

SESSION_DAYS = 14


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_operator_session(session: AsyncSession, operator: Operator) -> str:
    """A new login; returns the token for the cookie (only its hash is stored)."""
    token = identity.new_secret()
    session.add(OperatorSession(
        token_hash=_token_hash(token), operator_id=operator.id, app_id=operator.app_id,
        expires_at=utcnow() + timedelta(days=SESSION_DAYS)))
    await session.commit()
    return token


async def operator_for_session(session: AsyncSession, token: str | None) -> Operator | None:
    if not token or len(token) > 200:
        return None
    row = await session.get(OperatorSession, _token_hash(token))
    if row is None or _aware(row.expires_at) < utcnow():
        return None
    operator = await session.get(Operator, row.operator_id)
    if operator is None or operator.app_id != row.app_id:
        return None
    return operator


async def delete_operator_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(delete(OperatorSession).where(
            OperatorSession.token_hash == _token_hash(token)))
        await session.commit()


async def set_presence(session: AsyncSession, operator_id: str, presence: str) -> None:
    await session.execute(update(Operator).where(Operator.id == operator_id).values(presence=presence))
    await session.commit()


async def app_online(session: AsyncSession, app_id: str) -> bool:
    """An app is online while any of its operators is online."""
    found = await session.scalar(select(Operator.id).where(
        Operator.app_id == app_id, Operator.presence == "online").limit(1))
    return found is not None


# -- visitors: profile and page views --------------------------------------------

def visitor_changes(visitor: Visitor, data: dict, signed: bool) -> dict:
    """What a visitor.update may change (Chaport's rule; decides, does no I/O).

    Signed data may set every field. Unsigned data may set name, email, phone
    and notes only while they are empty; custom fields are always merged.
    """
    changes: dict = {}
    for field in protocol.IDENTIFYING_FIELDS:
        if field in data and (signed or not getattr(visitor, field)):
            changes[field] = data[field]
    if "custom" in data:
        changes["custom"] = {**(visitor.custom or {}), **data["custom"]}
    if signed:
        changes["verified"] = True
    return changes


async def update_visitor(session: AsyncSession, visitor_id: str, data: dict, signed: bool) -> Visitor:
    visitor = await session.get(Visitor, visitor_id)
    assert visitor is not None
    for field, value in visitor_changes(visitor, data, signed).items():
        setattr(visitor, field, value)
    await session.commit()
    return visitor


def visitor_dict(visitor: Visitor) -> dict:
    return {"id": visitor.id, "name": visitor.name, "email": visitor.email, "phone": visitor.phone,
            "notes": visitor.notes, "custom": visitor.custom or {}, "verified": bool(visitor.verified)}


def utm_of(url: str) -> dict:
    """The utm_* parameters of a page URL, without the prefix."""
    query = parse_qs(urlsplit(url).query)
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


def event_body(event: Event) -> dict:
    return {"type": event.kind, **event.payload}


# -- chats and messages -------------------------------------------------------------

def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_dict(message: Message) -> dict:
    return {"id": message.id, "chatId": message.chat_id, "authorKind": message.author_kind,
            "authorId": message.author_id, "text": message.text, "clientId": message.client_message_id,
            "createdAt": timestamp(message.created_at)}


def chat_dict(chat: Chat) -> dict:
    return {"id": chat.id, "visitorId": chat.visitor_id, "status": chat.status,
            "operatorIds": list(chat.operator_ids or []), "startedAt": timestamp(chat.started_at),
            "endedAt": timestamp(chat.ended_at) if chat.ended_at else None}


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

    def __init__(self, message: Message, chat: Chat, created: bool, events: list[Event]) -> None:
        self.message = message
        self.chat = chat
        self.created = created
        self.events = events


async def add_visitor_message(session: AsyncSession, visitor: Visitor, client_id: str,
                              text: str) -> Stored:
    """Stores a visitor's message once per clientId, opening a chat if none is open."""
    existing = await find_visitor_message(session, visitor.id, client_id)
    if existing is not None:
        return Stored(existing, await session.get(Chat, existing.chat_id), False, [])
    events = []
    chat = await open_chat_of(session, visitor.id)
    if chat is None:
        chat = Chat(id=identity.new_id(), app_id=visitor.app_id, visitor_id=visitor.id, operator_ids=[])
        session.add(chat)
        await session.flush()
        events.append(await append_event(session, visitor.id, "chat.started", {"chat": chat_dict(chat)}))
    message = Message(chat_id=chat.id, author_kind="visitor", author_id=visitor.id, text=text,
                      client_message_id=client_id)
    session.add(message)
    await session.flush()
    events.append(await append_event(session, visitor.id, "message", {"message": message_dict(message)}))
    await session.commit()
    return Stored(message, chat, True, events)


async def add_operator_message(session: AsyncSession, operator: Operator, chat: Chat, client_id: str,
                               text: str) -> Stored:
    """Stores an operator's message in `chat` once per clientId."""
    existing = await find_chat_message(session, chat.id, client_id)
    if existing is not None:
        return Stored(existing, chat, False, [])
    if operator.id not in (chat.operator_ids or []):
        chat.operator_ids = [*(chat.operator_ids or []), operator.id]
    message = Message(chat_id=chat.id, author_kind="operator", author_id=operator.id, text=text,
                      client_message_id=client_id)
    session.add(message)
    await session.flush()
    event = await append_event(session, chat.visitor_id, "message", {"message": message_dict(message)})
    await session.commit()
    return Stored(message, chat, True, [event])


async def close_chat(session: AsyncSession, chat: Chat) -> Event | None:
    """Closes an open chat; returns the visitor's chat.closed event (None if already closed)."""
    if chat.status == "closed":
        return None
    chat.status = "closed"
    chat.ended_at = utcnow()
    event = await append_event(session, chat.visitor_id, "chat.closed", {"chat": chat_dict(chat)})
    await session.commit()
    return event


async def message_page(session: AsyncSession, chat_ids: list[str], before: int | None,
                       limit: int) -> tuple[list[Message], bool]:
    """Up to `limit` messages of the chats older than message id `before`, oldest first."""
    if not chat_ids:
        return [], False
    query = select(Message).where(Message.chat_id.in_(chat_ids))
    if before is not None:
        query = query.where(Message.id < before)
    rows = list((await session.scalars(query.order_by(Message.id.desc()).limit(limit + 1))).all())
    return list(reversed(rows[:limit])), len(rows) > limit


async def chat_ids_of_visitor(session: AsyncSession, visitor_id: str) -> list[str]:
    return list((await session.scalars(select(Chat.id).where(Chat.visitor_id == visitor_id))).all())
