"""Messages waiting for their ack: the protocol's "nothing lost, nothing twice" rule.

Each message gets a clientId when it is written and stays here until the server
acknowledges it. After every reconnect everything still here is sent again, in order;
the server stores one message per clientId, so a resend of a stored message returns
the same ack and publishes nothing twice (docs/protocol.md, *Sending without losing
or duplicating*). A PARLEY_E_RATE_LIMIT error with a clientId means "not stored": the
message stays and is resent after `retryAfter`. Any other error removes it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from parley import protocol
from parley.client.errors import ClientError


def new_client_id() -> str:
    return f"py-{uuid.uuid4().hex}"


# A frame the server can't decode is refused without its clientId, so the outbox would
# never hear about it: what the server would refuse is refused here first.
def check_file_id(file_id: str | None) -> None:
    if file_id is not None and not re.fullmatch(r"[0-9a-f]{32}", file_id):
        raise ClientError("VALIDATION", "a file id is 32 hex digits (the id upload_file returned)")


def check_text(text: object, required: bool) -> None:
    if not isinstance(text, str) or len(text) > protocol.MAX_TEXT or (required and not text.strip()):
        raise ClientError("VALIDATION", f"text: a string of {'1' if required else '0'}.."
                                        f"{protocol.MAX_TEXT} characters")


def check_page_size(page_size: int) -> None:
    if not isinstance(page_size, int) or not 0 < page_size <= protocol.MAX_HISTORY_PAGE:
        raise ClientError("VALIDATION", f"page_size is 1..{protocol.MAX_HISTORY_PAGE}")


@dataclass
class _Entry:
    frame: dict
    future: asyncio.Future
    context: str


class Outbox:
    def __init__(self, send: Callable[[dict], Awaitable[None]]) -> None:
        self._send = send
        self._pending: dict[str, _Entry] = {}
        self._lock = asyncio.Lock()  # one writer: resends and new messages keep their order
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task] = set()
        # Something may not have reached the current socket: everything goes again, in
        # order, before any single new frame (a new message must not overtake an old one).
        self._dirty = True

    def __len__(self) -> int:
        return len(self._pending)

    def frames(self) -> list[dict]:
        """What is still unacknowledged, oldest first (saved with the credentials)."""
        return [dict(entry.frame) for entry in self._pending.values()]

    async def put(self, frame: dict, context: str = "message") -> asyncio.Future:
        """Queues a frame with a clientId and sends it if connected; the future gets the ack."""
        future = asyncio.get_running_loop().create_future()
        self._pending[frame["clientId"]] = _Entry(frame, future, context)
        await self._try_send(frame)
        return future

    async def _try_send(self, frame: dict) -> None:
        async with self._lock:
            if self._dirty:
                await self._flush_locked()
            elif frame["clientId"] in self._pending:
                try:
                    await self._send(frame)
                except ClientError:
                    self._dirty = True  # not connected: it goes with the next flush

    def lost(self) -> None:
        """The socket changed: whatever was sent on the old one goes again."""
        self._dirty = True

    async def flush(self) -> None:
        """Sends everything unacknowledged again, in order (after a reconnect)."""
        self._dirty = True
        async with self._lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        for entry in list(self._pending.values()):
            try:
                await self._send(entry.frame)
            except ClientError:
                return  # lost again: the next connection flushes
        self._dirty = False

    def take(self, frame: dict) -> bool:
        """Applies an `ack` or an error carrying a clientId; True when it was one of ours."""
        client_id = frame.get("clientId")
        entry = self._pending.get(client_id) if isinstance(client_id, str) else None
        if entry is None:
            return False
        if frame.get("type") == "ack":
            del self._pending[client_id]
            if not entry.future.done():
                entry.future.set_result(frame)
            return True
        if frame.get("type") != "error":
            return False
        if frame.get("code") == protocol.E_RATE_LIMIT:
            delay = float(frame.get("retryAfter") or 1.0)
            timer = asyncio.get_running_loop().call_later(delay, self._resend, entry.frame)
            self._timers.add(timer)
            return True
        del self._pending[client_id]
        if not entry.future.done():
            entry.future.set_exception(ClientError.from_frame(frame, entry.context))
            entry.future.exception()  # a caller that stopped waiting must not get a warning
        return True

    def _resend(self, frame: dict) -> None:
        task = asyncio.ensure_future(self._try_send(frame))
        self._tasks.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    def abandon(self, error: ClientError) -> None:
        """The client stopped (disconnect(), or a refusal it won't retry): callers waiting
        for an ack get `error`, but the messages stay (in the credentials, and sent again
        if the client connects again)."""
        for entry in self._pending.values():
            if not entry.future.done():
                entry.future.set_exception(error)
                entry.future.exception()

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
