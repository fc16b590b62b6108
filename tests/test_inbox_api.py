"""The inbox's HTTP API: who am I, the chat list, and login without an app id."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from parley.storage import queries
from tests.test_chat_protocol import ORIGIN, PASSWORD, login, operator, run, visitor


@pytest.fixture
def make_operator(database):
    def make(app_id: str, email: str = "ann@shop.example", password: str = PASSWORD):
        return run(database, lambda s: queries.create_operator(s, app_id, email, password, "Ann"))
    return make


def session_of(client, app_id, email="ann@shop.example") -> dict:
    response = login(client, app_id, email)
    assert response.status_code == 200, response.text
    return {"Cookie": f"parley_session={response.cookies['parley_session']}"}


def chat_list(client, headers, **params) -> list[dict]:
    response = client.get("/api/operator/chats", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["chats"]


def test_endpoints_need_a_session(client, make_app):
    make_app()
    for path in ("/api/operator/me", "/api/operator/chats"):
        for headers in ({}, {"Cookie": "parley_session=forged"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401
            body = response.json()
            assert body["code"] == "PARLEY_E_AUTH" and body["message"]


def test_me(client, make_app, make_operator):
    app = make_app()
    ann = make_operator(app.id)
    body = client.get("/api/operator/me", headers=session_of(client, app.id)).json()
    assert body == {"id": ann.id, "name": "Ann", "email": "ann@shop.example", "appId": app.id,
                    "role": "operator"}


def test_chat_list_newest_activity_first_with_preview_and_unread(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    headers = session_of(client, app.id)
    with visitor(client, app.id, origin=ORIGIN) as first, visitor(client, app.id, origin=ORIGIN) as second:
        first.send(type="visitor.update", data={"name": "Fiona", "email": "f@example.com"})
        first.of_type("visitor")
        first.say("a1", "first visitor, one")
        first.say("a2", "first visitor, two")
        second.say("b1", "second visitor asks " + "x" * 300)
    chats = chat_list(client, headers)
    assert [c["visitor"]["name"] for c in chats] == [None, "Fiona"]
    newest, oldest = chats
    assert newest["unread"] == 1 and newest["status"] == "open"
    assert newest["lastMessage"]["text"].startswith("second visitor asks")
    assert len(newest["lastMessage"]["text"]) == 140 and newest["lastMessage"]["text"].endswith("…")
    assert oldest["visitor"] == {"id": oldest["visitorId"], "name": "Fiona", "email": "f@example.com",
                                 "country": None}
    assert oldest["unread"] == 2 and oldest["lastMessage"]["authorKind"] == "visitor"
    # A reply clears the unread count and moves the chat to the top.
    with operator(client, app.id) as ann:
        ann.send(type="message.send", chatId=oldest["id"], clientId="r1", text="hello Fiona")
        ann.ack("r1")
    chats = chat_list(client, headers)
    assert chats[0]["id"] == oldest["id"]
    assert chats[0]["unread"] == 0 and chats[0]["lastMessage"]["text"] == "hello Fiona"
    assert chats[0]["lastMessage"]["authorKind"] == "operator"
    assert chats[1]["unread"] == 1


def test_status_and_mine_filters(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    make_operator(app.id, "bob@shop.example")
    ann_session = session_of(client, app.id)
    bob_session = session_of(client, app.id, "bob@shop.example")
    with visitor(client, app.id) as one, visitor(client, app.id) as two:
        one.say("c1", "one")
        two.say("c2", "two")
    chats = chat_list(client, ann_session)
    one_id, two_id = chats[1]["id"], chats[0]["id"]
    with operator(client, app.id) as ann:
        ann.send(type="message.send", chatId=one_id, clientId="r1", text="hi")
        ann.ack("r1")
        ann.send(type="chat.close", chatId=two_id)
        ann.of_type("chat")
    assert [c["id"] for c in chat_list(client, ann_session)] == [one_id]
    assert [c["id"] for c in chat_list(client, ann_session, status="closed")] == [two_id]
    assert chat_list(client, ann_session, status="closed")[0]["endedAt"]
    assert {c["id"] for c in chat_list(client, ann_session, status="all")} == {one_id, two_id}
    assert [c["id"] for c in chat_list(client, ann_session, mine="1", status="all")] == [one_id]
    assert chat_list(client, bob_session, mine="1", status="all") == []
    assert len(chat_list(client, ann_session, status="all", limit="1")) == 1


@pytest.mark.parametrize("params", [{"status": "pending"}, {"mine": "yes"}, {"limit": "0"},
                                    {"limit": "1000"}, {"limit": "many"}])
def test_bad_parameters(client, make_app, make_operator, params):
    app = make_app()
    make_operator(app.id)
    response = client.get("/api/operator/chats", params=params, headers=session_of(client, app.id))
    assert response.status_code == 400 and response.json()["code"] == "PARLEY_E_BAD_FRAME"


def test_operators_only_see_their_own_apps_chats(client, make_app, make_operator):
    shop, other = make_app(), make_app()
    make_operator(shop.id)
    make_operator(other.id, "eve@other.example")
    with visitor(client, shop.id) as tab:
        tab.say("s1", "shop secret")
    with visitor(client, other.id) as tab:
        tab.say("o1", "other question")
    eve = session_of(client, other.id, "eve@other.example")
    for status in ("open", "closed", "all"):
        texts = [c["lastMessage"]["text"] for c in chat_list(client, eve, status=status)]
        assert "shop secret" not in texts
    assert [c["lastMessage"]["text"] for c in chat_list(client, eve)] == ["other question"]
    assert client.get("/api/operator/me", headers=eve).json()["appId"] == other.id
    ann = session_of(client, shop.id)
    assert [c["lastMessage"]["text"] for c in chat_list(client, ann)] == ["shop secret"]


# -- login without an app id ----------------------------------------------------------------

def login_by_email(client, email="ann@shop.example", password=PASSWORD, **extra):
    response = client.post("/api/operator/login", json={"email": email, "password": password, **extra})
    client.cookies.clear()
    return response


def test_login_without_app_id_finds_the_one_app(client, make_app, make_operator):
    shop, other = make_app(), make_app()
    make_operator(shop.id)
    make_operator(other.id, "eve@other.example")
    response = login_by_email(client)
    assert response.status_code == 200 and response.json()["appId"] == shop.id
    assert login_by_email(client, appId="").json()["appId"] == shop.id
    wrong = login_by_email(client, password="wrong password")
    assert wrong.status_code == 401 and wrong.json()["code"] == "PARLEY_E_AUTH"
    assert "set-cookie" not in wrong.headers
    assert login_by_email(client, email="nobody@shop.example").status_code == 401
    assert login_by_email(client, appId=42).status_code == 400


def test_login_without_app_id_when_the_email_is_in_several_apps(client, make_app, make_operator):
    shop, other = make_app(), make_app()
    make_operator(shop.id)
    make_operator(other.id, password="another password entirely")
    # The password picks the app when only one account has it.
    assert login_by_email(client).json()["appId"] == shop.id
    assert login_by_email(client, password="another password entirely").json()["appId"] == other.id
    third = make_app()
    make_operator(third.id)  # same email and password as in `shop`
    ambiguous = login_by_email(client)
    assert ambiguous.status_code == 401 and ambiguous.json()["needAppId"] is True
    assert "set-cookie" not in ambiguous.headers
    assert login_by_email(client, appId=third.id).json()["appId"] == third.id


def test_login_without_app_id_is_rate_limited(client, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    for _ in range(5):
        assert login_by_email(client, password="wrong password").status_code == 401
    blocked = login_by_email(client)
    assert blocked.status_code == 429 and blocked.json()["code"] == "PARLEY_E_RATE_LIMIT"


# -- the inbox page's own Python (static/inbox), pure parts under CPython -----------------------

STATIC_INBOX = Path(__file__).resolve().parents[1] / "static" / "inbox"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"inbox_{name}", STATIC_INBOX / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def message(id_, kind="visitor", text="hi", chat="c1"):
    return {"id": id_, "chatId": chat, "authorKind": kind, "authorId": "x", "text": text,
            "clientId": None, "createdAt": "2025-01-01T10:00:00.000Z"}


def api_chat(id_="c1", last=None, unread=0, status="open"):
    return {"id": id_, "visitorId": "v" + id_, "status": status, "operatorIds": [],
            "startedAt": "2025-01-01T09:00:00.000Z", "endedAt": None,
            "visitor": {"id": "v" + id_, "name": None, "email": None, "country": None},
            "lastMessage": last, "unread": unread}


def test_model_dedupes_messages_and_counts_unread():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1", message(5), unread=2), api_chat("c2", message(7, chat="c2"), unread=1)])
    assert [c["id"] for c in inbox.listed("open")] == ["c2", "c1"]
    assert inbox.total_unread() == 3
    assert inbox.add_message("c1", message(9)) is True
    assert inbox.add_message("c1", message(9)) is False  # the ack and the live event: one message
    assert inbox.unread(inbox.chats["c1"]) == 3
    assert [c["id"] for c in inbox.listed("open")] == ["c1", "c2"]
    inbox.select("c1")  # reading it clears the count, also after a reload from the server
    assert inbox.unread(inbox.chats["c1"]) == 0
    inbox.load_chats([api_chat("c1", message(9), unread=3)])
    assert inbox.unread(inbox.chats["c1"]) == 0
    inbox.add_message("c2", message(10, kind="operator", chat="c2"))
    assert inbox.unread(inbox.chats["c2"]) == 0


def test_model_outbox_keeps_client_ids_until_acked():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1")])
    first = inbox.queue("c1", "hello", 1700000000000, "ab")
    second = inbox.queue("c1", "again", 1700000000000, "ab")
    assert first["clientId"] != second["clientId"] and len(first["clientId"]) <= 64
    inbox.failed(second["clientId"], "retry", "slow down")
    assert inbox.to_resend() == [first, second]
    inbox.acked(first["clientId"], {**message(3, kind="operator", text="hello"),
                                    "clientId": first["clientId"]})
    assert inbox.pending("c1") == [second]
    assert [m["text"] for m in inbox.conversation("c1")] == ["hello"]
    inbox.failed(second["clientId"], "failed", "no")
    assert inbox.to_resend() == []
    inbox.drop_failed("c1")
    assert inbox.outbox == []


def test_model_typing_preview_by_chat_or_visitor():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1")])
    assert inbox.visitor_typing(None, "vc1", "Do you") == "c1"
    assert inbox.typing == {"c1": "Do you"}
    inbox.add_message("c1", message(1))
    assert inbox.typing == {}
    assert inbox.visitor_typing(None, "unknown", "x") is None


def test_every_string_key_used_by_the_page_exists():
    strings = load("strings")
    html = (STATIC_INBOX.parents[1] / "templates" / "inbox.html").read_text()
    source = (STATIC_INBOX / "main.py").read_text()
    used = set(re.findall(r'data-t(?:-label|-placeholder)?="([^"]+)"', html))
    used |= set(re.findall(r'\bt\("([^"]+)"', source))
    # Keys built at run time ("tab." + status) must at least have a family in the table.
    prefixes = {key for key in used if key.endswith(".")}
    assert all(any(k.startswith(p) for k in strings.STRINGS) for p in prefixes), prefixes
    assert used - prefixes <= set(strings.STRINGS), used - prefixes - set(strings.STRINGS)
    assert strings.t("conv.typing", text="Do you") == "Visitor is typing: Do you"
