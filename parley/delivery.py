"""Sequence, ack and resume: how every tab gets each event exactly once.

Each visitor has one event log (`events`, seq 1, 2, 3, ...). A tab says in
`hello` the last seq it saw; the server replays what came after from the
database, then forwards live events, skipping what it already sent and
reading the database again whenever it notices a gap. Writes go to the
database first and are published after the commit, so the database is the
truth and a lost publish only delays delivery until the next event or resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from parley import fanout as channels
from parley import protocol, wire
from parley.fanout import Fanout, Overflow
from parley.storage import event_log, hello_read
from parley.storage.db import Database
from parley.storage.models import Event

log = logging.getLogger("parley.delivery")

# A tab missing more events than this reloads history instead of replaying.
MAX_REPLAY = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Resume:
    """What to do for a tab that says it saw `last_seq`: replay after `after`, or reset."""

    reset: bool
    after: int


def resume_plan(last_seq: int | None, newest_seq: int, oldest_kept_seq: int | None,
                max_replay: int = MAX_REPLAY) -> Resume:
    """Decides how a (re)connecting tab catches up. Pure: no I/O.

    - no lastSeq: a fresh tab starts live after the newest event (it loads history itself);
    - a lastSeq from the future (another database) or a gap larger than max_replay,
      or events already pruned: reset (reload history, continue after newest);
    - otherwise: replay every event after lastSeq.
    """
    if last_seq is None:
        return Resume(reset=False, after=newest_seq)
    if last_seq > newest_seq or newest_seq - last_seq > max_replay:
        return Resume(reset=True, after=newest_seq)
    if oldest_kept_seq is not None and last_seq < oldest_kept_seq - 1:
        return Resume(reset=True, after=newest_seq)
    return Resume(reset=False, after=last_seq)


SEND, SKIP, CATCH_UP = "send", "skip", "catch_up"


def next_step(last_sent: int, seq: int) -> str:
    """For a live event: send it, skip it (already sent), or read the gap from the database."""
    if seq <= last_sent:
        return SKIP
    if seq == last_sent + 1:
        return SEND
    return CATCH_UP


def event_frame(event: Event) -> dict:
    return protocol.event(event.seq, wire.event_body(event))


# PostgreSQL's "try again" errors: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def _retryable(error: DBAPIError) -> bool:
    # connection_invalidated: a pooled connection was found dead (the database restarted);
    # the pool has dropped its old connections, so the next try connects afresh.
    if error.connection_invalidated or isinstance(error, IntegrityError | OperationalError):
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES


async def write(database: Database, work: Callable[[AsyncSession], Awaitable[T]], attempts: int = 5) -> T:
    """Runs one unit of work in a fresh session, retrying races.

    A unique-key race (the same clientId stored by another tab a moment ago),
    SQLite's busy snapshot or PostgreSQL's deadlock / serialization failure is
    retried from the start, where the second try finds the stored row: the
    write is idempotent, so retrying is safe.
    """
    async def in_session() -> T:
        async with database.session() as session:
            return await work(session)

    return await _retrying(in_session, attempts)


async def run(database: Database, unit: Callable[[Connection], T], attempts: int = 5) -> T:
    """As write(), for a synchronous Core unit (Database.run: one transaction, one hop)."""
    # On SQLite the unit is queued to the group writer, which runs it to the end whatever
    # happens to the caller (a cancelled caller's future is just left unset): no shield is
    # needed, and anyio's cost ~25 µs a write on the hot path (bench/README.md).
    shield = database.dialect != "sqlite"
    return await _retrying(lambda: database.run(unit), attempts, shield)


async def _retrying(attempt_once: Callable[[], Awaitable[T]], attempts: int, shield: bool = True) -> T:
    for attempt in range(attempts):
        try:
            # A write once begun is finished, even if the socket that asked goes away.
            with anyio.CancelScope(shield=True) if shield else contextlib.nullcontext():
                return await attempt_once()
        except DBAPIError as error:
            if attempt == attempts - 1 or not _retryable(error):
                raise
            log.info("retrying a write after %s", type(error).__name__)
            await asyncio.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


async def publish_events(hub: Fanout, visitor_id: str, events: list[Event]) -> None:
    """Announces committed events to every tab of the visitor."""
    for event in events:
        await hub.publish(channels.visitor_channel(visitor_id), event_frame(event))


def operator_frame(visitor_id: str, event: Event) -> dict | None:
    """The operators' live-feed frame for one of a visitor's events (None: nothing to tell)."""
    body = event.payload
    if event.kind == "message":
        message = body["message"]
        return protocol.frame("message", chatId=message["chatId"], visitorId=visitor_id, message=message)
    if event.kind in ("chat.started", "chat.closed", "chat.rated", "chat.reopened"):
        return protocol.frame(event.kind, chat=body["chat"])
    if event.kind == "seen":
        return protocol.frame("seen", visitorId=visitor_id, **body)
    return None


async def publish(hub: Fanout, app_id: str, visitor_id: str, events: list[Event]) -> None:
    """Announces committed events to the visitor's tabs and to the app's operators."""
    await publish_events(hub, visitor_id, events)
    for event in events:
        feed_frame = operator_frame(visitor_id, event)
        if feed_frame is not None:
            await hub.publish(channels.app_channel(app_id), feed_frame)


class EventStream:
    """Delivers one visitor's events to one socket, each once and in order.

    `start()` subscribes first and then reads the database, so an event
    committed in between arrives live and is skipped or sent by seq.
    """

    def __init__(self, database: Database, hub: Fanout, visitor_id: str,
                 send: Callable[[dict], Awaitable[None]]) -> None:
        self._database = database
        self._hub = hub
        self._visitor_id = visitor_id
        self._send = send
        self._subscription = None
        self.last_sent = 0

    async def subscribe(self) -> None:
        """Subscribes to the visitor's events: call before reading what to replay."""
        self._subscription = self._hub.subscribe(channels.visitor_channel(self._visitor_id))
        await self._subscription.ready()  # publishes of other processes too, before the read

    async def start(self, last_seq: int | None, before_replay: Callable[[int], Awaitable[None]]) -> None:
        """Subscribes, calls `before_replay(newest_seq)` (the welcome), then replays or resets."""
        await self.subscribe()
        # Read everything first, then send: a socket closed mid-send never interrupts a query.
        with anyio.CancelScope(shield=True):
            replay = await self._database.read(functools.partial(
                hello_read.visitor_replay, visitor_id=self._visitor_id, last_seq=last_seq,
                plan=resume_plan, limit=MAX_REPLAY))
        await self.deliver(replay, before_replay)

    async def deliver(self, replay: hello_read.Replay,
                      before_replay: Callable[[int], Awaitable[None]]) -> None:
        """After subscribe() and a read of `replay` (hello_read): `before_replay(newest_seq)`
        (the welcome), then the reset or the missed events; run() skips what this sent."""
        await before_replay(replay.newest)
        if replay.reset:
            self.last_sent = replay.newest
            await self._send(protocol.reset(replay.newest))
            return
        self.last_sent = replay.after
        for event in replay.events:
            await self._send(event_frame(event))
            self.last_sent = event.seq

    async def _catch_up(self) -> None:
        while True:
            with anyio.CancelScope(shield=True):
                async with self._database.session() as session:
                    events = await event_log.events_after(session, self._visitor_id, self.last_sent,
                                                          limit=200)
            for event in events:
                await self._send(event_frame(event))
                self.last_sent = event.seq
            if len(events) < 200:
                return

    async def run(self) -> None:
        """Forwards live events until cancelled."""
        while True:
            try:
                async for payload in self._subscription:
                    if channels.is_resync(payload):  # after a Redis outage: read what was missed
                        await self._catch_up()
                        continue
                    step = next_step(self.last_sent, payload["seq"])
                    if step == SEND:
                        await self._send(payload)
                        self.last_sent = payload["seq"]
                    elif step == CATCH_UP:
                        await self._catch_up()
                return
            except Overflow:
                # Fell behind: subscribe again and read what was missed from the database.
                self._subscription = self._hub.subscribe(channels.visitor_channel(self._visitor_id))
                await self._subscription.ready()
                await self._catch_up()

    async def close(self) -> None:
        """Ends `run()` after whatever it is sending now."""
        if self._subscription is not None:
            await self._subscription.close()
