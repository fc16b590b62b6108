"""Receipts, typing both ways, ratings, transcripts, closing and attachments over the sockets."""

from __future__ import annotations

from sqlalchemy import select

from parley.storage.models import Event, File
from tests.helpers.db import allow_transcripts_to_any_email, run
from tests.helpers.sockets import ORIGIN, operator, same_visitor, visitor


def event_of(tab, kind: str) -> dict:
    return tab.next(lambda f: f["type"] == "event" and f["event"]["type"] == kind)["event"]


def test_operator_typing_reaches_every_tab_of_that_visitor_only(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "hi")["message"]["chatId"]
        with visitor(client, app.id, **same_visitor(guest)) as second_tab, \
                visitor(client, app.id) as stranger:
            op.send(type="typing", chatId=chat_id, typing=True)
            for tab in (guest, second_tab):
                typing = tab.of_type("typing")
                assert typing["typing"] is True and typing["chatId"] == chat_id
                assert typing["operator"]["name"] == "Ann" and "email" not in typing["operator"]
            op.send(type="typing", chatId=chat_id, typing=False)
            assert guest.of_type("typing")["typing"] is False
            assert [f for f in stranger.sync() if f["type"] == "typing"] == []
        op.send(type="typing", chatId="0" * 24, typing=True)
        assert op.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
    # Live only: typing is never written to the visitor's event log.
    kinds = run(database, lambda s: s.scalars(select(Event.kind)))
    assert "typing" not in list(kinds)


def test_read_receipts_both_ways_are_stored_and_replayed(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        mine = guest.say("v-1", "hello")["message"]
        assert mine["seenAt"] is None
        op.send(type="seen", chatId=mine["chatId"], upTo=mine["id"])
        seen = event_of(guest, "seen")
        assert seen == {"type": "seen", "chatId": mine["chatId"], "upTo": mine["id"], "by": "operator"}
        assert op.of_type("seen")["by"] == "operator"  # other operator tabs learn it too
        op.send(type="message.send", chatId=mine["chatId"], clientId="o-1", text="Hi! How can I help?")
        reply = op.ack("o-1")["message"]
        guest.send(type="seen", upTo=reply["id"])
        feed = op.next(lambda f: f["type"] == "seen" and f["by"] == "visitor")
        assert feed["chatId"] == mine["chatId"] and feed["upTo"] == reply["id"]
        guest.send(type="seen", upTo=reply["id"])  # again: nothing new, no event
        credentials = same_visitor(guest)
        later_frames = guest.sync()
        # Only the visitor's own receipt (the operator's was taken above), and only once.
        assert [f["event"]["by"] for f in later_frames
                if f["type"] == "event" and f["event"]["type"] == "seen"] == ["visitor"]
        guest.send(type="history", limit=10)
        history = guest.of_type("history")["messages"]
        by_id = {m["id"]: m for m in history}
        assert by_id[mine["id"]]["seenAt"] and by_id[reply["id"]]["seenAt"]
    # A tab that was away replays the receipts from the log.
    with visitor(client, app.id, lastSeq=0, **credentials) as later:
        replayed = later.sync()
        seen = [f["event"] for f in replayed if f["type"] == "event" and f["event"]["type"] == "seen"]
        assert [s["by"] for s in seen] == ["operator", "visitor"]


def test_seen_never_touches_another_apps_chats(client, make_app, make_operator):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    make_operator(shop.id)
    with visitor(client, other.id) as stranger:
        foreign = stranger.say("s-1", "secret")["message"]
    with operator(client, shop.id) as op:
        op.send(type="seen", chatId=foreign["chatId"], upTo=foreign["id"])
        assert op.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
    with visitor(client, other.id, **same_visitor(stranger)) as again:
        again.send(type="history", limit=5)
        assert again.of_type("history")["messages"][0]["seenAt"] is None


def test_visitor_closes_rates_and_the_operator_sees_it(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "thanks, bye")["message"]["chatId"]
        guest.send(type="chat.close")
        line = guest.next(lambda f: f["type"] == "event" and f["event"]["type"] == "message"
                          and f["event"]["message"]["system"] == {"code": "closed", "by": "visitor"})
        assert line["event"]["message"]["chatId"] == chat_id
        closed = event_of(guest, "chat.closed")["chat"]
        assert closed["status"] == "closed" and closed["closedBy"] == "visitor"
        assert op.of_type("chat.closed")["chat"]["id"] == chat_id
        guest.send(type="chat.rate", rating="good", comment="  Quick and kind  ")
        rated = event_of(guest, "chat.rated")["chat"]
        assert (rated["rating"], rated["ratingComment"]) == ("good", "Quick and kind")
        assert op.of_type("chat.rated")["chat"]["rating"] == "good"
        guest.send(type="chat.rate", rating="great")
        assert guest.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        guest.send(type="chat.rate", rating="bad", chatId="f" * 24)
        assert guest.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
        # A reloaded window learns the newest chat's state with its history.
        guest.send(type="history", limit=5)
        assert guest.of_type("history")["chat"]["rating"] == "good"


def test_a_visitor_cannot_rate_another_visitors_chat(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as first:
        chat_id = first.say("v-1", "hi")["message"]["chatId"]
    with visitor(client, app.id) as second:
        second.send(type="chat.rate", rating="bad", chatId=chat_id)
        assert second.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"


def test_transcript_is_mailed_with_the_whole_conversation(client, make_app, make_operator, smtp, database):
    app = make_app([ORIGIN])
    allow_transcripts_to_any_email(database, app.id)  # by default: the visitor's signed email only
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "Where is my order?")["message"]["chatId"]
        op.send(type="message.send", chatId=chat_id, clientId="o-1", text="It ships today.")
        op.ack("o-1")
        guest.send(type="transcript.request", email="me@example.org")
        answer = guest.of_type("transcript")
        assert answer == {"v": 1, "type": "transcript", "chatId": chat_id, "email": "me@example.org",
                          "sent": True}
        assert op.of_type("transcript.requested")["email"] == "me@example.org"
        guest.send(type="transcript.request", email="not an email")
        assert guest.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["me@example.org"] and mail.mail_from == "chat@shop.example"
    body = mail.content.decode()
    assert "You: Where is my order?" in body and "Ann: It ships today." in body


def test_transcript_without_smtp_is_recorded_not_sent_and_asked_once(client, make_app, monkeypatch, database):
    monkeypatch.delenv("PARLEY_SMTP_URL", raising=False)
    app = make_app([ORIGIN])
    allow_transcripts_to_any_email(database, app.id)
    with visitor(client, app.id) as guest:
        guest.say("v-1", "hi")
        guest.send(type="transcript.request", email="me@example.org")
        assert guest.of_type("transcript")["sent"] is False
        # One per chat (tests/test_security_abuse.py); the rate limits: test_security_visitor.py.
        guest.send(type="transcript.request", email="me@example.org")
        assert guest.of_type("error")["code"] == "PARLEY_E_CONFLICT"
        guest.send(type="history", limit=1)
        assert guest.of_type("history")["chat"]["transcriptEmail"] == "me@example.org"


def _store_file(database, app_id: str, visitor_id: str | None, kind: str = "visitor") -> str:
    async def work(session):
        file = File(id="ab" * 16, app_id=app_id, visitor_id=visitor_id, uploader_kind=kind,
                    name="receipt 1.pdf", content_type="application/pdf", size=1234, sha256="0" * 64)
        session.add(file)
        await session.commit()
        return file.id
    return run(database, work)


def test_attachment_messages_carry_the_file_and_only_own_files(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest, \
            visitor(client, app.id) as stranger:
        file_id = _store_file(database, app.id, guest.first["visitorId"])
        stranger.send(type="message.send", clientId="s-1", fileId=file_id)
        assert stranger.ack("s-1")["code"] == "PARLEY_E_NOT_FOUND"
        guest.send(type="message.send", clientId="v-1")
        assert guest.ack("v-1")["code"] == "PARLEY_E_BAD_FRAME"  # neither text nor file
        guest.send(type="message.send", clientId="v-2", fileId=file_id)
        sent = guest.ack("v-2")["message"]
        assert sent["text"] == "" and sent["file"]["name"] == "receipt 1.pdf"
        assert sent["file"]["url"] == f"/files/{file_id}/receipt%201.pdf"
        assert op.next(lambda f: f["type"] == "message" and f["message"]["id"] == sent["id"]
                       )["message"]["file"]["id"] == file_id
        guest.send(type="message.send", clientId="v-2", fileId=file_id)  # resend: same message
        assert guest.ack("v-2")["message"] == sent
        guest.send(type="history", limit=10)
        [with_file] = [m for m in guest.of_type("history")["messages"] if m["file"]]
        assert with_file["file"] == sent["file"]
        op.send(type="message.send", chatId=sent["chatId"], clientId="o-1", text="Got it", fileId="cd" * 16)
        assert op.ack("o-1")["code"] == "PARLEY_E_NOT_FOUND"


def test_frames_carry_emoji_as_utf8_not_surrogate_escapes(client, make_app):
    """MicroPython's json.loads does not join "\\ud83c\\udf89": the server must send the
    character itself, or the widget shows garbage for every emoji beyond the BMP."""
    app = make_app([ORIGIN])
    with visitor(client, app.id) as guest:
        guest.send(type="message.send", clientId="e-1", text="party 🎉 👨‍👩‍👧")
        raw = guest.ws.receive_text()
        while '"ack"' not in raw:
            raw = guest.ws.receive_text()
        assert "🎉" in raw and "\\ud83c" not in raw


def test_page_view_limit_answers_an_error_and_keeps_the_socket(client, make_app, database):
    from parley.ratelimit import RateLimiter

    app = make_app([ORIGIN])
    client.app.state.limits.page_views = RateLimiter(2, 60)
    with visitor(client, app.id) as guest:
        for n in range(2):
            guest.send(type="page.view", url=f"https://shop.example/{n}")
        guest.send(type="page.view", url="https://shop.example/too-many")
        assert guest.of_type("error")["code"] == "PARLEY_E_RATE_LIMIT"
        assert guest.say("v-1", "still here")["type"] == "ack"


def test_typing_floods_are_dropped_both_ways(client, make_app, make_operator):
    from parley.ratelimit import RateLimiter

    app = make_app([ORIGIN])
    make_operator(app.id)
    limits = client.app.state.limits
    limits.typing = RateLimiter(1, 60)
    limits.operator_typing = RateLimiter(1, 60)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "hi")["message"]["chatId"]
        guest.send(type="typing", text="first")
        guest.send(type="typing", text="second, dropped")
        op.send(type="typing", chatId=chat_id, typing=True)
        op.send(type="typing", chatId=chat_id, typing=False)  # dropped too
        assert guest.of_type("typing")["typing"] is True
        later = guest.sync()
        assert [f for f in later if f["type"] == "typing"] == []
        op.send(type="history", chatId=chat_id, limit=1)
        op.of_type("history")
        previews = [f["text"] for f in op.kept if f["type"] == "typing"]
        assert previews == ["first"]
