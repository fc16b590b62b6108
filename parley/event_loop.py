"""Which event loop the server runs on: uvloop when it is installed, else asyncio's own.

uvloop (libuv, in uvicorn[standard]) runs the same asyncio code with less overhead per
wake-up and per socket write. A profile of 20 round trips/s (bench/profile_server.py)
had the stdlib loop's selector, transport writes and cross-thread wake-ups
(`call_soon_threadsafe` from the SQLite writer thread) as the largest share of the
server's CPU. `asyncio.run` alone would give the stdlib loop whatever uvicorn's
`loop="auto"` says, because parley runs uvicorn's Server inside its own loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on uvloop when available."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows: uvloop doesn't build there
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
