"""parley.client against a real server: the clients the tests make, and what they record."""

from __future__ import annotations

from parley.client import OperatorClient, Timing, VisitorClient
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.server import SITE

TIMING = Timing(request_timeout=10, backoff_first=0.05, backoff_max=0.5)
EMAIL = "ann@shop.example"
BOB = "bob@shop.example"  # an operator who is never online: chats go to Ann until transferred
BOT = "bot@shop.example"  # examples/bot.py's login (tests/test_client_bot.py)


def visitor_for(served, timing: Timing = TIMING, **options) -> VisitorClient:
    _server, base, app_id, _secret = served
    return VisitorClient(base, app_id, origin=SITE, timing=timing, **options)


async def operator_for(served) -> OperatorClient:
    operator = OperatorClient(served[1], timing=TIMING)
    await operator.login(EMAIL, PASSWORD)
    await operator.connect(timeout=10)
    return operator


def record(client, event: str) -> list:
    payloads: list = []
    client.on(event, payloads.append)
    return payloads


def texts(events: list[dict]) -> list[str]:
    return [e["event"]["text"] for e in events if not e["event"].get("system")]
