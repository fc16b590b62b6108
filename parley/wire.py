"""Every outbound shape: how rows look on the wire (frames, events, HTTP answers).

`parley/protocol.py` holds what comes in and the frames' envelopes; this module holds
what goes out, one function per shape, so a field is added or renamed in one place.
They decide nothing and do no I/O.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from parley import file_names, hours, rules
from parley.storage.models import (
    App,
    CannedResponse,
    Chat,
    Event,
    File,
    Message,
    Operator,
    PageView,
    Team,
    Trigger,
    Visitor,
    aware,
)
from widget.core.device import device_from_user_agent


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
            "file": file_names.file_dict(file) if file is not None else None,
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
            "file": file_names.file_dict(file) if file is not None else None}


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


# -- the inbox's visitors ------------------------------------------------------------------

def page_dict(view: PageView) -> dict:
    return {"url": view.url, "title": view.title, "referrer": view.referrer, "utm": view.utm or {},
            "createdAt": timestamp(view.created_at)}


def _visitor_basics(visitor: Visitor, online: bool) -> dict:
    return {"id": visitor.id, "name": visitor.name, "email": visitor.email,
            "verified": bool(visitor.verified), "country": visitor.country,
            "language": visitor.language, "device": device_from_user_agent(visitor.user_agent or ""),
            "firstSeenAt": timestamp(visitor.first_seen_at),
            "lastSeenAt": timestamp(visitor.last_seen_at), "online": online}


def online_dict(visitor: Visitor, visit: list[PageView], source: tuple[str, dict], chat_id: str | None,
                online: bool) -> dict:
    """A visitor on the site now: `visit` is its current visit's page views, oldest first
    (visitor_queries.visit_of), `source` where the visit came from (referrer, utm)."""
    referrer, utm = source
    return {**_visitor_basics(visitor, online),
            "page": page_dict(visit[-1]) if visit else None,
            "pageViews": len(visit),
            "visitStartedAt": timestamp(visit[0].created_at) if visit else None,
            "referrer": referrer, "utm": utm, "chatId": chat_id}


def detail_dict(visitor: Visitor, online: bool) -> dict:
    """Everything the inbox's details pane shows of a visitor (not its secret token)."""
    return {**visitor_dict(visitor), **_visitor_basics(visitor, online),
            "phone": visitor.phone, "notes": visitor.notes, "custom": visitor.custom or {},
            "userId": visitor.user_id}


def profile_dict(operator: Operator) -> dict:
    """The operator's own profile (GET /api/operator/profile)."""
    return {"id": operator.id, "name": operator.name, "email": operator.email, "role": operator.role,
            "appId": operator.app_id, "avatarUrl": operator.avatar_url}


# -- the admin screens (parley.web.admin_api) ------------------------------------------------

def admin_app(app: App) -> dict:
    working = app.working_hours
    return {
        "appId": app.id, "name": app.name, "origins": list(app.origins or []),
        "appearance": {key: value for key, value in (app.appearance or {}).items()
                       if key in rules.APPEARANCE_KEYS},
        "workingHours": {"spec": hours.spec_of(working), "timezone": working.get("timezone"),
                         "description": hours.describe(working)} if working else None,
    }


def admin_operator(operator: Operator) -> dict:
    return {"id": operator.id, "email": operator.email, "name": operator.name, "role": operator.role,
            "presence": operator.presence, "avatarUrl": operator.avatar_url}


def admin_team(team: Team, member_ids: list[str]) -> dict:
    return {"id": team.id, "name": team.name, "memberIds": member_ids}


def admin_trigger(trigger: Trigger) -> dict:
    return {"id": trigger.id, "name": trigger.name, **trigger_dict(trigger)}
