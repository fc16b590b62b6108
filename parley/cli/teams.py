"""`parley team create|add-member`: teams of operators (assignment rules name them)."""

from __future__ import annotations

import asyncio
import json

from parley import rules
from parley.cli.database import need_app, with_database
from parley.cli.errors import UsageError
from parley.storage import operator_queries


def cmd_team_create(args) -> int:
    name = rules.name(args.name, "--name")

    async def work(session):
        await need_app(session, args.app)
        team = await operator_queries.create_team(session, args.app, name)
        return {"teamId": team.id, "appId": team.app_id, "name": team.name}
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0


def cmd_team_add_member(args) -> int:
    async def work(session):
        await need_app(session, args.app)
        team = await operator_queries.get_team(session, args.app, args.team)
        if team is None:
            raise UsageError(f"the app has no team with id {args.team!r}")
        operator = await operator_queries.get_operator(session, args.app, args.operator)
        if operator is None:
            raise UsageError(f"the app has no operator with id {args.operator!r}")
        await operator_queries.add_team_member(session, team, operator)
        return {"teamId": team.id, "name": team.name,
                "operatorIds": await operator_queries.team_member_ids(session, team.id)}
    print(json.dumps(asyncio.run(with_database(args.db, work)), indent=2))
    return 0
