"""The chat queue (all operators busy), predicted agent, greetings, chat properties, get profile."""

from __future__ import annotations

import asyncio

from parley.clock import Clock
from parley.fanout import InProcessFanout
from parley.storage.models import App
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, operator, visitor


def cap(database, app_id: str, limit: int | None) -> None:
    async def work(session):
        (await session.get(App, app_id)).max_chats_per_operator = limit
        await session.commit()
    run(database, work)


def queue_tick(client) -> None:
    """What the background clock does every few seconds, run now in the app's loop."""
    state = client.app.state
    client.portal.call(Clock(state.db, state.fanout).queue_tick)


def queued_place(tab) -> int | None:
    return tab.of_type("queue")["position"]


def test_busy_operators_queue_new_chats_and_hand_them_out_in_order(client, make_app, make_operator,
                                                                     database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    cap(database, app.id, 1)
    with operator(client, app.id) as op, visitor(client, app.id) as first, \
            visitor(client, app.id) as second, visitor(client, app.id) as third:
        chat_one = first.say("a", "first")["message"]["chatId"]
        assert op.of_type("chat.started")["chat"]["operatorIds"] != []  # Ann has room for one
        second.say("b", "second")
        third.say("c", "third")
        queue_tick(client)
        assert queued_place(second) == 1 and queued_place(third) == 2
        # Ann is told who waits too: the chats exist, unassigned.
        op.send(type="chat.close", chatId=chat_one)
        op.of_type("chat")
        queue_tick(client)
        handed = op.of_type("chat.assigned")["chat"]
        assert handed["visitorId"] == second.first["visitorId"] and handed["operatorIds"]
        assert queued_place(second) is None  # no longer waiting
        line = second.next(lambda f: f["type"] == "event" and f["event"]["type"] == "message"
                           and (f["event"]["message"]["system"] or {}).get("code") == "assigned")
        assert line["event"]["message"]["system"]["operatorId"] == handed["operatorIds"][0]
        assert queued_place(third) == 1


def test_no_queue_while_nobody_is_online_and_unassigned_chats_go_to_who_comes(client, make_app,
                                                                              make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as early:
        early.say("a", "anyone?")
        queue_tick(client)
        assert [f for f in early.sync() if f["type"] == "queue"] == []  # offline, not a queue
        with operator(client, app.id) as op:
            queue_tick(client)
            assert op.of_type("chat.assigned")["chat"]["visitorId"] == early.first["visitorId"]


def test_predicted_agent_and_queue_flag(client, make_app, make_operator, database):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as guest:
        guest.send(type="agent.predict")
        assert guest.of_type("agent.predicted") == {"v": 1, "type": "agent.predicted", "operator": None,
                                                    "queued": False}
        with operator(client, app.id):
            guest.send(type="agent.predict")
            predicted = guest.of_type("agent.predicted")
            assert predicted["operator"]["name"] == "Ann" and "email" not in predicted["operator"]
            cap(database, app.id, 1)
            with visitor(client, app.id) as other:
                other.say("o", "taking Ann's only slot")
            guest.send(type="agent.predict")
            assert guest.of_type("agent.predicted") == {"v": 1, "type": "agent.predicted",
                                                        "operator": None, "queued": True}


def test_greetings_reach_operators_and_properties_attach_to_the_chat(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        guest.send(type="greeting", action="accept", triggerId="t1")
        greeting = op.of_type("greeting")
        assert (greeting["action"], greeting["triggerId"]) == ("accept", "t1")
        guest.send(type="greeting", action="wave")
        assert guest.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        guest.send(type="chat.properties", properties={"plan": "pro"})
        assert guest.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"  # no chat yet
        guest.say("a", "hi")
        guest.send(type="chat.properties", properties={"plan": "pro", "seats": 3})
        assert guest.of_type("chat.properties")["properties"] == {"plan": "pro", "seats": 3}
        guest.send(type="chat.properties", properties={"plan": None})
        assert guest.of_type("chat.properties")["properties"] == {"seats": 3}
        assert op.next(lambda f: f["type"] == "chat.properties"
                       and f["chat"]["properties"] == {"seats": 3})
        guest.send(type="chat.properties", properties={f"k{n}": n for n in range(51)})
        assert guest.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        guest.send(type="visitor.get")
        assert guest.of_type("visitor")["visitor"]["id"] == guest.first["visitorId"]


def test_clock_queue_tick_is_safe_with_nothing_waiting(database):
    async def tick():
        await Clock(database, InProcessFanout()).queue_tick()
        await database.engine.dispose()
    asyncio.run(tick())
