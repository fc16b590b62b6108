"""Where Parley keeps its data and how it reaches its database."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# What a wheel carries inside the package (setup.py puts it there): the Jinja templates and
# the built dist/. An installed wheel has no build.py, widget sources or node_modules to build from.
BUNDLED = PACKAGE_DIR / "_bundled"


def _in_checkout() -> bool:
    """True when this package sits in a source checkout (an editable install or PYTHONPATH):
    then templates/ and dist/ are the checkout's, and dist/ is rebuilt when its sources change."""
    return (PROJECT_ROOT / "build.py").is_file() and (PROJECT_ROOT / "templates").is_dir()


IN_CHECKOUT = _in_checkout()
DIST = PROJECT_ROOT / "dist" if IN_CHECKOUT else BUNDLED / "dist"
TEMPLATES = PROJECT_ROOT / "templates" if IN_CHECKOUT else BUNDLED / "templates"


def data_dir() -> Path:
    """The local data folder (SQLite file, uploads): $PARLEY_DATA or ./var."""
    return Path(os.environ.get("PARLEY_DATA") or (Path.cwd() / "var")).resolve()


class ConfigError(ValueError):
    """A setting (flag or environment variable) Parley can't use; the message says which and why."""


# Parley's queries run on SQLAlchemy's asyncio engine, so each backend gets its async driver,
# whatever driver (or none) a URL copied from SQLAlchemy's docs or a hosting provider names.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                 "postgres": "postgresql+asyncpg"}  # postgres://: Heroku's and others' spelling
URL_EXAMPLES = "sqlite:///path/to/parley.db or postgresql://user:password@host/db"


def database_url(explicit: str | None = None) -> str:
    """--db, else $PARLEY_DB, else SQLite in the data folder, with its async driver."""
    if explicit:
        return async_database_url(explicit, "--db")
    if os.environ.get("PARLEY_DB"):
        return async_database_url(os.environ["PARLEY_DB"], "$PARLEY_DB")
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'parley.db'}"


def database_backend(explicit: str | None = None) -> str:
    """"sqlite" or "postgresql": the backend of database_url(explicit), without creating the data folder."""
    if not explicit and not os.environ.get("PARLEY_DB"):
        return "sqlite"
    return make_url(database_url(explicit)).get_backend_name()


def async_database_url(raw: str, source: str = "the database URL") -> str:
    """`raw` with the async driver of its backend: sqlite:// -> sqlite+aiosqlite://,
    postgres(ql)[+driver]:// -> postgresql+asyncpg:// (libpq's `sslmode` becomes asyncpg's `ssl`).
    Anything else is a ConfigError that never repeats the password."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{source} is not a database URL; use {URL_EXAMPLES}") from None
    backend = url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        shown = url.render_as_string(hide_password=True)
        raise ConfigError(f"{source} must be a sqlite:// or postgresql:// URL ({URL_EXAMPLES}), got {shown}")
    # Rewritten as text, not re-rendered: a rendered URL escapes characters of file paths.
    rest = raw.split("://", 1)[1]
    if ASYNC_DRIVERS[backend].startswith("postgresql") and "?" in rest:
        location, query = rest.split("?", 1)
        rest = location + "?" + re.sub(r"(^|&)sslmode=", r"\1ssl=", query)
    return f"{ASYNC_DRIVERS[backend]}://{rest}"


# Pooled PostgreSQL connections per server process: size, and as many again in bursts
# (3 processes x 20 stay under PostgreSQL's default max_connections of 100). A request that
# waits POOL_TIMEOUT for one is answered PARLEY_E_UNAVAILABLE (a 503) rather than hanging.
POOL_SIZE = 10
POOL_TIMEOUT = 10.0


def database_pool_size() -> int:
    """$PARLEY_DB_POOL (1..500), else POOL_SIZE."""
    raw = os.environ.get("PARLEY_DB_POOL", "").strip()
    if not raw:
        return POOL_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ConfigError(f"$PARLEY_DB_POOL must be a whole number of connections from 1 to 500, not {raw!r}")
    return int(raw)


def public_url() -> str | None:
    """$PARLEY_PUBLIC_URL: where operators and visitors reach this server (links in emails)."""
    return os.environ.get("PARLEY_PUBLIC_URL") or None


def public_url_is_https() -> bool:
    """True when the server is published over HTTPS (e.g. TLS ends at a proxy in front of it)."""
    return (public_url() or "").lower().startswith("https://")


def redis_url(explicit: str | None = None) -> str | None:
    """--redis, else $PARLEY_REDIS_URL, else None: live events stay inside this process."""
    return explicit or os.environ.get("PARLEY_REDIS_URL") or None


def files_dir() -> Path:
    """Where uploaded attachments live: <data folder>/files/<file id> (no extension, no name)."""
    return data_dir() / "files"
