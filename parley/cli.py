"""`parley` command line: serve, build, apps, operators, teams, triggers, snippet, database."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import secrets
import sys
import traceback
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from parley import files, hours, identity, rules
from parley.settings import (
    DIST,
    IN_CHECKOUT,
    PROJECT_ROOT,
    ConfigError,
    database_backend,
    database_url,
    redis_url,
)
from parley.snippet import render_snippet
from parley.storage import app_queries, operator_queries, retention, trigger_queries, visitor_store
from parley.storage.db import Database


class UsageError(rules.InvalidInput):
    """A mistake in the command's input: printed as one clear line, exit 2. The input
    rules (parley.rules) raise InvalidInput naming the option, which is printed the same way."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.field, self.message = "", message


class CommandError(Exception):
    """The input was fine but the command could not be done (database unreachable, port taken):
    printed as one clear line, exit 1."""


def _load_build_module():
    if not IN_CHECKOUT:
        # An installed wheel carries dist/ already built (setup.py); its sources are not installed.
        raise UsageError(f"`parley build` works in a source checkout (build.py, widget/, static/); "
                         f"this installation serves the assets built into the package, {DIST}")
    spec = importlib.util.spec_from_file_location("parley_build", PROJECT_ROOT / "build.py")
    if spec is None or spec.loader is None:
        raise UsageError("build.py not found next to the parley package")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_build() -> dict:
    return _load_build_module().build()


def ensure_built() -> None:
    """Builds dist/ when it is missing or was built from other sources (e.g. after a pull).
    An installed wheel serves the dist/ built into it and never builds."""
    if not IN_CHECKOUT:
        if not (DIST / "manifest.json").is_file():
            raise CommandError(f"this installation of parley has no built assets in {DIST}; "
                               "reinstall it from a wheel built with `pip wheel .` in a checkout")
        return
    if not _load_build_module().is_current(DIST):
        print("building dist/ ...", flush=True)
        run_build()


def _database(url: str | None) -> Database:
    """The database of --db / $PARLEY_DB / the data folder."""
    resolved = database_url(url)
    try:
        return Database(resolved)
    except ModuleNotFoundError as missing:  # the driver of an optional extra
        raise CommandError(f"{_shown(resolved)} needs the {missing.name} package: "
                           "pip install 'parley[postgres]'") from None


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


async def _open(database: Database) -> None:
    """Migrates the database to the newest schema; "can't reach it" becomes one clear line."""
    try:
        await database.upgrade()
    except (OSError, DBAPIError) as error:  # refused, unknown host, timeout, bad password, no such file
        raise CommandError(f"could not open the database {_shown(database.url)}: "
                           f"{_first_line(error)}") from None


async def _with_db(url: str | None, work):
    database = _database(url)
    try:
        await _open(database)
        async with database.session() as session:
            result = await work(session)
            await session.commit()  # the command's one unit of work
            return result
    finally:
        await database.close()


# -- commands ----------------------------------------------------------------

def cmd_build(_args) -> int:
    manifest = run_build()
    sizes = _load_build_module().widget_download_sizes(manifest)
    print(json.dumps({"buildId": manifest["build_id"], "widgetBytes": sizes}))
    return 0


def cmd_db_upgrade(args) -> int:
    async def upgrade():
        database = _database(args.db)
        try:
            await _open(database)
        finally:
            await database.close()
    asyncio.run(upgrade())
    print("database is at the newest schema")
    return 0


def cmd_app_create(args) -> int:
    name = rules.name(args.name, "--name")
    origins = [rules.origin(o, "--origin") for o in args.origin or []]

    async def work(session):
        app = await app_queries.create_app(session, name, origins)
        return {"appId": app.id, "secret": app.secret, "name": app.name, "origins": app.origins}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def _assignment_rules(text: str) -> list:
    """Parses and checks default assignment rules with the widget's own rule checker."""
    from widget.core.assignments import normalize_rules

    try:
        rules = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--assignment-rules is not JSON: {error}") from None
    if not isinstance(rules, list):
        raise UsageError("--assignment-rules must be a JSON array like [{\"team-id\": [\"page_url\", "
                         "\"contains\", \"pricing\"]}, {\"john-id\": true}]")
    _normalised, warnings = normalize_rules(rules, "assignment-rules")
    if warnings:
        raise UsageError("; ".join(warnings))
    return rules


def cmd_app_set(args) -> int:
    changes: dict = {}
    if args.name is not None:
        changes["name"] = rules.name(args.name, "--name")
    if args.origin or args.clear_origins:
        changes["origins"] = [rules.origin(o, "--origin") for o in args.origin or []]
    if args.assignment_rules is not None:
        changes["assignment_rules"] = _assignment_rules(args.assignment_rules) or None
    if args.working_hours is not None:
        if not args.timezone:
            raise UsageError("--working-hours needs --timezone, e.g. --timezone Europe/Berlin")
        try:
            changes["working_hours"] = hours.parse(args.working_hours, args.timezone)
        except hours.HoursError as error:
            raise UsageError(f"--working-hours: {error}") from None
    elif args.timezone:
        raise UsageError("--timezone goes with --working-hours")
    if args.clear_working_hours:
        changes["working_hours"] = None
    if args.languages is not None:
        changes["languages"] = _languages(args.languages)
    if args.max_chats is not None:
        if not 1 <= args.max_chats <= 1000:
            raise UsageError("--max-chats must be 1..1000 (or --no-max-chats)")
        changes["max_chats_per_operator"] = args.max_chats
    if args.no_max_chats:
        changes["max_chats_per_operator"] = None
    appearance = _appearance_changes(args)
    if not changes and appearance is None:
        raise UsageError("nothing to change: give --name, --origin, --clear-origins, --assignment-rules, "
                         "--working-hours, --max-chats, --languages or an appearance option")

    async def work(session):
        app = await app_queries.get_app(session, args.app)
        if app is None:
            raise UsageError(f"no app with id {args.app!r} (see `parley app list`)")
        if appearance is not None:
            merged = {**(app.appearance or {}), **appearance}
            changes["appearance"] = {key: value for key, value in merged.items() if value} or None
        await app_queries.update_app(session, app, changes)
        return {"appId": app.id, "name": app.name, "origins": app.origins,
                "appearance": rules.widget_appearance(app.appearance) or {},
                "requireSignedIdentity": rules.requires_signed_identity(app.appearance),
                "transcriptsToAnyEmail": rules.transcripts_to_any_email(app.appearance),
                "maxChatsPerOperator": app.max_chats_per_operator,
                "languages": app.languages,
                "assignmentRules": app.assignment_rules or [],
                "workingHours": hours.describe(app.working_hours) or None}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


# The widget's default look, set per app; chaportConfig.appearance on a page wins over it.
APPEARANCE_OPTIONS = {"window_color": "windowColor", "team_name": "teamName",
                      "online_welcome": "onlineWelcome", "offline_welcome": "offlineWelcome"}
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _languages(text: str) -> list[str] | None:
    """'de,en' -> ['de', 'en'] (the widget's codes); '' -> None (every language)."""
    from widget.core.i18n import LANGUAGES

    codes = [code.strip().lower() for code in text.split(",") if code.strip()]
    unknown = [code for code in codes if code not in LANGUAGES]
    if unknown:
        raise UsageError(f"--languages: unknown {', '.join(unknown)}; the widget has {', '.join(LANGUAGES)}")
    return list(dict.fromkeys(codes)) or None


def _appearance_changes(args) -> dict | None:
    changes = {}
    for option, key in APPEARANCE_OPTIONS.items():
        value = getattr(args, option, None)
        if value is None:
            continue
        value = value.strip()
        if key == "windowColor" and value and not HEX_COLOR.match(value):
            raise UsageError("--window-color must be #rrggbb, e.g. #3659e3 ('' clears it)")
        if len(value) > 1000:
            raise UsageError(f"--{option.replace('_', '-')} must be at most 1000 characters")
        changes[key] = value  # "" clears the default
    required = getattr(args, "require_signed_identity", None)
    if required is not None:
        # Stored with the appearance settings (a JSON column: no migration); False unsets it.
        changes[rules.REQUIRE_SIGNED_IDENTITY] = required
    any_email = getattr(args, "transcripts_to_any_email", None)
    if any_email is not None:
        changes[rules.TRANSCRIPTS_TO_ANY_EMAIL] = any_email  # stored like the one above
    return changes or None


def cmd_app_list(args) -> int:
    async def work(session):
        apps = await app_queries.list_apps(session)
        return [{"appId": a.id, "name": a.name, "origins": a.origins,
                 "workingHours": hours.describe(a.working_hours) or None} for a in apps]
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_operator_create(args) -> int:
    address = rules.email(args.email, "--email")
    password = rules.password(args.password, "--password")
    name = rules.name(args.name, "--name") if args.name else address.split("@")[0][:rules.MAX_NAME]

    async def work(session):
        if await app_queries.get_app(session, args.app) is None:
            raise UsageError(f"no app with id {args.app!r} (see `parley app list`)")
        if await operator_queries.find_operator(session, args.app, address):
            raise UsageError(f"an operator with email {address!r} already exists in this app")
        operator = await operator_queries.create_operator(session, args.app, address, password, name,
                                                          args.role)
        return {"operatorId": operator.id, "appId": operator.app_id, "email": operator.email,
                "name": operator.name, "role": operator.role}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_operator_list(args) -> int:
    async def work(session):
        await _need_app(session, args.app_id)
        return [{"operatorId": o.id, "email": o.email, "name": o.name, "role": o.role,
                 "presence": o.presence} for o in await operator_queries.list_operators(session, args.app_id)]
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_operator_reset_password(args) -> int:
    generated = args.password is None
    # 18 random bytes: 24 URL-safe characters, 144 bits.
    password = secrets.token_urlsafe(18) if generated else args.password
    rules.email(args.email, "--email")
    rules.password(password, "--password")

    async def work(session):
        await _need_app(session, args.app_id)
        operator = await operator_queries.find_operator(session, args.app_id, args.email)
        if operator is None:
            raise UsageError(f"the app has no operator with email {args.email!r} "
                             "(see `parley operator list`)")
        ended = await operator_queries.reset_operator_password(session, operator, password)
        result = {"operatorId": operator.id, "appId": operator.app_id, "email": operator.email,
                  "sessionsEnded": ended}
        return {**result, "password": password} if generated else result
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def _remove_file_bytes(file_ids: list[str]) -> tuple[int, list[str]]:
    """Deletes the stored bytes of these files: (how many were removed, ids that could not be)."""
    removed, failed = 0, []
    for file_id in file_ids:
        try:
            # False: no bytes were stored (or an earlier run removed them).
            removed += files.delete_file_bytes(file_id)
        except OSError as error:
            print(f"parley: error: could not delete the bytes of file {file_id}: {error}", file=sys.stderr)
            failed.append(file_id)
    return removed, failed


def _report_erasure(result: dict, file_ids: list[str], dry_run: bool = False) -> int:
    """Removes the deleted files' bytes (the rows are gone, committed) and prints the result."""
    if not dry_run:
        result["fileBytesRemoved"], failed = _remove_file_bytes(file_ids)
        if failed:
            result["fileBytesNotRemoved"] = failed
    print(json.dumps(result, indent=2))
    return 1 if result.get("fileBytesNotRemoved") else 0


def cmd_visitor_delete(args) -> int:
    if not identity.valid_user_id(args.visitor_id):
        raise UsageError("--visitor-id must be 1 to 64 characters of A-Z a-z 0-9 _ -")

    async def work(session):
        await _need_app(session, args.app_id)
        visitor = await visitor_store.get_visitor(session, args.app_id, args.visitor_id)
        if visitor is None:  # also another app's visitor: the same answer
            raise UsageError(f"the app has no visitor with id {args.visitor_id!r}")
        return await retention.erase_visitor(session, visitor)
    counts, file_ids = asyncio.run(_with_db(args.db, work))
    return _report_erasure({"visitorId": args.visitor_id, "appId": args.app_id, "deleted": counts},
                           file_ids)


MAX_RETENTION_DAYS = 36500


def cmd_retention_purge(args) -> int:
    if not 1 <= args.days <= MAX_RETENTION_DAYS:
        raise UsageError(f"--days must be 1 to {MAX_RETENTION_DAYS}")

    async def work(session):
        if args.app_id is not None:
            await _need_app(session, args.app_id)
        return await retention.purge_old(session, args.days, args.app_id, args.dry_run)
    counts, file_ids = asyncio.run(_with_db(args.db, work))
    result = {"days": args.days, "appId": args.app_id, "dryRun": args.dry_run,
              "wouldDelete" if args.dry_run else "deleted": counts}
    return _report_erasure(result, file_ids, args.dry_run)


# -- triggers and teams ----------------------------------------------------------

def _trigger_json(trigger) -> dict:
    return {"triggerId": trigger.id, "appId": trigger.app_id, "name": trigger.name, "kind": trigger.kind,
            "message": trigger.message, "delay": trigger.delay_seconds,
            "conditions": trigger.conditions, "enabled": trigger.enabled}


async def _need_app(session, app_id: str):
    app = await app_queries.get_app(session, app_id)
    if app is None:
        raise UsageError(f"no app with id {app_id!r} (see `parley app list`)")
    return app


def cmd_trigger_add(args) -> int:
    message = args.message.strip()
    if not message or len(message) > 5000:
        raise UsageError("--message must be 1 to 5000 characters")
    if args.delay < 0 or args.delay > 86400:
        raise UsageError("--delay must be 0 to 86400 seconds")
    name = (args.name or "").strip()
    if len(name) > 200:
        raise UsageError("--name must be at most 200 characters")
    conditions = [rules.condition(when, "--when") for when in args.when or []]

    async def work(session):
        await _need_app(session, args.app)
        trigger = await trigger_queries.create_trigger(
            session, args.app, message, name=name, kind=args.kind, delay_seconds=args.delay,
            conditions=conditions, enabled=not args.disabled)
        return _trigger_json(trigger)
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_trigger_list(args) -> int:
    async def work(session):
        await _need_app(session, args.app)
        return [_trigger_json(t) for t in await trigger_queries.list_triggers(session, args.app)]
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_trigger_remove(args) -> int:
    async def work(session):
        await _need_app(session, args.app)
        if not await trigger_queries.delete_trigger(session, args.app, args.id):
            raise UsageError(f"the app has no trigger with id {args.id!r} (see `parley trigger list`)")
        return {"triggerId": args.id, "removed": True}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_team_create(args) -> int:
    name = rules.name(args.name, "--name")

    async def work(session):
        await _need_app(session, args.app)
        team = await operator_queries.create_team(session, args.app, name)
        return {"teamId": team.id, "appId": team.app_id, "name": team.name}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_team_add_member(args) -> int:
    async def work(session):
        await _need_app(session, args.app)
        team = await operator_queries.get_team(session, args.app, args.team)
        if team is None:
            raise UsageError(f"the app has no team with id {args.team!r}")
        operator = await operator_queries.get_operator(session, args.app, args.operator)
        if operator is None:
            raise UsageError(f"the app has no operator with id {args.operator!r}")
        await operator_queries.add_team_member(session, team, operator)
        return {"teamId": team.id, "name": team.name,
                "operatorIds": await operator_queries.team_member_ids(session, team.id)}
    print(json.dumps(asyncio.run(_with_db(args.db, work)), indent=2))
    return 0


def cmd_snippet(args) -> int:
    # Not looked up in the database: the snippet may be for another server's app. Its
    # shape is checked, so a lost shell variable can't print a snippet with an empty id.
    app_id = args.app_id
    if not app_id or len(app_id) > 200 or any(ch.isspace() or not ch.isprintable() for ch in app_id):
        raise UsageError("--app-id must be the app's id as `parley app create` / `parley app list` print it, "
                         f"got {app_id!r}")
    server = args.server.rstrip("/")
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not 0..65535
    except ValueError:
        raise UsageError(f"--server must be an http(s) URL, got {args.server!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--server must be an http(s) URL, got {args.server!r}")
    print(render_snippet(app_id, server))
    return 0


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
    ensure_built()
    database = _database(args.db)
    from parley.ratelimit import Limits

    Limits()  # a wrong $PARLEY_LIMITS stops here with its message, not as a traceback at startup
    settings = ServeSettings(
        database_url=database.url, redis_url=redis, host=args.host, port=args.port,
        log_format=log_format, log_level=args.log_level, proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips, drain_seconds=serving.SHUTDOWN_DRAIN_SECONDS,
        grace_seconds=serving.SHUTDOWN_GRACE_SECONDS)
    try:
        if args.workers > 1:
            serving.serve_workers(database, settings, args.workers, _open)
        else:
            demo_port = (args.demo_port or args.port + 1) if args.demo else None
            serving.serve(database, settings, _open, demo_port=demo_port)
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


# -- argument parsing ----------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="parley", description="Parley live chat server")
    commands = root.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="database URL (default: SQLite in ./var or $PARLEY_DATA)")
        return p

    serve = with_db(commands.add_parser("serve", help="run the server (builds dist/ if missing)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--redis", metavar="URL",
                       help="share live events with other server processes through Redis, e.g. "
                            "redis://127.0.0.1:6379/0 (default: $PARLEY_REDIS_URL, else in-process only)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="N server processes on this machine, sharing the port (default 1); more than "
                            "one needs PostgreSQL (--db) and Redis (--redis)")
    serve.add_argument("--demo", action="store_true", help="also create a demo app and website")
    serve.add_argument("--demo-port", type=int, help="port of the demo website (default: port+1)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--log-format", choices=["text", "json"],
                       help="text, or JSON lines with ts, level, logger, msg "
                            "(default: $PARLEY_LOG_FORMAT, else text)")
    serve.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=True,
                       help="take the client's address and scheme from X-Forwarded-For/-Proto sent by "
                            "--forwarded-allow-ips (default: on)")
    serve.add_argument("--forwarded-allow-ips", metavar="IPS",
                       help="comma-separated addresses of the proxies to trust, or '*' "
                            "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1)")
    serve.set_defaults(run=cmd_serve)

    commands.add_parser("build", help="build dist/").set_defaults(run=cmd_build)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True)
    with_db(db.add_parser("upgrade", help="migrate to the newest schema")).set_defaults(run=cmd_db_upgrade)

    app = commands.add_parser("app", help="apps (websites)").add_subparsers(
        dest="app_command", required=True)
    create = with_db(app.add_parser("create", help="create an app; prints its id and secret"))
    create.add_argument("--name", required=True)
    create.add_argument("--origin", action="append", help="allowed website origin (repeatable)")
    create.set_defaults(run=cmd_app_create)
    with_db(app.add_parser("list", help="list apps")).set_defaults(run=cmd_app_list)
    app_set = with_db(app.add_parser("set", help="change an app's name, origins or default assignment rules"))
    app_set.add_argument("--app", required=True)
    app_set.add_argument("--name")
    app_set.add_argument("--origin", action="append", help="allowed website origin (repeatable; replaces)")
    app_set.add_argument("--clear-origins", action="store_true", help="allow every origin")
    app_set.add_argument("--assignment-rules", metavar="JSON",
                         help='default rules, e.g. \'[{"sales-team": ["page_url", "contains", "pricing"]}]\'')
    app_set.add_argument("--working-hours", metavar="SPEC",
                         help="when chats are taken, e.g. 'mon-fri 09:00-17:30, sat 10:00-14:00' "
                              "(outside them the widget shows offline); needs --timezone")
    app_set.add_argument("--timezone", metavar="ZONE", help="IANA time zone of --working-hours")
    app_set.add_argument("--clear-working-hours", action="store_true", help="take chats at any time")
    app_set.add_argument("--languages", metavar="CODES",
                         help="widget languages this app offers, e.g. 'de,en' ('' = all); visitors get "
                              "the best match, else the first")
    app_set.add_argument("--max-chats", type=int, metavar="N",
                         help="open chats per operator; when all online operators have N, new chats queue")
    app_set.add_argument("--no-max-chats", action="store_true", help="no limit (no queue)")
    app_set.add_argument("--window-color", help="the widget's default colour, #rrggbb ('' clears)")
    app_set.add_argument("--team-name", help="the widget's default header title")
    app_set.add_argument("--online-welcome", help="the default welcome while operators are online")
    app_set.add_argument("--offline-welcome", help="the default welcome while nobody is online")
    app_set.add_argument("--require-signed-identity", action=argparse.BooleanOptionalAction, default=None,
                         help="accept visitor data (visitor.update) only with a valid visitorIntegrityHash")
    app_set.add_argument("--transcripts-to-any-email", action=argparse.BooleanOptionalAction, default=None,
                         help="mail chat transcripts to any address a visitor gives (default: only to "
                              "the email the site signed for the visitor); spammers can use it to relay")
    app_set.set_defaults(run=cmd_app_set)

    operator = commands.add_parser("operator", help="operators").add_subparsers(
        dest="op_command", required=True)
    op_create = with_db(operator.add_parser("create", help="create an operator"))
    op_create.add_argument("--app", required=True)
    op_create.add_argument("--email", required=True)
    op_create.add_argument("--password", required=True)
    op_create.add_argument("--name")
    op_create.add_argument("--role", choices=("operator", "admin", "bot"), default="operator",
                           help="admins also manage the app in /inbox/admin; a bot (a parley.client "
                                "integration such as examples/bot.py) writes as author kind `bot`, "
                                "never counts as online and is never given chats")
    op_create.set_defaults(run=cmd_operator_create)
    op_list = with_db(operator.add_parser("list", help="list an app's operators (no password hashes)"))
    op_list.add_argument("--app-id", "--app", dest="app_id", required=True)
    op_list.set_defaults(run=cmd_operator_list)
    op_reset = with_db(operator.add_parser(
        "reset-password", help="set a new password (generated if not given) and end all its logins"))
    op_reset.add_argument("--app-id", "--app", dest="app_id", required=True)
    op_reset.add_argument("--email", required=True)
    op_reset.add_argument("--password", help="the new password (default: a generated one, printed)")
    op_reset.set_defaults(run=cmd_operator_reset_password)

    visitor = commands.add_parser("visitor", help="visitors").add_subparsers(
        dest="visitor_command", required=True)
    v_delete = with_db(visitor.add_parser(
        "delete", help="erase a visitor and all their data: chats, messages, events, page views, files"))
    v_delete.add_argument("--app-id", "--app", dest="app_id", required=True)
    v_delete.add_argument("--visitor-id", required=True)
    v_delete.set_defaults(run=cmd_visitor_delete)

    retention = commands.add_parser("retention", help="data retention").add_subparsers(
        dest="retention_command", required=True)
    purge = with_db(retention.add_parser(
        "purge", help="delete closed chats, page views, events and idle visitors older than N days"))
    purge.add_argument("--days", type=int, required=True, metavar="N", help="keep the last N days (N >= 1)")
    purge.add_argument("--app-id", "--app", dest="app_id", help="only this app (default: every app)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.set_defaults(run=cmd_retention_purge)

    trigger = commands.add_parser("trigger", help="auto-invitations and chatbots").add_subparsers(
        dest="trigger_command", required=True)
    t_add = with_db(trigger.add_parser("add", help="add a trigger; prints its id"))
    t_add.add_argument("--app", required=True)
    t_add.add_argument("--message", required=True)
    t_add.add_argument("--name", help="a label for the inbox")
    t_add.add_argument("--kind", choices=rules.TRIGGER_KINDS, default="invitation")
    t_add.add_argument("--delay", type=int, default=0, help="seconds on the page before it shows")
    t_add.add_argument("--when", action="append", metavar="'KEY MATCHER VALUE'",
                       help="a condition, e.g. 'page_url contains pricing' (repeatable; all must hold)")
    t_add.add_argument("--disabled", action="store_true", help="store it switched off")
    t_add.set_defaults(run=cmd_trigger_add)
    t_list = with_db(trigger.add_parser("list", help="list an app's triggers"))
    t_list.add_argument("--app", required=True)
    t_list.set_defaults(run=cmd_trigger_list)
    t_remove = with_db(trigger.add_parser("remove", help="remove a trigger"))
    t_remove.add_argument("--app", required=True)
    t_remove.add_argument("--id", required=True)
    t_remove.set_defaults(run=cmd_trigger_remove)

    team = commands.add_parser("team", help="teams of operators").add_subparsers(
        dest="team_command", required=True)
    team_create = with_db(team.add_parser("create", help="create a team; prints its id"))
    team_create.add_argument("--app", required=True)
    team_create.add_argument("--name", required=True)
    team_create.set_defaults(run=cmd_team_create)
    team_add = with_db(team.add_parser("add-member", help="add an operator to a team"))
    team_add.add_argument("--app", required=True)
    team_add.add_argument("--team", required=True)
    team_add.add_argument("--operator", required=True)
    team_add.set_defaults(run=cmd_team_add_member)

    snippet = commands.add_parser("snippet", help="print the installation snippet")
    snippet.add_argument("--app-id", required=True)
    snippet.add_argument("--server", default="http://127.0.0.1:8000")
    snippet.set_defaults(run=cmd_snippet)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (rules.InvalidInput, ConfigError) as error:
        print(f"parley: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"parley: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # Whatever else goes wrong is still one line; PARLEY_DEBUG=1 shows where it came from.
        if os.environ.get("PARLEY_DEBUG"):
            traceback.print_exc()
        print(f"parley: error: {type(error).__name__}: {_first_line(error)} "
              "(PARLEY_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
