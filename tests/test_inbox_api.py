"""The inbox's HTTP API: who am I, the chat list, and login without an app id."""

from __future__ import annotations

import io
from functools import partial

import pytest
from PIL import Image

from parley.storage import operator_queries
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import allow_transcripts_to_any_email, run
from tests.helpers.sockets import ORIGIN, SERVER, login, operator, visitor
from tests.helpers.static_pages import STATIC, check_inbox_strings, load_static


@pytest.fixture
def make_operator(database):
    def make(app_id: str, email: str = "ann@shop.example", password: str = PASSWORD):
        return run(database, lambda s: operator_queries.create_operator(s, app_id, email, password, "Ann"))
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
                    "role": "operator", "status": "online", "operators": [{"id": ann.id, "name": "Ann"}]}


def test_me_names_the_apps_operators_but_no_emails(client, make_app, make_operator):
    shop, other = make_app(), make_app()
    ann = make_operator(shop.id)
    bob = make_operator(shop.id, "bob@shop.example")
    make_operator(other.id, "eve@other.example")
    body = client.get("/api/operator/me", headers=session_of(client, shop.id)).json()
    assert body["operators"] == [{"id": ann.id, "name": "Ann"}, {"id": bob.id, "name": "Ann"}]


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
    # A reply moves the chat to the top but reading is what clears the count: an
    # operator's `seen` (the inbox sends it while the chat is on screen).
    with operator(client, app.id) as ann:
        ann.send(type="message.send", chatId=oldest["id"], clientId="r1", text="hello Fiona")
        ann.ack("r1")
        chats = chat_list(client, headers)
        assert chats[0]["id"] == oldest["id"] and chats[0]["unread"] == 2
        assert chats[0]["lastMessage"]["text"] == "hello Fiona"
        assert chats[0]["lastMessage"]["authorKind"] == "operator"
        history = ann.send(type="history", chatId=oldest["id"]) or ann.of_type("history")
        first_id = history["messages"][0]["id"]
        ann.send(type="seen", chatId=oldest["id"], upTo=first_id)  # only the first of two
        assert ann.of_type("seen")["upTo"] == first_id
        assert chat_list(client, headers)[0]["unread"] == 1
        ann.send(type="seen", chatId=oldest["id"], upTo=chats[0]["lastMessage"]["id"])
        ann.of_type("seen")
    chats = chat_list(client, headers)
    assert chats[0]["unread"] == 0
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


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_chat_list_skips_system_lines_and_shows_files_rating_and_transcript(
        client, make_app, make_operator, database):
    app = make_app()
    allow_transcripts_to_any_email(database, app.id)  # the transcript below goes to an unsigned address
    make_operator(app.id)
    headers = session_of(client, app.id)
    with operator(client, app.id) as ann, visitor(client, app.id) as tab:  # Ann online: she gets the chat
        tab.say("v1", "question")
        chat_id = ann.of_type("chat.started")["chat"]["id"]
        upload = client.post("/api/operator/files", params={"name": "dot.png"}, content=tiny_png(),
                             headers={**headers, "Origin": SERVER})
        assert upload.status_code == 201, upload.text
        ann.send(type="message.send", chatId=chat_id, clientId="f1", fileId=upload.json()["file"]["id"])
        assert ann.ack("f1")["type"] == "ack"
        tab.send(type="chat.rate", rating="bad", comment="too slow")
        assert ann.of_type("chat.rated")["chat"]["rating"] == "bad"
        tab.send(type="transcript.request", email="me@example.org")
        tab.of_type("transcript")
        tab.send(type="chat.close")
        ann.of_type("chat.closed")
        ann.send(type="history", chatId=chat_id)
        codes = [m["system"]["code"] for m in ann.of_type("history")["messages"] if m["system"]]
    assert codes == ["assigned", "closed"]
    [chat] = chat_list(client, headers, status="closed")
    # The newest real message is the preview, never a system line's JSON.
    last = chat["lastMessage"]
    assert last["authorKind"] == "operator" and last["text"] == ""
    assert last["file"]["contentType"] == "image/png" and last["file"]["url"].startswith("/files/")
    assert (chat["rating"], chat["ratingComment"]) == ("bad", "too slow")
    assert chat["transcriptEmail"] == "me@example.org" and chat["closedBy"] == "visitor"


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

STATIC_INBOX = STATIC / "inbox"
load = partial(load_static, "inbox")


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
    inbox.select("c1")  # showing it is not reading it: that takes a `seen`
    assert inbox.unread(inbox.chats["c1"]) == 3
    assert inbox.seen_to_send("c1") == 9
    inbox.mark_read("c1", 9)
    assert inbox.unread(inbox.chats["c1"]) == 0 and inbox.seen_to_send("c1") is None
    # A list loaded before the server stored our `seen` does not bring the badge back.
    inbox.load_chats([api_chat("c1", message(9), unread=3)])
    assert inbox.unread(inbox.chats["c1"]) == 0
    # Replying is not reading (the server counts unseen visitor messages, not unanswered).
    inbox.add_message("c2", message(10, kind="operator", chat="c2"))
    assert inbox.unread(inbox.chats["c2"]) == 1
    assert inbox.seen("c2", 7, "operator") is True  # another tab read it
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
    check_inbox_strings(STATIC_INBOX / "main.py", STATIC_INBOX / "model.py")
    assert load("strings").t("conv.typing", text="Do you") == "Visitor is typing: Do you"


def test_model_seen_is_reported_once_per_new_visitor_message():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1", message(3), unread=1)])
    assert inbox.seen_to_send("c1") is None  # nothing loaded yet: nothing on screen
    inbox.add_history("c1", [message(2, kind="operator"), message(3)], False, False)
    assert inbox.history_loaded("c1") and inbox.seen_to_send("c1") == 3
    inbox.mark_read("c1", 3)
    assert inbox.seen_to_send("c1") is None
    inbox.add_message("c1", message(4, kind="operator"))
    assert inbox.seen_to_send("c1") is None  # our own reply is nothing to report
    inbox.add_message("c1", message(5))
    assert inbox.unread(inbox.chats["c1"]) == 1 and inbox.seen_to_send("c1") == 5
    # A visitor message someone already read (seenAt in history) is not reported again.
    inbox.add_message("c1", {**message(6), "seenAt": "2025-01-01T10:01:00.000Z"})
    assert inbox.seen_to_send("c1") is None


def test_model_live_messages_alone_do_not_count_as_loaded_history():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1"), api_chat("c2")])
    inbox.add_message("c1", message(1))
    assert not inbox.history_loaded("c1")
    inbox.add_history("c1", [message(1)], False, False)
    inbox.add_history("c2", [message(2, chat="c2")], False, False)
    inbox.forget_history("c2")  # after a reconnect: the open chat stays, the others reload
    assert not inbox.history_loaded("c1") and inbox.conversation("c1") == []
    assert inbox.history_loaded("c2")


def test_model_receipts_on_operator_messages():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1")])
    reply = message(4, kind="operator")
    inbox.add_message("c1", reply)
    assert inbox.status(reply) == "sent"
    assert inbox.seen("c1", 3, "visitor") is True and inbox.status(reply) == "sent"
    assert inbox.seen("c1", 4, "visitor") is True and inbox.status(reply) == "seen"
    assert inbox.seen("c1", 4, "visitor") is False  # nothing new
    assert inbox.seen("c1", "4", "visitor") is False and inbox.seen(None, 4, "visitor") is False
    from_history = {**message(8, kind="operator"), "seenAt": "2025-01-01T10:00:00.000Z"}
    assert inbox.status(from_history) == "seen"
    # An ack (a snapshot from sending time) does not undo a receipt history already showed.
    inbox.add_message("c1", from_history)
    inbox.add_message("c1", {**from_history, "seenAt": None})
    assert inbox.status(inbox.messages["c1"][8]) == "seen"


def test_model_system_lines_are_worded_from_codes_and_never_previewed():
    model = load("model")
    t = load("strings").t
    inbox = model.Inbox()
    inbox.set_operators([{"id": "o1", "name": "Ann"}])
    inbox.load_chats([api_chat("c1", message(1), unread=1)])
    assert inbox.system_text({"code": "assigned", "operatorId": "o1"}, t) == "Ann joined the chat"
    assert inbox.system_text({"code": "assigned", "operatorId": "o9"}, t) == "An operator joined the chat"
    assert inbox.system_text({"code": "closed", "by": "visitor"}, t) == "Chat closed by the visitor"
    assert inbox.system_text({"code": "closed", "by": "operator"}, t) == "Chat closed"
    assert inbox.system_text({"code": "from-the-future"}, t) is None
    assert inbox.system_text(None, t) is None
    line = {**message(2, kind="system", text='{"code":"assigned"}'),
            "system": {"code": "assigned", "operatorId": "o9"}}
    assert inbox.unknown_operator(line) == "o9" and inbox.unknown_operator(message(3)) is None
    inbox.add_message("c1", line)
    assert inbox.chats["c1"]["lastMessage"]["id"] == 1 and inbox.unread(inbox.chats["c1"]) == 1


def test_model_previews_files_and_replies():
    model = load("model")
    t = load("strings").t
    inbox = model.Inbox()
    png = {"id": "f" * 32, "name": "dot.png", "contentType": "image/png", "size": 1234, "width": 4,
           "height": 3, "url": "/files/" + "f" * 32 + "/dot.png"}
    assert inbox.preview(None, t) == "No messages yet"
    assert inbox.preview({"authorKind": "visitor", "text": "hi", "file": None}, t) == "hi"
    assert inbox.preview({"authorKind": "operator", "text": "", "file": png}, t) == "You: 📎 dot.png"
    assert inbox.preview({"authorKind": "visitor", "text": "see", "file": png}, t) == "📎 dot.png see"
    assert model.is_image(png) and not model.is_image({"contentType": "application/pdf"})
    assert model.safe_file_url(png) == png["url"]
    for url in ("javascript:alert(1)", "//evil.example/files/x", "/files//evil.example", None, 5):
        assert model.safe_file_url({"url": url}) is None
    assert [model.human_size(n, t) for n in (0, 999, 1000, 1234, 1_240_000, 3_000_000_000, None)] == [
        "0 B", "999 B", "1 KB", "1.2 KB", "1.2 MB", "3 GB", ""]
    assert model.thumb_size(4, 3) == (4, 3)
    assert model.thumb_size(4800, 1200) == (240, 60)
    assert model.thumb_size(1000, 3000) == (60, 180)
    assert model.thumb_size(None, 3) is None and model.thumb_size(0, 3) is None


def test_model_upload_problems_are_clear():
    model = load("model")
    t = load("strings").t
    assert model.upload_problem(413, {"code": "PARLEY_E_FILE_TOO_LARGE"}, 12_500_000, t) == (
        "This file is too large to send (12.5 MB). Send a smaller one.")
    assert model.upload_problem(415, None, 10, t).startswith("This type of file cannot be sent.")
    assert model.upload_problem(0, None, 10, t) == "The upload failed: cannot reach the server. Try again."
    assert model.upload_problem(500, {"message": "disk full"}, 10, t) == "The upload failed: disk full"
    assert model.upload_problem(502, "<html>", 10, t) == "The upload failed: 502"
    assert "Wait a minute" in model.upload_problem(429, None, 10, t)


def test_model_operator_typing_at_most_every_two_seconds():
    typing = load("model").TypingOut()
    on = {"type": "typing", "chatId": "c1", "typing": True}
    off = {"type": "typing", "chatId": "c1", "typing": False}
    assert typing.changed("c1", "H", 1000) == [on]
    assert typing.changed("c1", "He", 1500) == []
    assert typing.changed("c1", "Hel", 2999) == []
    assert typing.changed("c1", "Hell", 3000) == [on]
    assert typing.changed("c1", "  ", 3100) == [off]  # emptied
    assert typing.changed("c1", "", 3200) == []  # said once
    assert typing.changed("c1", "x", 3300) == [on]
    # Moving to another chat stops in the first one before starting in the second.
    assert typing.changed("c2", "y", 3400) == [off, {**on, "chatId": "c2"}]
    assert typing.stop() == [{**off, "chatId": "c2"}] and typing.stop() == []


def test_model_rating_and_transcript_merge_into_the_chat():
    model = load("model")
    t = load("strings").t
    inbox = model.Inbox()
    inbox.load_chats([api_chat("c1")])
    chat = inbox.chats["c1"]
    assert model.rating_text(chat, t) == ""
    rated = {k: v for k, v in api_chat("c1", status="closed").items() if k not in ("visitor", "lastMessage")}
    assert inbox.chat_changed({**rated, "rating": "good", "ratingComment": "quick", "closedBy": "visitor"})
    assert model.rating_text(chat, t) == "👍 Rated good" and chat["ratingComment"] == "quick"
    assert chat["visitor"]["id"] == "vc1"  # the list's extras survive a feed update
    assert inbox.transcript_requested({**rated, "transcriptEmail": None}, "me@example.org")
    assert chat["transcriptEmail"] == "me@example.org"
    assert not inbox.transcript_requested({**rated, "id": "unknown"}, "x@example.org")
    assert model.rating_text({"rating": "bad"}, t) == "👎 Rated bad"


def test_model_a_list_read_before_live_news_does_not_undo_them():
    inbox = load("model").Inbox()
    inbox.load_chats([api_chat("c1", message(5), unread=1)])
    inbox.add_message("c1", message(6))
    inbox.chat_changed({"id": "c1", "status": "closed", "endedAt": "x", "closedBy": "visitor",
                        "rating": "good", "ratingComment": None, "transcriptEmail": None})
    inbox.load_chats([api_chat("c1", message(5), unread=1)])  # read before message 6 and the close
    chat = inbox.chats["c1"]
    assert chat["lastMessage"]["id"] == 6 and inbox.unread(chat) == 2
    assert (chat["status"], chat["closedBy"], chat["rating"]) == ("closed", "visitor", "good")
    inbox.load_chats([api_chat("c1", message(7), unread=3, status="closed")])  # a newer answer wins
    assert inbox.chats["c1"]["lastMessage"]["id"] == 7 and inbox.unread(inbox.chats["c1"]) == 3
