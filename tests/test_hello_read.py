"""The visitor hello's read path (storage.hello_read) and its per-app cache (web.hello_cache).

A hello is one read unit, run after the socket subscribed to the visitor's channels;
triggers and public operators come from a per-app cache that every admin change drops,
in every process. These tests hold the contract that must survive that: what a welcome
says follows the admin's changes, a resume replays exactly what was missed while
messages are being published, and a visitor id without its token opens nothing.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from parley import delivery
from parley.storage import app_queries, chat_store, hello_read, message_store, operator_queries
from parley.web import hello_cache
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.ports import free_port
from tests.helpers.real_sockets import Endpoints
from tests.helpers.server import SITE, Server, cli, server_env
from tests.helpers.sockets import ORIGIN, SERVER, login, operator, same_visitor, visitor

OWN = {"Origin": SERVER}


@pytest.fixture
def shop(database):
    """An app with an admin (Ada) and an operator (Ann)."""
    async def work(session):
        app = await app_queries.create_app(session, "Shop", [ORIGIN])
        ada = await operator_queries.create_operator(session, app.id, "ada@shop.example", PASSWORD, "Ada",
                                                     "admin")
        ann = await operator_queries.create_operator(session, app.id, "ann@shop.example", PASSWORD, "Ann")
        return app, ada, ann
    return run(database, work)


def welcome_of(client, app_id) -> dict:
    with visitor(client, app_id) as tab:
        return tab.first


def admin_headers(client, app_id) -> dict:
    response = login(client, app_id, "ada@shop.example")
    assert response.status_code == 200, response.text
    return {"Cookie": f"parley_session={response.cookies['parley_session']}", **OWN}


def test_welcome_follows_admin_changes_of_triggers_operators_and_teams(client, shop):
    app, _ada, ann = shop
    cache = client.app.state.hello_cache
    first = welcome_of(client, app.id)
    assert first["triggers"] == []
    assert [(o["name"], o["teamIds"]) for o in first["operators"]] == [("Ada", []), ("Ann", [])]
    assert cache.get(app.id) is not None  # what the next hello of the app reuses
    admin = admin_headers(client, app.id)

    # A trigger added, changed, removed: each is in the very next welcome.
    made = client.post("/api/admin/triggers", json={"message": "Need help?", "delay": 5}, headers=admin)
    assert made.status_code == 201, made.text
    trigger_id = made.json()["id"]
    assert cache.get(app.id) is None
    assert [(t["id"], t["message"], t["delay"]) for t in welcome_of(client, app.id)["triggers"]] == [
        (trigger_id, "Need help?", 5)]
    changed = client.patch(f"/api/admin/triggers/{trigger_id}", json={"enabled": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert [t["enabled"] for t in welcome_of(client, app.id)["triggers"]] == [False]

    # An operator added, a team with a member: the welcome's operators and their teams.
    bob = client.post("/api/admin/operators", json={"email": "bob@shop.example", "password": "long enough pw",
                                                    "name": "Bob"}, headers=admin)
    assert bob.status_code == 201, bob.text
    assert [o["name"] for o in welcome_of(client, app.id)["operators"]] == ["Ada", "Ann", "Bob"]
    team = client.post("/api/admin/teams", json={"name": "Sales"}, headers=admin)
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    member = client.post(f"/api/admin/teams/{team_id}/members", json={"operatorId": ann.id}, headers=admin)
    assert member.status_code == 200, member.text
    operators = {o["name"]: o["teamIds"] for o in welcome_of(client, app.id)["operators"]}
    assert operators == {"Ada": [], "Ann": [team_id], "Bob": []}

    # An operator renaming itself (the inbox's profile) is a change of the welcome too.
    ann_session = login(client, app.id, "ann@shop.example").cookies["parley_session"]
    renamed = client.patch("/api/operator/me", json={"name": "Annie"},
                           headers={"Cookie": f"parley_session={ann_session}", **OWN})
    assert renamed.status_code == 200, renamed.text
    assert [o["name"] for o in welcome_of(client, app.id)["operators"]] == ["Ada", "Annie", "Bob"]

    removed = client.delete(f"/api/admin/triggers/{trigger_id}", headers=admin)
    assert removed.status_code == 200, removed.text
    assert welcome_of(client, app.id)["triggers"] == []
    # Never an operator's email in what visitors get.
    assert "email" not in json.dumps(welcome_of(client, app.id)["operators"])


def test_a_read_begun_before_a_change_does_not_fill_the_cache():
    """A hello that read the parts, then an admin change, then the hello's put(): the put is
    dropped, or the change would be hidden until the TTL."""
    cache = hello_cache.HelloCache(hub=None)
    ticket = cache.ticket("app")
    cache.invalidate("app")
    cache.put("app", "old parts", ticket)
    assert cache.get("app") is None
    ticket = cache.ticket("app")
    cache.invalidate(None)  # a Redis outage: every app
    cache.put("app", "old parts", ticket)
    assert cache.get("app") is None
    cache.put("app", "new parts", cache.ticket("app"))
    assert cache.get("app") == "new parts"
    stale = hello_cache.HelloCache(hub=None, ttl=0.0)
    stale.put("app", "parts", stale.ticket("app"))
    time.sleep(0.01)
    assert stale.get("app") is None


def test_a_visitor_id_without_its_token_opens_nothing(client, shop, database):
    """Its channels are subscribed before the token is checked: nothing of them may reach
    the socket, live or replayed; it gets a visitor of its own."""
    app, _ada, _ann = shop
    with visitor(client, app.id) as owner:
        sent = owner.say("v-1", "my secret order")
        owner.message_event(sent["message"]["id"])
        chat_id = sent["message"]["chatId"]
        victim = same_visitor(owner)
        with visitor(client, app.id) as someone_else:
            other_token = someone_else.first["visitorToken"]
        for wrong in ("not the token", other_token, victim["visitorToken"] + "x"):
            claim = {"visitorId": victim["visitorId"], "visitorToken": wrong, "lastSeq": 0}
            with visitor(client, app.id, **claim) as intruder:
                assert intruder.first["visitorId"] != victim["visitorId"]
                assert intruder.first["chat"] is None and intruder.first["seq"] == 0
                # The owner's chat goes on while the intruder is connected.
                with operator(client, app.id) as op:
                    op.send(type="message.send", chatId=chat_id, clientId=f"o-{wrong}", text="your order")
                    reply = op.ack(f"o-{wrong}")["message"]
                owner.message_event(reply["id"])
                frames = intruder.sync()
                assert [f for f in frames if f["type"] in ("event", "reset", "typing")] == []
                assert "my secret order" not in json.dumps(frames)


# -- a resume while messages are being published -------------------------------------------

def test_an_event_published_right_after_the_hellos_read_still_arrives(client, shop, database, monkeypatch):
    """The window the order guards: an operator's message stored and published just after
    the hello read what to replay (so not in the replay). The socket subscribed before that
    read, so it arrives live, once, with no later event needed to notice a gap."""
    app, _ada, ann = shop
    with visitor(client, app.id) as tab:
        sent = tab.say("v-1", "hi")
        seen = tab.message_event(sent["message"]["id"])["seq"]
        chat_id = sent["message"]["chatId"]
        credentials = same_visitor(tab)
    read = database.read
    published = []

    async def read_then_publish(unit):
        found = await read(unit)
        if getattr(unit, "func", None) is hello_read.read_hello and not published:
            async with database.session() as session:
                operator_row = await operator_queries.get_operator(session, app.id, ann.id)
                chat = await chat_store.get_chat(session, app.id, chat_id)
                stored = await message_store.add_operator_message(session, operator_row, chat, "o-late",
                                                                  "just now")
                await session.commit()
            await delivery.publish(client.app.state.fanout, app.id, credentials["visitorId"], stored.events)
            published.extend(stored.events)
        return found

    monkeypatch.setattr(database, "read", read_then_publish)
    with visitor(client, app.id, lastSeq=seen, **credentials) as tab:
        assert published and tab.first["seq"] == seen  # read before the message was stored
        frames = tab.sync()
    events = [f for f in frames if f["type"] == "event"]
    assert [(f["seq"], f["event"]["message"]["text"]) for f in events] == [(seen + 1, "just now")]


@pytest.fixture
def live_server(tmp_path, built_dist, server_db_url):
    """A real `parley serve` (SQLite, or PostgreSQL) with an app and operator Ann."""
    env = server_env(tmp_path, server_db_url)
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    server = Server(env, free_port(), tmp_path / "server.log")
    server.start()
    try:
        yield server, app
    finally:
        server.stop()


async def test_resume_replays_exactly_what_was_missed_while_messages_are_published(live_server):
    """The visitor reconnects again and again with lastSeq while its operator writes without
    pause: each socket gets seq lastSeq+1, +2, ... with no gap and no repeat, across the
    replay and the live feed, and every message arrives once in all."""
    server, app = live_server
    on = Endpoints(server, app)
    cookie = on.login()
    count = 120
    async with on.visitor() as guest:
        welcome = await on.hello(guest)
        await guest.send(json.dumps({"v": 1, "type": "message.send", "clientId": "v-1", "text": "hi"}))
        while True:
            frame = json.loads(await asyncio.wait_for(guest.recv(), 10))
            if frame["type"] == "ack":
                chat_id = frame["message"]["chatId"]
                break
    credentials = {"visitorId": welcome["visitorId"], "visitorToken": welcome["visitorToken"]}
    texts: list[str] = []
    last_seq = 0

    async with on.operator(cookie) as op:
        async def write() -> None:
            for n in range(count):
                await op.send(json.dumps({"v": 1, "type": "message.send", "chatId": chat_id,
                                          "clientId": f"o-{n}", "text": f"reply {n}"}))
                while True:
                    frame = json.loads(await asyncio.wait_for(op.recv(), 10))
                    if frame["type"] == "ack" and frame["clientId"] == f"o-{n}":
                        break

        writer = asyncio.create_task(write())
        sockets = 0
        while True:
            finished = writer.done()  # then this is the last reconnect: everything is stored
            sockets += 1
            async with on.visitor() as guest:
                again = await on.hello(guest, lastSeq=last_seq, **credentials)
                expected, live = last_seq + 1, 0
                # The replay up to welcome.seq, then a few live events while the writer writes.
                while last_seq < again["seq"] or (not finished and live < 3):
                    try:
                        frame = json.loads(await asyncio.wait_for(guest.recv(), 10))
                    except TimeoutError:
                        assert writer.done(), "an event went missing"
                        break  # the writer finished meanwhile: nothing more is coming live
                    if frame["type"] != "event":
                        assert frame["type"] not in ("reset", "error"), frame
                        continue
                    assert frame["seq"] == expected, (frame["seq"], expected)  # no gap, no repeat
                    expected, last_seq = expected + 1, frame["seq"]
                    live += frame["seq"] > again["seq"]
                    event = frame["event"]
                    if event["type"] == "message" and event["message"]["authorKind"] == "operator":
                        texts.append(event["message"]["text"])
                assert last_seq >= again["seq"]
            if finished:
                break
        await writer
    assert texts == [f"reply {n}" for n in range(count)]
    assert sockets >= 2


# -- two processes: a change on one reaches the other's cache ---------------------------------

async def test_an_admin_change_on_one_process_reaches_welcomes_of_the_other(two_servers):
    a, b, app = two_servers
    cli(a.env, "operator", "create", "--app", app["appId"], "--email", "ada@shop.example",
        "--password", PASSWORD, "--role", "admin", "--name", "Ada")
    on_a, on_b = Endpoints(a, app), Endpoints(b, app)

    async def welcome_on_b() -> dict:
        async with on_b.visitor() as guest:
            return await on_b.hello(guest)

    before = await welcome_on_b()  # B has the app's parts cached now
    assert before["triggers"] == []
    login_a = httpx.post(f"{on_a.base}/api/operator/login", json={
        "appId": app["appId"], "email": "ada@shop.example", "password": PASSWORD})
    assert login_a.status_code == 200, login_a.text
    admin = {"Cookie": f"parley_session={login_a.cookies['parley_session']}", "Origin": on_a.base}
    made = httpx.post(f"{on_a.base}/api/admin/triggers", json={"message": "Hello from A"}, headers=admin)
    assert made.status_code == 201, made.text
    team = httpx.post(f"{on_a.base}/api/admin/teams", json={"name": "Sales"}, headers=admin)
    assert team.status_code == 201, team.text

    # Through Redis, well before the cache's TTL would have dropped B's copy anyway.
    deadline = time.monotonic() + hello_cache.TTL_SECONDS / 2
    while True:
        seen = await welcome_on_b()
        if [t["message"] for t in seen["triggers"]] == ["Hello from A"]:
            break
        assert time.monotonic() < deadline, "B's welcomes never showed A's change"
        await asyncio.sleep(0.05)
    assert sorted(o["name"] for o in seen["operators"]) == ["Ada", "ann"]


def test_an_operator_made_elsewhere_is_in_the_welcome_once_they_log_in(client, shop, database):
    # `parley operator create` runs in a process of its own and announces nothing: a cached
    # welcome went on without the new operator, so the widget said "Operator joined the
    # chat" instead of their name (seen in e2e/test_conversation). Their login drops the cache.
    app, _ada, _ann = shop
    assert [o["name"] for o in welcome_of(client, app.id)["operators"]] == ["Ada", "Ann"]

    async def elsewhere(session):
        return await operator_queries.create_operator(session, app.id, "bea@shop.example", PASSWORD, "Bea")
    run(database, elsewhere)
    assert client.app.state.hello_cache.get(app.id) is not None  # nothing told this process
    assert login(client, app.id, "bea@shop.example").status_code == 200
    assert [o["name"] for o in welcome_of(client, app.id)["operators"]] == ["Ada", "Ann", "Bea"]
