"""Logged-in users (session.user) and visitorIntegrityHash in PHP's spelling, over the visitor socket."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from parley import identity
from parley.storage.models import Chat, Visitor
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, refused, token, visitor, visitor_count


def stored(database, visitor_id) -> Visitor:
    return run(database, lambda s: s.get(Visitor, visitor_id))


def history_texts(tab) -> list[str]:
    tab.send(type="history")
    return [m["text"] for m in tab.of_type("history")["messages"]]


def test_a_new_user_id_becomes_the_visitor_id(client, make_app, database):
    app = make_app([ORIGIN])
    user = {"id": "user_42-A", "token": token(app, "user_42-A")}
    with visitor(client, app.id, user=user) as tab:
        assert tab.first["visitorId"] == "user_42-A" and len(tab.first["visitorToken"]) > 30
        visitor_token = tab.first["visitorToken"]
    row = stored(database, "user_42-A")
    assert (row.app_id, row.user_id, row.verified) == (app.id, "user_42-A", True)
    # Upper-case hex is the same token.
    with visitor(client, app.id, user={"id": "user_42-A", "token": user["token"].upper()}) as tab:
        assert tab.first["visitorId"] == "user_42-A"
        assert tab.first["visitorToken"] == visitor_token  # every login of the user gets the same one
    assert visitor_count(database) == 1


def test_the_stored_chaport_visitor_id_opens_that_visitors_chat(client, make_app, database):
    """The spec's flow: the site stores visitorId from `ready`, later sends it as session.user."""
    app = make_app([ORIGIN])
    with visitor(client, app.id) as anonymous:
        visitor_id = anonymous.first["visitorId"]
        anonymous.say("c-1", "I logged in later")
    assert stored(database, visitor_id).verified is False
    user = {"id": visitor_id, "token": token(app, visitor_id)}
    with visitor(client, app.id, user=user) as other_device:
        assert other_device.first["visitorId"] == visitor_id
        # The user's own token (the stored one is only a hash); the first browser's still works.
        assert len(other_device.first["visitorToken"]) > 30
        assert history_texts(other_device) == ["I logged in later"]
    with visitor(client, app.id, visitorId=visitor_id, visitorToken=anonymous.first["visitorToken"]) as back:
        assert back.first["visitorId"] == visitor_id
    row = stored(database, visitor_id)
    assert row.verified is True and row.user_id == visitor_id
    assert visitor_count(database) == 1


def test_two_browsers_of_one_user_share_the_chat_and_its_events(client, make_app, database):
    app = make_app([ORIGIN])
    user = {"id": "5820a1375ddf087b2e54921d", "token": token(app, "5820a1375ddf087b2e54921d")}
    with visitor(client, app.id, user=user) as laptop, visitor(client, app.id, user=user) as phone:
        assert laptop.first["visitorId"] == phone.first["visitorId"] == user["id"]
        first = laptop.say("l-1", "from the laptop")["message"]
        seen = phone.message_event(first["id"])
        assert seen["event"]["message"]["text"] == "from the laptop"
        second = phone.say("p-1", "from the phone")["message"]
        assert second["chatId"] == first["chatId"]
        laptop.message_event(second["id"])
        phone.message_event(second["id"])
        last_seq = max(phone.seqs)
        assert last_seq == 3  # chat.started, message, message
    # Resume works per visitor: the phone comes back and gets what it missed, in order.
    with visitor(client, app.id, user=user) as laptop:
        third = laptop.say("l-2", "while the phone was away")["message"]
    with visitor(client, app.id, user=user, lastSeq=last_seq) as phone:
        replayed = phone.message_event(third["id"])
        assert replayed["seq"] == last_seq + 1
        assert history_texts(phone) == ["from the laptop", "from the phone", "while the phone was away"]
    chats = run(database, lambda s: s.scalar(select(func.count()).select_from(Chat)))
    assert chats == 1 and visitor_count(database) == 1


def test_user_credentials_win_over_another_visitors_stored_credentials(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as anonymous:
        anonymous.say("c-1", "anonymous chat")
    with visitor(client, app.id, user={"id": "u1", "token": token(app, "u1")},
                 visitorId=anonymous.first["visitorId"],
                 visitorToken=anonymous.first["visitorToken"]) as tab:
        assert tab.first["visitorId"] == "u1"
        assert history_texts(tab) == []


@pytest.mark.parametrize("bad", ["wrong", "", "sha1-of-id-without-salt", "dot-separator", "other-app"])
def test_a_bad_token_is_refused_and_creates_nothing(client, make_app, database, bad):
    app, other = make_app([ORIGIN]), make_app([ORIGIN])
    wrong = {
        "wrong": "0" * 40, "": "",
        "sha1-of-id-without-salt": hashlib.sha1(b"u1").hexdigest(),
        "dot-separator": hashlib.sha1((app.secret + ".u1").encode()).hexdigest(),
        "other-app": token(other, "u1"),
    }[bad]
    frame = refused(client, app.id, user={"id": "u1", "token": wrong})
    assert frame["code"] == "PARLEY_E_BAD_TOKEN" and frame["closeCode"] == 4401
    assert "sha1" in frame["message"]
    assert visitor_count(database) == 0


@pytest.mark.parametrize("user", [
    {"id": "", "token": "x"}, {"id": "a" * 65, "token": "x"}, {"id": "a b", "token": "x"},
    {"id": "é", "token": "x"}, {"id": 42, "token": "x"}, {"id": "u1"}, "u1",
])
def test_a_malformed_user_is_a_bad_frame(client, make_app, database, user):
    app = make_app([ORIGIN])
    frame = refused(client, app.id, user=user)
    assert frame["code"] == "PARLEY_E_BAD_FRAME" and frame["closeCode"] == 4400
    assert visitor_count(database) == 0


def test_a_user_id_never_crosses_apps(client, make_app, database):
    shop, blog = make_app([ORIGIN]), make_app([ORIGIN])
    with visitor(client, shop.id) as customer:
        shop_visitor = customer.first["visitorId"]
        customer.say("c-1", "private to the shop")
    # The shop's token does not open the blog, and the blog's own token for the same id
    # does not reach the shop's visitor: the blog gets a visitor of its own.
    assert refused(client, blog.id, user={"id": shop_visitor, "token": token(shop, shop_visitor)})[
        "code"] == "PARLEY_E_BAD_TOKEN"
    blog_user = {"id": shop_visitor, "token": token(blog, shop_visitor)}
    with visitor(client, blog.id, user=blog_user) as reader:
        blog_visitor = reader.first["visitorId"]
        assert blog_visitor != shop_visitor
        assert reader.first["visitorToken"] != customer.first["visitorToken"]
        assert history_texts(reader) == []
        reader.say("b-1", "private to the blog")
    with visitor(client, blog.id, user=blog_user) as again:
        assert again.first["visitorId"] == blog_visitor  # found again by the user id
        assert history_texts(again) == ["private to the blog"]
    with visitor(client, shop.id, user={"id": shop_visitor, "token": token(shop, shop_visitor)}) as back:
        assert back.first["visitorId"] == shop_visitor
        assert history_texts(back) == ["private to the shop"]
    assert stored(database, blog_visitor).app_id == blog.id
    assert stored(database, shop_visitor).app_id == shop.id


def test_a_user_id_of_the_same_shape_in_two_apps_gives_two_visitors(client, make_app):
    one, two = make_app([ORIGIN]), make_app([ORIGIN])
    with visitor(client, one.id, user={"id": "42", "token": token(one, "42")}) as a:
        a.say("a-1", "app one")
    with visitor(client, two.id, user={"id": "42", "token": token(two, "42")}) as b:
        assert b.first["visitorId"] != a.first["visitorId"]
        assert history_texts(b) == []


# -- visitorIntegrityHash as a PHP site computes it ---------------------------------------

def test_hash_of_php_json_encode_is_accepted(client, make_app, database):
    app = make_app([ORIGIN])
    data = {"name": "José", "email": "jose@shop.example", "custom": {"site": "https://shop.example/a"}}
    sent = json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # JSON.stringify
    php = ('{"name":"Jos\\u00e9","email":"jose@shop.example",'
           '"custom":{"site":"https:\\/\\/shop.example\\/a"}}')  # json_encode($data)
    assert identity.php_style_json(sent) == php
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", dataJson=sent, hash=identity.sha1_hex(app.secret + php))
        reply = tab.of_type("visitor")["visitor"]
        assert reply["name"] == "José" and reply["verified"] is True
        # A PHP hash of other data is still refused.
        tab.send(type="visitor.update", dataJson=sent.replace("José", "Mallory"),
                 hash=identity.sha1_hex(app.secret + php))
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_HASH"
    row = stored(database, tab.first["visitorId"])
    assert (row.name, row.custom) == ("José", {"site": "https://shop.example/a"})


# -- an email that is no address ------------------------------------------------------------

@pytest.mark.parametrize("signed", [False, True])
def test_an_email_that_is_no_address_is_left_out_and_the_rest_is_saved(client, make_app, database, signed):
    """The Chaport spec's own setVisitorData example carries "[email protected]" (an
    address its page mangled): that was stored as the visitor's email, where transcripts
    go. Now the email is left out, the other fields are saved, and the page hears why."""
    app = make_app([ORIGIN])
    data = {"name": "John Doe", "email": "[email protected]", "custom": {"plan": "pro"}}
    sent = json.dumps(data, separators=(",", ":"))
    extra = {"hash": identity.sha1_hex(app.secret + sent)} if signed else {}
    with visitor(client, app.id) as tab:
        tab.send(type="visitor.update", dataJson=sent, **extra)
        reply = tab.of_type("visitor")["visitor"]
        assert (reply["name"], reply["email"], reply["custom"]) == ("John Doe", None, {"plan": "pro"})
        problem = tab.of_type("error")
        assert problem["code"] == "PARLEY_E_INVALID_EMAIL" and "[email protected]" in problem["message"]
        # A real address is still taken.
        fixed = json.dumps({"email": "john@example.com"})
        extra = {"hash": identity.sha1_hex(app.secret + fixed)} if signed else {}
        tab.send(type="visitor.update", dataJson=fixed, **extra)
        assert tab.of_type("visitor")["visitor"]["email"] == "john@example.com"
    row = stored(database, tab.first["visitorId"])
    assert (row.name, row.email) == ("John Doe", "john@example.com")
