"""How a server process runs: on uvloop when it is installed, with the collector tuned.

The event loop: uvloop when it is installed, else asyncio's own.

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

# The cyclic collector's thresholds for a server process (CPython's default: 700, 10, 10).
# Each open socket keeps a few hundred objects alive, and at the default every 700
# allocations start a young collection, so during a reconnect storm of 5,000 visitors the
# collector promoted them generation by generation and ran 21 full collections of up to
# 0.6 s each: 6.7 s of a ~10 s storm stopped the world (gc.callbacks, bench/storm.py).
# With 50,000 and the objects that exist at start-up frozen (modules, the SQLAlchemy
# metadata: never garbage), the same storm had one full collection (0.13 s) and 1.6 s of
# collection in the whole run, and caught up in 5.2 s instead of ~9 s. Cyclic garbage
# still goes: a young collection at most every 50,000 allocations.
GC_THRESHOLDS = (50_000, 10, 10)


def tune_collector() -> None:
    import gc
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on uvloop when available, after tune_collector()."""
    tune_collector()
    try:
        import uvloop
    except ImportError:  # e.g. Windows: uvloop doesn't build there
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
