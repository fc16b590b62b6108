"""Every outbound shape: how rows look on the wire (frames, events, HTTP answers).

`parley/protocol.py` holds what comes in and the frames' envelopes; this module holds
what goes out, one function per shape, so a field is added or renamed in one place.
They decide nothing and do no I/O.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from parley import files
from parley.storage.models import (
    CannedResponse,
    Chat,
    Event,
    File,
    Message,
    Operator,
    Trigger,
    Visitor,
    aware,
)


def public_operator_dict(operator: Operator) -> dict:
    """What a visitor may see of an operator (the widget's header): no email."""
    return {"id": operator.id, "name": operator.name}


def visitor_dict(visitor: Visitor) -> dict:
    return {"id": visitor.id, "name": visitor.name, "email": visitor.email, "phone": visitor.phone,
            "notes": visitor.notes, "custom": visitor.custom or {}, "verified": bool(visitor.verified)}


def event_body(event: Event) -> dict:
    return {"type": event.kind, **event.payload}


def timestamp(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def system_info(message: Message) -> dict | None:
    """A system line's machine-readable meaning ({"code": "closed", "by": ...}); clients
    translate it. Stored as JSON in `text` so no column is needed for it."""
    if message.author_kind != "system":
        return None
    try:
        info = json.loads(message.text)
    except ValueError:
        return {"code": "note"}
    return info if isinstance(info, dict) else {"code": "note"}


def message_dict(message: Message, file: File | None = None) -> dict:
    system = system_info(message)
    return {"id": message.id, "chatId": message.chat_id, "authorKind": message.author_kind,
            "authorId": message.author_id, "text": "" if system else message.text,
            "clientId": message.client_message_id, "createdAt": timestamp(message.created_at),
            "file": files.file_dict(file) if file is not None else None,
            "seenAt": timestamp(message.seen_at) if message.seen_at else None,
            "system": system}


def chat_dict(chat: Chat) -> dict:
    return {"id": chat.id, "visitorId": chat.visitor_id, "status": chat.status,
            "operatorIds": list(chat.operator_ids or []), "startedAt": timestamp(chat.started_at),
            "endedAt": timestamp(chat.ended_at) if chat.ended_at else None,
            "closedBy": chat.closed_by, "rating": chat.rating, "ratingComment": chat.rating_comment,
            "transcriptEmail": chat.transcript_email, "teamId": chat.team_id,
            "properties": dict(chat.properties or {})}


def trigger_dict(trigger: Trigger) -> dict:
    """A trigger as `welcome.triggers` carries it (widget.core.triggers.normalise_trigger)."""
    return {"id": trigger.id, "message": trigger.message, "kind": trigger.kind,
            "delay": trigger.delay_seconds, "conditions": [list(c) for c in trigger.conditions or []],
            "enabled": bool(trigger.enabled)}


# -- the inbox's lists ----------------------------------------------------------------

PREVIEW_CHARS = 140


def preview(message: Message | None, file: File | None) -> dict | None:
    """A chat's last message as a list shows it: its text cut to PREVIEW_CHARS."""
    if message is None:
        return None
    text = message.text if len(message.text) <= PREVIEW_CHARS else message.text[:PREVIEW_CHARS - 1] + "…"
    return {"id": message.id, "authorKind": message.author_kind, "text": text,
            "createdAt": timestamp(message.created_at),
            "file": files.file_dict(file) if file is not None else None}


def listed_visitor(visitor: Visitor) -> dict:
    return {"id": visitor.id, "name": visitor.name, "email": visitor.email, "country": visitor.country}


def listed_chat(listed) -> dict:
    """A chat as GET /api/operator/chats (and every other list of chats) shows it;
    `listed` is a storage.chat_list.ListedChat. chat_dict carries closedBy, rating,
    ratingComment and transcriptEmail for the inbox's header."""
    return {**chat_dict(listed.chat), "visitor": listed_visitor(listed.visitor),
            "lastMessage": preview(listed.last_message, listed.file), "unread": listed.unread}


def canned_dict(canned: CannedResponse) -> dict:
    return {"id": canned.id, "shortcut": canned.shortcut, "text": canned.text,
            "createdAt": timestamp(canned.created_at)}
