"""Where Parley keeps its data and how it reaches its database."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DIST = PROJECT_ROOT / "dist"
TEMPLATES = PROJECT_ROOT / "templates"


def data_dir() -> Path:
    """The local data folder (SQLite file, uploads): $PARLEY_DATA or ./var."""
    return Path(os.environ.get("PARLEY_DATA") or (Path.cwd() / "var")).resolve()


def database_url(explicit: str | None = None) -> str:
    """--db, else $PARLEY_DB, else SQLite in the data folder."""
    if explicit:
        return explicit
    if os.environ.get("PARLEY_DB"):
        return os.environ["PARLEY_DB"]
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'parley.db'}"


def redis_url(explicit: str | None = None) -> str | None:
    """--redis, else $PARLEY_REDIS_URL, else None: live events stay inside this process."""
    return explicit or os.environ.get("PARLEY_REDIS_URL") or None


def files_dir() -> Path:
    """Where uploaded attachments live: <data folder>/files/<file id> (no extension, no name)."""
    return data_dir() / "files"
