"""One reconnecting WebSocket with requests matched to their answers.

Parley's frames carry no request id: the server handles a socket's frames one after
the other and answers each in order (docs/protocol.md). So a request is followed by a
`sync` frame with a fresh id, which the server answers with `synced` and that id.
Everything the server answers between a request and its `synced` belongs to that
request; a request that expects no answer (`seen`, `page.view`, `chat.close`) has
succeeded when its `synced` arrives without an error before it. Requests may overlap;
a late answer to a timed-out request is absorbed, never given to the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from parley.client.errors import CONNECTION_LOST, INTERNAL, REQUEST_TIMEOUT, ClientError, close_reason

log = logging.getLogger("parley.client")

SYNC_PREFIX = "c"  # sync ids: c1, c2, ...
# HTTP answers to the handshake that retrying can't change (the operator socket refuses
# a bad Origin or a missing login before accepting, which reaches us as a status).
FATAL_STATUSES = {400: "validation", 401: "identity_mismatch", 403: "identity_mismatch", 404: "not_found"}


class Handler(Protocol):
    """What a client does with its connection (the visitor and operator clients)."""

    async def opened(self, connection: Connection) -> None: ...  # hello / subscribe; raise to refuse
    def frame(self, frame: dict) -> None: ...
    def up(self) -> None: ...
    def down(self, reason: str, code: int | None, error: ClientError | None, retrying: bool) -> None: ...
    def unstable(self) -> None: ...
    def recovered(self) -> None: ...


@dataclass
class _Request:
    nonce: str
    want: Callable[[dict], bool] | None
    context: str | None
    future: asyncio.Future
    answered: bool = False
    extra: list[dict] = field(default_factory=list)


@dataclass
class Timing:
    """Seconds. Tests shorten them; the defaults suit a real network."""

    request_timeout: float = 15.0
    open_timeout: float = 10.0
    backoff_first: float = 0.5
    backoff_max: float = 15.0
    ping_interval: float = 10.0
    unstable_after: float = 4.0  # no pong by then: connection_unstable
    dead_after: float = 20.0  # no pong by then: the socket is dropped and reopened


class Connection:
    def __init__(self, url: str, handler: Handler, *, origin: str | None = None,
                 headers: Callable[[], dict[str, str]] | None = None, timing: Timing | None = None) -> None:
        self.url = url
        self.origin = origin
        self.timing = timing or Timing()
        self._handler = handler
        self._headers = headers or dict
        self._ws: ClientConnection | None = None
        self._ready = asyncio.Event()
        self._inflight: deque[_Request] = deque()
        self._nonces = itertools.count(1)
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._first: asyncio.Future | None = None
        self._was_up = False

    # -- life cycle ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    @property
    def running(self) -> bool:
        """Connected or trying to be (between connect() and disconnect() or a refusal)."""
        return self._task is not None and not self._task.done() and not self._stopping

    async def start(self, timeout: float | None = None) -> None:
        """Connects (retrying with backoff) until the handler's opening succeeds; raises the
        ClientError of a refusal that retrying can't change, or REQUEST_TIMEOUT."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._first = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run())
        if self._ready.is_set():
            return
        assert self._first is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._first), timeout)
        except TimeoutError:
            # Never connected: no reconnect loop is left running behind the caller's back.
            await self.stop()
            raise ClientError(REQUEST_TIMEOUT, f"not connected within {timeout}s") from None

    async def stop(self) -> None:
        self._stopping = True
        if self._first is not None and not self._first.done():
            self._first.set_exception(ClientError(CONNECTION_LOST, "disconnect() was called"))
            self._first.exception()
        task, self._task = self._task, None
        if task is None:
            return
        if self._ws is not None:
            # Closed by us: the loop sees its socket end, reports `manual` and returns.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(1000, "client disconnect"), 3)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), 3)
        if not task.done():
            task.cancel()  # between sockets (a backoff wait): nothing to report
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drop(self) -> None:
        """Closes the current socket as a lost network would; the client reconnects (tests)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            delay = self._backoff(attempt)
            try:
                ws = await connect(self.url, origin=self.origin, additional_headers=self._headers(),
                                   open_timeout=self.timing.open_timeout, ping_interval=None,
                                   close_timeout=2, max_size=2**22)
            except InvalidStatus as refused:
                status = refused.response.status_code
                if status in FATAL_STATUSES:
                    self._give_up(FATAL_STATUSES[status], None, ClientError(
                        "AUTHENTICATION" if status in (401, 403) else "VALIDATION",
                        f"the server refused the connection (HTTP {status})"))
                    return
                self._lost(None, "connection_lost", None, True)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as error:
                self._lost(None, "connection_lost", ClientError(CONNECTION_LOST, str(error) or "no answer"),
                           True)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            retry_after = await self._serve(ws)
            if retry_after is None:
                return
            if self._was_up:
                attempt = 0
                self._was_up = False
            else:
                attempt += 1
            # Even right after a drop, a little jitter: a server restart drops every client at once.
            first_wait = random.uniform(0, self.timing.backoff_first)
            await asyncio.sleep(max(retry_after, self._backoff(attempt) if attempt else first_wait))

    async def _serve(self, ws: ClientConnection) -> float | None:
        """Runs one socket to its end; the seconds to wait before reconnecting, or None to stop."""
        self._ws = ws
        reader = asyncio.create_task(self._read(ws))
        watcher: asyncio.Task | None = None
        opening_error: ClientError | None = None
        try:
            try:
                await self._handler.opened(self)
            except ClientError as error:
                opening_error = error
            if opening_error is None and not reader.done():
                self._ready.set()
                self._was_up = True
                if self._first is not None and not self._first.done():
                    self._first.set_result(None)
                self._handler.up()
                watcher = asyncio.create_task(self._watch(ws))
            else:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 3)
            await reader
        finally:
            self._ready.clear()
            self._ws = None
            if watcher is not None:
                watcher.cancel()
            self._fail_inflight()
        code = ws.close_code
        if self._stopping:
            self._handler.down("manual", code, None, False)
            return None
        reason, retry = close_reason(code)
        error = opening_error or ClientError(CONNECTION_LOST, f"the socket closed ({code})")
        if retry is None:
            self._give_up(reason, code, error)
            return None
        self._lost(code, reason, error, True)
        return retry

    def _lost(self, code: int | None, reason: str, error: ClientError | None, retrying: bool) -> None:
        self._handler.down(reason, code, error, retrying)

    def _give_up(self, reason: str, code: int | None, error: ClientError) -> None:
        self._stopping = True
        self._handler.down(reason, code, error, False)
        if self._first is not None and not self._first.done():
            self._first.set_exception(error)
            self._first.exception()  # retrieved here too, so an unawaited start() logs nothing

    def _backoff(self, attempt: int) -> float:
        if attempt == 0:
            return 0.0
        # Jitter: thousands of clients dropped by one restart must not return in one wave.
        base = min(self.timing.backoff_max, self.timing.backoff_first * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    async def _watch(self, ws: ClientConnection) -> None:
        """Pings; a slow pong is `connection_unstable`, none at all drops the socket."""
        timing = self.timing
        try:
            while True:
                await asyncio.sleep(timing.ping_interval)
                pong = await ws.ping()
                try:
                    await asyncio.wait_for(asyncio.shield(pong), timing.unstable_after)
                    continue
                except TimeoutError:
                    self._handler.unstable()
                try:
                    await asyncio.wait_for(pong, max(0.1, timing.dead_after - timing.unstable_after))
                except TimeoutError:
                    ws.transport.abort()
                    return
                self._handler.recovered()
        except ConnectionClosed:
            return

    # -- frames ----------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("the server sent a frame that is no JSON; ignored")
                    continue
                if not isinstance(frame, dict):
                    continue
                try:
                    self._dispatch(frame)
                except Exception:
                    # A frame the client can't handle must not end the reader (and with it
                    # the socket and the reconnect loop): it is logged and skipped.
                    log.exception("could not handle a %r frame", frame.get("type"))

    def _dispatch(self, frame: dict) -> None:
        if frame.get("type") == "synced":
            for position, request in enumerate(self._inflight):
                if request.nonce == frame.get("id"):
                    for _ in range(position + 1):
                        self._finish(self._inflight.popleft())
                    return
            return  # the sync of a request given up on a connection ago
        if frame.get("type") == "error" and "clientId" not in frame:
            if self._inflight:
                head = self._inflight[0]
                _fail(head.future, ClientError.from_frame(frame, head.context))
                head.answered = True
                return
            self._handler.frame(frame)  # an error nothing asked for: the client reports it
            return
        head = self._inflight[0] if self._inflight else None
        if head is not None and head.want is not None and not head.answered and head.want(frame):
            head.answered = True
            if not head.future.done():
                head.future.set_result(frame)
        self._handler.frame(frame)

    @staticmethod
    def _finish(request: _Request) -> None:
        if request.future.done():
            return
        if request.want is None:
            request.future.set_result(None)
        else:
            _fail(request.future, ClientError(INTERNAL, "the server did not answer the request"))

    def _fail_inflight(self) -> None:
        while self._inflight:
            _fail(self._inflight.popleft().future, ClientError(CONNECTION_LOST, "the connection was lost"))

    async def send(self, frame: dict, *, opening: bool = False) -> None:
        """Sends one frame on the open socket; CONNECTION_LOST when there is none. Until
        the opening (hello) is done only its frames go: anything before hello ends the socket."""
        ws = self._ws
        if ws is None or not (opening or self._ready.is_set()):
            raise ClientError(CONNECTION_LOST, "not connected")
        try:
            await ws.send(json.dumps({"v": 1, **frame}, ensure_ascii=False))
        except ConnectionClosed:
            raise ClientError(CONNECTION_LOST, "the connection was lost") from None

    async def request(self, frame: dict, want: Callable[[dict], bool] | None = None, *,
                      context: str | None = None, timeout: float | None = None,
                      opening: bool = False) -> Any:
        """Sends `frame` and returns its answer (the first frame `want` accepts; None when
        `want` is None and the server took the frame without an error). Waits for the
        connection first, except while it opens (`opening`: the hello itself)."""
        timeout = self.timing.request_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not opening and not self._ready.is_set():
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                raise ClientError(REQUEST_TIMEOUT, f"not connected within {timeout}s") from None
        request = _Request(f"{SYNC_PREFIX}{next(self._nonces)}", want, context, loop.create_future())
        self._inflight.append(request)
        try:
            await self.send(frame, opening=opening)
            await self.send({"type": "sync", "id": request.nonce}, opening=opening)
        except ClientError as error:
            _fail(request.future, error)
        try:
            return await asyncio.wait_for(asyncio.shield(request.future), max(0.0, deadline - loop.time()))
        except TimeoutError:
            # It stays queued, so its late answer is absorbed rather than given to the next request.
            raise ClientError(REQUEST_TIMEOUT, f"no answer within {timeout}s") from None


def _fail(future: asyncio.Future, error: ClientError) -> None:
    """Fails a request; marked as retrieved, as a timed-out caller no longer awaits it."""
    if not future.done():
        future.set_exception(error)
        future.exception()
