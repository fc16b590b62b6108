"""Security review (issue 13), visitor side: what an unsigned, untrusted widget may do.

(3) profile amplification: custom-field limits, a rate limit on every visitor frame,
    `visitor.updated` carrying only what changed;
(7) signed values stay until a signed update changes them; an app may require the hash;
(11) a visitor name can't break a mail header nor stall the background tick;
(12) `agent.predict` never confirms an operator's email;
(13) a lone surrogate in `dataJson` is a bad frame, not a crash.
"""

from __future__ import annotations

import asyncio
import email
import json
import logging
from datetime import UTC, datetime

import pytest

from parley import clock, identity
from parley.cli import main as cli_main
from parley.clock import Clock
from parley.fanout import InProcessFanout
from parley.ratelimit import RateLimiter
from parley.storage import operator_queries
from parley.storage.models import Operator, Visitor
from tests.helpers.db import OPERATOR_PASSWORD, old_chat, run
from tests.helpers.sockets import ORIGIN, operator, signed_update, visitor


def stored(database, visitor_id: str) -> Visitor:
    return run(database, lambda s: s.get(Visitor, visitor_id))


def unsigned_update(tab, data: dict) -> dict:
    tab.send(type="visitor.update", data=data)
    return tab.next(lambda f: f["type"] in ("visitor", "error"))


# -- (3) custom-field limits ------------------------------------------------------------------

@pytest.mark.parametrize("custom, why", [
    ({f"k{n}": n for n in range(51)}, "51 keys"),
    ({"k" * 65: "x"}, "a 65-character key"),
    ({"note": "x" * 501}, "a 501-character value"),
    ({f"k{n}": "x" * 450 for n in range(20)}, "over 8 KiB in all"),
])
def test_custom_fields_over_a_limit_are_refused(client, make_app, database, custom, why):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        answer = unsigned_update(tab, {"name": "Ann", "custom": custom})
        assert answer["type"] == "error" and answer["code"] == "PARLEY_E_TOO_LARGE", why
        assert tab.say("c-1", "still usable")["type"] == "ack"
        row = stored(database, tab.first["visitorId"])
    assert (row.name, row.custom) == (None, {}), "nothing of a refused update is stored"


def test_custom_fields_up_to_the_limits_are_kept_and_the_merge_is_limited_too(client, make_app, database):
    app = make_app([ORIGIN])
    at_limits = {"k" * 64: "x" * 500, **{f"k{n}": n for n in range(48)}}
    with visitor(client, app.id) as tab:
        assert unsigned_update(tab, {"custom": at_limits})["type"] == "visitor"
        assert unsigned_update(tab, {"custom": {"k48": True}})["type"] == "visitor"  # 50 keys
        # Fifty keys, one frame at a time: the 51st is refused, whatever the frame holds.
        answer = unsigned_update(tab, {"custom": {"one-more": 1}})
        assert answer["code"] == "PARLEY_E_TOO_LARGE"
        assert unsigned_update(tab, {"custom": {"k0": "changed"}})["type"] == "visitor"  # no new key
        row = stored(database, tab.first["visitorId"])
    assert len(row.custom) == 50 and row.custom["k0"] == "changed" and "one-more" not in row.custom


# -- (3) a rate limit on every visitor frame kind ----------------------------------------------

@pytest.mark.parametrize("kind, limiter, fields", [
    ("visitor.update", "visitor_updates", {"data": {"custom": {"plan": "pro"}}}),
    ("greeting", "greetings", {"action": "accept"}),
    ("chat.properties", "chat_properties", {"properties": {"plan": "pro"}}),
    ("agent.predict", "agent_predictions", {}),
    ("history", "visitor_history", {}),
    ("seen", "visitor_seen", {"upTo": 1}),
    ("page.view", "page_views", {"url": "https://shop.example/"}),
    ("visitor.get", "visitor_gets", {}),
    ("chat.rate", "chat_ratings", {"rating": "good"}),
    ("chat.close", "chat_closes", {}),
    ("transcript.request", "transcripts", {"email": "me@example.org"}),
])
def test_every_visitor_frame_kind_is_rate_limited_with_retry_after(client, make_app, kind, limiter, fields):
    app = make_app([ORIGIN])
    setattr(client.app.state.limits, limiter, RateLimiter(1, 60))
    with visitor(client, app.id) as tab:
        tab.say("c-0", "a chat to rate, close and give properties to")
        tab.send(type=kind, **fields)
        tab.send(type=kind, **fields)
        # Frames of one socket are answered in order: by this ack both were handled.
        assert tab.say("c-1", "still usable")["type"] == "ack"
        refused = [f for f in tab.kept if f["type"] == "error" and f["code"] == "PARLEY_E_RATE_LIMIT"]
    assert len(refused) == 1, tab.kept
    assert 0 < refused[0]["retryAfter"] <= 60 and kind.split(".")[0] in refused[0]["message"]


# -- (3) visitor.updated carries what changed ---------------------------------------------------

def test_visitor_updated_carries_only_what_changed_and_nothing_when_nothing_did(
        client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        visitor_id = guest.first["visitorId"]
        unsigned_update(guest, {"name": "Noor", "custom": {"plan": "pro"}})
        assert op.of_type("visitor.updated")["visitor"] == {
            "id": visitor_id, "name": "Noor", "custom": {"plan": "pro"}}
        reply = unsigned_update(guest, {"custom": {"plan": "pro", "seats": 3}})
        assert reply["visitor"]["custom"] == {"plan": "pro", "seats": 3}  # the visitor gets it all
        assert op.of_type("visitor.updated")["visitor"] == {"id": visitor_id, "custom": {"seats": 3}}
        unsigned_update(guest, {"name": "Mallory", "custom": {"seats": 3}})  # changes nothing
        # Published after the update would have been: when it is here, the update said nothing.
        guest.send(type="page.view", url="https://shop.example/after")
        op.of_type("page.view")
        assert [f for f in op.kept if f["type"] == "visitor.updated"] == []


# -- (7) signed values stay -------------------------------------------------------------------

def test_unsigned_data_does_not_overwrite_signed_values(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        signed = signed_update(tab, app, {"name": "John", "email": "john@shop.example",
                                          "custom": {"plan": "pro"}})
        assert signed["visitor"]["verified"] is True
        forged = unsigned_update(tab, {"phone": "+1 555 0100", "notes": "refund him",
                                       "custom": {"plan": "enterprise", "theme": "dark"}})
        assert forged["visitor"]["custom"] == {"plan": "pro", "theme": "dark"}
        assert (forged["visitor"]["phone"], forged["visitor"]["notes"]) == (None, None)
        # A new signed update is what changes signed values.
        assert signed_update(tab, app, {"custom": {"plan": "gold"}})["visitor"]["custom"]["plan"] == "gold"
        row = stored(database, tab.first["visitorId"])
    assert (row.name, row.email, row.phone, row.verified) == ("John", "john@shop.example", None, True)
    assert row.custom == {"plan": "gold", "theme": "dark"}


def test_an_app_can_require_the_integrity_hash(client, make_app, database, capsys):
    app = make_app([ORIGIN])
    db_url = database.engine.url.render_as_string(hide_password=False)
    assert cli_main(["app", "set", "--app", app.id, "--require-signed-identity", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["requireSignedIdentity"] is True
    with visitor(client, app.id) as tab:
        assert "requireSignedIdentity" not in tab.first["appearance"]  # a server setting only
        refused = unsigned_update(tab, {"name": "Mallory", "custom": {"plan": "free"}})
        assert refused["type"] == "error" and refused["code"] == "PARLEY_E_HASH_REQUIRED"
        assert signed_update(tab, app, {"name": "John"})["visitor"]["name"] == "John"
        visitor_id = tab.first["visitorId"]
    assert stored(database, visitor_id).custom == {}
    assert cli_main(["app", "set", "--app", app.id, "--no-require-signed-identity", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["requireSignedIdentity"] is False
    with visitor(client, app.id) as tab:
        assert unsigned_update(tab, {"custom": {"plan": "free"}})["type"] == "visitor"


# -- (11) missed-chat mail ---------------------------------------------------------------------

def notify_missed(database) -> int:
    async def tick():
        try:
            return await Clock(database, InProcessFanout()).notify_missed_chats(datetime.now(UTC))
        finally:
            await database.engine.dispose()
    return asyncio.run(tick())


def test_a_line_feed_in_a_visitor_name_does_not_reach_a_mail_header(database, make_app, make_operator,
                                                                     smtp):
    app = make_app([ORIGIN])
    make_operator(app.id)
    old_chat(database, app.id, "Hello?", 10, "Eve\r\nBcc: victim@example.org")
    assert notify_missed(database) == 1
    [sent] = smtp.messages
    mail = email.message_from_bytes(sent.content)
    assert mail["Subject"] == "[Test] Missed chat from Eve Bcc: victim@example.org"
    assert mail["Bcc"] is None and sent.rcpt_tos == ["ann@shop.example"]


def test_one_bad_missed_chat_does_not_stop_the_others(database, make_app, make_operator, smtp,
                                                       monkeypatch, caplog):
    app = make_app([ORIGIN])
    make_operator(app.id)
    bad = old_chat(database, app.id, "first, and broken", 20, "Bad")
    old_chat(database, app.id, "second", 10, "Good")
    real = clock.missed_chat_mail

    def fragile(app_name, visitor, messages, chat_id, public_url):
        if chat_id == bad.id:
            raise RuntimeError("boom")
        return real(app_name, visitor, messages, chat_id, public_url)

    monkeypatch.setattr(clock, "missed_chat_mail", fragile)
    with caplog.at_level(logging.ERROR, logger="parley.clock"):
        assert notify_missed(database) == 1
    assert [email.message_from_bytes(m.content)["Subject"] for m in smtp.messages] == [
        "[Test] Missed chat from Good"]
    assert any(bad.id in record.getMessage() for record in caplog.records)


# -- (12) agent.predict and operator emails ---------------------------------------------------

def test_agent_predict_does_not_tell_whether_an_email_is_an_operators(client, make_app, make_operator,
                                                                      database):
    app = make_app([ORIGIN])
    make_operator(app.id)  # Ann: never assigned, so round robin picks her

    async def add_bob(session):
        bob = await operator_queries.create_operator(session, app.id, "bob@shop.example", OPERATOR_PASSWORD,
                                                     "Bob")
        bob.last_assigned_at = datetime.now(UTC)
        await session.commit()
        return bob
    bob = run(database, add_bob)

    with visitor(client, app.id) as guest:
        def predicted(*assignees: str) -> dict:
            guest.send(type="agent.predict", assignees=list(assignees))
            return guest.of_type("agent.predicted")

        unknown = predicted("nobody@shop.example")
        assert predicted("bob@shop.example") == unknown
        assert predicted("BOB@shop.example", "nobody@shop.example") == unknown
        # Ids and names are public (welcome.operators): matching them tells nothing new.
        assert predicted("Bob")["operator"] == {"id": bob.id, "name": "Bob"}
        assert predicted(bob.id)["operator"] == {"id": bob.id, "name": "Bob"}
    assert run(database, lambda s: s.get(Operator, bob.id)).email == "bob@shop.example"


# -- (13) lone surrogates -----------------------------------------------------------------------

@pytest.mark.parametrize("signed", [False, True])
def test_a_lone_surrogate_in_data_json_is_a_bad_frame(client, make_app, database, signed):
    app = make_app([ORIGIN])
    data_json = '{"name":"\\ud800","custom":{"plan":"pro"}}'
    frame = {"dataJson": data_json}
    if signed:
        frame["hash"] = identity.sha1_hex(app.secret + data_json)
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", **frame)
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        assert tab.say("c-1", "still usable")["type"] == "ack"
        row = stored(database, tab.first["visitorId"])
    assert (row.name, row.custom, row.verified) == (None, {}, False)


@pytest.mark.parametrize("frame", [
    {"type": "message.send", "clientId": "c-x", "text": "\ud800"},
    {"type": "visitor.update", "data": {"name": "\udfff"}},
    {"type": "visitor.update", "data": {"custom": {"\ud800": 1}}},
    {"type": "page.view", "url": "https://shop.example/\udc00"},
    {"type": "chat.properties", "properties": {"k": "\ud83d"}},
    {"type": "typing", "text": "\ud800"},
])
def test_a_lone_surrogate_in_any_text_field_is_a_bad_frame(client, make_app, frame):
    """The frame decoder (msgspec) refuses them; a guard for the fields json.loads never saw."""
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(**frame)  # json.dumps writes a lone surrogate as its \\uXXXX escape
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        assert tab.say("c-1", "still usable")["type"] == "ack"


def test_a_binary_frame_with_an_encoded_surrogate_is_a_bad_frame(client, make_app):
    """Binary frames skip the WebSocket's UTF-8 check: the decoder refuses CESU/WTF-8 bytes too."""
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.ws.send_bytes(b'{"v":1,"type":"message.send","clientId":"c-x","text":"\xed\xa0\x80"}')
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        assert tab.say("c-1", "still usable")["type"] == "ack"
