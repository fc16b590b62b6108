"""The client's one exception, and the single table from Parley's codes to the Customer SDK's.

The LiveChat Customer SDK (the model for this client) puts a `code` on every error it
throws. Parley answers with `PARLEY_E_…` codes (parley.protocol). `ERROR_CODES` maps
each one to the SDK's code where the SDK has the concept, else to Parley's own code
without its prefix; `parley_code` keeps the original for callers who want it.
"""

from __future__ import annotations

from typing import Any

from parley import protocol

# Codes the client raises by itself (no server frame behind them).
CONNECTION_LOST = "CONNECTION_LOST"  # the socket went away while the request was in flight
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"  # no answer within the request's timeout
NOT_SUPPORTED = "NOT_SUPPORTED"  # the Customer SDK has the call, Parley has no such concept
INTERNAL = "INTERNAL"  # the server answered something the protocol does not describe
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # HTTP 503 (e.g. too many password checks at once)

# A key is a Parley code, or (code, context) when one code means different things
# depending on the request (context names are the `context` argument of from_frame).
ERROR_CODES: dict[str | tuple[str, str], str] = {
    protocol.E_BAD_FRAME: "VALIDATION",
    protocol.E_TOO_LARGE: "VALIDATION",
    protocol.E_VERSION: "UNSUPPORTED_VERSION",
    protocol.E_UNKNOWN_APP: "LICENSE_NOT_FOUND",
    # Parley limits by rate and says when to retry (`retry_after`); the SDK's nearest is
    # PENDING_REQUESTS_LIMIT_REACHED, which is about unanswered requests, not rate.
    protocol.E_RATE_LIMIT: "RATE_LIMIT",
    protocol.E_NOT_FOUND: "MISSING_CHAT",
    (protocol.E_NOT_FOUND, "file"): "MISSING_FILE",
    (protocol.E_NOT_FOUND, "assign"): "NOT_FOUND",  # the chat, operator or team
    (protocol.E_NOT_FOUND, "start"): "NOT_FOUND",  # an operator's chat.start: no such visitor
    protocol.E_CONFLICT: "CHAT_ALREADY_ACTIVE",
    (protocol.E_CONFLICT, "transcript"): "TRANSCRIPT_ALREADY_REQUESTED",
    (protocol.E_CONFLICT, "assign"): "CHAT_INACTIVE",  # a closed chat or a team without members
    protocol.E_ORIGIN: "ORIGIN_NOT_ALLOWED",
    protocol.E_BAD_HASH: "BAD_HASH",
    protocol.E_INVALID_EMAIL: "VALIDATION",
    protocol.E_HASH_REQUIRED: "HASH_REQUIRED",
    protocol.E_BAD_TOKEN: "BAD_TOKEN",
    protocol.E_AUTH: "AUTHENTICATION",
    protocol.E_FORBIDDEN: "FORBIDDEN",
    protocol.E_NOT_READY: "NOT_READY",
    protocol.E_FILE_TYPE: "FILE_TYPE",
    protocol.E_FILE_TOO_LARGE: "FILE_TOO_LARGE",
    # The server's database is away for a moment (a restart): the client reconnects (close 1013).
    protocol.E_UNAVAILABLE: SERVICE_UNAVAILABLE,
}


def sdk_code(parley_code: str, context: str | None = None) -> str:
    """The client's code for a Parley code (in a request's context, when that matters)."""
    if context is not None and (parley_code, context) in ERROR_CODES:
        return ERROR_CODES[(parley_code, context)]
    if parley_code in ERROR_CODES:
        return ERROR_CODES[parley_code]
    # A code newer than this client: keep it recognisable rather than guessing.
    return parley_code.removeprefix("PARLEY_E_") or INTERNAL


class ClientError(Exception):
    """Every error of parley.client: `code` (the SDK's where it applies), `parley_code`
    (the server's PARLEY_E_… code, None for the client's own), `retry_after` (seconds, on
    rate limits) and `details` (the rest of the error frame: chatId, openChatId, …)."""

    def __init__(self, code: str, message: str, *, parley_code: str | None = None,
                 retry_after: float | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.parley_code = parley_code
        self.retry_after = retry_after
        self.details = details or {}

    @classmethod
    def from_frame(cls, frame: dict, context: str | None = None) -> ClientError:
        """The error for a protocol error frame (or an HTTP API's error body)."""
        code = str(frame.get("code") or "")
        details = {k: v for k, v in frame.items() if k not in ("v", "type", "code", "message", "retryAfter")}
        retry = frame.get("retryAfter")
        return cls(sdk_code(code, context), str(frame.get("message") or code), parley_code=code or None,
                   retry_after=float(retry) if isinstance(retry, int | float) else None, details=details)


# Why a socket closed, as the `disconnected` event's `reason`: the SDK's reason where it
# has one, else Parley's. `retry`: whether the client reconnects by itself, and after how
# many seconds at least (None: it stops, and `connect()` must be called again).
CLOSE_REASONS: dict[int, tuple[str, float | None]] = {
    1000: ("connection_lost", 0),
    1001: ("connection_lost", 0),  # the server is shutting down: another one takes over
    1006: ("connection_lost", 0),
    1009: ("connection_lost", 0),  # a frame over 64 KB
    1011: ("internal_error", 0),
    4400: ("validation", None),  # the first frame was no valid hello: a client bug, retrying won't help
    4401: ("identity_mismatch", None),  # visitor: hello.user.token wrong; operator: the login ended
    4403: ("origin_not_allowed", None),
    4404: ("license_not_found", None),
    4408: ("connection_lost", 0),  # no hello within 10 s (a very slow link)
    4410: ("connection_lost", 0),  # fell behind the live feed: reconnect and catch up
    4429: ("too_many_connections", 30),
}


def close_reason(code: int | None) -> tuple[str, float | None]:
    return CLOSE_REASONS.get(code or 1006, ("connection_lost", 0))
