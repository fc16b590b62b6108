"""The `parley` CLI never prints a traceback: mistakes get one clear `parley: ...` line (issue 13, 14).

Run as a user runs it (`python -m parley ...` in a subprocess), so what is checked is
exactly what reaches the terminal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from parley.settings import ConfigError, database_url
from tests.helpers.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path) -> dict:
    env = {**os.environ, "PARLEY_DATA": str(tmp_path / "data")}
    env.pop("PARLEY_DB", None)
    env.pop("PARLEY_DEBUG", None)
    return env


def parley(env: dict, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parley", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def refused(done: subprocess.CompletedProcess, *words: str, code: int | None = None) -> str:
    """The one stderr line of a refused command (non-zero exit, no traceback, nothing on stdout)."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode != 0 and (code is None or done.returncode == code), (done.returncode, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("parley: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def ok(done: subprocess.CompletedProcess):
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


# -- database URLs as SQLAlchemy's docs and hosting providers write them ------------------------

@pytest.mark.parametrize("given, wanted", [
    ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
    ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
    ("postgres://user:pw@host:5432/db", "postgresql+asyncpg://user:pw@host:5432/db"),
    ("postgresql+psycopg2://user@host/db", "postgresql+asyncpg://user@host/db"),
    ("postgresql+asyncpg://user@host/db", "postgresql+asyncpg://user@host/db"),
    # libpq's sslmode (what hosting providers append) is asyncpg's ssl.
    ("postgres://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
])
def test_database_urls_get_the_async_driver(given, wanted, monkeypatch):
    assert database_url(given) == wanted
    monkeypatch.setenv("PARLEY_DB", given)
    assert database_url() == wanted


@pytest.mark.parametrize("given", ["nonsense", "mysql://u@h/db", "http://example.com/db"])
def test_other_database_urls_are_refused_without_the_password(given):
    with pytest.raises(ConfigError, match="sqlite"):
        database_url(given)
    with pytest.raises(ConfigError) as refusal:
        database_url("mysql://user:hunter2@h/db")
    assert "hunter2" not in str(refusal.value)


def test_the_cli_takes_a_plain_sqlite_url_in_db_and_parley_db(env, tmp_path):
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    app = ok(parley(env, "app", "create", "--name", "Shop", "--db", url))
    assert [a["appId"] for a in ok(parley({**env, "PARLEY_DB": url}, "app", "list"))] == [app["appId"]]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_the_cli_takes_a_plain_postgres_url(env, pg_url, scheme):
    url = pg_url.replace("postgresql+asyncpg://", f"{scheme}://", 1)
    app = ok(parley(env, "app", "create", "--name", "Shop", "--db", url))
    assert [a["appId"] for a in ok(parley({**env, "PARLEY_DB": url}, "app", "list"))] == [app["appId"]]


def test_database_mistakes_are_one_line(env, tmp_path):
    refused(parley(env, "app", "list", "--db", "mysql://user:hunter2@h/db"), "sqlite", "postgresql", code=2)
    assert "hunter2" not in parley(env, "app", "list", "--db", "mysql://user:hunter2@h/db").stderr
    refused(parley({**env, "PARLEY_DB": "nonsense"}, "app", "list"), "PARLEY_DB", code=2)
    # Nothing listens on port 1: the connection is refused.
    refused(parley(env, "app", "list", "--db", "postgresql://user@127.0.0.1:1/db"), "database")
    refused(parley(env, "db", "upgrade", "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"),
            "database")


# -- ids and values -----------------------------------------------------------------------------

@pytest.mark.parametrize("app_id", ["", "   ", "a b", "x\ny"])
def test_snippet_needs_a_real_app_id(env, app_id):
    refused(parley(env, "snippet", "--app-id", app_id), "--app-id", code=2)


def test_unknown_ids_and_bad_values_are_one_line(env):
    app_id = ok(parley(env, "app", "create", "--name", "Shop"))["appId"]
    refused(parley(env, "operator", "create", "--app", "nope", "--email", "a@shop.example",
                   "--password", "correct horse"), "nope", code=2)
    refused(parley(env, "team", "add-member", "--app", app_id, "--team", "nope", "--operator", "x"),
            "nope", code=2)
    refused(parley(env, "trigger", "remove", "--app", app_id, "--id", "nope"), "nope", code=2)
    refused(parley(env, "app", "create", "--name", "Shop", "--origin", "https://[::1"), "--origin", code=2)
    refused(parley(env, "app", "create", "--name", "Shop", "--origin", "https://shop.example:99999"),
            "--origin", code=2)
    refused(parley(env, "snippet", "--app-id", app_id, "--server", "http://["), "--server", code=2)
    refused(parley(env, "serve", "--port", "70000"), "--port", code=2)


def test_serve_that_cannot_listen_ends_with_one_line_and_no_traceback(env, built_dist):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        done = parley(env, "serve", "--port", str(port), "--log-level", "warning")
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith("parley: error: "), done.stderr


# -- serve --workers: several processes need PostgreSQL and Redis -----------------------------------

@pytest.mark.parametrize("args, words", [
    (["--workers", "2"], ["--workers 2", "PostgreSQL", "Redis", "SQLite"]),
    (["--workers", "2", "--redis", "redis://127.0.0.1:1/0"], ["--workers 2", "PostgreSQL", "SQLite"]),
    (["--workers", "2", "--db", "sqlite:///x.db", "--redis", "redis://127.0.0.1:1/0"], ["PostgreSQL"]),
    # Checked before anything is opened: nothing listens on port 1, and that is never reached.
    (["--workers", "3", "--db", "postgresql://u@127.0.0.1:1/db"], ["--workers 3", "Redis"]),
    (["--workers", "0"], ["--workers must be 1 to"]),
    (["--workers", "-2"], ["--workers must be 1 to"]),
    (["--workers", "2", "--demo", "--db", "postgresql://u@127.0.0.1:1/db", "--redis", "redis://127.0.0.1:1/0"],
     ["--demo", "--workers"]),
])
def test_serve_workers_without_postgresql_and_redis_is_refused(env, args, words):
    line = refused(parley(env, "serve", *args), *words, code=2)
    if "Redis" not in words:
        assert "Redis (" not in line, line  # only what is missing is named


def test_serve_workers_refusal_counts_the_environment(env):
    # $PARLEY_REDIS_URL counts as --redis: only PostgreSQL is missing then.
    line = refused(parley({**env, "PARLEY_REDIS_URL": "redis://127.0.0.1:1/0"}, "serve", "--workers", "2"),
                   "PostgreSQL", code=2)
    assert "needs PostgreSQL (" in line and " and Redis" not in line
    assert not Path(env["PARLEY_DATA"]).exists()  # refused before the data folder is made


def test_serve_redis_without_the_redis_package_is_one_line(env):
    # As if the `redis` extra were not installed (None in sys.modules: "no such module").
    script = ("import sys; sys.modules['redis'] = None; from parley.cli import main; "
              "raise SystemExit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, "serve", "--redis", "redis://127.0.0.1:1/0"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    refused(done, "pip install 'parley[redis]'", code=1)
