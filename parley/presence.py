"""Operator presence that holds across server processes.

An operator is online while at least one of their inbox sockets is open, on any
server process. Each open socket is a row in `operator_sockets` (the database is
shared by every process, Redis or not), and `operators.presence` is recomputed
from those rows in the same transaction that changes them, under a lock on the
app's row: two processes never decide "offline" from a stale view, so an
operator connected to servers A and B stays online when the socket on A closes.

A process renews the lease (`expires_at`) of its own rows every
HEARTBEAT_SECONDS. A process that dies without closing its sockets (SIGKILL,
power loss) stops renewing; after LEASE_SECONDS any other process sweeps its
rows away and announces the change. When the app's online state flips, every
visitor socket of the app, on every process, gets an `online` frame.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from parley import delivery, identity, protocol
from parley import fanout as channels
from parley.fanout import Fanout
from parley.storage import presence_queries
from parley.storage.db import Database
from parley.storage.models import Operator, utcnow

log = logging.getLogger("parley.presence")

HEARTBEAT_SECONDS = 30
LEASE_SECONDS = 90


class Presence:
    def __init__(self, database: Database, hub: Fanout, lease_seconds: float = LEASE_SECONDS) -> None:
        self.database = database
        self.hub = hub
        self.lease = timedelta(seconds=lease_seconds)
        self.server_id = identity.new_id()  # this process, for the lifetime of the process
        self.sockets: dict[str, Operator] = {}  # socket id -> operator: what this process has open

    async def opened(self, operator: Operator) -> str:
        """Records a new inbox socket of `operator`; returns its id for `closed`."""
        socket_id = identity.new_id()
        if operator.role == "bot":
            # A bot is not a human at work: it never makes the app online or takes chats.
            return socket_id
        self.sockets[socket_id] = operator
        await self._record(operator, socket_id)
        return socket_id

    async def _record(self, operator: Operator, socket_id: str) -> None:
        expires_at = utcnow() + self.lease

        async def work(session):
            online = await presence_queries.open_operator_socket(session, operator, socket_id, self.server_id,
                                                                 expires_at)
            await session.commit()
            return online

        await self._announce(operator.app_id, *await delivery.write(self.database, work))

    async def closed(self, operator: Operator, socket_id: str) -> None:
        if self.sockets.pop(socket_id, None) is None:
            return  # a bot's socket, never recorded

        async def work(session):
            online = await presence_queries.close_operator_socket(session, operator, socket_id)
            await session.commit()
            return online

        await self._announce(operator.app_id, *await delivery.write(self.database, work))

    async def heartbeat(self, now: datetime | None = None) -> None:
        """Renews this process's leases, then sweeps the expired ones of dead processes."""
        now = now or utcnow()
        if self.sockets:
            async with self.database.session() as session:
                kept = await presence_queries.renew_operator_sockets(session, self.server_id,
                                                                     now + self.lease)
                await session.commit()
            for socket_id, operator in list(self.sockets.items()):
                if socket_id not in kept and socket_id in self.sockets:
                    # Swept while this process stalled past its lease: the socket is still open.
                    log.warning("presence of operator %s was swept while its socket was open; restoring it",
                                operator.id)
                    await self._record(operator, socket_id)
        changes = []
        async with self.database.session() as session:
            app_ids = await presence_queries.apps_with_expired_sockets(session, now)
            await session.rollback()  # ends the read: each app's sweep is a transaction of its own
            for app_id in app_ids:
                before, after = await presence_queries.sweep_app_sockets(session, app_id, now)
                await session.commit()
                changes.append((app_id, before, after))
        for app_id, before, after in changes:
            await self._announce(app_id, before, after)

    async def _announce(self, app_id: str, before: bool, after: bool) -> None:
        if before != after:
            await self.hub.publish(channels.app_visitors_channel(app_id),
                                   protocol.frame("online", online=after))

    async def run(self, interval: float = HEARTBEAT_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.heartbeat()
            except Exception:  # a failed beat must not end the loop; the next one retries
                log.exception("presence heartbeat failed")
