"""Password checks against a real server: off the event loop, bounded, and behind a proxy (issue 13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from parley.storage.models import Operator
from tests.helpers.server import Server, cli, database_of, server_env

EMAIL = "ann@shop.example"
PASSWORD = "correct horse battery"


def serving(env: dict, log: Path, *flags: str) -> Server:
    """`parley serve` with extra flags, on a free port, started (stop() it)."""
    server = Server(env, None, log, "--log-level", "warning", *flags)
    server.start()
    return server


@pytest.fixture
def site(tmp_path, built_dist, server_db_url):
    """(env, app id) of a data folder with one app and its operator Ann."""
    env = server_env(tmp_path, server_db_url)
    for name in ("PARLEY_PUBLIC_URL", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    app = cli(env, "app", "create", "--name", "Shop", "--origin", "https://shop.example")
    cli(env, "operator", "create", "--app", app["appId"], "--email", EMAIL, "--password", PASSWORD)
    return env, app["appId"]


async def slow_down_anns_password(env: dict) -> None:
    """Stores Ann's password with a costlier argon2 hash (verify reads the cost from the hash), so
    that a verification lasts long enough for the facts below to be told apart."""
    slow = PasswordHasher(time_cost=6).hash(PASSWORD)
    database = database_of(env)
    try:
        async with database.session() as session:
            await session.execute(update(Operator).where(Operator.email == EMAIL).values(password_hash=slow))
            await session.commit()
    finally:
        await database.close()


async def test_wrong_logins_neither_stall_the_server_nor_queue_without_bound(site, tmp_path):
    env, app_id = site
    await slow_down_anns_password(env)
    server = serving(env, tmp_path / "server.log")
    answers: list[tuple[str, int, str | None]] = []  # (what, status, Retry-After) in the order they came
    busy = asyncio.Event()
    try:
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=40)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
            async def wrong_login(n: int) -> None:
                response = await http.post("/api/operator/login", json={
                    "appId": app_id, "email": EMAIL, "password": f"wrong guess {n}"})
                answers.append(("login", response.status_code, response.headers.get("retry-after")))
                if response.status_code == 503:
                    busy.set()

            logins = [asyncio.create_task(wrong_login(n)) for n in range(20)]
            # A "busy" answer means every verification slot is taken: verifications are running.
            done = asyncio.create_task(asyncio.wait(logins))
            await asyncio.wait([asyncio.create_task(busy.wait()), done], return_when=asyncio.FIRST_COMPLETED)
            health = await http.get("/healthz")
            answers.append(("healthz", health.status_code, None))
            await done
    finally:
        server.stop()
    statuses = [status for what, status, _ in answers if what == "login"]
    assert set(statuses) <= {401, 503, 429}, answers
    assert statuses.count(503) >= 1 and statuses.count(401) >= 2, answers
    assert all(int(wait) >= 1 for what, status, wait in answers if status == 503), answers
    order = [(what, status) for what, status, _ in answers]
    first_rejected = order.index(("login", 401))
    # Refusing is quick: a busy answer does not wait for a verification to end ...
    assert order.index(("login", 503)) < first_rejected, order
    # ... and the event loop answers others while verifications run.
    assert order.index(("healthz", 200)) < first_rejected, order


@pytest.mark.sqlite_only
def test_serve_passes_proxy_settings_to_uvicorn(site, tmp_path):
    """(SQLite only: what it checks are uvicorn's proxy-header flags and the in-memory failed-login
    counter; the database only looks Ann up, as the test above does on both.)"""
    env, app_id = site

    def wrong_login(base: str, client_ip: str) -> int:
        return httpx.post(f"{base}/api/operator/login", headers={"X-Forwarded-For": client_ip},
                          json={"appId": app_id, "email": EMAIL, "password": "wrong"}).status_code

    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    behind_proxy = serving(env, tmp_path / "proxied.log", "--forwarded-allow-ips", "127.0.0.1")
    try:
        answer = httpx.get(f"{behind_proxy.url}/healthz", headers=proxied)
        assert "strict-transport-security" in answer.headers
        # Failed logins are counted per client: the address the proxy names, not the proxy's.
        assert [wrong_login(behind_proxy.url, "203.0.113.1") for _ in range(6)] == [401] * 5 + [429]
        assert wrong_login(behind_proxy.url, "203.0.113.2") == 401
    finally:
        behind_proxy.stop()

    direct = serving(env, tmp_path / "direct.log", "--no-proxy-headers")
    try:
        assert "strict-transport-security" not in httpx.get(f"{direct.url}/healthz", headers=proxied).headers
        assert [wrong_login(direct.url, "203.0.113.3") for _ in range(6)] == [401] * 5 + [429]
        assert wrong_login(direct.url, "203.0.113.4") == 429  # the header is ignored: one client
    finally:
        direct.stop()
