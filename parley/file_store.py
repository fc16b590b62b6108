"""An upload's bytes on disk: `files_dir() / <file id>`.

The id is 32 random hex digits, with no name and no extension: it is the capability to
fetch the file, and nothing a client sends becomes part of a path. The database row
(`File`, parley.storage.file_queries) holds the cleaned name and the type.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

from parley.settings import files_dir

FILE_ID = re.compile(r"[0-9a-f]{32}")


def new_file_id() -> str:
    """128 random bits as 32 hex digits: the file's id and the capability to fetch it."""
    return secrets.token_hex(16)


def file_path(file_id: str) -> Path:
    """Where a file's bytes live; raises ValueError for anything but a file id."""
    if not isinstance(file_id, str) or not FILE_ID.fullmatch(file_id):
        raise ValueError("not a file id")
    return files_dir() / file_id


def write_file_bytes(file_id: str, data: bytes) -> Path:
    """Stores the bytes atomically: a temporary file in the same folder, fsynced, renamed."""
    path = file_path(file_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def delete_file_bytes(file_id: str) -> bool:
    """Removes a file's bytes; False when there were none (or the id is not a file id)."""
    try:
        path = file_path(file_id)
    except ValueError:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
