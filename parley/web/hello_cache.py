"""Per app, what every welcome carries and admins rarely change: triggers, public operators.

A reconnect storm of 5,000 visitors of one app read the same triggers, operators and
teams 5,000 times. This process keeps them per app (storage.hello_read.AppParts) until
an admin changes them: whoever changes them calls `HelloCache.changed(app_id)`, which
drops this process's copy at once (the next hello here already reads the change) and
publishes on the fanout's `apps_changed_channel`, so every other process drops its own. A copy is also
dropped after TTL_SECONDS, the safety net for what no publish announces (a lost publish
while Redis is away, `parley trigger add` and the other CLI commands, which run in
processes of their own); after a Redis outage the whole cache is dropped.

The app row itself (secret, origins, appearance) is not cached: a hello reads it in
the same unit anyway, and the secret and origins decide who may connect, so they must
never be stale.
"""

from __future__ import annotations

import logging
import time

from parley import fanout as channels
from parley.fanout import Fanout, Overflow
from parley.storage.hello_read import AppParts

log = logging.getLogger("parley.hello_cache")

TTL_SECONDS = 10.0


async def app_changed(state, app_id: str) -> None:
    """HelloCache.changed on the server's cache (`state`: the Starlette app's state)."""
    cache = getattr(state, "hello_cache", None)
    if cache is not None:
        await cache.changed(app_id)


class HelloCache:
    def __init__(self, hub: Fanout, ttl: float = TTL_SECONDS) -> None:
        self._hub = hub
        self._ttl = ttl
        self._parts: dict[str, tuple[float, AppParts]] = {}
        # Bumped by every invalidation: a read begun before it must not store what it read.
        self._generation: dict[str, int] = {}
        self._all_generation = 0

    def get(self, app_id: str) -> AppParts | None:
        held = self._parts.get(app_id)
        if held is None:
            return None
        if time.monotonic() - held[0] > self._ttl:
            self._parts.pop(app_id, None)
            return None
        return held[1]

    def ticket(self, app_id: str) -> tuple[int, int]:
        """Taken before reading the parts; put() stores them only if nothing changed since."""
        return self._all_generation, self._generation.get(app_id, 0)

    def put(self, app_id: str, parts: AppParts, ticket: tuple[int, int]) -> None:
        if ticket == self.ticket(app_id):
            self._parts[app_id] = (time.monotonic(), parts)

    def invalidate(self, app_id: str | None) -> None:
        """Drops one app's parts, or (None) every app's."""
        if app_id is None:
            self._all_generation += 1
            self._parts.clear()
            return
        self._generation[app_id] = self._generation.get(app_id, 0) + 1
        self._parts.pop(app_id, None)

    async def changed(self, app_id: str) -> None:
        """The app's triggers, operators or teams changed: tells this process and the others."""
        self.invalidate(app_id)
        await self._hub.publish(channels.apps_changed_channel(), {"type": "app.changed", "appId": app_id})

    async def run(self) -> None:
        """Listens for changes from every process (background.running)."""
        while True:
            subscription = self._hub.subscribe(channels.apps_changed_channel())
            try:
                await subscription.ready()
                # Whatever changed before the subscription was ready is unknown here.
                self.invalidate(None)
                async for payload in subscription:
                    app_id = payload.get("appId")
                    if channels.is_resync(payload) or not isinstance(app_id, str):
                        self.invalidate(None)  # after a Redis outage: changes may have been lost
                    else:
                        self.invalidate(app_id)
                return
            except Overflow:
                log.warning("the hello cache fell behind its invalidations; dropping it")
                self.invalidate(None)
            finally:
                await subscription.close()
