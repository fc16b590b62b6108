"""`parley serve`: checks the options, then hands over to parley.serving (one process or workers)."""

from __future__ import annotations

import importlib.util
import os

from parley.cli import build
from parley.cli.database import database_of, open_database
from parley.cli.errors import CommandError, UsageError
from parley.settings import database_backend, redis_url


def cmd_serve(args) -> int:
    # Imported when serving only: uvicorn and the app are heavy for `parley app ...`.
    from parley import logs, serving
    from parley.web.workers import MAX_WORKERS, ServeSettings

    log_format = args.log_format or os.environ.get("PARLEY_LOG_FORMAT") or "text"
    if log_format not in logs.FORMATS:
        raise UsageError(f"--log-format (or $PARLEY_LOG_FORMAT) must be json or text, got {log_format!r}")
    for flag, port in (("--port", args.port), ("--demo-port", args.demo_port)):
        if port is not None and not 1 <= port <= 65535:
            raise UsageError(f"{flag} must be 1 to 65535, got {port}")
    redis = redis_url(args.redis)
    if redis and not redis.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError("--redis (or $PARLEY_REDIS_URL) must be a redis://, rediss:// or unix:// URL, "
                         f"got {redis!r}")
    _check_workers(args, redis, MAX_WORKERS)
    if redis and importlib.util.find_spec("redis") is None:
        # Found here, not when each process's fan-out starts (and fails) in its lifespan.
        raise CommandError("--redis needs the redis package: pip install 'parley[redis]'")
    logs.configure(log_format, args.log_level)
    build.ensure_built()
    database = database_of(args.db)
    from parley.ratelimit import Limits

    Limits()  # a wrong $PARLEY_LIMITS stops here with its message, not as a traceback at startup
    settings = ServeSettings(
        database_url=database.url, redis_url=redis, host=args.host, port=args.port,
        log_format=log_format, log_level=args.log_level, proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips, drain_seconds=serving.SHUTDOWN_DRAIN_SECONDS,
        grace_seconds=serving.SHUTDOWN_GRACE_SECONDS)
    try:
        if args.workers > 1:
            serving.serve_workers(database, settings, args.workers, open_database)
        else:
            demo_port = (args.demo_port or args.port + 1) if args.demo else None
            serving.serve(database, settings, open_database, demo_port=demo_port)
    except serving.ServeError as error:
        raise CommandError(str(error)) from None
    return 0


def _check_workers(args, redis: str | None, most: int) -> None:
    """--workers N > 1 needs PostgreSQL and Redis: refused here, before anything is built or opened."""
    if not 1 <= args.workers <= most:
        raise UsageError(f"--workers must be 1 to {most}, got {args.workers}")
    if args.workers == 1:
        return
    if args.demo:
        raise UsageError("--demo runs in one process; leave out --workers")
    needs, why = [], []
    if database_backend(args.db) != "postgresql":
        needs.append("PostgreSQL (--db postgresql://… or $PARLEY_DB)")
        why.append("the worker processes share one database, and SQLite is a file for one process")
    if not redis:
        needs.append("Redis (--redis redis://… or $PARLEY_REDIS_URL)")
        why.append("live events pass between the worker processes through Redis")
    if needs:
        raise UsageError(f"--workers {args.workers} needs {' and '.join(needs)}: {'; '.join(why)}")
