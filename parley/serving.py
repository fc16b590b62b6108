"""Running the server: one process (with the demo site, if asked), or N worker
processes (parley.web.workers); the command line (parley.cli serve) checks the options
and calls these."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from parley import event_loop
from parley.storage.db import Database
from parley.web.workers import ServeSettings

# On SIGTERM/SIGINT: open WebSockets get up to DRAIN seconds after their 1001 close,
# then uvicorn waits up to GRACE seconds for the rest and cancels what is left.
SHUTDOWN_DRAIN_SECONDS = 5
SHUTDOWN_GRACE_SECONDS = 10


class ServeError(Exception):
    """The server could not run (port taken, a worker that would not start): one clear line."""


def serve(database: Database, settings: ServeSettings, open_database: Callable[[Database], Awaitable[None]],
          demo_port: int | None = None) -> None:
    """Serves in this process until SIGINT/SIGTERM; with `demo_port`, the demo website
    too (parley.demo). `open_database` migrates the database (with the caller's errors)."""
    import uvicorn

    from parley import demo
    from parley.web.app import create_app
    from parley.web.demo_site import create_demo_site
    from parley.web.shutdown import GracefulServer

    host = settings.host
    server_url = f"http://{host}:{settings.port}"

    async def run() -> None:
        await open_database(database)
        servers = []
        web_app = create_app(database, redis_url=settings.redis_url)
        config = settings.uvicorn_config(web_app)
        servers.append(GracefulServer(config, web_app, SHUTDOWN_DRAIN_SECONDS))
        if demo_port is not None:
            demo_url = f"http://{host}:{demo_port}"
            app_id, credentials = await demo.set_up(database, demo_url)
            # uvicorn's loggers are global: no log_level here, or it would set the main server's too.
            servers.append(uvicorn.Server(uvicorn.Config(
                create_demo_site(app_id, server_url), host=host, port=demo_port,
                log_config=None, log_level=None)))
            banner = "\n".join([
                "",
                "Parley demo is running.",
                f"  Demo website (widget on it): {demo_url}/",
                f"  Operator inbox:              {server_url}/inbox",
                f"  Operator login:              {credentials['email']} / {credentials['password']}",
                f"  App id:                      {app_id}",
                "Press Ctrl+C to stop.",
                "",
            ])
        else:
            banner = f"Parley is serving on {server_url} (inbox: {server_url}/inbox)"
        for server in servers:
            server.install_signal_handlers = lambda: None
        loop = asyncio.get_running_loop()

        def stop() -> None:
            # uvicorn (>= 0.29) also catches the signal itself, and a second Ctrl+C forces
            # the exit; this handler only makes every server (the demo site too) stop.
            for server in servers:
                server.should_exit = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        running = asyncio.gather(*(_serve(server) for server in servers))
        try:
            # The URLs are printed once every server listens, so whoever reads them
            # (a person, a script, the e2e test) can open them at once.
            while not all(server.started for server in servers) and not running.done():
                await asyncio.sleep(0.05)
            if not running.done():
                print(banner, flush=True)
            await running
        finally:
            await database.close()

    event_loop.run(run())


def serve_workers(database: Database, settings: ServeSettings, count: int,
                  open_database: Callable[[Database], Awaitable[None]]) -> None:
    """`serve --workers N`: migrate once here, then N worker processes (parley.web.workers)."""
    from parley.web.workers import Supervisor, WorkersError

    async def migrate() -> None:
        try:
            await open_database(database)
        finally:
            await database.close()  # each worker opens its own engine: connections can't cross
    asyncio.run(migrate())
    server_url = f"http://{settings.host}:{settings.port}"
    supervisor = Supervisor(settings, count)
    try:
        pids = supervisor.start()
        if pids is not None:
            # Printed once every worker serves, like the single server's banner.
            print(f"Parley is serving on {server_url} (inbox: {server_url}/inbox) with {count} worker "
                  f"processes: {', '.join(map(str, pids))}", flush=True)
            supervisor.run()
    except WorkersError as error:
        raise ServeError(str(error)) from None
    finally:
        supervisor.stop()


async def _serve(server) -> None:
    try:
        await server.serve()
    except SystemExit:
        # uvicorn exits when it can't listen (port taken, unknown host), after logging why;
        # raised inside a task, SystemExit would end the loop with a traceback instead.
        config = server.config
        raise ServeError(f"could not serve on {config.host}:{config.port} (see the line above)") from None


