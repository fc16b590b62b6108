"""Chat attachments: the whole check of an upload, from its bytes to what is stored.

`prepare(data, name)` is that check: the size limit, then what the file is from its
content, never its name (parley.file_kinds: detected with `filetype`, proved with a real
parser), then images re-encoded so what is served is pixels Pillow wrote
(parley.image_cleaning), then a clean name whose extension fits the content
(parley.file_names). Anything not accepted raises `FileRejected` with a stable error code.

The bytes are stored under a random id with no name (parley.file_store); the database
row (`File`) holds the cleaned name and the type.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from parley import protocol
from parley.file_kinds import FileRejected, detect
from parley.file_names import clean_name, name_for
from parley.image_cleaning import reencode_image

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MiB; $PARLEY_MAX_UPLOAD_BYTES overrides it


def max_upload_bytes() -> int:
    """The upload limit in bytes: $PARLEY_MAX_UPLOAD_BYTES, else MAX_UPLOAD_BYTES."""
    raw = os.environ.get("PARLEY_MAX_UPLOAD_BYTES", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class Prepared:
    """An accepted upload, ready to store: the bytes to keep and what they are."""

    data: bytes
    name: str
    content_type: str
    width: int | None
    height: int | None
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def prepare(data: bytes, name: str | None) -> Prepared:
    """Checks an upload and returns what to store; raises FileRejected.

    CPU-bound for images (decode + encode): call it in a worker thread.
    """
    limit = max_upload_bytes()
    if len(data) > limit:
        raise FileRejected(413, protocol.E_FILE_TOO_LARGE, f"files are limited to {limit} bytes")
    kind = detect(data)
    width = height = None
    if kind.is_image:
        data, width, height = reencode_image(data, kind)
    return Prepared(data=data, name=name_for(clean_name(name), kind), content_type=kind.content_type,
                    width=width, height=height, sha256=hashlib.sha256(data).hexdigest())
