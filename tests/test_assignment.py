"""Who a new chat goes to: message.send.assignees (teams, ids, names, emails), online first, round robin."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from parley import assignment
from parley.storage import operator_queries, presence_queries
from parley.storage.models import Chat
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, visitor


def op(op_id, name="", email="", presence="offline", last=None):
    return SimpleNamespace(id=op_id, name=name, email=email, presence=presence, last_assigned_at=last)


ANN = op("a1", "Ann", "ann@shop.example", "online")
BOB = op("b2", "Bob Stone", "bob@shop.example", "online")
CAT = op("c3", "Cat", "cat@shop.example")
OPERATORS = [ANN, BOB, CAT]
SALES = SimpleNamespace(id="t-sales", name="Sales")
SUPPORT = SimpleNamespace(id="t-support", name="Support")
MEMBERS = {"t-sales": ["c3", "b2"], "t-support": ["a1", "zz-other-app"]}


def matched(*assignees):
    found = assignment.matching_operators(assignees, OPERATORS, [SALES, SUPPORT], MEMBERS)
    return [o.id for o in found]


def test_matching_by_id_name_email_and_team():
    assert matched("a1") == ["a1"]
    assert matched("ann") == ["a1"] and matched("  BOB STONE ") == ["b2"]
    assert matched("Cat@Shop.Example") == ["c3"]
    assert matched("t-sales") == ["c3", "b2"]
    assert matched("sales") == ["c3", "b2"]  # team name, any case
    assert matched("t-support") == ["a1"]  # members outside the app's operators are ignored
    assert matched("nobody", "", "t-unknown", "A1") == []  # ids are exact, unknowns ignored
    assert matched("b2", "t-sales", "Ann", "bob") == ["b2", "c3", "a1"]  # each once, first-named order


def t(minute):
    return datetime(2025, 1, 1, 10, minute, tzinfo=UTC)


def test_round_robin_takes_the_least_recently_assigned():
    never, old, new = op("x", last=None), op("y", last=t(1)), op("z", last=t(5))
    assert assignment.round_robin([new, old, never]).id == "x"
    assert assignment.round_robin([new, old]).id == "y"
    # SQLite hands back naive datetimes: they are UTC.
    naive = op("w", last=datetime(2025, 1, 1, 10, 3))
    assert assignment.round_robin([new, naive]).id == "w"
    assert assignment.round_robin([op("b"), op("a")]).id == "a"  # ties by id
    assert assignment.round_robin([]) is None


def test_choose_prefers_online_candidates_then_any_candidate_then_online_operators():
    choose = assignment.choose
    assert choose(["t-sales"], OPERATORS, [SALES], MEMBERS).id == "b2"  # Cat is offline
    assert choose(["cat"], OPERATORS, [SALES], MEMBERS).id == "c3"  # only candidate, offline
    assert choose(["nobody"], OPERATORS, [SALES], MEMBERS).id == "a1"  # all online, round robin
    assert choose(None, OPERATORS, [], {}).id == "a1"
    assert choose([], [CAT], [], {}) is None  # nobody online, nothing asked: unassigned


# -- over the visitor socket ---------------------------------------------------------------

@pytest.fixture
def shop(database, make_app):
    """An app with Ann and Bob online, Cat offline, team Sales = {Cat, Bob}; and another app."""
    app, other = make_app([ORIGIN]), make_app([ORIGIN])

    async def setup(session):
        people = {}
        for name, presence in (("Ann", "online"), ("Bob", "online"), ("Cat", "offline")):
            operator = await operator_queries.create_operator(
                session, app.id, f"{name.lower()}@shop.example", PASSWORD, name)
            await presence_queries.set_presence(session, operator.id, presence)
            people[name] = operator.id
        sales = await operator_queries.create_team(session, app.id, "Sales")
        for name in ("Cat", "Bob"):
            await operator_queries.add_team_member(session, sales,
                                                   await operator_queries.get_operator(session, app.id,
                                                                                    people[name]))
        eve = await operator_queries.create_operator(session, other.id, "eve@other.example", PASSWORD, "Eve")
        await presence_queries.set_presence(session, eve.id, "online")
        elsewhere = await operator_queries.create_team(session, other.id, "Elsewhere")
        await operator_queries.add_team_member(session, elsewhere, eve)
        return SimpleNamespace(app=app, other=other, sales=sales.id, elsewhere=elsewhere.id, eve=eve.id,
                               **people)
    return run(database, setup)


def new_chat(client, app_id, assignees=None, text="hello") -> dict:
    """A new visitor's first message; returns the chat of its chat.started event."""
    with visitor(client, app_id) as tab:
        frame = {"type": "message.send", "clientId": "c-1", "text": text}
        if assignees is not None:
            frame["assignees"] = assignees
        tab.send(**frame)
        assert tab.ack("c-1")["type"] == "ack"
        started = tab.next(lambda f: f["type"] == "event" and f["event"]["type"] == "chat.started")
        return started["event"]["chat"]


def test_team_goes_to_its_online_member(client, shop, database):
    chat = new_chat(client, shop.app.id, [shop.sales])
    assert chat["operatorIds"] == [shop.Bob]
    stored = run(database, lambda s: s.get(Chat, chat["id"]))
    assert stored.operator_ids == [shop.Bob]


def test_names_and_emails_match_case_insensitively(client, shop):
    assert new_chat(client, shop.app.id, ["cAT"])["operatorIds"] == [shop.Cat]
    assert new_chat(client, shop.app.id, ["nobody", "ANN@shop.example"])["operatorIds"] == [shop.Ann]
    assert new_chat(client, shop.app.id, ["sales"])["operatorIds"] == [shop.Bob]


def test_round_robin_over_online_operators(client, shop):
    owners = [new_chat(client, shop.app.id)["operatorIds"] for _ in range(4)]
    assert sorted(owners[:2]) == sorted([[shop.Ann], [shop.Bob]])
    assert owners[2:] == owners[:2]  # the same turn order again
    assert [shop.Cat] not in owners  # offline


def test_round_robin_within_the_assignees(client, shop, database):
    run(database, lambda s: presence_queries.set_presence(s, shop.Cat, "online"))
    owners = [new_chat(client, shop.app.id, [shop.sales])["operatorIds"][0] for _ in range(4)]
    assert sorted(owners[:2]) == sorted([shop.Bob, shop.Cat]) and owners[2:] == owners[:2]


def test_unmatched_assignees_fall_back_to_online_operators(client, shop):
    chat = new_chat(client, shop.app.id, ["nobody", "t-unknown"])
    assert chat["operatorIds"] in ([shop.Ann], [shop.Bob])


def test_nobody_online_and_nothing_asked_leaves_the_chat_unassigned(client, shop, database):
    for name in ("Ann", "Bob"):
        run(database, lambda s, name=name: presence_queries.set_presence(s, getattr(shop, name), "offline"))
    assert new_chat(client, shop.app.id)["operatorIds"] == []
    assert new_chat(client, shop.app.id, [])["operatorIds"] == []
    # An offline operator asked for by name still gets it.
    assert new_chat(client, shop.app.id, ["Cat"])["operatorIds"] == [shop.Cat]


def test_another_apps_operators_and_teams_are_never_matched(client, shop):
    for assignees in ([shop.eve], ["Eve"], ["eve@other.example"], [shop.elsewhere], ["Elsewhere"]):
        chat = new_chat(client, shop.app.id, assignees)
        assert chat["operatorIds"] in ([shop.Ann], [shop.Bob]), assignees
    # And the other app's chats never go to this app's operators.
    chat = new_chat(client, shop.other.id, [shop.Ann, "Bob", shop.sales])
    assert chat["operatorIds"] == [shop.eve]


def test_assignees_only_matter_for_a_new_chat(client, shop, database):
    with visitor(client, shop.app.id) as tab:
        tab.send(type="message.send", clientId="c-1", text="hi", assignees=["Cat"])
        chat_id = tab.ack("c-1")["message"]["chatId"]
        tab.send(type="message.send", clientId="c-2", text="again", assignees=[shop.sales])
        assert tab.ack("c-2")["message"]["chatId"] == chat_id
    assert run(database, lambda s: s.get(Chat, chat_id)).operator_ids == [shop.Cat]


def test_operator_feed_sees_the_assignment(client, shop):
    from tests.helpers.sockets import operator

    with operator(client, shop.app.id, "ann@shop.example") as inbox:
        chat = new_chat(client, shop.app.id, ["Cat"])
        started = inbox.of_type("chat.started")
        assert started["chat"]["id"] == chat["id"] and started["chat"]["operatorIds"] == [shop.Cat]


@pytest.mark.parametrize(("assignees", "ok"), [
    (["x"] * 20, True), (["x"] * 21, False), ([""], False), (["x" * 321], False), ("Ann", False),
    ([5], False),
])
def test_assignees_shape(client, shop, assignees, ok):
    with visitor(client, shop.app.id) as tab:
        tab.send(type="message.send", clientId="c-1", text="hi", assignees=assignees)
        reply = tab.next(lambda f: f["type"] in ("ack", "error"))
        assert (reply["type"] == "ack") is ok, reply
        if not ok:
            assert reply["code"] == "PARLEY_E_BAD_FRAME"


def test_welcome_lists_this_apps_operators_without_emails(client, shop):
    # With their team ids: the widget's `operators` option may name a team.
    with visitor(client, shop.app.id) as tab:
        operators = tab.first["operators"]
    assert sorted(operators, key=lambda o: o["name"]) == [
        {"id": shop.Ann, "name": "Ann", "teamIds": []},
        {"id": shop.Bob, "name": "Bob", "teamIds": [shop.sales]},
        {"id": shop.Cat, "name": "Cat", "teamIds": [shop.sales]}]
    with visitor(client, shop.other.id) as tab:
        assert tab.first["operators"] == [{"id": shop.eve, "name": "Eve", "teamIds": [shop.elsewhere]}]
