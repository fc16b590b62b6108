"""Fan-out of live events between sockets, inside one process or across processes (Redis).

Callers only see `Fanout.publish(channel, payload)` and `Fanout.subscribe(channel)`.
The database is the truth: a publish is a hint that something new was stored,
so a lost or late publish costs latency, never data (sockets resume from the
database). Payloads are JSON-shaped dicts so Redis carries them unchanged;
subscribers must not mutate what they receive.

`InProcessFanout` (the default) reaches the sockets of one process. `RedisFanout`
(`parley serve --redis URL`, in parley.redis_fanout) also reaches every other process
sharing that Redis. `create_fanout` picks one.
"""

from __future__ import annotations

import asyncio
import collections
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


def apps_changed_channel() -> str:
    """Every process: an app's triggers, operators or teams changed (parley.web.hello_cache)."""
    return "apps-changed"


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[dict]: ...

    async def __anext__(self) -> dict: ...

    async def ready(self) -> None:
        """Returns once publishes from every process reach this subscription (at once in-process)."""

    async def close(self) -> None: ...


class Fanout(Protocol):
    async def start(self) -> None: ...

    async def publish(self, channel: str, payload: dict) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...

    async def close(self) -> None: ...


# Offered to every local subscriber when a Redis outage ends. Publishes of other processes
# were lost meanwhile (nothing replays pub/sub), so each subscriber catches up from the
# database: an event stream reads what it missed, an operator feed tells the inbox to
# reload (`subscribed` again), a visitor's app state is read again. Never sent to a client.
RESYNC = {"type": "resync"}


def is_resync(payload: dict) -> bool:
    return payload.get("type") == "resync"


class Overflow(Exception):
    """A subscriber fell too far behind; it must catch up from the database."""


class LocalSubscription:
    """One subscriber's mailbox: a deque made on first use and one waiter while it waits.

    Not an asyncio.Queue: every open socket holds two or three of these, and a Queue
    brings three deques and an Event of its own (~2.5 KB); an idle socket's mailbox here
    is its few slots (issue 12: memory per idle visitor socket)."""

    __slots__ = ("_closed", "_hub", "_items", "_maxsize", "_waiter", "channel")

    def __init__(self, hub: InProcessFanout, channel: str, maxsize: int) -> None:
        self._hub = hub
        self.channel = channel
        self._maxsize = maxsize
        self._items: collections.deque | None = None
        self._waiter: asyncio.Future | None = None
        self._closed = False

    def _put(self, item) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _offer(self, payload: dict) -> None:
        if self._items is not None and len(self._items) >= self._maxsize:
            # Never block a publisher on a slow socket: end this subscription instead.
            log.warning("subscriber of %s overflowed; it will resync", self.channel)
            self._hub._remove(self)
            self._items.clear()
            self._put(Overflow())
            return
        self._put(payload)

    def pending(self) -> list:
        """What is waiting to be read, taken out (tests read a subscription without a loop)."""
        items, self._items = list(self._items or ()), None
        return items

    def __aiter__(self) -> LocalSubscription:
        return self

    async def ready(self) -> None:
        """Waits until publishes from other processes reach this subscription too.

        Local publishes reach it from `subscribe()` on; a caller that reads the
        database after subscribing awaits this first, so nothing published by
        another process falls between the read and the subscription.
        """
        await self._hub._ready(self.channel)

    async def __anext__(self) -> dict:
        if self._closed:
            raise StopAsyncIteration
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, Overflow):
            raise item
        return item

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub._remove(self)
            self._put(None)

    async def __aenter__(self) -> LocalSubscription:
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.close()


class InProcessFanout:
    """Fan-out inside one process, with one bounded asyncio queue per subscriber."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[LocalSubscription]] = {}

    async def start(self) -> None:
        """Nothing to connect to in-process."""

    async def publish(self, channel: str, payload: dict) -> None:
        self._deliver(channel, payload)

    def _deliver(self, channel: str, payload: dict) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription._offer(payload)

    async def _ready(self, _channel: str) -> None:
        return None

    def subscribe(self, channel: str) -> LocalSubscription:
        """Registers at once (before the first await), so nothing published after this call is missed."""
        subscription = LocalSubscription(self, channel, self._queue_size)
        self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    def _remove(self, subscription: LocalSubscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.channel]

    def _offer_to_everyone(self, payload: dict) -> None:
        """Every local subscriber of every channel gets `payload` (RESYNC after an outage)."""
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription._offer(payload)

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.close()


def create_fanout(redis_url: str | None) -> InProcessFanout:
    """In-process unless a Redis URL is given."""
    if not redis_url:
        return InProcessFanout()
    from parley.redis_fanout import RedisFanout  # imports this module: loaded only when asked for

    return RedisFanout(redis_url)
