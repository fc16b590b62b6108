"""`parley trigger add|list|remove`: auto-invitations and chatbots."""

from __future__ import annotations

import asyncio
import json

from parley import rules
from parley.cli.database import need_app, with_database
from parley.cli.errors import UsageError
from parley.storage import trigger_queries


def _trigger_json(trigger) -> dict:
    return {"triggerId": trigger.id, "appId": trigger.app_id, "name": trigger.name, "kind": trigger.kind,
            "message": trigger.message, "delay": trigger.delay_seconds,
            "conditions": trigger.conditions, "enabled": trigger.enabled}


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
        await need_app(session, args.app)
        trigger = await trigger_queries.create_trigger(
            session, args.app, message, name=name, kind=args.kind, delay_seconds=args.delay,
            conditions=conditions, enabled=not args.disabled)
        return _trigger_json(trigger)
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_trigger_list(args) -> int:
    async def work(session):
        await need_app(session, args.app)
        return [_trigger_json(t) for t in await trigger_queries.list_triggers(session, args.app)]
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_trigger_remove(args) -> int:
    async def work(session):
        await need_app(session, args.app)
        if not await trigger_queries.delete_trigger(session, args.app, args.id):
            raise UsageError(f"the app has no trigger with id {args.id!r} (see `parley trigger list`)")
        return {"triggerId": args.id, "removed": True}
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0
