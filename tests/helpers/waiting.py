"""Waiting for a condition, with a deadline: the one poll loop of the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.02


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Polls `predicate` until it returns something true, and returns that; fails after
    `timeout` seconds, saying `what` it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout}s: {what or predicate}"
        time.sleep(POLL_S)  # the poll interval, not the sync point


async def wait_until_async(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """wait_until inside an event loop: the loop (the test's sockets, an in-process server)
    keeps running between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout}s: {what or predicate}"
        await asyncio.sleep(POLL_S)  # the poll interval, not the sync point
