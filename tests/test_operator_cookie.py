"""The operator's login cookie: `__Host-` over https, and an idle timeout (issue 13, finding 10)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from parley.storage import operator_queries
from parley.storage.models import OperatorSession, aware, utcnow
from tests.helpers.db import OPERATOR_PASSWORD, run
from tests.helpers.sockets import ORIGIN


def log_in(client, app_id):
    return client.post("/api/operator/login", headers={"Origin": str(client.base_url).rstrip("/")},
                       json={"appId": app_id, "email": "ann@shop.example", "password": OPERATOR_PASSWORD})


def test_over_https_the_cookie_has_the_host_prefix(client, make_app, make_operator, monkeypatch):
    app = make_app([ORIGIN])
    make_operator(app.id)
    plain = log_in(client, app.id)
    assert plain.cookies.get("parley_session") and "__Host-parley_session" not in plain.cookies
    client.cookies.clear()
    monkeypatch.setenv("PARLEY_PUBLIC_URL", "https://chat.shop.example")
    secure = log_in(client, app.id)
    header = secure.headers["set-cookie"]
    assert header.startswith("__Host-parley_session=")
    # What the prefix demands: Secure, Path=/ and no Domain.
    flags = {part.strip().lower().split("=")[0] for part in header.split(";")[1:]}
    assert {"secure", "path", "httponly"} <= flags and "domain" not in flags
    token = secure.cookies["__Host-parley_session"]
    client.cookies.clear()
    me = client.get("/api/operator/me", headers={"Cookie": f"__Host-parley_session={token}"})
    assert me.status_code == 200


def _set_login(database, **values) -> None:
    async def work(session):
        await session.execute(update(OperatorSession).values(**values))
        await session.commit()
    run(database, work)


def _expiry(database):
    return run(database, lambda s: s.scalar(select(OperatorSession.expires_at)))


def test_a_login_unused_for_a_day_ends(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    token = log_in(client, app.id).cookies["parley_session"]
    client.cookies.clear()
    headers = {"Cookie": f"parley_session={token}"}
    assert client.get("/api/operator/me", headers=headers).status_code == 200
    # A new login lives a day unless used (not its whole 14 days) ...
    assert aware(_expiry(database)) <= utcnow() + timedelta(hours=24, minutes=1)
    # ... so a day and a minute without a request or an open inbox ends it.
    _set_login(database, expires_at=utcnow() - timedelta(minutes=1))
    assert client.get("/api/operator/me", headers=headers).status_code == 401


def test_a_login_in_use_is_renewed_but_never_past_its_days(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    token = log_in(client, app.id).cookies["parley_session"]
    client.cookies.clear()
    headers = {"Cookie": f"parley_session={token}"}
    # Used again after 23 hours: it lives another day from now.
    _set_login(database, created_at=utcnow() - timedelta(hours=23), expires_at=utcnow() + timedelta(hours=1))
    assert client.get("/api/operator/me", headers=headers).status_code == 200
    renewed = aware(_expiry(database))
    assert renewed > utcnow() + timedelta(hours=23)
    # Near the end of its 14 days, use no longer extends it past them.
    created = utcnow() - timedelta(days=operator_queries.SESSION_DAYS) + timedelta(hours=2)
    _set_login(database, created_at=created, expires_at=utcnow() + timedelta(minutes=30))
    assert client.get("/api/operator/me", headers=headers).status_code == 200
    assert aware(_expiry(database)) <= created + timedelta(days=operator_queries.SESSION_DAYS)
