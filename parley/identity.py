"""Ids, secrets and the hashes the Chaport API defines, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def new_id() -> str:
    """A 24-hex-digit id, the shape of Chaport's ids (apps, visitors, operators)."""
    return secrets.token_hex(12)


def new_secret() -> str:
    """An app's personal salt (visitorIntegrityHash, user tokens) or a visitor token."""
    return secrets.token_urlsafe(32)


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def token_hash(token: str) -> str:
    """How a bearer token is stored: SHA-256 in hex. The tokens are 256 random bits, so a
    fast hash is enough, and a leaked database holds nothing a browser could present."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_visitor_token(app_secret: str, visitor_id: str) -> str:
    """The visitor token a logged-in user's browsers get (session.user): derived from the
    app's secret and the visitor id, so every browser of the user gets the same one and
    none has to be stored (or replaced, which would log the user's other browsers out).
    Whoever knows the secret can sign user tokens anyway; a new secret changes it."""
    digest = hmac.new(app_secret.encode(), b"parley visitor token\x00" + visitor_id.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def user_token(app_secret: str, visitor_id: str) -> str:
    """The spec's token for logged-in users: sha1(salt . visitorId), no separator."""
    return sha1_hex(app_secret + visitor_id)


# -- logged-in users (session.user) ------------------------------------------------

USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_user_id(user_id: object) -> bool:
    """A logged-in user's id is the site's stored Chaport visitorId: 1..64 of [A-Za-z0-9_-]."""
    return isinstance(user_id, str) and USER_ID.fullmatch(user_id) is not None


def user_token_ok(app_secret: str, user_id: str, token: str) -> bool:
    """True when `token` is sha1(secret + id) (hex, any case), compared in constant time."""
    if not valid_user_id(user_id) or not isinstance(token, str) or not token.isascii():
        return False
    return hmac.compare_digest(user_token(app_secret, user_id).encode(), token.lower().encode())


# -- visitorIntegrityHash ------------------------------------------------------------

def php_style_json(text: str) -> str:
    """Rewrites JSON text the way PHP's json_encode (default flags) would have written it.

    Sites sign `sha1($salt . json_encode($data))` while the browser sends
    `JSON.stringify(data)`. With default flags PHP differs only inside strings:
    "/" becomes "\\/" and every non-ASCII character becomes \\uXXXX (lowercase
    hex; characters beyond U+FFFF as a surrogate pair). Existing escapes are
    copied as they are, so text that already came from PHP is left unchanged.
    """
    out: list[str] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\\":
            # An escape: keep it whole ("\\/" stays, "\\\\" is not followed by a rewrite).
            width = 6 if text.startswith("u", i + 1) else 2
            out.append(text[i:i + width])
            i += width
            continue
        if char == "/":
            out.append("\\/")
        elif ord(char) > 0x7F:
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def integrity_hash_ok(app_secret: str, data_json: str, given: str) -> bool:
    """The spec's visitorIntegrityHash check: sha1(secret + JSON), constant time.

    Accepts the hash of the exact text the browser sent and of its PHP
    json_encode spelling (what a PHP site signed for the same data).
    """
    if not isinstance(given, str) or not given.isascii():
        return False
    given = given.lower().encode()
    direct = hmac.compare_digest(sha1_hex(app_secret + data_json).encode(), given)
    php = hmac.compare_digest(sha1_hex(app_secret + php_style_json(data_json)).encode(), given)
    return direct | php  # both compared, always


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
