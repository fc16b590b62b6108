"""Handing a chat over to Parley's own page (`openIn: '_blank'`), issue 13 finding 9.

The widget asks for a one-time, short-lived, server-issued handover token with its own
credentials; the new tab's page (/chat/<appId>, on Parley's origin) exchanges it once
for the visitor's credentials. Raw credentials never travel in a link, so a crafted
link can't put a victim into somebody else's visitor.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from parley.storage import app_queries, handovers, visitor_store
from parley.storage.models import HandoverToken, utcnow
from parley.web.app import create_app
from tests.helpers.db import run

ORIGIN = "https://shop.example"
SERVER = "http://testserver"  # the TestClient's origin: Parley's own pages
ISSUE = "/api/visitor/handover"
REDEEM = "/api/visitor/handover/redeem"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A minimal dist/ (no widget build needed for these endpoints)."""
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"build_id": "test", "files": {}}))
    return folder


@pytest.fixture
def http(database, dist) -> Iterator[TestClient]:
    with TestClient(create_app(database, dist)) as client:
        yield client


@pytest.fixture
def shop(database):
    return run(database, lambda s: app_queries.create_app(s, "Shop", [ORIGIN]))


def new_visitor(database, app_id: str):
    return run(database, lambda s: visitor_store.resume_or_register_visitor(s, app_id, None, None))


def issue(http, app_id: str, visitor, origin: str | None = ORIGIN, token: str | None = None):
    headers = {"X-Parley-App": app_id, "X-Parley-Visitor": visitor.id,
               "X-Parley-Visitor-Token": visitor.token if token is None else token}
    if origin is not None:
        headers["Origin"] = origin
    return http.post(ISSUE, headers=headers)


def issued(http, app_id: str, visitor) -> str:
    response = issue(http, app_id, visitor)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["handover"]


def redeem(http, app_id: str, handover, origin: str | None = SERVER):
    headers = {"Origin": origin} if origin is not None else {}
    return http.post(REDEEM, json={"appId": app_id, "handover": handover}, headers=headers)


def refused(response, status: int = 403, code: str = "PARLEY_E_AUTH") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["code"] == code and body["message"]
    assert "visitorToken" not in response.text


def test_a_handover_token_gives_its_visitor_once(http, database, shop):
    visitor = new_visitor(database, shop.id)
    response = issue(http, shop.id, visitor)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expiresIn"] == 60
    handover = body["handover"]
    # 256 random bits, url-safe: nothing like the visitor's own credentials.
    assert len(handover) == 43 and visitor.token not in handover and visitor.id not in handover
    # Only its SHA-256 is stored, bound to the visitor and the app.
    rows = run(database, lambda s: s.scalars(select(HandoverToken)))
    [row] = list(rows)
    assert row.token_hash == hashlib.sha256(handover.encode()).hexdigest()
    assert (row.visitor_id, row.app_id) == (visitor.id, shop.id)
    # The visitor's token is kept only sealed under the handover token (visitor tokens are
    # stored as hashes, so this is how the exchange can give it back).
    assert visitor.token not in row.sealed_token and visitor.token.encode().hex() != row.sealed_token

    answer = redeem(http, shop.id, handover)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"visitorId": visitor.id, "visitorToken": visitor.token}
    assert answer.headers["cache-control"] == "no-store"
    # Used: a second exchange (a replayed link, a second tab) gives nothing.
    refused(redeem(http, shop.id, handover))
    assert list(run(database, lambda s: s.scalars(select(HandoverToken)))) == []


def test_a_handover_token_expires_after_60_seconds(http, database, shop, monkeypatch):
    visitor = new_visitor(database, shop.id)
    late, in_time = issued(http, shop.id, visitor), issued(http, shop.id, visitor)
    start = utcnow()
    monkeypatch.setattr(handovers, "utcnow", lambda: start + timedelta(seconds=59))
    assert redeem(http, shop.id, in_time).json()["visitorId"] == visitor.id
    monkeypatch.setattr(handovers, "utcnow", lambda: start + timedelta(seconds=61))
    refused(redeem(http, shop.id, late))


def test_a_handover_token_is_bound_to_its_app(http, database, shop):
    other_app = run(database, lambda s: app_queries.create_app(s, "Other", ["https://other.example"]))
    visitor = new_visitor(database, shop.id)
    handover = issued(http, shop.id, visitor)
    # Another app's chat page gets nothing (and the token stays its app's).
    refused(redeem(http, other_app.id, handover))
    assert redeem(http, shop.id, handover).json()["visitorId"] == visitor.id
    # Nor can a visitor get a token for another app than its own.
    refused(issue(http, other_app.id, visitor, origin="https://other.example"))


def test_unknown_and_malformed_tokens_give_nothing(http, database, shop):
    visitor = new_visitor(database, shop.id)
    handover = issued(http, shop.id, visitor)
    for wrong in ("A" * 43, handover[:-1], handover + "x", "", "x" * 500, f"{visitor.id}.{visitor.token}"):
        refused(redeem(http, shop.id, wrong))
    refused(redeem(http, shop.id, None), 400, "PARLEY_E_BAD_FRAME")
    refused(http.post(REDEEM, content=b"not json", headers={"Origin": SERVER}), 400, "PARLEY_E_BAD_FRAME")
    refused(redeem(http, "nope", handover))
    refused(redeem(http, shop.id, handover + "x" * 5000), 400, "PARLEY_E_BAD_FRAME")  # no such body
    # None of these used the real token up.
    assert redeem(http, shop.id, handover).json()["visitorId"] == visitor.id


def test_only_parleys_own_page_may_redeem(http, database, shop):
    visitor = new_visitor(database, shop.id)
    handover = issued(http, shop.id, visitor)
    refused(redeem(http, shop.id, handover, origin=ORIGIN), 403, "PARLEY_E_ORIGIN")
    refused(redeem(http, shop.id, handover, origin="https://evil.example"), 403, "PARLEY_E_ORIGIN")
    refused(redeem(http, shop.id, handover, origin=None), 403, "PARLEY_E_ORIGIN")
    assert redeem(http, shop.id, handover).status_code == 200  # still unused


def test_issuing_needs_the_visitors_credentials_and_an_allowed_origin(http, database, shop):
    visitor = new_visitor(database, shop.id)
    refused(issue(http, shop.id, visitor, token="wrong"))
    refused(issue(http, shop.id, visitor, token=""))
    refused(issue(http, shop.id, visitor, origin="https://evil.example"), 403, "PARLEY_E_ORIGIN")
    refused(issue(http, "nope", visitor), 404, "PARLEY_E_UNKNOWN_APP")
    # Parley's own chat page may hand over too (openIn('_blank') called there).
    assert issue(http, shop.id, visitor, origin=SERVER).status_code == 201
    assert list(run(database, lambda s: s.scalars(select(HandoverToken.visitor_id)))) == [visitor.id]
    preflight = http.options(ISSUE, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-parley-app, x-parley-visitor, x-parley-visitor-token"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in preflight.headers
    assert issue(http, shop.id, visitor).headers["access-control-allow-origin"] == ORIGIN


def test_issuing_is_rate_limited_per_visitor(http, database, shop):
    visitor = new_visitor(database, shop.id)
    for _ in range(10):
        assert issue(http, shop.id, visitor).status_code == 201
    response = issue(http, shop.id, visitor)
    refused(response, 429, "PARLEY_E_RATE_LIMIT")
    assert int(response.headers["retry-after"]) >= 1


def test_expired_tokens_are_cleared_when_new_ones_are_issued(http, database, shop, monkeypatch):
    visitor = new_visitor(database, shop.id)
    issued(http, shop.id, visitor)
    start = utcnow()
    monkeypatch.setattr(handovers, "utcnow", lambda: start + timedelta(minutes=5))
    issued(http, shop.id, visitor)
    assert len(list(run(database, lambda s: s.scalars(select(HandoverToken))))) == 1


def test_another_server_process_redeems_what_one_issued(database, dist, shop):
    """The token lives in the database, so any process behind the load balancer takes it."""
    visitor = new_visitor(database, shop.id)
    with TestClient(create_app(database, dist)) as first, TestClient(create_app(database, dist)) as second:
        handover = issued(first, shop.id, visitor)
        assert redeem(second, shop.id, handover).json()["visitorToken"] == visitor.token
        refused(redeem(first, shop.id, handover))


def test_deleting_the_visitor_deletes_its_tokens(http, database, shop):
    visitor = new_visitor(database, shop.id)
    handover = issued(http, shop.id, visitor)

    async def erase(session):
        await session.delete(await session.get(type(visitor), visitor.id))
        await session.commit()
    run(database, erase)
    assert list(run(database, lambda s: s.scalars(select(HandoverToken)))) == []
    refused(redeem(http, shop.id, handover))


def test_two_exchanges_at_once_get_the_visitor_once(database, shop):
    """Two tabs (or processes) redeeming the same token together: exactly one gets it."""
    visitor = new_visitor(database, shop.id)

    async def race():
        try:
            async with database.session() as session:
                token = await handovers.issue(session, shop.id, visitor.id, visitor.token)
                await session.commit()

            async def exchange():
                async with database.session() as session:
                    found = await handovers.redeem(session, shop, token)
                    await session.commit()
                    return found
            return await asyncio.gather(*(exchange() for _ in range(4)))
        finally:
            await database.engine.dispose()

    results = asyncio.run(race())
    assert [found.id for found in results if found is not None] == [visitor.id]


def test_a_logged_in_users_visitor_is_handed_over_too(http, database, shop):
    """session.user visitors hold a token derived from the app secret: it is sealed the same way."""
    visitor = run(database, lambda s: visitor_store.visitor_for_user(s, shop, "user-42"))
    assert visitor.token
    handover = issued(http, shop.id, visitor)
    assert redeem(http, shop.id, handover).json() == {"visitorId": "user-42", "visitorToken": visitor.token}
