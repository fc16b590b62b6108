"""The WebSocket protocol: frames, their validation, and stable error codes.

Every frame is a JSON object with `v` (protocol version) and `type`. Frames
are decoded with msgspec into tagged structs, so a wrong shape is one clear
error instead of a KeyError deep in a handler. See docs/protocol.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT = 5000
MAX_HISTORY_PAGE = 100

# Stable error codes (API clients may switch on them).
E_BAD_FRAME = "PARLEY_E_BAD_FRAME"
E_VERSION = "PARLEY_E_VERSION"
E_UNKNOWN_APP = "PARLEY_E_UNKNOWN_APP"
E_ORIGIN = "PARLEY_E_ORIGIN"
E_TOO_LARGE = "PARLEY_E_TOO_LARGE"
E_NOT_READY = "PARLEY_E_NOT_READY"
E_BAD_HASH = "PARLEY_E_BAD_HASH"
E_RATE_LIMIT = "PARLEY_E_RATE_LIMIT"
E_AUTH = "PARLEY_E_AUTH"
E_NOT_FOUND = "PARLEY_E_NOT_FOUND"
E_BAD_TOKEN = "PARLEY_E_BAD_TOKEN"
E_FILE_TYPE = "PARLEY_E_FILE_TYPE"  # HTTP 415: an upload whose content is not an accepted type
E_FILE_TOO_LARGE = "PARLEY_E_FILE_TOO_LARGE"  # HTTP 413: an upload over the size (or pixel) limit
# The action does not fit the current state: reopening a chat while the visitor has another
# open one, assigning a closed chat or to a team without members, a shortcut already taken (409).
E_CONFLICT = "PARLEY_E_CONFLICT"
# The database can't be reached right now (a restart, a failover): try again after retryAfter
# seconds. Sockets are then closed with 1013; HTTP answers 503 with Retry-After.
E_UNAVAILABLE = "PARLEY_E_UNAVAILABLE"
E_FORBIDDEN = "PARLEY_E_FORBIDDEN"  # HTTP 403: logged in, but the role may not do this (admin screens)
# visitor.update without a hash for an app that accepts signed visitor data only.
E_HASH_REQUIRED = "PARLEY_E_HASH_REQUIRED"
# visitor.update with an email that is no address: the email is left out, the rest saved.
E_INVALID_EMAIL = "PARLEY_E_INVALID_EMAIL"

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_HISTORY_PAGE)]
Seq = Annotated[int, msgspec.Meta(ge=0)]
Url = Annotated[str, msgspec.Meta(max_length=4096)]
# A logged-in user's id: the site's stored Chaport visitorId.
UserId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z")]
# An assignment target: an operator id, name or email, or a team id or name.
Assignee = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
MAX_ASSIGNEES = 20


class _Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, kw_only=True):
    v: int = VERSION


class Page(msgspec.Struct, forbid_unknown_fields=False):
    url: Url = ""
    title: Url = ""
    referrer: Url = ""


# -- visitor → server ------------------------------------------------------------

class User(msgspec.Struct, forbid_unknown_fields=False):
    """chaportConfig.session.user / startSession credentials: token = sha1(secret + id)."""

    id: UserId
    token: Annotated[str, msgspec.Meta(max_length=128)]


class Hello(_Frame, tag="hello"):
    appId: str
    visitorId: str | None = None
    visitorToken: str | None = None
    page: Page | None = None
    # The newest event seq this tab has seen; omit on a first visit.
    lastSeq: Seq | None = None
    # A logged-in user: the visitor becomes the one with this id (see docs/protocol.md).
    user: User | None = None


OptionalText = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
MessageId = Annotated[int, msgspec.Meta(ge=1)]
FileId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}\Z")]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+\Z", max_length=320)]
Rating = Annotated[str, msgspec.Meta(pattern=r"^(good|bad)\Z")]


def check_message_body(text: str, file_id: str | None) -> None:
    """A message is text (1..5000 chars) or an uploaded file with an optional caption."""
    if not text.strip() and file_id is None:
        raise FrameError(E_BAD_FRAME, "a message needs text or a fileId")


class MessageSend(_Frame, tag="message.send"):
    clientId: ClientId
    text: OptionalText = ""
    # An upload from POST /api/visitor/files; the text is then an optional caption.
    fileId: FileId | None = None
    # Who a new chat goes to (assignment rules / `operators` option); ignored for an open chat.
    assignees: Annotated[list[Assignee], msgspec.Meta(max_length=MAX_ASSIGNEES)] | None = None
    # The app's trigger whose `message_text` conditions this message matched (the widget
    # checks them): a new chat gets that trigger's message as the bot's answer.
    triggerId: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class VisitorUpdate(_Frame, tag="visitor.update"):
    data: dict[str, Any] | None = None
    # The exact JSON text the site signed; required with `hash`.
    dataJson: str | None = None
    hash: str | None = None


class PageView(_Frame, tag="page.view"):
    url: Url
    title: Url = ""
    referrer: Url = ""


class Typing(_Frame, tag="typing"):
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] = ""


class VisitorHistory(_Frame, tag="history"):
    before: int | None = None
    limit: Limit = 50


class Seen(_Frame, tag="seen"):
    """Read receipt: every message of the other side up to this id has been seen."""

    upTo: MessageId


class ChatRate(_Frame, tag="chat.rate"):
    """The visitor's rating of a chat (the newest one when chatId is left out)."""

    rating: Rating
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    chatId: str | None = None


class TranscriptRequest(_Frame, tag="transcript.request"):
    email: Email
    chatId: str | None = None


class VisitorChatClose(_Frame, tag="chat.close"):
    """The visitor ends their open chat."""


class VisitorGet(_Frame, tag="visitor.get"):
    """The visitor's own profile as the server has it (Customer SDK "get customer")."""


class AgentPredict(_Frame, tag="agent.predict"):
    """Who would take a chat started now (Customer SDK "predicted agent")."""

    assignees: Annotated[list[Assignee], msgspec.Meta(max_length=MAX_ASSIGNEES)] | None = None


class Greeting(_Frame, tag="greeting"):
    """The visitor accepted (opened) or cancelled (dismissed) an invitation."""

    action: Annotated[str, msgspec.Meta(pattern=r"^(accept|cancel)\Z")]
    triggerId: Annotated[str, msgspec.Meta(max_length=64)] | None = None


PropertyValue = Annotated[str, msgspec.Meta(max_length=500)] | int | float | bool | None


class ChatProperties(_Frame, tag="chat.properties"):
    """Key/value facts about the visitor's open chat (merged; a null value removes the key)."""

    properties: Annotated[dict[Annotated[str, msgspec.Meta(min_length=1, max_length=64)], PropertyValue],
                          msgspec.Meta(max_length=50)]


class Sync(_Frame, tag="sync"):
    """Asks for `synced` with the same id. A socket's frames are handled one after the
    other, so `synced` comes after every answer to the frames sent before it: clients
    (parley.client) match answers to requests by it. Visitor and operator sockets."""
    id: ClientId


VisitorFrame = (Hello | MessageSend | VisitorUpdate | PageView | Typing | VisitorHistory | Seen
                | ChatRate | TranscriptRequest | VisitorChatClose | VisitorGet | AgentPredict | Greeting
                | ChatProperties | Sync)
ClientFrame = VisitorFrame  # the name the skeleton used


# -- operator → server -----------------------------------------------------------

class Subscribe(_Frame, tag="subscribe"):
    pass


class OperatorMessageSend(_Frame, tag="message.send"):
    chatId: str
    clientId: ClientId
    text: OptionalText = ""
    fileId: FileId | None = None


class OperatorHistory(_Frame, tag="history"):
    chatId: str
    before: int | None = None
    limit: Limit = 50


class ChatClose(_Frame, tag="chat.close"):
    chatId: str


class OperatorTyping(_Frame, tag="typing"):
    chatId: str
    typing: bool = True


class OperatorSeen(_Frame, tag="seen"):
    chatId: str
    upTo: MessageId


# An operator, team or other record id (ours are 24 hex; anything longer is no id of ours).
RecordId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ChatAssign(_Frame, tag="chat.assign"):
    """Assign or transfer a chat: to one operator, or to a team (one member is picked)."""

    chatId: str
    operatorId: RecordId | None = None
    teamId: RecordId | None = None


class NoteAdd(_Frame, tag="note.add"):
    """An internal note: operators see it in the chat, the visitor never does."""

    chatId: str
    clientId: ClientId
    text: Text


class ChatReopen(_Frame, tag="chat.reopen"):
    chatId: str


class ChatStart(_Frame, tag="chat.start"):
    """Proactive chat: the operator writes first to a visitor who has no open chat."""

    visitorId: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    clientId: ClientId
    text: Text


OperatorFrame = (Subscribe | OperatorMessageSend | OperatorHistory | ChatClose | OperatorTyping | OperatorSeen
                 | ChatAssign | NoteAdd | ChatReopen | ChatStart | Sync)

_visitor_decoder = msgspec.json.Decoder(VisitorFrame)
_operator_decoder = msgspec.json.Decoder(OperatorFrame)


class FrameError(Exception):
    """A frame the server refuses; `extra` goes into the error frame (e.g. retryAfter)."""

    def __init__(self, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def rate_limited(what: str, retry_after: float) -> FrameError:
    """The rate-limit error every frame kind answers: what, and when to try again."""
    wait = max(0.1, round(retry_after, 1))
    return FrameError(E_RATE_LIMIT, f"too many {what}; retry in {wait:.0f}s", retryAfter=wait)


def _decode(decoder: msgspec.json.Decoder, data: str | bytes):
    if len(data) > MAX_FRAME_BYTES:
        raise FrameError(E_TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        frame = decoder.decode(data)
    except msgspec.ValidationError as error:
        raise FrameError(E_BAD_FRAME, f"invalid frame: {error}") from None
    except msgspec.DecodeError:
        raise FrameError(E_BAD_FRAME, "frames must be JSON objects") from None
    if frame.v != VERSION:
        raise FrameError(E_VERSION, f"protocol version {frame.v} is not supported; use {VERSION}")
    if _has_nul(data, frame):
        raise FrameError(E_BAD_FRAME, NUL_REFUSED)
    return frame


NUL_REFUSED = "text may not contain NUL characters (\\u0000)"


def _has_nul(raw: str | bytes, decoded: object) -> bool:
    """Whether any string in `decoded` holds a NUL. PostgreSQL can't store one in text
    (SQLite could), so a frame or body with one would be stored on one database and fail
    with a database error on the other. JSON can only carry it escaped, so the raw text
    is searched first and the decoded value walked only when the escape is there."""
    if (b"\\u0000" if isinstance(raw, bytes) else "\\u0000") not in raw:
        return False
    pending = [msgspec.to_builtins(decoded)]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def decode_visitor_frame(data: str | bytes) -> VisitorFrame:
    """Decodes one visitor frame or raises FrameError with a stable code."""
    return _decode(_visitor_decoder, data)


decode_client_frame = decode_visitor_frame


def decode_operator_frame(data: str | bytes) -> OperatorFrame:
    """Decodes one operator frame or raises FrameError with a stable code."""
    return _decode(_operator_decoder, data)


# -- JSON inside frames and HTTP bodies, as strict as frames -----------------------

_data_json_decoder = msgspec.json.Decoder()


def decode_visitor_data(data_json: str) -> object:
    """The parsed `dataJson` of a visitor.update; raises FrameError.

    msgspec, like the frame decoder, refuses what json.loads lets through and the
    database can't store: a lone surrogate escape ("\\ud800" is valid JSON text but no
    UTF-8), NaN, Infinity and numbers out of range.
    """
    try:
        data = _data_json_decoder.decode(data_json)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise FrameError(E_BAD_FRAME, f"dataJson is not valid JSON text: {error}") from None
    if _has_nul(data_json, data):
        raise FrameError(E_BAD_FRAME, f"dataJson: {NUL_REFUSED}")
    return data


def strict_json(raw: str | bytes) -> object:
    """An HTTP API's JSON body, parsed as strictly as frames are; raises ValueError.

    json.loads accepts a lone surrogate escape ("\\ud800"), which no database or argon2
    can take: every JSON API answered 500 to it. msgspec refuses it, with NaN and
    Infinity, so each API answers its usual 400 instead.
    """
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    if _has_nul(raw, body):
        raise ValueError(NUL_REFUSED)
    return body


# -- server → client -------------------------------------------------------------

def welcome(visitor_id: str, visitor_token: str, online: bool, seq: int = 0, *,
            country: str | None = None, triggers: list[dict] | None = None,
            operators: list[dict] | None = None, assignment_rules: list | None = None,
            max_upload_bytes: int | None = None, appearance: dict | None = None,
            languages: list[str] | None = None, chat: dict | None = None) -> dict:
    """`triggers`: [{id, message, kind, delay, conditions, enabled}]; `operators`: [{id, name}];
    `assignmentRules`: the app's default rules in the spec's form; `chat`: the visitor's open
    chat, if any (a new page of an ongoing chat shows no invitation and assigns nothing)."""
    return {"v": VERSION, "type": "welcome", "visitorId": visitor_id,
            "visitorToken": visitor_token, "online": online, "seq": seq, "country": country,
            "triggers": triggers or [], "operators": operators or [],
            "assignmentRules": assignment_rules or [], "maxUploadBytes": max_upload_bytes,
            "appearance": appearance or {}, "languages": languages or None, "chat": chat}


def event(seq: int, body: dict) -> dict:
    return {"v": VERSION, "type": "event", "seq": seq, "event": body}


def reset(seq: int) -> dict:
    """The gap is too large to replay: reload history, then continue after `seq`."""
    return {"v": VERSION, "type": "reset", "seq": seq}


def ack(client_id: str, message: dict) -> dict:
    return {"v": VERSION, "type": "ack", "clientId": client_id, "message": message}


def history(messages: list[dict], has_more: bool, chat_id: str | None = None) -> dict:
    return {"v": VERSION, "type": "history", "chatId": chat_id, "messages": messages, "hasMore": has_more}


def frame(kind: str, **fields) -> dict:
    return {"v": VERSION, "type": kind, **fields}


def error(code: str, message: str, **extra) -> dict:
    return {"v": VERSION, "type": "error", "code": code, "message": message, **extra}


def synced(sync_id: str) -> dict:
    return {"v": VERSION, "type": "synced", "id": sync_id}


def refusal(problem: FrameError, **extra) -> dict:
    """The error frame for a refused frame: its code, message and extras (retryAfter...)."""
    return error(problem.code, problem.message, **problem.extra, **extra)
