"""The demo (`parley serve --demo`): an app and an admin operator for the demo website,
created once and reused on later runs."""

from __future__ import annotations

import secrets

from parley import identity
from parley.storage import app_queries, operator_queries
from parley.storage.db import Database

DEMO_APP_NAME = "Demo website"
DEMO_EMAIL = "demo@parley.local"


async def set_up(database: Database, demo_url: str) -> tuple[str, dict]:
    """The demo app and operator, created once and reused on later runs."""
    async with database.session() as session:
        app = next((a for a in await app_queries.list_apps(session) if a.name == DEMO_APP_NAME), None)
        if app is None:
            app = await app_queries.create_app(session, DEMO_APP_NAME, [demo_url])
        elif demo_url not in app.origins:
            await app_queries.update_app(session, app, {"origins": [*app.origins, demo_url]})
        password = secrets.token_urlsafe(9)
        operator = await operator_queries.find_operator(session, app.id, DEMO_EMAIL)
        if operator is None:
            await operator_queries.create_operator(session, app.id, DEMO_EMAIL, password, "Demo Operator",
                                                   "admin")
        else:
            # A fresh password each run: it is printed, never stored in clear.
            await operator_queries.update_operator(
                session, operator, {"password_hash": identity.hash_password(password)})
        await session.commit()
        return app.id, {"email": DEMO_EMAIL, "password": password}
