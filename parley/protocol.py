"""The WebSocket protocol: frames, their validation, and stable error codes.

Every frame is a JSON object with `v` (protocol version) and `type`. Frames
are decoded with msgspec into tagged structs, so a wrong shape is one clear
error instead of a KeyError deep in a handler. See docs/protocol.md.
"""

from __future__ import annotations

import msgspec

VERSION = 1
MAX_FRAME_BYTES = 64 * 1024

# Stable error codes (API clients may switch on them).
E_BAD_FRAME = "PARLEY_E_BAD_FRAME"
E_VERSION = "PARLEY_E_VERSION"
E_UNKNOWN_APP = "PARLEY_E_UNKNOWN_APP"
E_ORIGIN = "PARLEY_E_ORIGIN"
E_TOO_LARGE = "PARLEY_E_TOO_LARGE"
E_NOT_READY = "PARLEY_E_NOT_READY"


class Page(msgspec.Struct, forbid_unknown_fields=False):
    url: str = ""
    title: str = ""
    referrer: str = ""


class Hello(msgspec.Struct, tag="hello", tag_field="type", forbid_unknown_fields=False):
    appId: str
    v: int = VERSION
    visitorId: str | None = None
    visitorToken: str | None = None
    page: Page | None = None


ClientFrame = Hello
_decoder = msgspec.json.Decoder(ClientFrame)


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_client_frame(data: str | bytes) -> ClientFrame:
    """Decodes one client frame or raises FrameError with a stable code."""
    if len(data) > MAX_FRAME_BYTES:
        raise FrameError(E_TOO_LARGE, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        frame = _decoder.decode(data)
    except msgspec.ValidationError as error:
        raise FrameError(E_BAD_FRAME, f"invalid frame: {error}") from None
    except msgspec.DecodeError:
        raise FrameError(E_BAD_FRAME, "frames must be JSON objects") from None
    if frame.v != VERSION:
        raise FrameError(E_VERSION, f"protocol version {frame.v} is not supported; use {VERSION}")
    return frame


def welcome(visitor_id: str, visitor_token: str, online: bool) -> dict:
    return {"v": VERSION, "type": "welcome", "visitorId": visitor_id,
            "visitorToken": visitor_token, "online": online}


def error(code: str, message: str) -> dict:
    return {"v": VERSION, "type": "error", "code": code, "message": message}
