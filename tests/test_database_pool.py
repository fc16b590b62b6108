"""PostgreSQL's connection pool is sized per process ($PARLEY_DB_POOL) and never waits long."""

from __future__ import annotations

import asyncio

import pytest

from parley import settings
from parley.storage.db import Database

PG = "postgresql+asyncpg://parley@127.0.0.1:9/none"  # never connected to: the pool is built lazily


def _pool(monkeypatch, value: str | None):
    if value is None:
        monkeypatch.delenv("PARLEY_DB_POOL", raising=False)
    else:
        monkeypatch.setenv("PARLEY_DB_POOL", value)
    database = Database(PG)
    try:
        return database.engine.pool
    finally:
        asyncio.run(database.close())


def test_the_pool_has_a_size_a_burst_and_a_short_wait(monkeypatch):
    pool = _pool(monkeypatch, None)
    assert pool.size() == settings.POOL_SIZE
    assert pool._max_overflow == settings.POOL_SIZE
    assert pool._timeout == settings.POOL_TIMEOUT <= 10


def test_parley_db_pool_sets_the_size(monkeypatch):
    pool = _pool(monkeypatch, "3")
    assert pool.size() == 3 and pool._max_overflow == 3


@pytest.mark.parametrize("value", ["0", "-1", "ten", "501", "2.5"])
def test_a_bad_parley_db_pool_is_one_clear_error(monkeypatch, value):
    monkeypatch.setenv("PARLEY_DB_POOL", value)
    with pytest.raises(settings.ConfigError, match="PARLEY_DB_POOL"):
        Database(PG)


def test_sqlite_is_not_pooled_this_way(monkeypatch, tmp_path):
    monkeypatch.setenv("PARLEY_DB_POOL", "ten")  # not read for SQLite
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    asyncio.run(database.close())
