"""on / once / off and emit: the Customer SDK's event interface, for sync or async listeners."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("parley.client")

Listener = Callable[[Any], Any]


class Emitter:
    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[Listener, bool]]] = {}
        self._tasks: set[asyncio.Task] = set()

    def on(self, event: str, listener: Listener) -> Listener:
        """Calls `listener(payload)` on every `event`; returns it (usable as a decorator)."""
        self._listeners.setdefault(event, []).append((listener, False))
        return listener

    def once(self, event: str, listener: Listener) -> Listener:
        self._listeners.setdefault(event, []).append((listener, True))
        return listener

    def off(self, event: str, listener: Listener | None = None) -> None:
        """Removes `listener` (or every listener of `event`)."""
        if listener is None:
            self._listeners.pop(event, None)
            return
        self._listeners[event] = [(f, o) for f, o in self._listeners.get(event, []) if f is not listener]

    def emit(self, event: str, payload: Any = None) -> None:
        listeners = self._listeners.get(event, [])
        if any(once for _, once in listeners):
            self._listeners[event] = [(f, o) for f, o in listeners if not o]
        for listener, _once in listeners:
            # One listener that throws must not keep the others (or the client's reader) from running.
            try:
                result = listener(payload)
            except Exception:
                log.exception("a %r listener failed", event)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an async listener failed", exc_info=task.exception())

    def expect(self, event: str, predicate: Callable[[Any], bool] | None = None) -> asyncio.Future:
        """A future for the next `event` that `predicate` accepts, listening from now on
        (so it can be set up before the request that causes the event is sent)."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()

        def listener(payload: Any) -> None:
            if not future.done() and (predicate is None or predicate(payload)):
                future.set_result(payload)
                self.off(event, listener)

        self.on(event, listener)
        future.add_done_callback(lambda _: self.off(event, listener))
        return future

    async def wait_for(self, event: str, predicate: Callable[[Any], bool] | None = None,
                       timeout: float | None = None) -> Any:
        """The payload of the next `event` that `predicate` accepts (tests, scripts, bots)."""
        return await asyncio.wait_for(self.expect(event, predicate), timeout)
