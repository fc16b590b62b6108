"""`parley operator create|list|reset-password`: an app's operators and their logins."""

from __future__ import annotations

import asyncio
import json
import secrets

from parley import rules
from parley.cli.database import need_app, with_database
from parley.cli.errors import UsageError
from parley.storage import operator_queries


def cmd_operator_create(args) -> int:
    address = rules.email(args.email, "--email")
    password = rules.password(args.password, "--password")
    name = rules.name(args.name, "--name") if args.name else address.split("@")[0][:rules.MAX_NAME]

    async def work(session):
        await need_app(session, args.app)
        if await operator_queries.find_operator(session, args.app, address):
            raise UsageError(f"an operator with email {address!r} already exists in this app")
        operator = await operator_queries.create_operator(session, args.app, address, password, name,
                                                          args.role)
        return {"operatorId": operator.id, "appId": operator.app_id, "email": operator.email,
                "name": operator.name, "role": operator.role}
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_operator_list(args) -> int:
    async def work(session):
        await need_app(session, args.app_id)
        return [{"operatorId": o.id, "email": o.email, "name": o.name, "role": o.role,
                 "presence": o.presence} for o in await operator_queries.list_operators(session, args.app_id)]
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_operator_reset_password(args) -> int:
    generated = args.password is None
    # 18 random bytes: 24 URL-safe characters, 144 bits.
    password = secrets.token_urlsafe(18) if generated else args.password
    rules.email(args.email, "--email")
    rules.password(password, "--password")

    async def work(session):
        await need_app(session, args.app_id)
        operator = await operator_queries.find_operator(session, args.app_id, args.email)
        if operator is None:
            raise UsageError(f"the app has no operator with email {args.email!r} "
                             "(see `parley operator list`)")
        ended = await operator_queries.reset_operator_password(session, operator, password)
        result = {"operatorId": operator.id, "appId": operator.app_id, "email": operator.email,
                  "sessionsEnded": ended}
        return {**result, "password": password} if generated else result
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0
