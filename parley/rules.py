"""Parley's rules that are neither SQL nor wire: what visitor data may hold and what a
visitor update may change, the apps' server-side settings, where a transcript may go,
and the checks every input (CLI, admin screens, inbox) goes through, one function per
kind of input.

Everything here decides and does no I/O; storage reads and writes, callers translate
`InvalidInput` into their own answers (a CLI usage line, a 400 naming the field).
The checks of visitor data serve the visitor.update frame, so they raise
protocol.FrameError, the socket's answer, directly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from parley import protocol
from widget.core.compare import MATCHERS
from widget.core.config import ACCOUNT_APPEARANCE_KEYS
from widget.core.parameters import PARAMETER_KEYS
from widget.core.validation import looks_like_email

if TYPE_CHECKING:
    from parley.storage.models import Visitor

def _same(old: object, new: object) -> bool:
    return type(old) is type(new) and old == new  # True == 1 in Python, not in JSON


# -- visitor data ------------------------------------------------------------------------

IDENTIFYING_FIELDS = {"name": 200, "email": 320, "phone": 50, "notes": 5000}
# A visitor's custom fields, stored and sent to every operator tab: without limits 200
# unsigned frames grew one profile to 20,000 keys (issue 13). Each limit holds for one
# frame and for the stored profile after the merge.
MAX_CUSTOM_KEYS = 50
MAX_CUSTOM_KEY = 64  # characters
MAX_CUSTOM_VALUE = 500  # characters of a string (of a number's JSON text)
MAX_CUSTOM_BYTES = 8 * 1024  # the whole custom object as compact UTF-8 JSON


def _custom_too_large(message: str) -> protocol.FrameError:
    return protocol.FrameError(protocol.E_TOO_LARGE, f"visitor.custom: {message}; nothing was changed")


def check_custom_size(custom: dict) -> None:
    """The key count and total size limits of custom fields (a frame's or the merged profile's)."""
    if len(custom) > MAX_CUSTOM_KEYS:
        raise _custom_too_large(f"at most {MAX_CUSTOM_KEYS} fields per visitor")
    size = len(json.dumps(custom, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_CUSTOM_BYTES:
        raise _custom_too_large(f"at most {MAX_CUSTOM_BYTES} bytes of JSON per visitor")


def _custom_value_length(value: object) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value))


def clean_visitor_data(data: object) -> dict:
    """The known fields of a visitor.update `data` object, checked; raises protocol.FrameError."""
    if not isinstance(data, dict):
        raise protocol.FrameError(protocol.E_BAD_FRAME, "visitor data must be a JSON object")
    cleaned: dict = {}
    for field, limit in IDENTIFYING_FIELDS.items():
        if field in data and data[field] is not None:
            value = data[field]
            if not isinstance(value, str) or len(value) > limit:
                raise protocol.FrameError(protocol.E_BAD_FRAME,
                                          f"visitor.{field} must be a string of at most {limit} chars")
            cleaned[field] = value
    custom = data.get("custom")
    if custom is not None:
        if not isinstance(custom, dict):
            raise protocol.FrameError(protocol.E_BAD_FRAME, "visitor.custom must be an object")
        for key, value in custom.items():
            if not (value is None or isinstance(value, str | int | float | bool)):
                raise protocol.FrameError(protocol.E_BAD_FRAME, f"visitor.custom.{key[:MAX_CUSTOM_KEY]} "
                                          "must be a string, number or bool")
            if len(key) > MAX_CUSTOM_KEY:
                raise _custom_too_large(f"field names are at most {MAX_CUSTOM_KEY} characters")
            if _custom_value_length(value) > MAX_CUSTOM_VALUE:
                raise _custom_too_large(f"{key} is over {MAX_CUSTOM_VALUE} characters")
        check_custom_size(custom)
        cleaned["custom"] = custom
    return cleaned


def visitor_changes(visitor: Visitor, data: dict, signed: bool) -> dict:
    """What a visitor.update changes: only the fields whose value differs, and of
    `custom` only the keys that do (decides, does no I/O).

    Signed data may set every field. Unsigned data follows Chaport's rule (name, email,
    phone and notes only while they are empty; custom fields merged), except on a
    verified profile: there signed values stay until a signed update changes them, so
    unsigned data sets no identifying field at all (the inbox tells operators a verified
    profile's name, email and phone came signed) and only adds custom keys that are new.
    """
    verified = bool(visitor.verified)
    changes: dict = {}
    for field in IDENTIFYING_FIELDS:
        settable = field in data and (signed or not (verified or getattr(visitor, field)))
        if settable and not _same(getattr(visitor, field), data[field]):
            changes[field] = data[field]
    if "custom" in data:
        stored = visitor.custom or {}
        custom = {key: value for key, value in data["custom"].items()
                  if signed or not verified or key not in stored}
        changed = {key: value for key, value in custom.items()
                   if key not in stored or not _same(stored[key], value)}
        if changed:
            changes["custom"] = changed
    if signed and not verified:
        changes["verified"] = True
    return changes


def email_not_an_address(data: dict) -> str | None:
    """The email of visitor data when it is no address (an empty one clears the field)."""
    value = data.get("email")
    return value if value and not looks_like_email(value.strip()) else None


def visitor_update(visitor: Visitor, data: dict, signed: bool) -> tuple[dict, dict]:
    """A visitor.update as (what changed, the values to store): the changes of
    visitor_changes, and of `custom` the stored fields merged with the changed ones.
    Raises protocol.FrameError, changing nothing, when the merged custom fields would be
    over their limits (the widget's own check: the frame names the problem)."""
    changes = visitor_changes(visitor, data, signed)
    values = dict(changes)
    if "custom" in changes:
        values["custom"] = {**(visitor.custom or {}), **changes["custom"]}
        check_custom_size(values["custom"])
    return changes, values


# -- apps' appearance --------------------------------------------------------------------

# The widget's default look an app sets (widget.core.config applies it), with the
# longest text the admin screens take for each.
APPEARANCE_KEYS = ACCOUNT_APPEARANCE_KEYS
APPEARANCE_LIMITS = {"teamName": 200, "onlineWelcome": 1000, "offlineWelcome": 1000}


# -- apps' server-side settings ---------------------------------------------------------

# Apps that accept signed visitor data only (the spec: "make the hash required"). Kept
# in the app's JSON `appearance` settings, as a new column would need a migration;
# `widget_appearance` leaves it out of what widgets get.
REQUIRE_SIGNED_IDENTITY = "requireSignedIdentity"


# Apps whose visitors may have transcripts mailed to any address (see transcript_address);
# stored and hidden like REQUIRE_SIGNED_IDENTITY.
TRANSCRIPTS_TO_ANY_EMAIL = "transcriptsToAnyEmail"


SERVER_SETTINGS = (REQUIRE_SIGNED_IDENTITY, TRANSCRIPTS_TO_ANY_EMAIL)


def requires_signed_identity(appearance: dict | None) -> bool:
    return bool((appearance or {}).get(REQUIRE_SIGNED_IDENTITY))


def widget_appearance(appearance: dict | None) -> dict | None:
    """An app's appearance settings as widgets get them (welcome.appearance)."""
    if appearance is None:
        return None
    return {key: value for key, value in appearance.items() if key not in SERVER_SETTINGS}


def transcripts_to_any_email(appearance: dict | None) -> bool:
    return bool((appearance or {}).get(TRANSCRIPTS_TO_ANY_EMAIL))


def transcript_address(appearance: dict | None, visitor: Visitor, requested: str) -> str | None:
    """Where a transcript the visitor asks for to `requested` may go, or None.

    A transcript is an email from the site's own sender holding visitor-written text, and
    visitors cost nothing to create: mailed to any address, it relays phishing. So it goes
    only to the email the site signed for this visitor (`verified`: a visitorIntegrityHash
    or a session.user login), whatever the letter case asked for; to any address only for
    an app that opted in (`parley app set --transcripts-to-any-email`). The caller reads
    the app's `appearance` now, so a change holds at once for open sockets too.
    """
    if transcripts_to_any_email(appearance):
        return requested
    own = (visitor.email or "").strip()
    if visitor.verified and own and own.lower() == requested.strip().lower():
        return own
    return None


# -- inputs: one rule each, for the CLI, the admin screens and the inbox ---------------------

class InvalidInput(ValueError):
    """An input a rule refuses. `field` names it as the caller knows it ("email",
    "origins[2]"); `message` continues that name ("must be 1 to 200 characters"), so the
    CLI says `--email is not an email address` and the admin API `email is not ...`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message


MAX_NAME = 200
MIN_PASSWORD = 8
MAX_PASSWORD = 500  # the login refuses longer passwords
MAX_EMAIL = 320
TRIGGER_KINDS = ("invitation", "bot")
# PARAMETER_KEYS and MATCHERS are the widget's own (imported above): a condition the
# server accepts is one the widget evaluates.


def name(value: object, field: str = "name") -> str:
    """An app's, team's or operator's name: 1 to MAX_NAME characters, stripped."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if not 1 <= len(value) <= MAX_NAME:
        raise InvalidInput(field, f"must be 1 to {MAX_NAME} characters")
    return value


def password(value: object, field: str = "password") -> str:
    """An operator's new password: MIN_PASSWORD to MAX_PASSWORD characters, as typed."""
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidInput(field, f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return value


def email(value: object, field: str = "email") -> str:
    """An operator's email, stripped: the widget's own rule (widget.core.validation), so an
    address the CLI or the admin screens take is one the widget takes too."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if len(value) > MAX_EMAIL or not looks_like_email(value):
        raise InvalidInput(field, f"is not an email address: {value!r}")
    return value


def origin(value: object, field: str = "origin") -> str:
    """A site's origin as browsers send it, normalised: scheme://host[:port], lower case."""
    wrong = InvalidInput(field, f"must be scheme://host[:port], got {value!r}")
    if not isinstance(value, str):
        raise wrong
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 -- raises ValueError for a port that is not 0..65535
    except ValueError:
        raise wrong from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise wrong
    if parts.query or parts.fragment or parts.username:
        raise wrong
    return f"{parts.scheme}://{parts.netloc.lower()}"


def condition(text: str, field: str = "condition") -> list[str]:
    """`<key> <matcher> <value...>` -> [key, matcher, value]; the value may contain spaces."""
    parts = text.split(None, 2)
    if len(parts) < 3:
        raise InvalidInput(field, f"must be '<parameter> <matcher> <value>', got {text!r}")
    key, matcher, value = parts
    if key not in PARAMETER_KEYS:
        raise InvalidInput(field, f"has an unknown parameter {key!r}; use one of {', '.join(PARAMETER_KEYS)}")
    if matcher not in MATCHERS:
        raise InvalidInput(field, f"has an unknown matcher {matcher!r}; use one of {', '.join(MATCHERS)}")
    return [key, matcher, value.strip()]
