"""Chat over the sockets: idempotent sends, resume, tabs, identity, limits, isolation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from parley import identity
from parley.ratelimit import RateLimiter
from parley.storage import event_log
from parley.storage.models import Chat, Message, PageView, Visitor
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, SERVER, login, operator, same_visitor, visitor


def message_count(database) -> int:
    return run(database, lambda s: s.scalar(select(func.count()).select_from(Message)))


# -- nothing twice ---------------------------------------------------------------------

def test_synced_comes_after_every_answer_to_the_frames_before_it(client, make_app, make_operator):
    """`sync` (either socket) is answered with `synced` and its id, after the answers to
    the frames sent before it: how parley.client tells where a request's answers end."""
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as tab:
        tab.send(type="message.send", clientId="c1", text="hi")
        tab.send(type="message.send", clientId="c2", text="")  # refused: no text
        tab.send(type="sync", id="s1")
        frames = []
        while not frames or frames[-1]["type"] != "synced":
            frames.append(tab.receive())
        assert frames[-1] == {"v": 1, "type": "synced", "id": "s1"}
        kinds = [(f["type"], f.get("clientId")) for f in frames]
        assert ("ack", "c1") in kinds and ("error", "c2") in kinds
        tab.send(type="sync", id="")  # an id is 1..64 characters
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
    with operator(client, app.id) as feed:
        feed.send(type="sync", id="o1")
        assert feed.of_type("synced")["id"] == "o1"


def test_resending_a_client_id_returns_the_same_message(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        first = tab.say("c-1", "hello")
        again = tab.say("c-1", "hello")
        assert first["type"] == "ack" and again["type"] == "ack"
        assert first["message"] == again["message"]
        assert first["message"]["text"] == "hello" and first["message"]["authorKind"] == "visitor"
        credentials = same_visitor(tab)
    # The ack was lost and the page reloaded: the resend on a new socket still finds it.
    with visitor(client, app.id, **credentials) as tab:
        assert tab.say("c-1", "hello")["message"] == first["message"]
    assert message_count(database) == 1


def test_operator_resend_is_idempotent_too(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "hi")["message"]["chatId"]
        with operator(client, app.id) as op:
            for _ in range(2):
                op.send(type="message.send", chatId=chat_id, clientId="o-1", text="hello!")
            one, two = op.ack("o-1"), op.ack("o-1")
            assert one["message"] == two["message"] and one["message"]["authorKind"] == "operator"
        events = [f for f in guest.sync() if f["type"] == "event" and f["event"]["type"] == "message"
                  and f["event"]["message"]["authorKind"] == "operator"]
        assert len(events) == 1
    assert message_count(database) == 2


# -- nothing lost: resume --------------------------------------------------------------------

def event_seqs(frames):
    return [f["seq"] for f in frames if f["type"] == "event"]


def test_resume_gets_exactly_the_missed_events(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as tab:
        sent = tab.say("v-1", "first")
        seen = tab.message_event(sent["message"]["id"])["seq"]
        chat_id = sent["message"]["chatId"]
        credentials = same_visitor(tab)
    # While the tab is away: operator replies and another tab of the visitor writes.
    with operator(client, app.id) as op:
        for n in range(5):
            op.send(type="message.send", chatId=chat_id, clientId=f"o-{n}", text=f"reply {n}")
            op.ack(f"o-{n}")
    with visitor(client, app.id, **credentials) as other:
        other.say("v-2", "from another tab")
    newest = run(database, lambda s: event_log.newest_seq(s, credentials["visitorId"]))
    missed = list(range(seen + 1, newest + 1))
    assert len(missed) == 6

    with visitor(client, app.id, lastSeq=seen, **credentials) as tab:
        assert tab.first["seq"] == newest
        received = event_seqs(tab.sync())
    lost = set(missed) - set(received)
    duplicated = len(received) - len(set(received))
    assert (len(lost), duplicated) == (0, 0)
    assert received == missed  # in order, and nothing from before lastSeq
    texts = run(database, lambda s: event_log.events_after(s, credentials["visitorId"], seen))
    assert [e.payload["message"]["text"] for e in texts] == [
        *(f"reply {n}" for n in range(5)), "from another tab"]


def test_fresh_tab_without_last_seq_starts_live(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.say("v-1", "hi")
        credentials = same_visitor(tab)
    with visitor(client, app.id, **credentials) as tab:
        assert tab.first["seq"] == 2  # chat.started, message
        assert event_seqs(tab.sync()) == []
        # ...and loads history itself.
        tab.send(type="history", limit=10)
        page = tab.of_type("history")
        assert [m["text"] for m in page["messages"]] == ["hi"] and page["hasMore"] is False


def test_too_large_a_gap_is_a_reset(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        credentials = same_visitor(tab)
    visitor_id = credentials["visitorId"]

    async def fill(session):
        for n in range(1001):
            await event_log.append_event(session, visitor_id, "note", {"n": n})
        await session.commit()
    run(database, fill)
    with visitor(client, app.id, lastSeq=0, **credentials) as tab:
        reset = tab.ws.receive_json()
        assert reset == {"v": 1, "type": "reset", "seq": 1001}
        assert event_seqs(tab.sync()) == []
    with visitor(client, app.id, lastSeq=1, **credentials) as tab:
        assert event_seqs(tab.sync()) == list(range(2, 1002))  # exactly 1000 may be replayed
    with visitor(client, app.id, lastSeq=5000, **credentials) as tab:
        assert tab.ws.receive_json()["type"] == "reset"  # a seq from another database


def test_two_tabs_of_one_visitor_both_receive(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as one, visitor(client, app.id, **same_visitor(one)) as two:
        sent = one.say("v-1", "from tab one")["message"]
        assert one.message_event(sent["id"])["seq"] == two.message_event(sent["id"])["seq"]
        with operator(client, app.id) as op:
            op.send(type="message.send", chatId=sent["chatId"], clientId="o-1", text="to both")
            reply = op.ack("o-1")["message"]
        assert one.message_event(reply["id"])["event"]["message"]["text"] == "to both"
        assert two.message_event(reply["id"])["event"]["message"]["text"] == "to both"
        one.sync()
        two.sync()
        assert one.seqs == two.seqs == [1, 2, 3]  # chat.started, message, reply: each once


# -- visitor data and Chaport's integrity rule ---------------------------------------------------

def stored_visitor(database, visitor_id):
    return run(database, lambda s: s.get(Visitor, visitor_id))


def test_signed_update_sets_identifying_fields(client, make_app, database):
    app = make_app([ORIGIN])
    data_json = json.dumps({"name": "John Doe", "email": "john@shop.example", "custom": {"plan": "pro"}})
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", dataJson=data_json, hash=identity.sha1_hex(app.secret + data_json))
        reply = tab.of_type("visitor")["visitor"]
        assert reply["name"] == "John Doe" and reply["verified"] is True
        # Signed data may also overwrite what is already there.
        changed = json.dumps({"name": "John Q. Doe"})
        tab.send(type="visitor.update", dataJson=changed, hash=identity.sha1_hex(app.secret + changed))
        assert tab.of_type("visitor")["visitor"]["name"] == "John Q. Doe"
        stored = stored_visitor(database, tab.first["visitorId"])
    assert (stored.name, stored.email, stored.custom, stored.verified) == (
        "John Q. Doe", "john@shop.example", {"plan": "pro"}, True)


@pytest.mark.parametrize("bad", ["0" * 40, "nothex", None])
def test_bad_hash_is_rejected_and_changes_nothing(client, make_app, database, bad):
    app = make_app([ORIGIN])
    data_json = json.dumps({"name": "Mallory", "custom": {"plan": "free"}})
    with visitor(client, app.id) as tab:
        tampered = data_json.replace("Mallory", "Mallory2")
        wrong = bad or identity.sha1_hex(app.secret + data_json)  # None: hash of other data
        tab.send(type="visitor.update", dataJson=tampered, hash=wrong)
        error = tab.of_type("error")
        assert error["code"] == "PARLEY_E_BAD_HASH"
        assert tab.say("c-1", "still usable")["type"] == "ack"
        stored = stored_visitor(database, tab.first["visitorId"])
    assert (stored.name, stored.custom, stored.verified) == (None, {}, False)


def test_unsigned_update_fills_only_empty_fields_but_always_custom(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", data={"name": "Bob", "custom": {"plan": "free"}})
        assert tab.of_type("visitor")["visitor"]["name"] == "Bob"
        tab.send(type="visitor.update", data={"name": "Mallory", "email": "bob@shop.example",
                                              "custom": {"plan": "pro", "seats": 3}})
        reply = tab.of_type("visitor")["visitor"]
        stored = stored_visitor(database, tab.first["visitorId"])
    assert reply["name"] == "Bob"
    assert (stored.name, stored.email, stored.custom, stored.verified) == (
        "Bob", "bob@shop.example", {"plan": "pro", "seats": 3}, False)


def test_hash_without_data_json_is_a_bad_frame(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", data={"name": "X"}, hash="abc")
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"


def test_page_views_are_stored_with_utm(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="page.view", url="https://shop.example/p?utm_source=news&utm_campaign=x&q=1",
                 title="Product", referrer="https://search.example/")
        tab.sync()
    views = run(database, lambda s: s.scalars(select(PageView)))
    [view] = list(views)
    assert (view.title, view.utm) == ("Product", {"source": "news", "campaign": "x"})


# -- limits ------------------------------------------------------------------------------------

def test_message_rate_limit_keeps_the_socket_usable(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        acks = [tab.say(f"c-{n}", f"message {n}") for n in range(31)]  # the default: 30 per minute
        assert [a["type"] for a in acks[:30]] == ["ack"] * 30
        assert acks[30]["type"] == "error" and acks[30]["code"] == "PARLEY_E_RATE_LIMIT"
        assert acks[30]["clientId"] == "c-30" and acks[30]["retryAfter"] > 0
        # Still open and usable: resends of stored messages are answered, history works.
        assert tab.say("c-3", "message 3")["message"] == acks[3]["message"]
        tab.send(type="history", limit=5)
        assert len(tab.of_type("history")["messages"]) == 5
    assert message_count(database) == 30


def test_messages_per_ip_limit_covers_many_visitors_of_one_address(client, make_app, database):
    app = make_app([ORIGIN])
    client.app.state.limits.messages_per_ip = RateLimiter(3, 60)
    with visitor(client, app.id) as first, visitor(client, app.id) as second:
        assert [first.say(f"a-{n}", "x")["type"] for n in range(2)] == ["ack", "ack"]
        assert second.say("b-0", "x")["type"] == "ack"
        refused = second.say("b-1", "x")  # a fresh visitor, but the address spent its budget
        assert refused["code"] == "PARLEY_E_RATE_LIMIT" and refused["retryAfter"] > 0
        assert first.say("a-0", "x")["type"] == "ack"  # resends of stored messages still work
    assert message_count(database) == 3


def test_rate_limit_window_slides(client, make_app):
    app = make_app([ORIGIN])
    now = [0.0]
    client.app.state.limits.visitor_messages = RateLimiter(2, 60, clock=lambda: now[0])
    with visitor(client, app.id) as tab:
        assert [tab.say(f"c-{n}", "x")["type"] for n in range(3)] == ["ack", "ack", "error"]
        now[0] = 61
        assert tab.say("c-2", "x")["type"] == "ack"


@pytest.mark.parametrize("text, ok", [
    ("", False), ("x" * 5000, True), ("x" * 5001, False), ("é" * 5000, True)])
def test_message_text_length(client, make_app, text, ok):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="message.send", clientId="c-1", text=text)
        frame = tab.next(lambda f: f["type"] in ("ack", "error"))
        assert (frame["type"] == "ack") is ok
        if not ok:
            assert frame["code"] == "PARLEY_E_BAD_FRAME"
        assert tab.say("c-2", "usable")["type"] == "ack"


def test_too_large_frame_after_hello(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="message.send", clientId="c-1", text="x" * 70000)
        assert tab.of_type("error")["code"] == "PARLEY_E_TOO_LARGE"
        assert tab.say("c-2", "usable")["type"] == "ack"


def test_second_hello_and_unknown_frames_are_bad_frames(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="hello", appId=app.id)
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        tab.send(type="subscribe")  # an operator frame
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"


# -- operators: live feed, typing, presence ------------------------------------------------------

def test_operator_sees_visitor_messages_typing_and_replies(client, make_app, make_operator):
    app = make_app([ORIGIN])
    ann = make_operator(app.id)
    with visitor(client, app.id) as guest, operator(client, app.id) as op:
        assert guest.first["online"] is False
        assert guest.of_type("online")["online"] is True  # told live when the first operator comes
        with visitor(client, app.id) as another:
            assert another.first["online"] is True
        guest.send(type="typing", text="Do you ship to")
        typing = op.of_type("typing")
        assert typing["text"] == "Do you ship to" and typing["visitorId"] == guest.first["visitorId"]
        sent = guest.say("v-1", "Do you ship to Mars?")["message"]
        assert op.of_type("chat.started")["chat"]["id"] == sent["chatId"]
        assert op.of_type("message")["message"] == sent
        op.send(type="history", chatId=sent["chatId"], limit=10)
        history = op.of_type("history")["messages"]
        # The chat went to the online operator: a system line says so, after the first message.
        assert history[0]["id"] == sent["id"]
        assert [m["system"] for m in history[1:]] == [{"code": "assigned", "operatorId": ann.id}]
        op.send(type="chat.close", chatId=sent["chatId"])
        assert op.of_type("chat")["chat"]["status"] == "closed"
        closed = guest.next(lambda f: f["type"] == "event" and f["event"]["type"] == "chat.closed")
        assert closed["event"]["chat"]["id"] == sent["chatId"]
        # A new message after the close opens a new chat.
        assert guest.say("v-2", "one more thing")["message"]["chatId"] != sent["chatId"]
    with visitor(client, app.id) as later:
        assert later.first["online"] is False


def test_history_pages(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as guest:
        messages = [guest.say(f"v-{n}", f"m{n}")["message"] for n in range(7)]
    ids, chat_id = [m["id"] for m in messages], messages[0]["chatId"]
    with operator(client, app.id, subscribe=False) as op:
        op.send(type="history", chatId=chat_id, limit=3)
        page = op.of_type("history")
        assert [m["id"] for m in page["messages"]] == ids[4:] and page["hasMore"] is True
        op.send(type="history", chatId=chat_id, before=ids[4], limit=3)
        assert [m["id"] for m in op.of_type("history")["messages"]] == ids[1:4]
        op.send(type="history", chatId=chat_id, before=ids[1], limit=3)
        page = op.of_type("history")
        assert [m["id"] for m in page["messages"]] == ids[:1] and page["hasMore"] is False


# -- isolation between apps --------------------------------------------------------------------

def test_operator_of_one_app_never_sees_another_apps_data(client, make_app, make_operator, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    make_operator(shop.id)
    make_operator(other.id)  # same email, other app
    with operator(client, shop.id) as op:
        with visitor(client, other.id) as stranger:
            stranger.send(type="typing", text="secret typing")
            foreign = stranger.say("s-1", "secret")["message"]
        with visitor(client, shop.id) as guest:
            own = guest.say("g-1", "hello shop")["message"]
        # The first feed frames are the shop's own: the other app's never arrived.
        assert op.of_type("chat.started")["chat"]["id"] == own["chatId"]
        assert op.next(lambda f: f["type"] in ("message", "typing"))["message"]["id"] == own["id"]
        op.send(type="history", chatId=foreign["chatId"], limit=10)
        assert op.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
        op.send(type="message.send", chatId=foreign["chatId"], clientId="o-1", text="hijack")
        assert op.ack("o-1")["code"] == "PARLEY_E_NOT_FOUND"
        op.send(type="chat.close", chatId=foreign["chatId"])
        assert op.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
    chat = run(database, lambda s: s.get(Chat, foreign["chatId"]))
    assert chat.status == "open"
    # Each app's visitor message, plus the shop chat's "assigned" line; no hijack stored.
    assert message_count(database) == 3


def test_visitor_cannot_address_another_apps_chat(client, make_app, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    with visitor(client, other.id) as stranger:
        foreign = stranger.say("s-1", "secret")["message"]
    with visitor(client, shop.id) as guest:
        # A chatId in a visitor frame is ignored: visitors only ever write to their own chat.
        guest.send(type="message.send", clientId="g-1", text="hi", chatId=foreign["chatId"])
        mine = guest.ack("g-1")["message"]
        assert mine["chatId"] != foreign["chatId"]
        guest.send(type="history", limit=50)
        assert [m["id"] for m in guest.of_type("history")["messages"]] == [mine["id"]]
    foreign_messages = run(database, lambda s: s.scalars(
        select(Message).where(Message.chat_id == foreign["chatId"])))
    assert [m.text for m in foreign_messages] == ["secret"]


def test_visitor_socket_cannot_resume_events_of_another_apps_visitor(client, make_app):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    with visitor(client, other.id) as stranger:
        stranger.say("s-1", "secret")
        credentials = same_visitor(stranger)
    with visitor(client, shop.id, lastSeq=0, **credentials) as tab:
        assert tab.first["visitorId"] != credentials["visitorId"]
        assert event_seqs(tab.sync()) == []


# -- operator login and socket auth ------------------------------------------------------------------

def test_login_sets_a_safe_session_cookie(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    response = login(client, app.id)
    assert response.status_code == 200 and response.json()["email"] == "ann@shop.example"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    secure = client.post("https://testserver/api/operator/login",
                         json={"appId": app.id, "email": "ann@shop.example", "password": PASSWORD})
    client.cookies.clear()
    assert "secure" in secure.headers["set-cookie"].lower()


@pytest.mark.parametrize("change", [{"password": "wrong password"}, {"email": "bob@shop.example"},
                                    {"appId": "nope"}])
def test_login_failures(client, make_app, make_operator, change):
    app = make_app()
    make_operator(app.id)
    body = {"appId": app.id, "email": "ann@shop.example", "password": PASSWORD, **change}
    response = client.post("/api/operator/login", json=body)
    assert response.status_code == 401 and response.json()["code"] == "PARLEY_E_AUTH"
    assert "set-cookie" not in response.headers


def test_login_bad_requests(client, make_app):
    app = make_app()
    assert client.post("/api/operator/login", content="x",
                       headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/api/operator/login", data={"appId": app.id}).status_code == 415
    foreign = client.post("/api/operator/login", headers={"Origin": "https://evil.example"},
                          json={"appId": app.id, "email": "a@b.c", "password": "x"})
    assert foreign.status_code == 403 and foreign.json()["code"] == "PARLEY_E_ORIGIN"


def test_failed_logins_are_rate_limited_per_ip_and_email(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    make_operator(app.id, "bob@shop.example")
    for _ in range(5):
        assert login(client, app.id, password="wrong password").status_code == 401
    blocked = login(client, app.id)  # even the right password waits now
    assert blocked.status_code == 429 and blocked.json()["code"] == "PARLEY_E_RATE_LIMIT"
    assert int(blocked.headers["retry-after"]) > 0
    assert login(client, app.id, email="bob@shop.example").status_code == 200


def test_operator_socket_requires_own_origin_and_a_session(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    cookie = login(client, app.id).cookies["parley_session"]
    for origin in ("https://evil.example", "http://testserver.evil.com", "https://testserver", None):
        headers = {"Cookie": f"parley_session={cookie}", **({"Origin": origin} if origin else {})}
        with pytest.raises(WebSocketDisconnect) as closed, \
                client.websocket_connect("/ws/operator", headers=headers):
            pass
        assert closed.value.code == 4403, origin
    for bad in ("", "forged-token"):
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(
                "/ws/operator", headers={"Origin": SERVER, "Cookie": f"parley_session={bad}"}):
            pass
        assert closed.value.code == 4401
    headers = {"Origin": SERVER, "Cookie": f"parley_session={cookie}"}
    with client.websocket_connect("/ws/operator", headers=headers) as ws:
        ws.send_text('{"type":"subscribe"}')
        assert ws.receive_json()["type"] == "subscribed"
    client.post("/api/operator/logout", headers={"Cookie": f"parley_session={cookie}"})
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/ws/operator", headers=headers):
        pass
    assert closed.value.code == 4401
