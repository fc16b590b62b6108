"""Ids, secrets and the hashes the Chaport API defines, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
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


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def user_token(app_secret: str, visitor_id: str) -> str:
    """The spec's token for logged-in users: sha1(salt . visitorId), no separator."""
    return sha1_hex(app_secret + visitor_id)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
