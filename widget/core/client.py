"""Pure rules of `chaport.client` (the browser's headless client, docs/client.md): the error
codes, why a socket closed, and the checks of the calls' arguments.

The same table as parley.client.errors.ERROR_CODES (tests/test_client_core_table.py keeps
the two equal): the LiveChat Customer SDK's code where the SDK has the concept, else
Parley's own code without its `PARLEY_E_` prefix. No browser imports: tests run these
rules under CPython and MicroPython (tests/core/cases/client_rules.py).
"""

from widget.core.parameters import split_language_tag

# Codes the client gives by itself (no server frame behind them).
CONNECTION_LOST = "CONNECTION_LOST"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
NOT_SUPPORTED = "NOT_SUPPORTED"
VALIDATION = "VALIDATION"
INTERNAL = "INTERNAL"
MISSING_CHAT = "MISSING_CHAT"
CHAT_ALREADY_ACTIVE = "CHAT_ALREADY_ACTIVE"
# restore(): the page had a session, but the server no longer knows it (or its token).
SESSION_NOT_RESTORED = "SESSION_NOT_RESTORED"

# A key is a Parley code, or (code, context) when one code means different things for
# different requests (the `context` of error_from_frame).
ERROR_CODES = {
    "PARLEY_E_BAD_FRAME": "VALIDATION",
    "PARLEY_E_TOO_LARGE": "VALIDATION",
    "PARLEY_E_VERSION": "UNSUPPORTED_VERSION",
    "PARLEY_E_UNKNOWN_APP": "LICENSE_NOT_FOUND",
    "PARLEY_E_RATE_LIMIT": "RATE_LIMIT",
    "PARLEY_E_NOT_FOUND": "MISSING_CHAT",
    ("PARLEY_E_NOT_FOUND", "file"): "MISSING_FILE",
    ("PARLEY_E_NOT_FOUND", "assign"): "NOT_FOUND",
    ("PARLEY_E_NOT_FOUND", "start"): "NOT_FOUND",
    "PARLEY_E_CONFLICT": "CHAT_ALREADY_ACTIVE",
    ("PARLEY_E_CONFLICT", "transcript"): "TRANSCRIPT_ALREADY_REQUESTED",
    ("PARLEY_E_CONFLICT", "assign"): "CHAT_INACTIVE",
    "PARLEY_E_ORIGIN": "ORIGIN_NOT_ALLOWED",
    "PARLEY_E_BAD_HASH": "BAD_HASH",
    "PARLEY_E_INVALID_EMAIL": "VALIDATION",
    "PARLEY_E_HASH_REQUIRED": "HASH_REQUIRED",
    "PARLEY_E_BAD_TOKEN": "BAD_TOKEN",
    "PARLEY_E_AUTH": "AUTHENTICATION",
    "PARLEY_E_FORBIDDEN": "FORBIDDEN",
    "PARLEY_E_NOT_READY": "NOT_READY",
    "PARLEY_E_FILE_TYPE": "FILE_TYPE",
    "PARLEY_E_FILE_TOO_LARGE": "FILE_TOO_LARGE",
    "PARLEY_E_UNAVAILABLE": "SERVICE_UNAVAILABLE",
}

# Why a socket closed, as `disconnected`'s reason, and whether the widget reconnects.
CLOSE_REASONS = {
    1000: ("connection_lost", True),
    1001: ("connection_lost", True),
    1006: ("connection_lost", True),
    1009: ("connection_lost", True),
    1011: ("internal_error", True),
    1013: ("service_unavailable", True),
    4400: ("validation", False),
    4401: ("identity_mismatch", False),
    4403: ("origin_not_allowed", False),
    4404: ("license_not_found", False),
    4408: ("connection_lost", True),
    4410: ("connection_lost", True),
    4429: ("too_many_connections", True),
}

# The events `chaport.client.on` takes (the SDK's names).
CLIENT_EVENTS = (
    "connected",
    "disconnected",
    "connection_unstable",
    "connection_recovered",
    "customer_id",
    "incoming_event",
    "incoming_chat",
    "chat_deactivated",
    "chat_transferred",
    "user_added_to_chat",
    "chat_rated",
    "incoming_typing_indicator",
    "events_marked_as_seen",
    "customer_updated",
    "availability_updated",
    "queue_position_updated",
    "chat_properties_updated",
    "incoming_greeting",
    "history_reset",
    # Parley's own, for onWebChat's onClick / onStartWriting (docs/client.md).
    "launcher_clicked",
    "visitor_typing",
)

MAX_TEXT = 5000
MAX_PAGE = 100


def sdk_code(parley_code, context=None):
    """The client's code for a Parley code (in a request's context, when that matters)."""
    if context is not None and (parley_code, context) in ERROR_CODES:
        return ERROR_CODES[(parley_code, context)]
    if parley_code in ERROR_CODES:
        return ERROR_CODES[parley_code]
    code = str(parley_code or "")
    if code.startswith("PARLEY_E_"):
        code = code[len("PARLEY_E_"):]
    return code or INTERNAL


def error(code, message, details=None):
    """A rejection's value: {code, message} and, when there are any, the details."""
    found = {"code": code, "message": message}
    if details:
        found["details"] = details
    return found


def error_from_frame(frame, context=None):
    """The rejection for a protocol error frame: the SDK's code, the server's message, and
    `parleyCode`, `retryAfter` (rate limits) and `details` (chatId, openChatId, clientId…)."""
    parley_code = str(frame.get("code") or "")
    found = error(sdk_code(parley_code, context), str(frame.get("message") or parley_code))
    if parley_code:
        found["parleyCode"] = parley_code
    retry = frame.get("retryAfter")
    if isinstance(retry, (int, float)) and not isinstance(retry, bool):
        found["retryAfter"] = retry
    details = {}
    for key in frame:
        if key not in ("v", "type", "code", "message", "retryAfter"):
            details[key] = frame[key]
    if details:
        found["details"] = details
    return found


def close_reason(code):
    """(reason, reconnects) for a close code; None (no code known) is a lost connection."""
    return CLOSE_REASONS.get(code, ("connection_lost", True))


def message_text(text):
    """None when `text` can be a message's text, else the VALIDATION message."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return "text is a string of at most %d characters" % MAX_TEXT
    return None


def event_to_send(event):
    """sendEvent's event as (text, file, problem): `{type: 'message', text}` or
    `{type: 'file', file: FILE, text?}` (a caption); problem is an error dict or None."""
    if not isinstance(event, dict):
        return None, None, error(VALIDATION, "an event is an object such as {type: 'message', text: 'Hi'}")
    kind = event.get("type")
    text = event.get("text")
    if text is None:
        text = ""
    problem = message_text(text)
    if problem:
        return None, None, error(VALIDATION, problem)
    if kind == "message":
        if not text.strip():
            return None, None, error(VALIDATION, "a message needs text")
        return text, None, None
    if kind == "file":
        file = event.get("file")
        if not isinstance(file, dict) or not file_id_ok(file.get("id")):
            return None, None, error(VALIDATION, "a file event needs file: the FILE uploadFile resolved with")
        return text, file, None
    if isinstance(kind, str):
        return None, None, error(NOT_SUPPORTED, "Parley's visitors send 'message' and 'file' events, not '%s'"
                                 % kind)
    return None, None, error(VALIDATION, "an event needs a type ('message' or 'file')")


def file_id_ok(file_id):
    """A file id is 32 hex digits (what uploadFile resolved with); the server refuses
    another form without naming the message, so it is checked here."""
    if not isinstance(file_id, str) or len(file_id) != 32:
        return False
    return all(char in "0123456789abcdef" for char in file_id)


def start_chat_event(options):
    """startChat's first message: a string, `{text}` or the SDK's
    `{chat: {thread: {events: [{type: 'message', text}]}}}`, as an event for event_to_send."""
    if isinstance(options, str):
        return {"type": "message", "text": options}
    if not isinstance(options, dict):
        return None
    if isinstance(options.get("event"), dict):
        return options["event"]
    chat = options.get("chat")
    thread = chat.get("thread") if isinstance(chat, dict) else None
    events = thread.get("events") if isinstance(thread, dict) else None
    if isinstance(events, list) and events:
        return events[0]
    if "text" in options:
        return {"type": "message", "text": options.get("text")}
    return None


def rating_frame(options):
    """rateChat's `{chatId?, rating: {score: 1 | 0, comment?}}` as (frame, problem)."""
    if not isinstance(options, dict) or not isinstance(options.get("rating"), dict):
        return None, error(VALIDATION, "rateChat takes {chatId?, rating: {score: 1 or 0, comment?}}")
    rating = options["rating"]
    score = rating.get("score")
    if score not in (0, 1) or isinstance(score, bool):
        return None, error(VALIDATION, "rating.score is 1 (good) or 0 (bad)")
    comment = rating.get("comment")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > 2000:
        return None, error(VALIDATION, "rating.comment is a string of at most 2000 characters")
    frame = {"type": "chat.rate", "rating": "good" if score == 1 else "bad", "comment": comment}
    chat_id = options.get("chatId")
    if chat_id is not None:
        if not isinstance(chat_id, str) or not chat_id:
            return None, error(VALIDATION, "chatId is a chat's id")
        frame["chatId"] = chat_id
    return frame, None


def customer_data(fields):
    """updateCustomer's `{name?, email?, phone?, notes?, sessionFields?}` as visitor.update's
    `data` (sessionFields become Parley's custom fields), or (None, problem)."""
    if not isinstance(fields, dict):
        return None, error(VALIDATION, "updateCustomer takes an object such as {name, email}")
    data = {}
    for key in ("name", "email", "phone", "notes"):
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return None, error(VALIDATION, "%s must be a string" % key)
        data[key] = value
    custom = fields.get("sessionFields")
    if custom is None:
        custom = fields.get("fields")
    if custom is not None:
        if not isinstance(custom, dict):
            return None, error(VALIDATION, "sessionFields is an object of key/values")
        data["custom"] = custom
    known = ("name", "email", "phone", "notes", "sessionFields", "fields")
    unknown = [key for key in fields if key not in known]
    if unknown:
        return None, error(VALIDATION, "unknown customer field '%s'" % sorted(unknown)[0])
    return data, None


# POST /api/visitor/files refusals (docs/protocol.md, Files) by HTTP status.
UPLOAD_STATUS = {
    401: "AUTHENTICATION",
    403: "ORIGIN_NOT_ALLOWED",
    404: "LICENSE_NOT_FOUND",
    413: "FILE_TOO_LARGE",
    415: "FILE_TYPE",
    429: "RATE_LIMIT",
    503: "SERVICE_UNAVAILABLE",
}


def upload_error(status, cancelled=False):
    """uploadFile's rejection for an HTTP status (0: the network failed or it was cancelled)."""
    if cancelled:
        return error("CANCELLED", "the upload was cancelled")
    if not status:
        return error(CONNECTION_LOST, "the upload did not reach the server")
    return error(UPLOAD_STATUS.get(status, INTERNAL), "the upload was refused (HTTP %s)" % status)


def language_code(value, supported):
    """setLanguage's argument ('de', 'pt-BR' or {language}) as a code of `supported`,
    or None when it names no language the widget has."""
    if isinstance(value, dict):
        value = value.get("language")
    code = split_language_tag(value)
    return code if code in supported else None


def page_size(value):
    """getChatHistory's page size (default 50) or None when it is not 1..100."""
    if value is None:
        return 50
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        return None
    return value


def known_chats(chats):
    """The chats newest first (by startedAt)."""
    found = [chat for chat in chats.values() if isinstance(chat, dict)]
    return sorted(found, key=lambda chat: chat.get("startedAt") or "", reverse=True)
