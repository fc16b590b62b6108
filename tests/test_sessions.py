"""parley.web.sessions: the one guard of the operator endpoints (`current_operator`) and the
Origin policy (own origin on every change; absent accepted only where asked for)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from parley import protocol
from parley.storage import operator_queries
from parley.web.json_api import answer, exception_handlers
from parley.web.peers import check_origin
from parley.web.sessions import SESSION_COOKIE, current_operator
from tests.helpers.db import OPERATOR_PASSWORD, run

SERVER = "http://testserver"


async def read(request: Request):
    operator = await current_operator(request, admin=request.query_params.get("admin") == "1")
    return answer({"id": operator.id})


async def change(request: Request):
    operator = await current_operator(request, admin=request.query_params.get("admin") == "1",
                                      change="change it from this server's own pages")
    return answer({"id": operator.id})


async def tool_friendly(request: Request):
    check_origin(request, "from this server's own pages", absent_ok=True)
    return answer({"ok": True})


@pytest.fixture
def http(database):
    app = Starlette(routes=[Route("/read", read), Route("/change", change, methods=["POST"]),
                            Route("/tool", tool_friendly, methods=["POST"])],
                    exception_handlers=exception_handlers())
    app.state.db = database
    with TestClient(app) as client:
        yield client


@pytest.fixture
def people(database, make_app, make_operator):
    app = make_app()
    ann = make_operator(app.id)
    ada = run(database, lambda s: operator_queries.create_operator(s, app.id, "ada@shop.example",
                                                                   OPERATOR_PASSWORD, "Ada", "admin"))

    def cookie(operator) -> dict:
        token = run(database, lambda s: operator_queries.create_operator_session(s, operator))
        return {"Cookie": f"{SESSION_COOKIE}={token}"}
    return {"ann": ann, "ada": ada, "ann_cookie": cookie(ann), "ada_cookie": cookie(ada)}


def code(response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("code")


def test_a_read_needs_a_session_and_no_origin(http, people):
    assert code(http.get("/read")) == (401, protocol.E_AUTH)
    assert code(http.get("/read", headers={"Cookie": f"{SESSION_COOKIE}=forged"})) == (401, protocol.E_AUTH)
    assert http.get("/read", headers=people["ann_cookie"]).json() == {"id": people["ann"].id}
    assert http.get("/read", headers={**people["ann_cookie"], "Origin": "https://evil.example"}).json() == {
        "id": people["ann"].id}


def test_admin_needs_the_admin_role(http, people):
    assert code(http.get("/read?admin=1", headers=people["ann_cookie"])) == (403, protocol.E_FORBIDDEN)
    assert http.get("/read?admin=1", headers=people["ada_cookie"]).json() == {"id": people["ada"].id}
    assert code(http.get("/read?admin=1")) == (401, protocol.E_AUTH)


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://testserver:8080", "null"])
def test_a_change_needs_this_servers_own_origin(http, people, origin):
    for who, admin in (("ann", "0"), ("ada", "1")):
        headers = {**people[f"{who}_cookie"], **({"Origin": origin} if origin else {})}
        assert code(http.post(f"/change?admin={admin}", headers=headers)) == (403, protocol.E_ORIGIN)
        own = {**people[f"{who}_cookie"], "Origin": SERVER}
        assert http.post(f"/change?admin={admin}", headers=own).json() == {"id": people[who].id}


def test_the_origin_is_checked_before_the_session_and_the_role(http, people):
    # A forged cross-site request costs no session lookup and learns nothing about the cookie.
    evil = {"Origin": "https://evil.example"}
    assert code(http.post("/change", headers=evil)) == (403, protocol.E_ORIGIN)
    forged = {**evil, **people["ann_cookie"]}
    assert code(http.post("/change?admin=1", headers=forged)) == (403, protocol.E_ORIGIN)
    assert code(http.post("/change", headers={"Origin": SERVER})) == (401, protocol.E_AUTH)
    assert code(http.post("/change?admin=1", headers={"Origin": SERVER, **people["ann_cookie"]})) == (
        403, protocol.E_FORBIDDEN)


def test_absent_ok_accepts_no_origin_but_never_a_foreign_one(http):
    assert http.post("/tool").json() == {"ok": True}
    assert http.post("/tool", headers={"Origin": SERVER}).json() == {"ok": True}
    assert code(http.post("/tool", headers={"Origin": "https://evil.example"})) == (403, protocol.E_ORIGIN)


def test_the_admin_api_refuses_a_cross_site_change_before_looking_at_the_session(client):
    # Was 401 (the session was looked up first): the admin screens now check Origin first,
    # like every other operator endpoint.
    response = client.patch("/api/admin/app", json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert code(response) == (403, protocol.E_ORIGIN)
