"""Fan-out of live events between sockets (and, later, between server processes).

Callers only see `Fanout.publish(channel, payload)` and `Fanout.subscribe(channel)`.
The database is the truth: a publish is a hint that something new was stored,
so a lost or late publish costs latency, never data (sockets resume from the
database). Payloads are JSON-shaped dicts so a Redis implementation can carry
them unchanged; subscribers must not mutate what they receive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

log = logging.getLogger("parley.fanout")

# Channel names, one helper each, so nobody spells them by hand.


def visitor_channel(visitor_id: str) -> str:
    """Every tab of one visitor: new events of that visitor's log."""
    return f"visitor:{visitor_id}"


def visitor_live_channel(visitor_id: str) -> str:
    """Every tab of one visitor: live-only signals (operator typing), never stored or replayed."""
    return f"visitor-live:{visitor_id}"


def app_channel(app_id: str) -> str:
    """The operators of one app: live visitor activity (messages, typing, ...)."""
    return f"app:{app_id}"


def app_visitors_channel(app_id: str) -> str:
    """Every visitor socket of one app: app-wide state such as `online`."""
    return f"app-visitors:{app_id}"


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[dict]: ...

    async def __anext__(self) -> dict: ...

    async def close(self) -> None: ...


class Fanout(Protocol):
    async def publish(self, channel: str, payload: dict) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...

    async def close(self) -> None: ...


class Overflow(Exception):
    """A subscriber fell too far behind; it must catch up from the database."""


class _LocalSubscription:
    def __init__(self, hub: InProcessFanout, channel: str, maxsize: int) -> None:
        self._hub = hub
        self.channel = channel
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self._closed = False

    def _offer(self, payload: dict) -> None:
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            # Never block a publisher on a slow socket: end this subscription instead.
            log.warning("subscriber of %s overflowed; it will resync", self.channel)
            self._hub._remove(self)
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Overflow())

    def __aiter__(self) -> _LocalSubscription:
        return self

    async def __anext__(self) -> dict:
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, Overflow):
            raise item
        return item

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub._remove(self)
            self._queue.put_nowait(None)

    async def __aenter__(self) -> _LocalSubscription:
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.close()


class InProcessFanout:
    """Fan-out inside one process, with one bounded asyncio queue per subscriber."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[_LocalSubscription]] = {}

    async def publish(self, channel: str, payload: dict) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription._offer(payload)

    def subscribe(self, channel: str) -> _LocalSubscription:
        """Registers at once (before the first await), so nothing published after this call is missed."""
        subscription = _LocalSubscription(self, channel, self._queue_size)
        self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    def _remove(self, subscription: _LocalSubscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.channel]

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.close()
