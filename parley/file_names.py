"""An upload's name as shown and downloaded, its URL and its HTTP headers.

The name is the client's, so it is cleaned (no path, no control or bidi characters) and
given an extension that fits the content (parley.file_kinds), never trusted to say what
the file is.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from parley.file_kinds import Kind

MAX_NAME = 255
DEFAULT_NAME = "file"

# Characters that never belong in a shown name: bidi overrides/isolates (they disguise
# "gpj.exe" as "exe.jpg"), line separators. ZWJ/ZWNJ stay (emoji, Persian, Indic).
_KEEP_FORMAT = {"\u200c", "\u200d"}


def clean_name(raw: str | None) -> str:
    """A display name: the basename only, NFC, no control or bidi characters, at most
    255 characters (the extension kept when shortened), "file" when nothing is left."""
    if not raw:
        return DEFAULT_NAME
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if _shown(ch))
    name = " ".join(name.split())  # tabs, newlines and runs of spaces become one space
    name = name.strip(" .")  # no hidden dotfiles, no trailing dots (Windows drops them), no "." or ".."
    if not name:
        return DEFAULT_NAME
    return _fit(name)


def _shown(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return category == "Cc" and ch in "\t\n"  # whitespace controls become spaces later
    if category == "Cf":
        return ch in _KEEP_FORMAT or "\U000e0020" <= ch <= "\U000e007f"  # emoji tag sequences
    return True


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not 1 <= len(extension) <= 16 or " " in extension:
        return name, ""
    return stem, "." + extension


def _fit(name: str, suffix: str = "") -> str:
    if len(name) + len(suffix) <= MAX_NAME:
        return name + suffix
    stem, extension = _split_extension(name)
    room = MAX_NAME - len(suffix) - len(extension)
    return stem[:room].rstrip(" .") + extension + suffix


def name_for(name: str, kind: Kind) -> str:
    """The name with an extension that fits the content: "invoice.exe" holding a PDF is
    shown and downloaded as "invoice.exe.pdf", "page.html" holding text as "page.html.txt"."""
    _stem, extension = _split_extension(name)
    if extension[1:].lower() in kind.extensions:
        return name
    return _fit(name, "." + kind.extension)


def url_for(file_id: str, name: str) -> str:
    """The download path of a file (relative to the server)."""
    return f"/files/{file_id}/{quote(name, safe='')}"


def file_dict(file) -> dict:
    """FILE as the HTTP API (and messages) show it; `file` is a models.File row."""
    return {"id": file.id, "name": file.name, "contentType": file.content_type, "size": file.size,
            "width": file.width, "height": file.height, "url": url_for(file.id, file.name)}


def content_disposition(name: str, inline: bool) -> str:
    """`inline` / `attachment` with an ASCII fallback name and the exact UTF-8 one (RFC 6266)."""
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\%;' else "_" for ch in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
