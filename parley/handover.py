"""Handing a visitor's chat over to Parley's own page in a new tab (`openIn: '_blank'`).

The link that opens /chat/<appId> must not carry the visitor's credentials: a page that
adopts credentials from a link lets anyone who sends such a link (with *their* visitor's
credentials) read what the victim then writes (issue 13, finding 9: session fixation).
So the widget asks the server for a handover token bound to its visitor and app, and the
new tab exchanges it once for the credentials:

- 256 random bits (43 url-safe characters); the database keeps only its SHA-256, so a
  leaked table row is not a usable token, and every server process can exchange it;
- valid for LIFETIME (60 s): the new tab redeems it within a second or two;
- used once: the exchange deletes the row in the same statement that reads it, so two
  tabs (or a replayed link) can't both get the visitor;
- bound to its app: another app's chat page gets nothing;
- the database keeps only hashes of visitor tokens too (migration 0012), so the server
  cannot look the visitor's token up when the token is exchanged: the widget proves its
  token when it asks for the handover, and the row keeps that token *sealed* under the
  handover token (XOR with an HMAC-SHA256 keystream keyed by it: a one-time key, since
  every handover token is fresh). Only the handover token, which is never stored, opens
  it; the row alone (a leaked backup) gives nothing.

The endpoints are parley.web.handover_api; the rows parley.storage.handovers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

TOKEN_BYTES = 32
LIFETIME = timedelta(seconds=60)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    """Could this be a token we issued? (Anything else is refused without a query.)"""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


_SEAL_LABEL = b"parley handover seal\x00"


def _keystream(handover_token: str, length: int) -> bytes:
    blocks = (hmac.new(handover_token.encode(), _SEAL_LABEL + bytes([i]), hashlib.sha256).digest()
              for i in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def seal(handover_token: str, secret: str) -> str:
    """`secret` (a visitor token, at most 200 characters) under `handover_token`, as hex."""
    data = secret.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(handover_token, len(data)), strict=True)).hex()


def unseal(handover_token: str, sealed: str) -> str | None:
    """What `seal` sealed with this handover token; None if it is not readable text."""
    try:
        data = bytes.fromhex(sealed)
        return bytes(a ^ b for a, b in zip(data, _keystream(handover_token, len(data)), strict=True)).decode()
    except ValueError:  # not hex, or not UTF-8 (another key)
        return None
