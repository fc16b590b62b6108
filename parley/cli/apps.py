"""`parley app create|list|set`: apps (websites) and their settings."""

from __future__ import annotations

import asyncio
import json
import re

from parley import hours, rules
from parley.cli.database import need_app, with_database
from parley.cli.errors import UsageError
from parley.storage import app_queries

# The widget's default look, set per app; chaportConfig.appearance on a page wins over it.
APPEARANCE_OPTIONS = {"window_color": "windowColor", "team_name": "teamName",
                      "online_welcome": "onlineWelcome", "offline_welcome": "offlineWelcome"}
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def cmd_app_create(args) -> int:
    name = rules.name(args.name, "--name")
    origins = [rules.origin(o, "--origin") for o in args.origin or []]

    async def work(session):
        app = await app_queries.create_app(session, name, origins)
        return {"appId": app.id, "secret": app.secret, "name": app.name, "origins": app.origins}
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_app_list(args) -> int:
    async def work(session):
        apps = await app_queries.list_apps(session)
        return [{"appId": a.id, "name": a.name, "origins": a.origins,
                 "workingHours": hours.describe(a.working_hours) or None} for a in apps]
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


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
        app = await need_app(session, args.app)
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
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
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
