"""The operator's chosen status: away and offline take no chats and turn the widget offline."""

from __future__ import annotations

from tests.helpers.sockets import ORIGIN, SERVER, login, operator, visitor


def put_status(client, app_id, status, origin=SERVER, email="ann@shop.example"):
    cookie = login(client, app_id, email).cookies["parley_session"]
    return client.put("/api/operator/presence", json={"status": status},
                      headers={"Origin": origin, "Cookie": f"parley_session={cookie}"})


def test_away_turns_the_app_offline_live_and_online_brings_it_back(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with operator(client, app.id) as op, visitor(client, app.id) as guest:
        assert guest.first["online"] is True
        answer = put_status(client, app.id, "away")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "away", "presence": "away", "appOnline": False}
        assert guest.of_type("online")["online"] is False
        assert op.of_type("operator.presence")["presence"] == "away"
        # Away takes no new chats: a visitor's first message stays unassigned.
        assert guest.say("v-1", "anyone?")["message"]["chatId"]
        assert op.of_type("chat.started")["chat"]["operatorIds"] == []
        with visitor(client, app.id) as later:
            assert later.first["online"] is False
        assert put_status(client, app.id, "online").json()["appOnline"] is True
        assert guest.of_type("online")["online"] is True
    # The choice is remembered: a new inbox connection does not reset it.
    put_status(client, app.id, "offline")
    with operator(client, app.id), visitor(client, app.id) as guest:
        assert guest.first["online"] is False
    assert client.get("/api/operator/me", cookies={
        "parley_session": login(client, app.id).cookies["parley_session"]}).json()["status"] == "offline"


def test_status_needs_login_own_origin_and_a_known_value(client, make_app, make_operator):
    app = make_app([ORIGIN])
    make_operator(app.id)
    assert put_status(client, app.id, "away", origin="https://evil.example").status_code == 403
    assert put_status(client, app.id, "busy").status_code == 400
    anonymous = client.put("/api/operator/presence", json={"status": "away"}, headers={"Origin": SERVER})
    assert anonymous.status_code == 401


def test_visitor_sockets_of_an_app_share_one_subscription_to_its_state(client, make_app, make_operator):
    # issue 12: a subscription (and a task) per idle socket for the rare `online` flips was
    # ~3 KB a socket; the process now holds one feed per app and hands it to every socket.
    from contextlib import ExitStack

    from parley import fanout as channels

    app = make_app([ORIGIN])
    make_operator(app.id)
    hub = client.app.state.fanout
    with ExitStack() as stack:
        stack.enter_context(operator(client, app.id))  # online: the flips below are changes
        guests = [stack.enter_context(visitor(client, app.id)) for _ in range(5)]
        assert hub.subscriber_count(channels.app_visitors_channel(app.id)) == 1
        assert put_status(client, app.id, "away").json()["appOnline"] is False
        assert [guest.of_type("online")["online"] for guest in guests] == [False] * 5
        assert put_status(client, app.id, "online").json()["appOnline"] is True
        assert [guest.of_type("online")["online"] for guest in guests] == [True] * 5
    # The last socket of the app gone: so is the app's subscription.
    client.get("/healthz")  # one more round on the server's loop, after the sockets' ends
    assert hub.subscriber_count(channels.app_visitors_channel(app.id)) == 0
