"""The `parley` command line's options: argparse only; each command's `run` is in its own module."""

from __future__ import annotations

import argparse

from parley import rules
from parley.cli.apps import cmd_app_create, cmd_app_list, cmd_app_set
from parley.cli.build import cmd_build
from parley.cli.database import cmd_db_upgrade
from parley.cli.erasure import cmd_retention_purge, cmd_visitor_delete
from parley.cli.operators import cmd_operator_create, cmd_operator_list, cmd_operator_reset_password
from parley.cli.serve import cmd_serve
from parley.cli.snippet import cmd_snippet
from parley.cli.teams import cmd_team_add_member, cmd_team_create
from parley.cli.triggers import cmd_trigger_add, cmd_trigger_list, cmd_trigger_remove


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
