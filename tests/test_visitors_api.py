"""The inbox's visitor features: live visitors, details and notes, search, profile,
proactive chats (server), and the pure parts of their inbox modules (static/inbox)."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import update

from parley.storage import app_queries, operator_queries, visitor_queries, visitor_store, visitor_writes
from parley.storage.models import Visitor, utcnow
from parley.web import visitor_presence
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, SERVER, Tab, login, operator, visitor
from tests.helpers.static_pages import STATIC, check_inbox_strings, load_static
from tests.helpers.waiting import wait_until

CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0 Mobile Safari/537.36")
ENDPOINTS = ("/api/operator/visitors/online", "/api/operator/visitors/abc", "/api/operator/search?q=hello",
             "/api/operator/profile")


@pytest.fixture
def make_operator(database):
    def make(app_id: str, email: str = "ann@shop.example", password: str = PASSWORD, name: str = "Ann"):
        return run(database, lambda s: operator_queries.create_operator(s, app_id, email, password, name))
    return make


def session_of(client, app_id, email="ann@shop.example", password=PASSWORD) -> dict:
    response = login(client, app_id, email, password)
    assert response.status_code == 200, response.text
    return {"Cookie": f"parley_session={response.cookies['parley_session']}"}


@contextmanager
def browser_visitor(client, app_id, *, language="de-DE,de;q=0.9,en;q=0.8", agent=CHROME_ANDROID, **hello):
    """A visitor socket with a browser's headers (the widget's iframe sends them)."""
    headers = {"Origin": ORIGIN, "Accept-Language": language, "User-Agent": agent}
    with client.websocket_connect("/ws/visitor", headers=headers) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id, **hello}))
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome", welcome
        yield Tab(ws, welcome)


def online_list(client, headers) -> list[dict]:
    response = client.get("/api/operator/visitors/online", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["windowSeconds"] == 90
    return body["visitors"]


def patch(client, path, body, headers, origin=SERVER):
    extra = {"Origin": origin} if origin else {}
    return client.patch(path, content=json.dumps(body),
                        headers={**headers, **extra, "Content-Type": "application/json"})


def set_last_seen(database, visitor_id, seconds_ago):
    async def work(session):
        await session.execute(update(Visitor).where(Visitor.id == visitor_id)
                              .values(last_seen_at=utcnow() - timedelta(seconds=seconds_ago)))
        await session.commit()
    run(database, work)


# -- auth and isolation ---------------------------------------------------------------------

def test_endpoints_need_a_session(client, make_app):
    make_app()
    for path in ENDPOINTS:
        for headers in ({}, {"Cookie": "parley_session=forged"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, path
            assert response.json()["code"] == "PARLEY_E_AUTH"
    for path in ("/api/operator/visitors/abc", "/api/operator/me"):
        assert patch(client, path, {"notes": "x"}, {}).status_code == 401


def test_operators_see_only_their_own_apps_visitors(client, make_app, make_operator):
    shop, other = make_app(), make_app()
    make_operator(shop.id)
    make_operator(other.id, "eve@other.example")
    ann, eve = session_of(client, shop.id), session_of(client, other.id, "eve@other.example")
    with visitor(client, shop.id) as tab:
        tab.send(type="visitor.update", data={"name": "Shop Secret", "email": "secret@shop.example"})
        tab.of_type("visitor")
        tab.say("s1", "my order number is 4711")
        shop_visitor = tab.first["visitorId"]
        assert [v["id"] for v in online_list(client, ann)] == [shop_visitor]
        assert online_list(client, eve) == []
    for path in (f"/api/operator/visitors/{shop_visitor}", "/api/operator/visitors/nobody"):
        response = client.get(path, headers=eve)
        assert response.status_code == 404 and response.json()["code"] == "PARLEY_E_NOT_FOUND"
        assert patch(client, path, {"notes": "mine now"}, eve).status_code == 404
    for word in ("4711", "Shop Secret", "secret@shop"):
        assert client.get("/api/operator/search", params={"q": word}, headers=eve).json()["results"] == []
        assert len(client.get("/api/operator/search", params={"q": word}, headers=ann).json()["results"]) == 1
    # A proactive chat with another app's visitor: the same answer as no such visitor.
    with operator(client, other.id, "eve@other.example") as tab:
        tab.send(type="chat.start", visitorId=shop_visitor, clientId="p1", text="hello")
        error = tab.ack("p1")
        assert error["type"] == "error" and error["code"] == "PARLEY_E_NOT_FOUND"
    details = client.get(f"/api/operator/visitors/{shop_visitor}", headers=ann).json()
    assert details["visitor"]["notes"] is None


# -- who is on the site now ----------------------------------------------------------------------

def test_a_visitor_is_online_while_its_socket_is_open(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    headers = session_of(client, app.id)
    with operator(client, app.id) as feed, browser_visitor(client, app.id) as tab:
        visitor_id = tab.first["visitorId"]
        tab.send(type="page.view", url="https://shop.example/?utm_source=news&utm_campaign=spring",
                 title="Shop", referrer="https://search.example/?q=mugs")
        tab.send(type="page.view", url="https://shop.example/mugs/blue", title="Blue mug",
                 referrer="https://search.example/?q=mugs")
        live = feed.next(lambda f: f["type"] == "page.view" and f["url"].endswith("/blue"))
        assert live["visitorId"] == visitor_id and live["title"] == "Blue mug" and live["createdAt"]
        [seen] = online_list(client, headers)
        assert seen["id"] == visitor_id and seen["online"] is True
        assert seen["page"]["url"] == "https://shop.example/mugs/blue" and seen["page"]["title"] == "Blue mug"
        assert seen["pageViews"] == 2 and seen["visitStartedAt"] <= seen["page"]["createdAt"]
        assert seen["referrer"] == "https://search.example/?q=mugs"
        assert seen["utm"] == {"source": "news", "campaign": "spring"}
        assert (seen["language"], seen["device"], seen["chatId"]) == ("de-DE", "android", None)
        tab.say("c1", "hi")
        assert online_list(client, headers)[0]["chatId"]
        # Last seen 60 s ago (the heartbeat is due every 60 s): still on the site.
        set_last_seen(database, visitor_id, 60)
        assert [v["id"] for v in online_list(client, headers)] == [visitor_id]
        # Nothing from its socket for over 90 s (a server process died): gone.
        set_last_seen(database, visitor_id, 91)
        assert online_list(client, headers) == []
        tab.send(type="page.view", url="https://shop.example/cart")  # a page view touches it again
        feed.next(lambda f: f["type"] == "page.view" and f["url"].endswith("/cart"))
        assert [v["page"]["url"] for v in online_list(client, headers)] == ["https://shop.example/cart"]
    # The last socket closed: gone at once, and the operators are told.
    assert online_list(client, headers) == []
    credentials = {"visitorId": visitor_id, "visitorToken": tab.first["visitorToken"]}
    with operator(client, app.id) as feed:
        with visitor(client, app.id, **credentials):
            assert [v["id"] for v in online_list(client, headers)] == [visitor_id]
            with visitor(client, app.id, **credentials):
                pass  # a second tab closes: the first is still open
            assert [v["id"] for v in online_list(client, headers)] == [visitor_id]
        assert feed.of_type("visitor.left")["visitorId"] == visitor_id
        assert not [f for f in feed.kept if f["type"] == "visitor.left"]  # told once
    assert online_list(client, headers) == []


def test_one_heartbeat_keeps_every_open_visitor_on_the_site(client, make_app, make_operator, database,
                                                              monkeypatch):
    """The process's heartbeat (one task, one UPDATE per beat) touches each visitor whose
    socket is open once its last touch is FRESH old; it ends with the last socket."""
    monkeypatch.setattr(visitor_presence, "BEAT_SECONDS", 0.05)
    monkeypatch.setattr(visitor_presence, "FRESH", timedelta(seconds=0))
    app = make_app([ORIGIN])
    make_operator(app.id)
    headers = session_of(client, app.id)
    with browser_visitor(client, app.id) as first, browser_visitor(client, app.id) as second:
        ids = sorted([first.first["visitorId"], second.first["visitorId"]])
        for visitor_id in ids:
            set_last_seen(database, visitor_id, 91)  # as if their sockets had said nothing for long
        wait_until(lambda: sorted(v["id"] for v in online_list(client, headers)) == ids)
        heartbeat = client.app.state.visitor_heartbeat
        assert heartbeat is not None and not heartbeat.done()
    wait_until(lambda: getattr(client.app.state, "visitor_heartbeat", None) is None)
    assert online_list(client, headers) == []


def test_another_process_touching_later_keeps_the_visitor_online(database):
    async def scenario(session):
        app = await app_queries.create_app(session, "Shop", [])
        found = await visitor_store.resume_or_register_visitor(session, app.id, None, None)
        await session.commit()  # before the Core units below, on connections of their own
        mine = utcnow() - timedelta(seconds=30)

        def write(unit, **values):
            return database.run(partial(unit, visitor_id=found.id, **values))

        await write(visitor_writes.touch, at=mine)
        await write(visitor_writes.touch, at=utcnow())  # the other process, later
        kept = not await write(visitor_writes.mark_left, touched=mine, now=utcnow())
        listed = [v["id"] for v in await visitor_queries.online_visitors(session, app.id)]
        gone = await write(visitor_writes.mark_left, touched=utcnow(), now=utcnow())
        return kept, listed == [found.id], gone, await visitor_queries.online_visitors(session, app.id)
    assert run(database, scenario) == (True, True, True, [])


def page_views(*minutes_ago):
    now = utcnow()
    return [SimpleNamespace(created_at=now - timedelta(minutes=m), url=f"/p{m}", title="", referrer="",
                            utm={}) for m in minutes_ago]


def test_the_visit_is_the_newest_run_of_page_views():
    views = page_views(0, 5, 34, 40, 80, 90)  # newest first
    assert [v.url for v in visitor_queries.visit_of(views)] == ["/p40", "/p34", "/p5", "/p0"]
    assert visitor_queries.visit_of([]) == []
    assert visitor_queries.language_of("fr-CH, fr;q=0.9, en;q=0.8") == "fr-CH"
    assert visitor_queries.language_of("*;q=0.5, de;q=0.1") == "de"
    assert visitor_queries.language_of("en;q=0, nl") == "nl"
    assert visitor_queries.language_of("<script>") is None and visitor_queries.language_of(None) is None


# -- proactive chats -------------------------------------------------------------------------------

def test_an_operator_starts_a_chat_with_a_visitor(client, make_app, make_operator):
    app = make_app()
    ann = make_operator(app.id)
    with operator(client, app.id) as tab, visitor(client, app.id) as guest:
        visitor_id = guest.first["visitorId"]
        tab.send(type="chat.start", visitorId=visitor_id, clientId="p1", text="Hello! Need help with sizes?")
        ack = tab.ack("p1")
        assert ack["type"] == "ack" and ack["message"]["authorKind"] == "operator"
        assert ack["chat"]["operatorIds"] == [ann.id] and ack["chat"]["status"] == "open"
        # The visitor's tabs get it through the event log: chat.started, then the message.
        started = guest.next(lambda f: f["type"] == "event" and f["event"]["type"] == "chat.started")
        said = guest.next(lambda f: f["type"] == "event" and f["event"]["type"] == "message")
        assert started["seq"] < said["seq"] and said["event"]["message"] == ack["message"]
        assert tab.of_type("chat.started")["chat"]["id"] == ack["chat"]["id"]
        # The same clientId again: the same message, nothing new for anyone.
        tab.send(type="chat.start", visitorId=visitor_id, clientId="p1", text="Hello! Need help with sizes?")
        assert tab.ack("p1")["message"] == ack["message"]
        # A second proactive chat while this one is open: continue in the open one.
        tab.send(type="chat.start", visitorId=visitor_id, clientId="p2", text="Hello again")
        conflict = tab.ack("p2")
        assert conflict["code"] == "PARLEY_E_CONFLICT" and conflict["openChatId"] == ack["chat"]["id"]
        tab.send(type="chat.start", visitorId="nobody", clientId="p3", text="hi")
        assert tab.ack("p3")["code"] == "PARLEY_E_NOT_FOUND"
        tab.send(type="chat.start", visitorId=visitor_id, clientId="p4", text="")
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        # The visitor answers in the same chat.
        reply = guest.say("v1", "Yes please")
        assert reply["message"]["chatId"] == ack["chat"]["id"]
        events = [f["event"]["type"] for f in guest.sync() if f["type"] == "event"]
        assert events.count("chat.started") == 0  # no second chat.started anywhere after the first


# -- details and notes ------------------------------------------------------------------------------

def test_details_show_the_visitor_its_chats_and_pages(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    with browser_visitor(client, app.id, language="nl") as tab:
        tab.send(type="visitor.update", data={"name": "Noor", "email": "noor@example.nl", "phone": "+31 6",
                                              "custom": {"plan": "pro", "seats": 3}})
        tab.of_type("visitor")
        tab.send(type="page.view", url="https://shop.example/a", title="A")
        tab.say("c1", "first chat")
        tab.send(type="chat.close")
        tab.say("c2", "second chat")
        visitor_id = tab.first["visitorId"]
        body = client.get(f"/api/operator/visitors/{visitor_id}", headers=headers).json()
    profile = body["visitor"]
    assert (profile["name"], profile["email"], profile["phone"]) == ("Noor", "noor@example.nl", "+31 6")
    assert profile["custom"] == {"plan": "pro", "seats": 3} and profile["verified"] is False
    assert profile["language"] == "nl" and profile["device"] == "android" and "token" not in profile
    assert [c["lastMessage"]["text"] for c in body["chats"]] == ["second chat", "first chat"]
    assert [c["status"] for c in body["chats"]] == ["open", "closed"]
    assert [p["url"] for p in body["pageViews"]] == ["https://shop.example/a"]


def test_notes_need_the_inbox_origin_and_reach_other_tabs(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    with visitor(client, app.id) as tab:
        visitor_id = tab.first["visitorId"]
    path = f"/api/operator/visitors/{visitor_id}"
    # CSRF: no Origin, or another site's, changes nothing.
    for origin in (None, "https://evil.example", "http://testserver.evil.example"):
        response = patch(client, path, {"notes": "hacked"}, headers, origin=origin)
        assert response.status_code == 403 and response.json()["code"] == "PARLEY_E_ORIGIN"
    # A form post (not JSON), unknown fields, too long: refused.
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    form = client.patch(path, content="notes=x", headers={**headers, "Origin": SERVER, **form_type})
    assert form.status_code == 400
    assert patch(client, path, {"notes": "x", "name": "y"}, headers).status_code == 400
    assert patch(client, path, {"notes": "x" * 5001}, headers).status_code == 400
    assert client.get(path, headers=headers).json()["visitor"]["notes"] is None
    with operator(client, app.id) as other_tab:
        response = patch(client, path, {"notes": "  Prefers email. VIP.  "}, headers)
        assert response.status_code == 200, response.text
        assert response.json()["visitor"]["notes"] == "Prefers email. VIP."
        assert other_tab.of_type("visitor.updated")["visitor"]["notes"] == "Prefers email. VIP."
    assert patch(client, path, {"notes": "x" * 5000}, headers).status_code == 200
    assert patch(client, path, {"notes": None}, headers).json()["visitor"]["notes"] is None


# -- search -------------------------------------------------------------------------------------------

def search(client, headers, q) -> list[dict]:
    response = client.get("/api/operator/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_search_takes_wildcards_literally(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    texts = ["Is there 50% off?", "Is there 5000 off?", "my user_name is ann", "my username is bob",
             r"path C:\temp\x", "Le CAFÉ est fermé"]
    chats = {}
    for index, text in enumerate(texts):
        with visitor(client, app.id) as tab:
            chats[text] = tab.say(f"m{index}", text)["message"]["chatId"]

    def found(q):
        return [chats_by_id[r["chat"]["id"]] for r in search(client, headers, q)]

    chats_by_id = {chat_id: text for text, chat_id in chats.items()}
    assert found("50%") == ["Is there 50% off?"]
    assert sorted(found("50")) == ["Is there 50% off?", "Is there 5000 off?"]
    assert found("user_name") == ["my user_name is ann"]
    assert found("0%") == ["Is there 50% off?"]
    assert found("__") == []
    assert found(r"\temp") == [r"path C:\temp\x"]
    assert found("cafÉ") == ["Le CAFÉ est fermé"]  # ASCII letters in any case
    assert found("IS THERE 50%") == ["Is there 50% off?"]
    [hit] = search(client, headers, "50%")
    assert hit["match"] == "message" and hit["snippet"] == "Is there 50% off?"
    assert hit["snippet"][hit["highlight"][0]:hit["highlight"][1]] == "50%"
    assert hit["chat"]["lastMessage"]["text"] == "Is there 50% off?" and hit["messageId"]
    for q in ("", "a", " a ", "x" * 201, "ab\x00c"):
        response = client.get("/api/operator/search", params={"q": q}, headers=headers)
        assert response.status_code == 400 and response.json()["code"] == "PARLEY_E_BAD_FRAME"


def test_search_finds_visitors_by_name_and_email_and_limits_results(client, make_app, make_operator,
                                                                   monkeypatch):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", data={"name": "Grace Hopper", "email": "grace@navy.example"})
        tab.of_type("visitor")
        tab.say("g1", "compiler question")
    [by_name] = search(client, headers, "hopper")
    assert by_name["match"] == "name" and by_name["snippet"] == "Grace Hopper"
    [by_email] = search(client, headers, "NAVY.example")
    assert by_email["match"] == "email" and by_email["highlight"] == [6, 18]
    with visitor(client, app.id) as tab:
        for index in range(20):
            tab.say(f"x{index}", f"needle {index}")
            if index % 5 == 4:
                tab.send(type="chat.close")  # a new chat for the next messages
    hits = search(client, headers, "needle")
    assert len(hits) == 4 and len({hit["chat"]["id"] for hit in hits}) == 4  # one result per chat
    assert [hit["snippet"] for hit in hits] == ["needle 19", "needle 14", "needle 9", "needle 4"]
    monkeypatch.setattr(visitor_queries, "SEARCH_LIMIT", 3)
    assert len(search(client, headers, "needle")) == 3


def test_snippets_are_short_and_point_at_the_match():
    text = "word " * 40 + "the NEEDLE is here " + "tail " * 40
    piece, (start, end) = visitor_queries.snippet(text, "needle")
    assert piece.startswith("…") and piece.endswith("…") and piece[start:end] == "NEEDLE"
    assert len(piece) <= visitor_queries.SNIPPET_BEFORE + visitor_queries.SNIPPET_AFTER + 10
    assert visitor_queries.snippet("no match here", "zz") == ("no match here", None)
    assert visitor_queries.like_pattern("50%_\\") == "%50\\%\\_\\\\%"


# -- the operator's profile ---------------------------------------------------------------------------

def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_profile_name_and_avatar(client, make_app, make_operator):
    app, other = make_app(), make_app()
    make_operator(app.id)
    make_operator(other.id, "eve@other.example")
    headers = session_of(client, app.id)
    profile = client.get("/api/operator/profile", headers=headers).json()["profile"]
    assert (profile["name"], profile["avatarUrl"], profile["email"]) == ("Ann", None, "ann@shop.example")
    upload = client.post("/api/operator/files", params={"name": "me.png"}, content=png(),
                         headers={**headers, "Origin": SERVER}).json()["file"]
    eve = session_of(client, other.id, "eve@other.example")
    foreign = client.post("/api/operator/files", params={"name": "eve.png"}, content=png(),
                          headers={**eve, "Origin": SERVER}).json()["file"]
    text = client.post("/api/operator/files", params={"name": "a.txt"}, content=b"hello",
                       headers={**headers, "Origin": SERVER}).json()["file"]
    with operator(client, app.id) as feed:
        response = patch(client, "/api/operator/me", {"name": "  Ann   Lee ", "avatarUrl": upload["url"]},
                         headers)
        assert response.status_code == 200, response.text
        assert response.json()["profile"]["name"] == "Ann Lee"
        assert response.json()["profile"]["avatarUrl"] == upload["url"]
        told = feed.of_type("operator.updated")["operator"]
        assert told["name"] == "Ann Lee" and told["avatarUrl"] == upload["url"]
    assert client.get("/api/operator/me", headers=headers).json()["name"] == "Ann Lee"
    for bad in ({"avatarUrl": foreign["url"]}, {"avatarUrl": text["url"]}, {"avatarUrl": "javascript:x"},
                {"avatarUrl": "https://evil.example/x.png"}, {"name": ""}, {"name": "x" * 201},
                {"role": "admin"}, {}):
        response = patch(client, "/api/operator/me", bad, headers)
        assert response.status_code == 400, bad
    removed = patch(client, "/api/operator/me", {"avatarUrl": None}, headers)
    assert removed.json()["profile"]["avatarUrl"] is None
    assert patch(client, "/api/operator/me", {"name": "Eve"}, headers, origin=None).status_code == 403
    assert patch(client, "/api/operator/me", {"name": "Eve"}, headers,
                 origin="https://evil.example").status_code == 403


def test_changing_the_password_needs_the_current_one(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    elsewhere = session_of(client, app.id)  # another browser
    new = "a much better passphrase"
    missing = patch(client, "/api/operator/me", {"newPassword": new}, headers)
    assert missing.status_code == 400 and "currentPassword" in missing.json()["message"]
    wrong = patch(client, "/api/operator/me", {"currentPassword": "guess", "newPassword": new}, headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "PARLEY_E_AUTH"
    short = patch(client, "/api/operator/me", {"currentPassword": PASSWORD, "newPassword": "short"}, headers)
    assert short.status_code == 400
    assert login(client, app.id, password=new).status_code == 401
    changed = patch(client, "/api/operator/me", {"currentPassword": PASSWORD, "newPassword": new}, headers)
    assert changed.status_code == 200 and changed.json()["sessionsEnded"] == 1
    assert client.get("/api/operator/profile", headers=headers).status_code == 200  # this login stays
    assert client.get("/api/operator/profile", headers=elsewhere).status_code == 401  # others end
    assert login(client, app.id).status_code == 401
    assert login(client, app.id, password=new).status_code == 200
    # Guessing the current password is limited like logins (5 a minute).
    for _ in range(5):
        assert patch(client, "/api/operator/me", {"currentPassword": "guess", "newPassword": new},
                     headers).status_code == 403
    limited = patch(client, "/api/operator/me", {"currentPassword": new, "newPassword": PASSWORD}, headers)
    assert limited.status_code == 429 and limited.headers["retry-after"]


# -- the inbox modules' pure parts (static/inbox, run under CPython) ---------------------------------

STATIC_INBOX = STATIC / "inbox"
MODULES = ("people", "visitors", "details", "search", "operator_profile", "notify", "extras")
SHARED_DOM = STATIC_INBOX.parent / "common" / "dom.py"  # the inbox's helpers, shared with the admin page


load = partial(load_static, "inbox")


def test_every_string_key_used_by_the_new_modules_exists():
    check_inbox_strings(*(STATIC_INBOX / f"{name}.py" for name in MODULES), SHARED_DOM)


def test_the_page_a_socket_opens_on_is_a_page_view_once(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    page = {"url": "https://shop.example/mugs", "title": "Mugs", "referrer": "https://news.example/"}
    with operator(client, app.id) as feed:
        with browser_visitor(client, app.id, page=page) as tab:
            arrived = feed.of_type("page.view")
            assert (arrived["visitorId"], arrived["url"], arrived["title"]) == (
                tab.first["visitorId"], page["url"], "Mugs")
            [seen] = online_list(client, headers)
            assert seen["page"]["url"] == page["url"] and seen["referrer"] == "https://news.example/"
            credentials = {"visitorId": tab.first["visitorId"], "visitorToken": tab.first["visitorToken"]}
        # A reconnect (or reload) on the same page is no new page view.
        with browser_visitor(client, app.id, page=page, **credentials):
            [seen] = online_list(client, headers)
            assert seen["pageViews"] == 1
        with browser_visitor(client, app.id, page={**page, "url": "https://shop.example/cart"},
                             **credentials):
            moved = feed.next(lambda f: f["type"] == "page.view")  # stored right after the welcome
            assert moved["url"] == "https://shop.example/cart"
            assert online_list(client, headers)[0]["pageViews"] == 2
        assert not [f for f in feed.kept if f["type"] == "page.view"]  # the reconnect told nobody


# -- the pure model of the inbox's visitor features -------------------------------------------------

def online(visitor_id, started="2025-01-01T10:00:00.000Z", **extra):
    return {"id": visitor_id, "name": None, "email": None, "page": None, "pageViews": 0,
            "visitStartedAt": started, "referrer": "", "utm": {}, "chatId": None, **extra}


def test_model_online_visitors_follow_the_feed():
    people = load("people")
    store = people.OnlineVisitors()
    store.load([online("a"), online("b", started="2025-01-01T10:05:00.000Z")], 0)
    assert [v["id"] for v in store.listed()] == ["b", "a"] and store.count() == 2
    assert store.page_view({"visitorId": "a", "url": "https://s.example/x?utm_source=mail", "title": "X",
                            "utm": {"source": "mail"}, "createdAt": "2025-01-01T10:06:00.000Z"})
    assert store.visitors["a"]["page"]["title"] == "X" and store.visitors["a"]["pageViews"] == 1
    assert store.visitors["a"]["utm"] == {"source": "mail"}
    assert not store.page_view({"visitorId": "new", "url": "https://s.example/"})  # ask the server
    # Leaving: still listed during the grace period (the next page may connect), then gone.
    assert store.left("a", 1000) and store.count() == 1 and "a" in store.visitors
    store.load([online("b")], 2000)  # a reload does not drop it early
    assert "a" in store.visitors
    assert not store.expire(1000 + people.LEAVING_GRACE_MS - 1)
    assert store.expire(1000 + people.LEAVING_GRACE_MS) and list(store.visitors) == ["b"]
    # Came back (a page view) before the grace period ended: stays.
    store.left("b", 5000)
    store.page_view({"visitorId": "b", "url": "https://s.example/y"})
    assert not store.expire(10**9) and "b" in store.visitors
    assert store.chat_changed({"id": "c1", "visitorId": "b", "status": "open"})
    assert store.visitors["b"]["chatId"] == "c1"
    store.chat_changed({"id": "c1", "visitorId": "b", "status": "closed"})
    assert store.visitors["b"]["chatId"] is None
    assert store.updated({"id": "b", "name": "Bea", "verified": True})
    assert store.visitors["b"]["name"] == "Bea"


def test_model_words_for_visits():
    people = load("people")
    t = load("strings").t
    assert [people.duration(s, t) for s in (0, 59, 60, 3599, 3600 + 5 * 60)] == [
        "0 s", "59 s", "1 min", "59 min", "1 h 5 min"]
    assert people.host_of("https://user@www.example.com:8080/a?b#c") == "www.example.com:8080"
    assert people.host_of("javascript:alert(1)") == ""
    assert people.path_of("https://shop.example/mugs?x=1") == "/mugs?x=1"
    assert people.path_of("https://shop.example") == "/"
    utm = {"utm": {"source": "news", "campaign": "spring"}}
    assert people.source_text(utm, t) == "Campaign: news / spring"
    assert people.source_text({"referrer": "https://www.google.com/search?q=x"}, t) == "www.google.com"
    assert people.source_text({}, t) == "Direct"
    assert people.device_text("ios", t) == "iOS" and people.device_text("toaster", t) == "Desktop"
    assert people.initials("Ann Lee") == "AL" and people.initials("  ann ") == "A"
    assert people.initials(None, "bob@shop.example") == "B" and people.initials("", "") == "?"
    assert people.highlight_parts("Is there 50% off?", [9, 12]) == [
        ("Is there ", False), ("50%", True), (" off?", False)]
    assert people.highlight_parts("abc", [2, 9]) == [("abc", False)]
    assert people.highlight_parts("abc", None) == [("abc", False)]
    assert people.search_query("  a ") is None and people.search_query(" teal  mugs ") == "teal mugs"
    assert people.search_query("x" * 201) is None


def test_model_notifications_only_for_visitor_messages_and_not_the_open_chat():
    people = load("people")
    t = load("strings").t
    notifier = people.Notifier()
    notifier.chat_started({"id": "c1"})
    first = {"type": "message", "chatId": "c1", "message": {"id": 7, "authorKind": "visitor", "text": "Hi"}}
    plan = notifier.plan(first, current_chat=None, visible=True)
    assert plan == {"id": 7, "chatId": "c1", "quiet": False, "newChat": True}
    assert people.notification_text(plan, first["message"], "Ann", t) == ("New chat from Ann", "Hi")
    again = {"type": "message", "chatId": "c1", "message": {"id": 8, "authorKind": "visitor", "text": ""}}
    plan = notifier.plan(again, current_chat="c1", visible=True)
    assert plan["quiet"] is True and plan["newChat"] is False
    assert notifier.plan(again, current_chat="c1", visible=False)["quiet"] is False  # a hidden tab
    reply = {"type": "message", "chatId": "c1", "message": {"id": 9, "authorKind": "operator", "text": "x"}}
    assert notifier.plan(reply, None, True) is None
    with_file = {"id": 10, "authorKind": "visitor", "text": "", "file": {"name": "a.pdf"}}
    assert people.notification_text({"newChat": False}, with_file, "Ann", t) == ("Ann wrote", "📎 a.pdf")
