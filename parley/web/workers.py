"""`parley serve --workers N`: N server processes on one machine, sharing one listening socket.

Not uvicorn's own `workers=`: its worker processes run a plain `uvicorn.Server` on an app
imported by name, so the app would have to be rebuilt from settings smuggled through the
environment, and the workers would lose `GracefulServer`'s 1001 close on shutdown. Here the
parent binds the socket once and spawns N processes; each gets the picklable `ServeSettings`,
builds its own database engine, fan-out and app (nothing of that may cross a process), and
runs a `GracefulServer` on the shared socket. The kernel gives each new connection to one
worker; PostgreSQL and Redis make them one server to clients (README, *Scaling out*).

The parent only supervises: Ctrl+C / SIGTERM become one SIGTERM per worker (each drains its
sockets as a single server does), and a worker that dies after it was serving is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event

import uvicorn
from starlette.applications import Starlette

from parley import event_loop
from parley.web import ws_protocol
from parley.web.shutdown import GracefulServer

log = logging.getLogger("parley.workers")

MAX_WORKERS = 64
# How long the workers get to start (import, build the app, connect) before `serve` gives up.
START_TIMEOUT_SECONDS = 60.0
# spawn, not fork: a forked child would inherit the parent's threads and open connections.
_SPAWN = multiprocessing.get_context("spawn")


class WorkersError(Exception):
    """The workers could not be started or kept running; the message says why (one line)."""


@dataclass(frozen=True)
class ServeSettings:
    """What `parley serve` was told, as a worker process needs it (picklable: it is sent to each)."""

    database_url: str
    redis_url: str | None
    host: str
    port: int
    log_format: str
    log_level: str
    proxy_headers: bool
    forwarded_allow_ips: str | None
    drain_seconds: float
    grace_seconds: float

    def uvicorn_config(self, app) -> uvicorn.Config:
        # log_config=None: uvicorn keeps the logging parley.logs configured.
        # No permessage-deflate: chat frames are small (a visitor's message frame is ~300
        # bytes), and each socket's two zlib contexts cost ~45 KB of the ~110 KB an idle
        # visitor socket took (measured at 1,000 sockets: 109 KB with, 64 KB without), plus
        # CPU on every frame (PerMessageDeflate.encode was ~4 % of a busy server's time).
        # Behind a proxy, X-Forwarded-For/-Proto from a trusted address give the client's
        # address (per-IP limits) and scheme (HSTS, Secure cookies); see --forwarded-allow-ips.
        # Pings on a shared beat, one write per socket per loop iteration (web/ws_protocol.py).
        return uvicorn.Config(app, host=self.host, port=self.port, log_config=None,
                              log_level=self.log_level, ws_max_size=64 * 1024,
                              ws_per_message_deflate=False, ws=ws_protocol.websocket_protocol(),
                              timeout_graceful_shutdown=self.grace_seconds,
                              proxy_headers=self.proxy_headers,
                              forwarded_allow_ips=self.forwarded_allow_ips)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on; OSError when the address can't be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        # Listening from here on: connections queue while the workers are still starting.
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


class _Worker:
    def __init__(self, settings: ServeSettings, listener: socket.socket) -> None:
        self.ready: Event = _SPAWN.Event()
        self.process: SpawnProcess = _SPAWN.Process(
            target=worker_main, args=(settings, listener, self.ready), name="parley-worker", daemon=False)
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid


class Supervisor:
    """Starts `count` workers, replaces one that dies while serving, stops them all on a signal."""

    def __init__(self, settings: ServeSettings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.workers: list[_Worker] = []
        self.stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._previous_handlers: dict[int, object] = {}

    def start(self) -> list[int] | None:
        """Binds, spawns the workers and waits until each serves: their pids, or None when a
        signal asked to stop first. Raises WorkersError when that can't be done."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
        host, port = self.settings.host, self.settings.port
        try:
            self._listener = listen(host, port)
        except OSError as error:
            raise WorkersError(f"could not serve on {host}:{port}: {error.strerror or error}") from None
        self.workers = [_Worker(self.settings, self._listener) for _ in range(self.count)]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not all(worker.ready.is_set() for worker in self.workers):
            if self.stopping.is_set():
                return None
            for worker in self.workers:
                if worker.process.exitcode is not None and not worker.ready.is_set():
                    raise WorkersError(f"worker process {worker.pid} exited before it served "
                                       f"(exit code {worker.process.exitcode}; see the lines above)")
            if time.monotonic() > deadline:
                raise WorkersError(f"the worker processes did not start serving within "
                                   f"{START_TIMEOUT_SECONDS:.0f} s")
            self.stopping.wait(0.05)
        return [worker.pid for worker in self.workers]

    def run(self) -> None:
        """Until SIGINT/SIGTERM: a worker that dies is replaced (a replacement that dies before
        it serves would die again, so that stops everything with WorkersError)."""
        while not self.stopping.wait(0.2):
            for index, worker in enumerate(self.workers):
                if worker.process.exitcode is None:
                    continue
                if not worker.ready.is_set():
                    raise WorkersError(f"worker process {worker.pid} exited before it served "
                                       f"(exit code {worker.process.exitcode}; see the lines above)")
                assert self._listener is not None
                replacement = _Worker(self.settings, self._listener)
                log.warning("worker process %s exited (exit code %s); started %s in its place",
                            worker.pid, worker.process.exitcode, replacement.pid,
                            extra={"pid": worker.pid, "replacement": replacement.pid})
                self.workers[index] = replacement

    def stop(self) -> None:
        """SIGTERM to every worker (each closes its sockets with 1001 and finishes its writes),
        waits as long as a single server's shutdown may take, then kills what is left."""
        self.stopping.set()
        for worker in self.workers:
            if worker.process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.drain_seconds + self.settings.grace_seconds + 5
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                log.warning("worker process %s did not stop in time; killing it", worker.pid)
                worker.process.kill()
                worker.process.join()
        if self._listener is not None:
            self._listener.close()
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)

    def _on_signal(self, _signum, _frame) -> None:
        self.stopping.set()


# -- in a worker process ------------------------------------------------------------------------

def worker_main(settings: ServeSettings, listener: socket.socket, ready: Event) -> None:
    """A worker's entry point (spawned: a fresh interpreter that imports what it needs)."""
    from parley import logs

    # Ctrl+C reaches every process of the terminal's group; the parent turns it into a SIGTERM
    # for each worker, so a worker need not act on it itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Before serving there is nothing to drain: a SIGTERM just ends the worker (cleanly).
    signal.signal(signal.SIGTERM, _exit_now)
    _end_with_parent()
    logs.configure(settings.log_format, settings.log_level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_tag_worker)  # lines of N processes interleave: say whose each is
    try:
        event_loop.run(_serve(settings, listener, ready))
    except Exception as error:
        # One line like the CLI's own errors (the parent then names the worker that failed).
        log.error("worker process %s failed: %s: %s", os.getpid(), type(error).__name__, error,
                  exc_info=bool(os.environ.get("PARLEY_DEBUG")))
        raise SystemExit(1) from None


def _exit_now(_signum, _frame) -> None:
    raise SystemExit(0)


def _tag_worker(record: logging.LogRecord) -> bool:
    record.worker = os.getpid()  # an extra field: `worker=<pid>` in text, "worker" in JSON
    return True


PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """Linux: a SIGTERM (a graceful stop) when the parent dies without stopping the workers
    (SIGKILL, OOM), so no orphan keeps serving on the port. Elsewhere nothing."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        raise SystemExit(0)  # it died before the line above took effect


async def _serve(settings: ServeSettings, listener: socket.socket, ready: Event) -> None:
    from parley.storage.db import Database
    from parley.web.app import create_app

    database = Database(settings.database_url)
    try:
        app = create_app(database, redis_url=settings.redis_url)
        server = _WorkerServer(settings.uvicorn_config(app), app, settings.drain_seconds, ready)
        # From here uvicorn's own handler (installed by serve) drains on SIGTERM, then sends the
        # signal again to this handler; it must not end the process before the database is
        # closed below, and a signal in the moment before serve installs its handler still counts.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: setattr(server, "should_exit", True))
        await server.serve(sockets=[listener])
    finally:
        await database.close()


class _WorkerServer(GracefulServer):
    """A GracefulServer that tells the parent once it serves."""

    def __init__(self, config: uvicorn.Config, app: Starlette, drain_seconds: float, ready: Event) -> None:
        super().__init__(config, app, drain_seconds)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()
