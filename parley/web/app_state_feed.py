"""One live feed of an app's visitor-wide state per process, shared by its visitor sockets.

Every visitor socket needs the app's "online" flips (operators coming and going, working
hours). Each socket used to hold a subscription and a task of its own for them, though
the frames are the same for all and rare: at 10,000 idle sockets of one app that was
10,000 mailboxes and tasks (~3 KB each, issue 12). Here the process subscribes once per
app with open visitor sockets, and hands each frame to every socket's listener.

After a Redis outage (fanout.RESYNC) or an overflow, flips may have been lost: the feed
reads the app's state once and hands that to every socket, instead of every socket
reading it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from parley import fanout as channels
from parley import protocol
from parley.fanout import Fanout, Overflow
from parley.storage import presence_queries
from parley.storage.db import Database

log = logging.getLogger("parley.app_state")

Listener = Callable[[dict], None]


class AppStateFeeds:
    def __init__(self, hub: Fanout, database: Database) -> None:
        self._hub = hub
        self._database = database
        self._feeds: dict[str, _AppFeed] = {}

    def join(self, app_id: str, listener: Listener) -> Membership:
        """Registers `listener` for the app's frames at once (before any await): nothing
        published after this call is missed, once `ready()` has returned."""
        feed = self._feeds.get(app_id)
        if feed is None:
            feed = self._feeds[app_id] = _AppFeed(self, app_id)
        feed.listeners.add(listener)
        return Membership(feed, listener)

    def feed_count(self) -> int:
        return len(self._feeds)

    def _ended(self, feed: _AppFeed) -> None:
        if self._feeds.get(feed.app_id) is feed:
            del self._feeds[feed.app_id]


class Membership:
    """One socket's place in its app's feed; close() when the socket ends."""

    __slots__ = ("_feed", "_listener")

    def __init__(self, feed: _AppFeed, listener: Listener) -> None:
        self._feed = feed
        self._listener = listener

    async def ready(self) -> None:
        """Waits until other processes' publishes reach the feed too (fanout ready())."""
        await self._feed.subscription.ready()

    async def close(self) -> None:
        await self._feed.leave(self._listener)


class _AppFeed:
    def __init__(self, feeds: AppStateFeeds, app_id: str) -> None:
        self._feeds = feeds
        self.app_id = app_id
        self.listeners: set[Listener] = set()
        self._channel = channels.app_visitors_channel(app_id)
        self.subscription = feeds._hub.subscribe(self._channel)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        if not self.listeners:
            # The last socket of the app here went: so does the subscription.
            self._feeds._ended(self)
            await self.subscription.close()  # its iteration ends; _run returns

    async def _online_now(self) -> dict:
        async with self._feeds._database.session() as session:
            return protocol.frame("online", online=await presence_queries.app_online(session, self.app_id))

    def _hand_out(self, frame: dict) -> None:
        for listener in list(self.listeners):
            try:
                listener(frame)
            except Exception:  # one socket's trouble never stops the others' feed
                log.exception("an app state listener failed")

    async def _run(self) -> None:
        while True:
            try:
                async for payload in self.subscription:
                    if channels.is_resync(payload):
                        payload = await self._online_now()
                    self._hand_out(payload)
                return  # the subscription was closed: no socket left, or the server stopping
            except Overflow:
                log.warning("the app state feed of %s fell behind; reading the state again", self.app_id)
                self.subscription = self._feeds._hub.subscribe(self._channel)
                try:
                    await self.subscription.ready()
                    self._hand_out(await self._online_now())
                except Exception:
                    log.exception("re-reading the app state of %s failed", self.app_id)
            except Exception:  # the database away while re-reading: the next frame tries again
                log.exception("the app state feed of %s failed; it goes on", self.app_id)
