"""Work the server does on a clock, not in answer to a socket:

- working hours: an app opens and closes at set times with nobody connecting,
  so its visitors are told (`online` frames) when the state flips;
- missed chats: when no operator answered a chat within a few minutes, the
  team gets an email (only when mail is configured: parley.mail);
- visitors' uploads that no message uses are deleted (rows and bytes) an hour
  after they were made (Limits.unattached_upload_seconds).

Several server processes may run these at once: notices are claimed with a
conditional UPDATE, and a repeated `online` frame is harmless (it is state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import datetime, timedelta

import anyio

from parley import fanout as channels
from parley import file_store, mail, protocol, queueing
from parley.ratelimit import Limits
from parley.storage import (
    app_queries,
    assignment_queries,
    message_store,
    missed_chats,
    operator_queries,
    presence_queries,
    retention,
    search_index,
    visitor_store,
)
from parley.storage.db import Database
from parley.storage.models import Chat, utcnow

log = logging.getLogger("parley.clock")

TICK_SECONDS = 30
QUEUE_TICK_SECONDS = 5  # waiting visitors learn their place and get an operator this fast


def missed_after() -> timedelta:
    """How long a chat may wait for its first answer: $PARLEY_MISSED_CHAT_MINUTES (default 5)."""
    try:
        minutes = float(os.environ.get("PARLEY_MISSED_CHAT_MINUTES", "5"))
    except ValueError:
        minutes = 5
    return timedelta(minutes=max(minutes, 0))


class Clock:
    def __init__(self, database: Database, hub, public_url: str | None = None,
                 limits: Limits | None = None) -> None:
        self.database = database
        self.hub = hub
        self.public_url = public_url or os.environ.get("PARLEY_PUBLIC_URL")
        self.limits = limits or Limits()
        self.online: dict[str, bool] = {}  # app id -> state last announced by this process
        # Uploads made before this were looked at already: each tick looks only at those that
        # came of age since, instead of every old file (the first tick looks at all).
        self.uploads_checked_until: datetime | None = None

    async def tick(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        await self.announce_working_hours(now)
        await self.purge_unattached_uploads(now)
        if mail.settings() is not None:
            await self.notify_missed_chats(now)

    async def purge_unattached_uploads(self, now: datetime) -> int:
        """Deletes visitors' uploads older than the limit that no message uses: a file is
        uploaded first and then sent, and one never sent (issue 13: 300 MiB of them) only
        takes space. Several processes may do it at once: each row is deleted once."""
        cutoff = now - timedelta(seconds=self.limits.unattached_upload_seconds)
        async with self.database.session() as session:
            file_ids = await retention.purge_unattached_uploads(session, cutoff, self.uploads_checked_until)
            await session.commit()  # the rows first: bytes without a row are never served
        self.uploads_checked_until = cutoff
        for file_id in file_ids:
            await anyio.to_thread.run_sync(file_store.delete_file_bytes, file_id)
        if file_ids:
            log.info("deleted %d uploads that were never sent", len(file_ids))
        return len(file_ids)

    async def announce_working_hours(self, now: datetime) -> None:
        async with self.database.session() as session:
            for app_id in await app_queries.apps_with_working_hours(session):
                online = await presence_queries.app_online(session, app_id, now)
                if self.online.get(app_id, online) != online:
                    await self.hub.publish(channels.app_visitors_channel(app_id),
                                           protocol.frame("online", online=online))
                self.online[app_id] = online

    async def notify_missed_chats(self, now: datetime) -> int:
        sent = 0
        async with self.database.session() as session:
            chats = await missed_chats.missed_chats(session, now - missed_after())
        for chat in chats:
            # One chat whose mail fails (odd visitor data, a bug) must not keep the
            # others' notices waiting: it is logged, and stays claimed so that it is
            # not retried, and failed again, on every tick.
            try:
                sent += await self._notify_missed_chat(chat)
            except Exception:
                log.exception("missed-chat notice for chat %s failed", chat.id)
        return sent

    async def _notify_missed_chat(self, chat: Chat) -> int:
        """Mails one missed chat's operators (all of the app's when it has none); the count sent."""
        async with self.database.session() as session:
            if not await missed_chats.claim_missed_notice(session, chat.id):
                return 0
            await session.commit()  # the claim: one notice per chat, even across processes
            operators = await operator_queries.list_operators(session, chat.app_id)
            app = await app_queries.get_app(session, chat.app_id)
            visitor = await visitor_store.get_visitor(session, chat.app_id, chat.visitor_id)
            page, _ = await message_store.message_page(session, [chat.id], None, 20)
            messages = await message_store.message_dicts(session, page)
        sent = 0
        assigned = [o for o in operators if o.id in (chat.operator_ids or [])]
        for operator in assigned or operators:
            subject, body = missed_chat_mail(app.name, visitor, messages, chat.id, self.public_url)
            sent += await mail.send(operator.email, subject, body)
        return sent

    async def queue_tick(self) -> None:
        """Hands waiting chats to operators with room and tells waiting visitors their place."""
        async with self.database.session() as session:
            app_ids = await assignment_queries.apps_with_waiting_chats(session)
        for app_id in app_ids:
            await queueing.run_and_announce(self.database, self.hub, app_id)

    async def run(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(QUEUE_TICK_SECONDS)
            ticks += 1
            try:
                await self.queue_tick()
                # The messages of the last few seconds into SQLite's search index, 200 a
                # unit (parley.storage.search_index); searches catch up themselves too.
                await search_index.catch_up(self.database)
                if ticks % (TICK_SECONDS // QUEUE_TICK_SECONDS) == 0:
                    await self.tick()
            except Exception:  # a failed tick must not end the loop
                log.exception("background tick failed")


def missed_chat_mail(app_name: str, visitor, messages: list[dict], chat_id: str,
                     public_url: str | None) -> tuple[str, str]:
    # The visitor chose the name: one line, as it goes into the subject too.
    who = (mail.header_safe(visitor.name or "") or mail.header_safe(visitor.email or "")
           or f"visitor {visitor.id[-6:]}")
    lines = [f"{who} wrote on {app_name} and nobody has answered yet.", ""]
    for field in ("name", "email", "phone"):
        if getattr(visitor, field):
            lines.append(f"{field.capitalize()}: {getattr(visitor, field)}")
    lines.append("")
    for message in messages:
        if message["authorKind"] == "visitor":
            text = message["text"] or (message["file"] or {}).get("name", "")
            lines.append(f"> {text}")
    if public_url:
        lines += ["", f"Answer in the inbox: {public_url.rstrip('/')}/inbox#chat={chat_id}"]
    return f"[{app_name}] Missed chat from {who}", "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def running(worker):
    """Runs `worker.run()` (the Clock, parley.presence.Presence) in the background while
    the block lasts, and cancels it at the end."""
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
