"""parley/web/session_watch.py: a tick ends only the sockets whose login it checked.

A socket opened while a tick was reading (or renewing) logins was not in that read: the
old tick ended it anyway, as if its login had ended. Measured in bench/run.py of
2026-12-06 03:50: 8 of 10 freshly logged-in operators closed with 4401 "the login ended"."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from parley.storage import operator_queries
from parley.web.session_watch import SessionWatch


class _Database:
    """Database.read answers what the test says, when the test says."""

    def __init__(self) -> None:
        self.reading = asyncio.Event()
        self.answer: asyncio.Future = asyncio.get_running_loop().create_future()

    async def read(self, unit):
        self.reading.set()
        return await self.answer

    @contextlib.asynccontextmanager
    async def session(self):
        class _Session:
            async def commit(self) -> None:
                pass
        yield _Session()


def _ender(ended: list[str], name: str):
    async def end() -> None:
        ended.append(name)
    return end


@pytest.mark.asyncio
async def test_a_socket_watched_while_a_tick_reads_is_not_ended_by_it(monkeypatch) -> None:
    async def no_renewal(session, hashes) -> None:
        pass
    monkeypatch.setattr(operator_queries, "renew_logins", no_renewal)
    database = _Database()
    watch = SessionWatch(database)
    ended: list[str] = []
    watch.watch("token-a", _ender(ended, "a"))
    watch.watch("token-gone", _ender(ended, "gone"))
    tick = asyncio.create_task(watch.check())
    await database.reading.wait()
    watch.watch("token-b", _ender(ended, "b"))  # opened meanwhile: not in this read
    database.answer.set_result({operator_queries.session_token_hash("token-a")})
    await tick
    assert ended == ["gone"]


@pytest.mark.asyncio
async def test_a_socket_watched_while_a_tick_renews_logins_is_not_ended_by_it(monkeypatch) -> None:
    renewing, renewed = asyncio.Event(), asyncio.Event()

    async def slow_renewal(session, hashes) -> None:
        renewing.set()
        await renewed.wait()
    monkeypatch.setattr(operator_queries, "renew_logins", slow_renewal)
    database = _Database()
    database.answer.set_result({operator_queries.session_token_hash("token-a")})
    watch = SessionWatch(database)
    ended: list[str] = []
    watch.watch("token-a", _ender(ended, "a"))
    tick = asyncio.create_task(watch.check())
    await renewing.wait()
    watch.watch("token-b", _ender(ended, "b"))
    renewed.set()
    await tick
    assert ended == []
    # The next tick reads b's login too: still live, still open; once gone, ended.
    database.answer = asyncio.get_running_loop().create_future()
    database.answer.set_result({operator_queries.session_token_hash("token-a")})
    await watch.check()
    assert ended == ["b"]
