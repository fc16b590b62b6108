"""Fan-out across server processes through Redis pub/sub (`parley serve --redis URL`).

`RedisFanout` is an `InProcessFanout` (parley.fanout) that also carries every publish to
the other processes sharing one Redis, and keeps that connection alive through outages.
A lost publish costs latency, never data: the database is the truth, and after an outage
every local subscriber is offered `RESYNC` so it catches up from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
import time
from collections import deque
from urllib.parse import urlsplit, urlunsplit

from parley.fanout import RESYNC, InProcessFanout, LocalSubscription

log = logging.getLogger("parley.fanout")  # the same name as the in-process fan-out's: one topic in logs

BACKOFF_FIRST = 0.1  # seconds before the first reconnect; doubles up to backoff_max
READY_TIMEOUT = 5.0  # longest a subscriber waits for Redis to confirm its channel
IDLE_PING = 15.0  # a quiet pub/sub connection is pinged this often; 3 unanswered = dead
BATCH = 500  # commands or publishes sent to Redis in one go


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisFanout(InProcessFanout):
    """Fan-out across server processes through Redis pub/sub.

    Per process: one connection publishes (a writer task drains a bounded outbox
    in pipelined batches, so a publisher never waits on Redis) and one pub/sub
    connection is subscribed to every channel that has a local subscriber. What
    arrives is handed to the same bounded per-subscriber queues as
    `InProcessFanout`, with the same `Overflow`. A publish reaches this process's
    own subscribers directly (so they keep working while Redis is away) and the
    other processes through Redis; each process skips its own messages there.

    If Redis goes away, both connections are retried with exponential backoff
    (with jitter) and every wanted channel is subscribed again; meanwhile
    publishes to other processes are dropped and logged. That is safe because
    the database is the truth: sockets resume from it, and an event stream that
    sees a gap reads the database.
    """

    def __init__(self, url: str, queue_size: int = 1000, outbox_size: int = 10_000,
                 backoff_max: float = 5.0) -> None:
        super().__init__(queue_size)
        try:
            import redis.asyncio  # noqa: F401  (optional: the `redis` extra)
        except ImportError as error:
            raise RuntimeError("--redis needs the redis package: pip install 'parley[redis]'") from error
        self.url = url
        self.origin = secrets.token_hex(8)  # this process, to skip its own messages
        self.backoff_max = backoff_max
        self.up = False  # connected: publishes go out, subscriptions are live
        self.dropped = 0  # publishes not sent to Redis since the last outage began
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(outbox_size)
        # Commands for the pub/sub connection, in the order subscribe()/close() asked for them.
        self._control: asyncio.Queue[tuple[str, str, asyncio.Future | None]] = asyncio.Queue()
        self._channels: set[str] = set()  # channels with local subscribers: Redis must send them
        self._latest: dict[str, asyncio.Future] = {}  # channel -> confirmation of its newest SUBSCRIBE
        self._sent: dict[str, deque[asyncio.Future]] = {}  # channel -> SUBSCRIBEs sent, not confirmed
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task | None = None
        self._resyncing: asyncio.Task | None = None
        self._down_since: float | None = time.monotonic()
        self._last_complaint = time.monotonic()  # start() reports the first failure
        self._closing = False

    # -- the Fanout protocol

    async def start(self, wait: float = 3.0) -> None:
        """Connects in the background; waits up to `wait` seconds for the first connection."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="parley-redis-fanout")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)
        if not self.up:
            log.warning("Redis at %s is not reachable yet; live events reach only this process's "
                        "sockets until it is (they catch up from the database)", redacted(self.url))

    async def publish(self, channel: str, payload: dict) -> None:
        self._deliver(channel, payload)  # this process's sockets, at once
        if not self.up:
            self._drop(1)
            return
        data = json.dumps({"o": self.origin, "p": payload}, separators=(",", ":"))
        try:
            self._outbox.put_nowait((channel, data))
        except asyncio.QueueFull:
            self._drop(1)

    def subscribe(self, channel: str) -> LocalSubscription:
        subscription = super().subscribe(channel)
        if channel not in self._channels:
            self._channels.add(channel)
            future = asyncio.get_running_loop().create_future()
            self._latest[channel] = future
            self._control.put_nowait(("subscribe", channel, future))
        return subscription

    def _remove(self, subscription: LocalSubscription) -> None:
        super()._remove(subscription)
        channel = subscription.channel
        if channel not in self._subscribers and channel in self._channels:
            self._channels.discard(channel)
            self._latest.pop(channel, None)
            self._control.put_nowait(("unsubscribe", channel, None))

    async def _ready(self, channel: str) -> None:
        future = self._latest.get(channel)
        if future is None or future.done() or not self.up:
            return  # confirmed, or Redis is away (then nothing is coming anyway)
        try:
            await asyncio.wait_for(asyncio.shield(future), READY_TIMEOUT)
        except TimeoutError:
            log.warning("Redis did not confirm the subscription to %s within %ss", channel, READY_TIMEOUT)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            await _cancel([self._supervisor])
            self._supervisor = None
        if self._resyncing is not None:
            await _cancel([self._resyncing])
            self._resyncing = None
        await super().close()

    # -- the connection, kept alive

    async def _supervise(self) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        delay = BACKOFF_FIRST
        reconnect = False  # the first connection follows no outage: nothing to catch up
        while not self._closing:
            # No retries inside redis-py: any failure ends the session and this loop reconnects.
            client = aioredis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 0),
                                             socket_connect_timeout=5, socket_timeout=10)
            pubsub = None
            try:
                await client.ping()
                pubsub = client.pubsub()
                await pubsub.connect()
                await self._subscribe_all(pubsub)
                self._went_up()
                if reconnect:
                    self._resyncing = asyncio.create_task(self._resync_when_subscribed())
                reconnect = True
                delay = BACKOFF_FIRST
                await self._session(client, pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._went_down(error)
            finally:
                self.up = False
                self._connected.clear()
                self._forget_pending()
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.backoff_max)

    async def _session(self, client, pubsub) -> None:
        """Reads, subscribes and publishes until one of them fails."""
        tasks = [asyncio.create_task(self._read(pubsub)), asyncio.create_task(self._send_control(pubsub)),
                 asyncio.create_task(self._write(client))]
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise ConnectionError("the Redis session ended")
        finally:
            await asyncio.shield(_cancel(tasks))

    async def _subscribe_all(self, pubsub) -> None:
        """On a new connection: subscribe to every wanted channel (this covers whatever
        was queued for the old one)."""
        while not self._control.empty():
            _kind, _channel, future = self._control.get_nowait()
            if future is not None and not future.done():
                future.set_result(False)
        loop = asyncio.get_running_loop()
        channels = sorted(self._channels)
        for channel in channels:
            future = loop.create_future()
            self._latest[channel] = future
            self._sent.setdefault(channel, deque()).append(future)
        for start in range(0, len(channels), BATCH):
            await pubsub.subscribe(*channels[start:start + BATCH])

    async def _send_control(self, pubsub) -> None:
        while True:
            batch = [await self._control.get()]
            while not self._control.empty() and len(batch) < BATCH:
                batch.append(self._control.get_nowait())
            # Runs of one kind go as one command; the order of commands is kept.
            for kind, run in itertools.groupby(batch, key=lambda command: command[0]):
                commands = list(run)
                channels = [channel for _kind, channel, _future in commands]
                if kind == "subscribe":
                    for _kind, channel, future in commands:
                        self._sent.setdefault(channel, deque()).append(future)
                    await pubsub.subscribe(*channels)
                else:
                    await pubsub.unsubscribe(*channels)

    async def _read(self, pubsub) -> None:
        quiet = 0
        while True:
            message = await pubsub.get_message(timeout=IDLE_PING)
            if message is None:
                quiet += 1
                if quiet > 3:
                    raise ConnectionError(f"Redis did not answer for {3 * IDLE_PING:.0f}s")
                await pubsub.ping()
                continue
            quiet = 0
            self._received(message)

    def _received(self, message: dict) -> None:
        kind = message["type"]
        channel = message["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        if kind == "message":
            try:
                envelope = json.loads(message["data"])
                origin, payload = envelope["o"], envelope["p"]
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a message on %s that Parley did not publish", channel)
                return
            if origin != self.origin:  # our own publishes were delivered locally already
                self._deliver(channel, payload)
        elif kind == "subscribe":
            # Redis confirms SUBSCRIBEs of one channel in the order they were sent.
            pending = self._sent.get(channel)
            if pending:
                future = pending.popleft()
                if not pending:
                    del self._sent[channel]
                if not future.done():
                    future.set_result(True)

    async def _write(self, client) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < BATCH:
                batch.append(self._outbox.get_nowait())
            try:
                async with client.pipeline(transaction=False) as pipe:
                    for channel, data in batch:
                        pipe.publish(channel, data)
                    await pipe.execute()
            except BaseException:
                self._drop(len(batch))
                raise

    async def _resync_when_subscribed(self) -> None:
        """After an outage: once Redis confirms the new subscriptions (publishes of other
        processes reach us again), every local subscriber gets RESYNC and catches up."""
        waiting = [future for future in self._latest.values() if not future.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=10)
        self._offer_to_everyone(RESYNC)

    # -- state changes, logged once per outage

    def _went_up(self) -> None:
        self.up = True
        self._connected.set()
        away = time.monotonic() - self._down_since if self._down_since is not None else 0.0
        if self.dropped:
            log.warning("Redis at %s is back after %.1fs; %d publishes to other processes were dropped "
                        "meanwhile (their sockets catch up from the database)",
                        redacted(self.url), away, self.dropped)
        else:
            log.info("connected to Redis at %s", redacted(self.url))
        self.dropped = 0
        self._down_since = None

    def _went_down(self, error: Exception) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            log.warning("lost Redis at %s (%s); reconnecting with backoff; publishes to other processes "
                        "are dropped meanwhile", redacted(self.url), _describe(error))
            self._last_complaint = now
        elif now - self._last_complaint > 60:
            log.warning("Redis at %s is still unreachable (%s); %d publishes dropped so far",
                        redacted(self.url), _describe(error), self.dropped)
            self._last_complaint = now

    def _forget_pending(self) -> None:
        """The connection is gone: nobody waits for its confirmations, its outbox is dropped."""
        for future in [*self._latest.values(), *itertools.chain.from_iterable(self._sent.values())]:
            if not future.done():
                future.set_result(False)
        self._sent.clear()
        dropped = 0
        while not self._outbox.empty():
            self._outbox.get_nowait()
            dropped += 1
        if dropped:
            self._drop(dropped)

    def _drop(self, count: int) -> None:
        if self.dropped == 0:
            log.warning("Redis is away: dropping publishes to other processes (sockets catch up "
                        "from the database)")
        self.dropped += count


async def _cancel(tasks: list[asyncio.Task]) -> None:
    """Cancels the tasks and waits for them to end. Cancels again while one still runs:
    Python 3.11's wait_for (redis-py uses it) can swallow a cancellation."""
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.2)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: already handled, or of no interest at shutdown


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__
