"""The admin screens' HTTP API (/api/admin/*) and page (/inbox/admin).

Who may: a session (401), an admin (403 PARLEY_E_FORBIDDEN), the server's own Origin
on changes (403 PARLEY_E_ORIGIN), JSON bodies (415/400 naming the field). What: each
action does what the CLI's command does, with the CLI's validation, and never
reaches another app.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from pathlib import Path

import pytest

from parley import cli, hours, rules, wire
from parley.storage import app_queries, operator_queries, trigger_queries
from parley.web import admin_fields
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.sockets import SERVER, login, visitor
from tests.helpers.static_pages import STATIC, load_static

ROOT = Path(__file__).resolve().parents[1]
OWN = {"Origin": SERVER}
BAD = "PARLEY_E_BAD_FRAME"
APP = "/api/admin/app"


@pytest.fixture
def shop(database):
    """An app with an admin (Ada) and an operator (Ann), plus another app with its own admin."""
    async def work(session):
        app = await app_queries.create_app(session, "Shop", ["https://shop.example"])
        ada = await operator_queries.create_operator(session, app.id, "ada@shop.example", PASSWORD, "Ada",
                                                     "admin")
        ann = await operator_queries.create_operator(session, app.id, "ann@shop.example", PASSWORD, "Ann")
        other = await app_queries.create_app(session, "Other", ["https://other.example"])
        eve = await operator_queries.create_operator(session, other.id, "eve@other.example", PASSWORD, "Eve",
                                                     "admin")
        return {"app": app, "ada": ada, "ann": ann, "other": other, "eve": eve}
    return run(database, work)


def session_of(client, app_id, email, password=PASSWORD) -> dict:
    response = login(client, app_id, email, password)
    assert response.status_code == 200, response.text
    return {"Cookie": f"parley_session={response.cookies['parley_session']}"}


@pytest.fixture
def admin(client, shop) -> dict:
    """Ada's headers for changes: her session and the server's own Origin."""
    return {**session_of(client, shop["app"].id, "ada@shop.example"), **OWN}


def error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"], body
    if field is not None:
        assert body.get("field") == field, body
    assert response.headers["cache-control"] == "no-store"
    return body


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def app_row(database, app_id):
    return run(database, lambda s: app_queries.get_app(s, app_id))


ENDPOINTS = [
    ("GET", APP, None),
    ("PATCH", APP, {"name": "x"}),
    ("POST", "/api/admin/app/rotate-secret", None),
    ("GET", "/api/admin/snippet", None),
    ("GET", "/api/admin/operators", None),
    ("POST", "/api/admin/operators", {"email": "x@shop.example", "password": "long enough"}),
    ("PATCH", "/api/admin/operators/{ann}", {"role": "admin"}),
    ("POST", "/api/admin/operators/{ann}/reset-password", None),
    ("DELETE", "/api/admin/operators/{ann}", None),
    ("GET", "/api/admin/teams", None),
    ("POST", "/api/admin/teams", {"name": "Sales"}),
    ("GET", "/api/admin/triggers", None),
    ("POST", "/api/admin/triggers", {"message": "Hi"}),
]


def send(client, method, path, body, headers):
    return client.request(method, path, json=body, headers=headers)


# -- who may -----------------------------------------------------------------------------------

def test_every_endpoint_needs_a_session(client, shop):
    for method, path, body in ENDPOINTS:
        for headers in ({**OWN}, {**OWN, "Cookie": "parley_session=forged"}):
            response = send(client, method, path.format(ann=shop["ann"].id), body, headers)
            error(response, 401, "PARLEY_E_AUTH")


def test_operators_who_are_not_admins_are_refused(client, shop, database):
    headers = {**session_of(client, shop["app"].id, "ann@shop.example"), **OWN}
    for method, path, body in ENDPOINTS:
        response = send(client, method, path.format(ann=shop["ann"].id), body, headers)
        error(response, 403, "PARLEY_E_FORBIDDEN")
    app = app_row(database, shop["app"].id)
    assert app.name == "Shop" and app.secret == shop["app"].secret  # nothing changed
    assert run(database, lambda s: operator_queries.get_operator(s, shop["app"].id,
                                                                 shop["ann"].id)).role == "operator"


def test_changes_need_the_servers_own_origin(client, shop, admin, database):
    cookie = {"Cookie": admin["Cookie"]}
    for method, path, body in ENDPOINTS:
        if method == "GET":
            continue
        for headers in (cookie, {**cookie, "Origin": "https://evil.example"},
                        {**cookie, "Origin": "http://testserver:8080"}):
            response = send(client, method, path.format(ann=shop["ann"].id), body, headers)
            error(response, 403, "PARLEY_E_ORIGIN")
    assert app_row(database, shop["app"].id).secret == shop["app"].secret
    # Reading needs no Origin (a GET changes nothing).
    assert ok(client.get(APP, headers=cookie))["name"] == "Shop"


def test_bodies_must_be_json_objects(client, admin):
    response = client.patch(APP, content=b"name=x", headers={
        **admin, "Content-Type": "application/x-www-form-urlencoded"})
    error(response, 415, BAD, "body")
    response = client.patch(APP, content=b"{nope", headers={**admin, "Content-Type": "application/json"})
    error(response, 400, BAD, "body")
    error(client.patch(APP, json=["name"], headers=admin), 400, BAD, "body")
    error(client.patch(APP, json={}, headers=admin), 400, BAD, "body")
    error(client.patch(APP, json={"colour": "red"}, headers=admin), 400, BAD, "colour")
    big = {"name": "x" * 70_000}
    error(client.patch(APP, json=big, headers=admin), 413, "PARLEY_E_TOO_LARGE")


# -- the app -------------------------------------------------------------------------------------

def test_get_app_never_shows_the_secret(client, shop, admin):
    body = ok(client.get(APP, headers=admin))
    assert body["appId"] == shop["app"].id and body["name"] == "Shop"
    assert body["origins"] == ["https://shop.example"]
    assert body["appearance"] == {} and body["workingHours"] is None
    assert ["orange", "#fb8c00"] in body["windowColors"]
    assert shop["app"].secret not in client.get(APP, headers=admin).text


def test_patch_app_name_and_origins_like_app_set(client, shop, admin, database):
    body = ok(client.patch(APP, json={
        "name": "  Shop 2 ", "origins": ["https://Shop.Example/", "http://localhost:8080", "https://shop.example"]},
        headers=admin))
    assert body["name"] == "Shop 2"
    # Normalised as `parley app set --origin` does, duplicates dropped.
    assert body["origins"] == ["https://shop.example", "http://localhost:8080"]
    stored = app_row(database, shop["app"].id)
    assert (stored.name, stored.origins) == ("Shop 2", ["https://shop.example", "http://localhost:8080"])
    assert ok(client.patch(APP, json={"origins": []}, headers=admin))["origins"] == []


@pytest.mark.parametrize("origin", ["shop.example", "ftp://shop.example", "https://shop.example/path",
                                    "https://user@shop.example", "https://shop.example?x=1", "https://", 5])
def test_bad_origins_are_refused_naming_the_entry(client, admin, origin):
    response = client.patch(APP, json={"origins": ["https://ok.example", origin]}, headers=admin)
    error(response, 400, BAD, "origins[1]")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, 7, None])
def test_bad_names_are_refused(client, admin, name):
    error(client.patch(APP, json={"name": name}, headers=admin), 400, BAD, "name")


def test_appearance_is_stored_validated_and_merged(client, shop, admin, database):
    body = ok(client.patch(APP, json={"appearance": {
        "windowColor": "#ABC", "teamName": " Shop team ", "onlineWelcome": "Hi!", "offlineWelcome": "Later"}},
        headers=admin))
    assert body["appearance"] == {"windowColor": "#aabbcc", "teamName": "Shop team", "onlineWelcome": "Hi!",
                                  "offlineWelcome": "Later"}
    # The spec's colour names are kept as names; null or "" removes a key; others stay.
    body = ok(client.patch(APP, json={"appearance": {"windowColor": "Light-Blue", "offlineWelcome": ""}},
                           headers=admin))
    assert body["appearance"] == {"windowColor": "light-blue", "teamName": "Shop team",
                                  "onlineWelcome": "Hi!"}
    assert app_row(database, shop["app"].id).appearance == body["appearance"]
    body = ok(client.patch(APP, json={"appearance": {
        "windowColor": None, "teamName": None, "onlineWelcome": None}}, headers=admin))
    assert body["appearance"] == {} and app_row(database, shop["app"].id).appearance is None


@pytest.mark.parametrize("appearance,field", [
    ({"windowColor": "blurple"}, "appearance.windowColor"),
    ({"windowColor": "#12345"}, "appearance.windowColor"),
    ({"windowColor": "rgb(1,2,3)"}, "appearance.windowColor"),
    ({"teamName": "x" * 201}, "appearance.teamName"),
    ({"onlineWelcome": "x" * 1001}, "appearance.onlineWelcome"),
    ({"offlineWelcome": 5}, "appearance.offlineWelcome"),
    ({"position": "left"}, "appearance.position"),
    ("red", "appearance"),
])
def test_bad_appearance_is_refused(client, admin, appearance, field):
    error(client.patch(APP, json={"appearance": appearance}, headers=admin), 400,
          BAD, field)


def test_window_colours_are_what_the_widget_accepts():
    from parley.web.admin_fields import stored_color
    from widget.core.config import WINDOW_COLORS, resolve_window_color
    for value in ("#1e88e5", "#ABC", " orange ", *WINDOW_COLORS):
        assert resolve_window_color(stored_color(value)) == resolve_window_color(value)
    for value in ("blurple", "#12", "", "#gggggg"):
        assert stored_color(value) is None and resolve_window_color(value) is None


def test_working_hours_with_timezone_like_app_set(client, shop, admin, database):
    body = ok(client.patch(APP, json={"workingHours": {
        "spec": "mon-fri 09:00-17:30, sat 10:00-14:00", "timezone": "Europe/Berlin"}}, headers=admin))
    stored = app_row(database, shop["app"].id).working_hours
    assert stored == hours.parse("mon-fri 09:00-17:30, sat 10:00-14:00", "Europe/Berlin")
    assert body["workingHours"] == {"spec": "mon-fri 09:00-17:30, sat 10:00-14:00",
                                    "timezone": "Europe/Berlin",
                                    "description": hours.describe(stored)}
    assert ok(client.get(APP, headers=admin))["workingHours"]["spec"].startswith("mon-fri")
    assert ok(client.patch(APP, json={"workingHours": None}, headers=admin))["workingHours"] is None
    assert app_row(database, shop["app"].id).working_hours is None


@pytest.mark.parametrize("value,field", [
    ({"spec": "mon-fri 09:00-17:00", "timezone": "Mars/Olympus"}, "workingHours.timezone"),
    ({"spec": "someday 09:00-17:00", "timezone": "Europe/Berlin"}, "workingHours.spec"),
    ({"spec": "mon 17:00-09:00", "timezone": "Europe/Berlin"}, "workingHours.spec"),
    ({"spec": "", "timezone": "Europe/Berlin"}, "workingHours.spec"),
    ({"spec": "mon 09:00-17:00"}, "workingHours.timezone"),
    ({"spec": "mon 09:00-17:00", "timezone": "UTC", "days": {}}, "workingHours.days"),
    ("mon-fri 09:00-17:00", "workingHours"),
])
def test_bad_working_hours_are_refused(client, admin, value, field):
    error(client.patch(APP, json={"workingHours": value}, headers=admin), 400,
          BAD, field)


def test_hours_spec_reads_back_what_parse_reads():
    for spec in ("mon-fri 09:00-17:30, sat 10:00-14:00", "mon 09:00-12:00, mon 13:00-17:00, wed 08:00-20:00",
                 "mon-sun 00:00-24:00", "tue 09:00-10:00, thu 09:00-10:00"):
        stored = hours.parse(spec, "UTC")
        assert hours.parse(hours.spec_of(stored), "UTC") == stored
    joined = hours.parse("mon-wed 09:00-17:00, thu-fri 09:00-17:00", "UTC")
    assert hours.spec_of(joined) == "mon-fri 09:00-17:00"


def test_changing_working_hours_tells_visitors_at_once(client, shop, admin):
    ok(client.patch(APP, json={"workingHours": None}, headers=admin))
    operator_socket = client.websocket_connect("/ws/operator",
                                               headers={"Origin": SERVER, "Cookie": admin["Cookie"]})
    with operator_socket as inbox:
        # The socket's presence is recorded after its handshake: `subscribed` says it was.
        inbox.send_json({"v": 1, "type": "subscribe"})
        while inbox.receive_json()["type"] != "subscribed":
            pass
        with visitor(client, shop["app"].id, origin="https://shop.example") as tab:
            assert tab.first["online"] is True
            # Closed all week: the visitor hears it now, not at the clock's next tick.
            ok(client.patch(APP, json={"workingHours": {
                "spec": "mon 00:00-00:01", "timezone": "Pacific/Kiritimati"}}, headers=admin))
            assert tab.of_type("online")["online"] is False


def test_rotate_secret_returns_the_new_secret_once(client, shop, admin, database):
    body = ok(client.post("/api/admin/app/rotate-secret", headers=admin))
    assert body["appId"] == shop["app"].id
    new = body["secret"]
    assert new != shop["app"].secret and len(new) >= 40
    assert app_row(database, shop["app"].id).secret == new
    assert new not in client.get(APP, headers=admin).text
    # A user token signed with the old secret no longer verifies; one with the new one does.
    old_token = hashlib.sha1((shop["app"].secret + "user-1").encode()).hexdigest()
    new_token = hashlib.sha1((new + "user-1").encode()).hexdigest()
    with client.websocket_connect("/ws/visitor", headers={"Origin": "https://shop.example"}) as ws:
        ws.send_json({"type": "hello", "appId": shop["app"].id, "user": {"id": "user-1", "token": old_token}})
        assert ws.receive_json()["code"] == "PARLEY_E_BAD_TOKEN"
    with client.websocket_connect("/ws/visitor", headers={"Origin": "https://shop.example"}) as ws:
        ws.send_json({"type": "hello", "appId": shop["app"].id, "user": {"id": "user-1", "token": new_token}})
        assert ws.receive_json()["type"] == "welcome"


def test_snippet_is_what_the_cli_prints_for_this_server(client, shop, admin, capsys):
    body = ok(client.get("/api/admin/snippet", headers=admin))
    assert body["appId"] == shop["app"].id and body["server"] == SERVER
    assert cli.main(["snippet", "--app-id", shop["app"].id, "--server", SERVER]) == 0
    assert body["snippet"] + "\n" == capsys.readouterr().out
    assert f"appId : '{shop['app'].id}'" in body["snippet"]
    assert f"{SERVER}/widget/loader.js" in body["snippet"]


# -- operators -------------------------------------------------------------------------------------

def test_list_operators_of_the_own_app_only(client, shop, admin):
    body = ok(client.get("/api/admin/operators", headers=admin))
    assert body["me"] == shop["ada"].id
    assert [(o["email"], o["role"]) for o in body["operators"]] == [
        ("ada@shop.example", "admin"), ("ann@shop.example", "operator")]
    assert set(body["operators"][0]) == {"id", "email", "name", "role", "presence", "avatarUrl"}
    assert "eve@other.example" not in str(body) and "password" not in str(body)


def test_create_operator_who_can_then_log_in(client, shop, admin):
    body = ok(client.post("/api/admin/operators", json={
        "email": " Bob@Shop.Example ", "password": "long enough", "role": "admin"}, headers=admin), 201)
    assert (body["email"], body["name"], body["role"]) == ("bob@shop.example", "Bob", "admin")
    response = login(client, shop["app"].id, "bob@shop.example", "long enough")
    assert response.status_code == 200 and response.json()["role"] == "admin"
    named = ok(client.post("/api/admin/operators", json={
        "email": "cy@shop.example", "password": "long enough", "name": "Cy Young"}, headers=admin), 201)
    assert (named["name"], named["role"]) == ("Cy Young", "operator")


@pytest.mark.parametrize("body,field,status", [
    ({"email": "not-an-email", "password": "long enough"}, "email", 400),
    # The widget's rule (parley.rules.email): the CLI and this API once took it.
    ({"email": "a@b..com", "password": "long enough"}, "email", 400),
    ({"password": "long enough"}, "email", 400),
    ({"email": "b@shop.example", "password": "short"}, "password", 400),
    ({"email": "b@shop.example"}, "password", 400),
    ({"email": "b@shop.example", "password": "x" * 501}, "password", 400),
    ({"email": "b@shop.example", "password": "long enough", "role": "owner"}, "role", 400),
    ({"email": "b@shop.example", "password": "long enough", "name": "x" * 201}, "name", 400),
    ({"email": "b@shop.example", "password": "long enough", "isAdmin": True}, "isAdmin", 400),
    ({"email": "ANN@shop.example", "password": "long enough"}, "email", 409),
])
def test_create_operator_validates_like_the_cli(client, admin, body, field, status):
    error(client.post("/api/admin/operators", json=body, headers=admin), status, BAD, field)


def test_the_same_email_may_exist_in_another_app(client, admin):
    ok(client.post("/api/admin/operators", json={"email": "eve@other.example", "password": "long enough"},
                   headers=admin), 201)


def test_change_role(client, shop, admin, database):
    body = ok(client.patch(f"/api/admin/operators/{shop['ann'].id}", json={"role": "admin"}, headers=admin))
    assert body["role"] == "admin"
    assert run(database, lambda s: operator_queries.get_operator(s, shop["app"].id,
                                                                 shop["ann"].id)).role == "admin"
    ok(client.patch(f"/api/admin/operators/{shop['ann'].id}", json={"role": "operator"}, headers=admin))
    error(client.patch(f"/api/admin/operators/{shop['ann'].id}", json={"role": "root"}, headers=admin), 400,
          BAD, "role")
    # Not one's own role (that would lock the page), so the last admin always stays one.
    error(client.patch(f"/api/admin/operators/{shop['ada'].id}", json={"role": "operator"}, headers=admin),
          409,
          BAD, "role")
    assert run(database, lambda s: operator_queries.count_admins(s, shop["app"].id)) == 1


def test_reset_password_logs_them_out_like_the_cli(client, shop, admin):
    ann = session_of(client, shop["app"].id, "ann@shop.example")
    assert client.get("/api/operator/me", headers=ann).status_code == 200
    body = ok(client.post(f"/api/admin/operators/{shop['ann'].id}/reset-password", headers=admin))
    assert body["sessionsEnded"] == 1 and len(body["password"]) >= 20
    assert client.get("/api/operator/me", headers=ann).status_code == 401
    assert login(client, shop["app"].id, "ann@shop.example").status_code == 401
    assert login(client, shop["app"].id, "ann@shop.example", body["password"]).status_code == 200
    # A chosen password is not echoed back.
    body = ok(client.post(f"/api/admin/operators/{shop['ann'].id}/reset-password",
                          json={"password": "chosen password"}, headers=admin))
    assert "password" not in body and body["sessionsEnded"] == 1
    assert login(client, shop["app"].id, "ann@shop.example", "chosen password").status_code == 200
    error(client.post(f"/api/admin/operators/{shop['ann'].id}/reset-password", json={"password": "short"},
                      headers=admin), 400, BAD, "password")


def test_delete_operator_but_not_yourself_nor_the_last_admin(client, shop, admin, database):
    ann = session_of(client, shop["app"].id, "ann@shop.example")
    body = ok(client.delete(f"/api/admin/operators/{shop['ann'].id}", headers=admin))
    assert body == {"operatorId": shop["ann"].id, "deleted": True}
    assert client.get("/api/operator/me", headers=ann).status_code == 401
    assert run(database, lambda s: operator_queries.get_operator(s, shop["app"].id, shop["ann"].id)) is None
    error(client.delete(f"/api/admin/operators/{shop['ada'].id}", headers=admin), 409, BAD)
    # Another admin can be deleted while one stays; the last one cannot, even by another admin.
    bob = ok(client.post("/api/admin/operators", json={"email": "bob@shop.example", "password": "long enough",
                                                       "role": "admin"}, headers=admin), 201)
    bob_headers = {**session_of(client, shop["app"].id, "bob@shop.example", "long enough"), **OWN}
    ok(client.delete(f"/api/admin/operators/{shop['ada'].id}", headers=bob_headers))
    assert run(database, lambda s: operator_queries.count_admins(s, shop["app"].id)) == 1
    error(client.delete(f"/api/admin/operators/{bob['id']}", headers=bob_headers), 409, BAD)


# -- teams ------------------------------------------------------------------------------------------

def test_teams_create_rename_members_delete(client, shop, admin, database):
    team = ok(client.post("/api/admin/teams", json={"name": " Sales "}, headers=admin), 201)
    assert team["name"] == "Sales" and team["memberIds"] == []
    path = f"/api/admin/teams/{team['id']}"
    assert ok(client.patch(path, json={"name": "Sales EU"}, headers=admin))["name"] == "Sales EU"
    body = ok(client.post(path + "/members", json={"operatorId": shop["ann"].id}, headers=admin))
    assert body["memberIds"] == [shop["ann"].id]
    ok(client.post(path + "/members", json={"operatorId": shop["ann"].id}, headers=admin))  # twice: no change
    body = ok(client.post(path + "/members", json={"operatorId": shop["ada"].id}, headers=admin))
    assert sorted(body["memberIds"]) == sorted([shop["ann"].id, shop["ada"].id])
    assert run(database, lambda s: operator_queries.team_member_ids(s,
                                                                    team["id"])) == sorted(body["memberIds"])
    listed = ok(client.get("/api/admin/teams", headers=admin))["teams"]
    assert listed == [{"id": team["id"], "name": "Sales EU", "memberIds": sorted(body["memberIds"])}]
    body = ok(client.delete(f"{path}/members/{shop['ann'].id}", headers=admin))
    assert body["memberIds"] == [shop["ada"].id]
    error(client.delete(f"{path}/members/{shop['ann'].id}", headers=admin), 404, "PARLEY_E_NOT_FOUND")
    error(client.post("/api/admin/teams", json={"name": ""}, headers=admin), 400, BAD, "name")
    error(client.patch(path, json={"name": "x" * 201}, headers=admin), 400, BAD, "name")
    error(client.post(path + "/members", json={"operatorId": 5}, headers=admin), 400, BAD,
          "operatorId")
    ok(client.delete(path, headers=admin))
    assert ok(client.get("/api/admin/teams", headers=admin))["teams"] == []
    # The operators stay.
    assert run(database, lambda s: operator_queries.get_operator(s, shop["app"].id,
                                                                 shop["ada"].id)) is not None


def test_deleting_an_operator_leaves_their_teams(client, shop, admin):
    team = ok(client.post("/api/admin/teams", json={"name": "Sales"}, headers=admin), 201)
    ok(client.post(f"/api/admin/teams/{team['id']}/members", json={"operatorId": shop["ann"].id},
                   headers=admin))
    ok(client.delete(f"/api/admin/operators/{shop['ann'].id}", headers=admin))
    assert ok(client.get("/api/admin/teams", headers=admin))["teams"][0]["memberIds"] == []


# -- triggers ---------------------------------------------------------------------------------------

def test_triggers_create_update_toggle_delete(client, shop, admin, database):
    listed = ok(client.get("/api/admin/triggers", headers=admin))
    assert listed["triggers"] == [] and listed["parameterKeys"] == list(rules.PARAMETER_KEYS)
    assert listed["matchers"] == list(rules.MATCHERS) and listed["kinds"] == ["invitation", "bot"]
    created = ok(client.post("/api/admin/triggers", json={
        "name": "Pricing", "message": " Questions about pricing? ", "delay": 3,
        "conditions": [["page_url", "contains", " pricing "], ["country", "!=", "DE"]]}, headers=admin), 201)
    assert created == {"id": created["id"], "name": "Pricing", "message": "Questions about pricing?",
                       "kind": "invitation", "delay": 3, "enabled": True,
                       "conditions": [["page_url", "contains", "pricing"], ["country", "!=", "DE"]]}
    # Stored as `parley trigger add` stores it, and the widget gets it in `welcome`.
    stored = run(database, lambda s: trigger_queries.list_triggers(s, shop["app"].id))
    assert [wire.trigger_dict(t) for t in stored] == [{k: v for k,
                                                                  v in created.items() if k != "name"}]
    path = f"/api/admin/triggers/{created['id']}"
    body = ok(client.patch(path, json={"kind": "bot", "delay": 0, "conditions": []}, headers=admin))
    assert (body["kind"], body["delay"], body["conditions"], body["message"]) == (
        "bot", 0, [], "Questions about pricing?")
    assert ok(client.patch(path, json={"enabled": False}, headers=admin))["enabled"] is False
    with visitor(client, shop["app"].id, origin="https://shop.example") as tab:
        assert tab.first["triggers"][0]["enabled"] is False
    ok(client.delete(path, headers=admin))
    assert ok(client.get("/api/admin/triggers", headers=admin))["triggers"] == []
    error(client.delete(path, headers=admin), 404, "PARLEY_E_NOT_FOUND")


@pytest.mark.parametrize("body,field", [
    ({}, "message"),
    ({"message": "  "}, "message"),
    ({"message": "x" * 5001}, "message"),
    ({"message": "Hi", "kind": "popup"}, "kind"),
    ({"message": "Hi", "delay": -1}, "delay"),
    ({"message": "Hi", "delay": 86401}, "delay"),
    ({"message": "Hi", "delay": "5"}, "delay"),
    ({"message": "Hi", "delay": True}, "delay"),
    ({"message": "Hi", "enabled": "yes"}, "enabled"),
    ({"message": "Hi", "name": "x" * 201}, "name"),
    ({"message": "Hi", "conditions": "page_url contains pricing"}, "conditions"),
    ({"message": "Hi", "conditions": [["page_url", "contains"]]}, "conditions[0]"),
    ({"message": "Hi", "conditions": [["page_url", "contains", "x"], ["page", "contains", "x"]]},
     "conditions[1]"),
    ({"message": "Hi", "conditions": [["page_url", "like", "x"]]}, "conditions[0]"),
    ({"message": "Hi", "conditions": [["page_url", "contains", "  "]]}, "conditions[0]"),
    ({"message": "Hi", "conditions": [["page_url ", "contains", "x"]]}, "conditions[0]"),
    ({"message": "Hi", "conditions": [["page_url", "contains", 5]]}, "conditions[0]"),
    ({"message": "Hi", "conditions": [["page_url", "contains", "x"]] * 51}, "conditions"),
    ({"message": "Hi", "when": []}, "when"),
])
def test_trigger_validation_is_the_clis(client, admin, body, field):
    error(client.post("/api/admin/triggers", json=body, headers=admin), 400, BAD, field)


def test_trigger_conditions_accept_exactly_what_trigger_add_accepts():
    from parley.web.admin_fields import condition
    from parley.web.json_api import ApiError
    for key in rules.PARAMETER_KEYS:
        for matcher in rules.MATCHERS:
            assert condition([key, matcher, "v 1"], 0) == rules.condition(f"{key} {matcher} v 1")
    for bad in (["Page_url", "=", "x"], ["page_url", "equals", "x"], ["page_url", "=", ""]):
        with pytest.raises((ApiError, rules.InvalidInput)):
            condition(bad, 0)
        with pytest.raises(rules.InvalidInput):
            rules.condition(" ".join(bad))


def test_patch_trigger_needs_a_change(client, admin):
    created = ok(client.post("/api/admin/triggers", json={"message": "Hi"}, headers=admin), 201)
    error(client.patch(f"/api/admin/triggers/{created['id']}", json={}, headers=admin), 400,
          BAD, "body")


# -- never another app --------------------------------------------------------------------------------

def test_another_apps_data_is_never_visible_or_changeable(client, shop, admin, database):
    other, eve = shop["other"], shop["eve"]
    eve_headers = {**session_of(client, other.id, "eve@other.example"), **OWN}
    team = ok(client.post("/api/admin/teams", json={"name": "Eve's team"}, headers=eve_headers), 201)
    trigger = ok(client.post("/api/admin/triggers", json={"message": "Eve's"}, headers=eve_headers), 201)
    eve_op = ok(client.post("/api/admin/operators", headers=eve_headers,
                            json={"email": "op@other.example", "password": "long enough"}), 201)

    # Ada's lists hold none of it.
    text = "".join(client.get(path, headers=admin).text for path in (
        APP, "/api/admin/operators", "/api/admin/teams", "/api/admin/triggers", "/api/admin/snippet"))
    for secret in (other.id, eve.id, team["id"], trigger["id"], eve_op["id"], "other.example", "Eve"):
        assert secret not in text

    # Ada's requests on Eve's ids answer 404, exactly like unknown ids, and change nothing.
    attempts = [
        ("PATCH", f"/api/admin/operators/{eve_op['id']}", {"role": "admin"}),
        ("POST", f"/api/admin/operators/{eve_op['id']}/reset-password", None),
        ("DELETE", f"/api/admin/operators/{eve.id}", None),
        ("PATCH", f"/api/admin/teams/{team['id']}", {"name": "mine"}),
        ("DELETE", f"/api/admin/teams/{team['id']}", None),
        ("POST", f"/api/admin/teams/{team['id']}/members", {"operatorId": shop["ann"].id}),
        ("DELETE", f"/api/admin/teams/{team['id']}/members/{eve_op['id']}", None),
        ("PATCH", f"/api/admin/triggers/{trigger['id']}", {"enabled": False}),
        ("DELETE", f"/api/admin/triggers/{trigger['id']}", None),
    ]
    for method, path, body in attempts:
        answer = error(send(client, method, path, body, admin), 404, "PARLEY_E_NOT_FOUND")
        unknown = error(send(client, method, re.sub(r"[0-9a-f]{24}", "0" * 24, path), body, admin), 404,
                        "PARLEY_E_NOT_FOUND")
        assert answer == unknown
    # Nor can Eve's operator join Ada's team.
    mine = ok(client.post("/api/admin/teams", json={"name": "Sales"}, headers=admin), 201)
    error(client.post(f"/api/admin/teams/{mine['id']}/members", json={"operatorId": eve_op["id"]},
                      headers=admin),
          404, "PARLEY_E_NOT_FOUND", "operatorId")

    # Ada's app changes touch only Ada's app.
    ok(client.patch(APP, json={"name": "Renamed", "origins": []}, headers=admin))
    ok(client.post("/api/admin/app/rotate-secret", headers=admin))
    stored = app_row(database, other.id)
    assert (stored.name, stored.origins, stored.secret) == ("Other", ["https://other.example"], other.secret)
    assert ok(client.get("/api/admin/teams", headers=eve_headers))["teams"] == [team]
    assert ok(client.get("/api/admin/triggers", headers=eve_headers))["triggers"] == [trigger]
    eve_ops = ok(client.get("/api/admin/operators", headers=eve_headers))["operators"]
    assert [(o["email"], o["role"]) for o in eve_ops] == [("eve@other.example", "admin"),
                                                         ("op@other.example", "operator")]


# -- the page -----------------------------------------------------------------------------------------

def test_the_page_is_for_admins_only(client, shop, admin):
    page = client.get("/inbox/admin", headers={"Cookie": admin["Cookie"]})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'data-state="admin"' in page.text and 'id="panel-triggers"' in page.text
    assert "/static/admin/main.py" in page.text and "/inbox/pyscript/micropython.mjs" in page.text
    refused = client.get("/inbox/admin", headers=session_of(client, shop["app"].id, "ann@shop.example"))
    assert refused.status_code == 403 and 'data-state="forbidden"' in refused.text
    assert 'id="panel-' not in refused.text
    anonymous = client.get("/inbox/admin")
    assert anonymous.status_code == 401 and 'data-state="login"' in anonymous.text
    assert 'id="panel-' not in anonymous.text
    # The page's own files are built and served like the inbox's.
    for name in ("admin/main.py", "admin/admin.css", "common/base.css"):  # common/: shared with the inbox
        assert f"/static/{name}" in page.text
        assert client.get(f"/static/{name}").status_code == 200
    # Its modules as bytecode (build.compile_page), dom from common/ like the inbox's.
    for name in ("model", "strings", "dom"):
        url = re.search(rf'"(/inbox/py/{name}\.\w+\.mpy)": "\./{name}\.mpy"', page.text).group(1)
        assert client.get(url).status_code == 200


# -- the page's own Python (static/admin), pure parts under CPython --------------------------------------

STATIC_ADMIN = STATIC / "admin"
load = partial(load_static, "admin")


def test_page_checks_agree_with_the_server():
    from widget.core.config import WINDOW_COLORS, resolve_window_color
    model = load("model")
    for value in ("https://Shop.Example/", "http://localhost:8080", "https://[::1]:8443", "https://a.b"):
        assert model.check_origin(value) == rules.origin(value)
    for value in ("shop.example", "ftp://x.example", "https://x.example/p", "https://u@x.example",
                  "https://x.example?q", "https://x.example#f", "https://"):
        assert model.check_origin(value) is None
        with pytest.raises(rules.InvalidInput):
            rules.origin(value)
    # The page is a little stricter than urlsplit where no browser would send such an origin.
    for value in ("https://x.example:99999", "https://a b.example"):
        assert model.check_origin(value) is None
    for value in ("#abc", "#1E88E5", "orange", " Teal ", "nope", "#12", ""):
        assert model.resolve_color(value, WINDOW_COLORS) == resolve_window_color(value)
    widget_drawing = (ROOT / "widget" / "browser" / "drawing.py").read_text()
    assert re.search(r'DEFAULT_COLOR = "(#[0-9a-f]{6})"', widget_drawing)[1] == model.DEFAULT_COLOR
    from widget.browser import ui
    for color in ("#ffeb3b", "#1d3557", "#3659e3", "#ffffff", "#000000"):
        assert model.readable_text_color(color) == ui.readable_text_color(color)
    for email in ("ann@shop.example", "a.b+c@x.co"):
        assert model.looks_like_email(email) and rules.email(email) == email
    for email in ("ann", "ann@shop", "a@b@c.d", "a b@c.d", "@c.d", "a@b..com", "a@.b.com"):
        assert not model.looks_like_email(email)
        with pytest.raises(rules.InvalidInput):
            rules.email(email)
    assert [model.parse_delay(v) for v in ("0", " 12 ", "86400", "86401", "-1", "1.5", "")] == [
        0, 12, 86400, None, None, None, None]


def test_page_error_messages_and_strings():
    model = load("model")
    strings = load("strings")
    t = strings.t
    assert model.error_text(0, None, t) == t("error.network")
    assert model.error_text(401, {"code": "PARLEY_E_AUTH", "message": "x"}, t) == t("error.session")
    assert model.error_text(403, {"code": "PARLEY_E_FORBIDDEN", "message": "x"}, t) == t("error.forbidden")
    assert model.error_text(403, {"code": "PARLEY_E_ORIGIN", "message": "x"}, t) == t("error.origin")
    assert model.error_text(400, {"code": BAD, "message": "name must be"}, t) == \
        "Not saved: name must be"
    assert model.error_text(500, None, t) == "That did not work (500): 500"
    assert model.error_field({"field": "origins[1]"}) == "origins[1]" and model.error_field(None) is None
    assert model.conditions_text([["page_url", "contains", "pricing"]], t) == "Page URL contains “pricing”"
    assert model.conditions_text([], t) == "Always"
    # Every parameter, matcher, kind and role the API names has words.
    keys = [f"param.{k}" for k in rules.PARAMETER_KEYS] + [f"matcher.{m}" for m in rules.MATCHERS]
    keys += [f"kind.{k}" for k in rules.TRIGGER_KINDS] + [f"role.{r}" for r in admin_fields.ROLES]
    keys += [f"presence.{p}" for p in ("online", "away", "offline")]
    assert [k for k in keys if k not in strings.STRINGS] == []
    # Every key the page and the code use exists (a missing one would show itself).
    used = set(re.findall(r'data-t(?:-label|-title|-placeholder)?="([^"]+)"',
                          (ROOT / "templates" / "admin.html").read_text()))
    for path in (*sorted(STATIC_ADMIN.glob("*.py")), ROOT / "static" / "common" / "dom.py"):
        used |= set(re.findall(r'\bt\("([a-z_.]+[a-z])"', path.read_text()))
    assert sorted(k for k in used if k not in strings.STRINGS) == []


PAGE_CHECKS = '''
names = {"teal": "#00897b", "orange": "#fb8c00"}
for value in ("https://Shop.Example/", "http://localhost:8080", "https://[::1]:8443", "shop.example",
              "https://x.example/p", "https://x.example:99999", "https://a b.example", "https://"):
    print(value, check_origin(value))
for value in ("#abc", "#1E88E5", "teal", " Orange ", "nope", "#12", "#ggg"):
    print(value, resolve_color(value, names))
for color in ("#ffeb3b", "#1d3557", "#3659e3", "bad"):
    print(color, readable_text_color(color))
for email in ("ann@shop.example", "ann", "a b@c.d", "a@b@c.d", "a\\tb@c.d"):
    print(email, looks_like_email(email))
print([parse_delay(v) for v in ("0", " 12 ", "86400", "86401", "-1", "1.5", "")])
print(conditions_text([["page_url", "contains", "pricing"], ["country", "!=", "DE"]], t))
print(conditions_text([], t))
print(error_text(0, None, t), error_text(400, {"code": "PARLEY_E_BAD_FRAME", "message": "name x"}, t))
print(error_text(403, {"code": "PARLEY_E_FORBIDDEN"}, t), error_text(502, None, t))
print(trigger_label({"name": "", "message": "x" * 50}), trigger_label({"name": "Named", "message": "m"}))
print(hours_body(" mon 09:00-17:00 ", "UTC"), hours_body("", "UTC"))
print([o["id"] for o in non_members([{"id": "a"}, {"id": "b"}], ["a"])])
print(display_name({"id": "a", "name": "Ann"}, t, "a"), display_name({"id": "b", "email": "b@x.y"}, t, "a"))
print(t("operators.deleted", name="Ann"), t("no.such.key"))
'''


def test_page_logic_gives_the_same_answers_under_micropython(tmp_path):
    """The page runs model.py and strings.py under MicroPython: same output as CPython."""
    import shutil
    import subprocess
    import sys

    script = tmp_path / "page_checks.py"
    sources = [(STATIC_ADMIN / name).read_text() for name in ("strings.py", "model.py")]
    script.write_text("\n".join([*sources, PAGE_CHECKS]))
    # model.py takes the widget's colour and email rules: files beside it on the page, the
    # widget's package here (and under MicroPython below, where mpy_run puts /lib on the path).
    cpython = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                             check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    node = shutil.which("node")
    if node is None:
        pytest.fail("node and the pinned MicroPython package are required (run scripts/test)")
    micropython = subprocess.run([node, str(ROOT / "tests" / "mpy_run.mjs"), str(ROOT), str(script)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert micropython.returncode == 0, micropython.stdout + micropython.stderr
    assert cpython.stdout.strip() and micropython.stdout == cpython.stdout


def test_each_resource_answers_its_own_methods_only(client, admin):
    # HTTPEndpoint picks the method; the router still answers 405 for the others.
    for method, path in (("PUT", APP), ("DELETE", APP), ("GET", "/api/admin/app/rotate-secret"),
                         ("POST", "/api/admin/teams/x"), ("GET", "/api/admin/teams/x/members")):
        response = client.request(method, path, headers=admin)
        assert response.status_code == 405, (method, path)
    assert client.head(APP, headers=admin).status_code == 200  # HEAD wherever GET is allowed
    assert client.head("/api/admin/snippet").status_code == 401
