"""The inbox's chat operations over the sockets and HTTP: assign/transfer to an operator
or a team, internal notes (never seen by the visitor, in any way), close and reopen,
canned responses, and the chat list's assigned/unassigned filter."""

from __future__ import annotations

import asyncio
import email
import json
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from parley.clock import Clock
from parley.fanout import InProcessFanout
from parley.storage import operator_queries, presence_queries
from parley.storage.models import Chat, Event, Message
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.db import allow_transcripts_to_any_email, run
from tests.helpers.sockets import ORIGIN, SERVER, Tab, login, operator, same_visitor, visitor
from tests.helpers.static_pages import STATIC, check_inbox_strings, load_static

NOTE = "Internal: customer is a reseller, offer the B2B price list"


def event_of(tab: Tab, kind: str, match=lambda event: True) -> dict:
    frame = tab.next(lambda f: f["type"] == "event" and f["event"]["type"] == kind and match(f["event"]))
    return frame["event"]


def system_line(tab: Tab, code: str) -> dict:
    line = event_of(tab, "message", lambda e: (e["message"].get("system") or {}).get("code") == code)
    return line["message"]


def make_people(database, app_id: str, *names: str, online=()) -> dict[str, str]:
    """Operators of the app by name (email <name>@shop.example); those in `online` are online."""
    async def work(session):
        ids = {}
        for name in names:
            created = await operator_queries.create_operator(session, app_id, f"{name.lower()}@shop.example",
                                                             PASSWORD, name)
            if name in online:
                await presence_queries.set_presence(session, created.id, "online")
            ids[name] = created.id
        return ids
    return run(database, work)


def make_team(database, app_id: str, name: str, member_ids: list[str]) -> str:
    async def work(session):
        team = await operator_queries.create_team(session, app_id, name)
        for member_id in member_ids:
            member = await operator_queries.get_operator(session, app_id, member_id)
            await operator_queries.add_team_member(session, team, member)
        return team.id
    return run(database, work)


def stored_chat(database, chat_id: str) -> Chat:
    return run(database, lambda s: s.get(Chat, chat_id))


def session_headers(client, app_id, email_address="ann@shop.example", origin=SERVER) -> dict:
    response = login(client, app_id, email_address)
    assert response.status_code == 200, response.text
    headers = {"Cookie": f"parley_session={response.cookies['parley_session']}"}
    if origin:
        headers["Origin"] = origin
    return headers


# -- assign / transfer ---------------------------------------------------------------------

def test_assign_to_an_operator_replaces_the_operators_and_tells_everyone(client, make_app, database):
    app = make_app([ORIGIN])
    people = make_people(database, app.id, "Ann", "Bob")
    with visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "Do you ship to Norway?")["message"]["chatId"]
        with operator(client, app.id) as ann:
            ann.send(type="chat.assign", chatId=chat_id, operatorId=people["Bob"])
            answer = ann.of_type("chat")["chat"]
            assert answer["operatorIds"] == [people["Bob"]] and answer["teamId"] is None
            assigned = ann.of_type("chat.assigned")["chat"]
            assert assigned == answer
            feed_line = ann.next(lambda f: f["type"] == "message" and f["message"]["system"])
            assert feed_line["message"]["system"] == {"code": "assigned", "operatorId": people["Bob"],
                                                      "by": people["Ann"]}
            # The visitor's widget gets the line ("Bob joined the chat") and nothing else new.
            line = system_line(guest, "assigned")
            assert line["system"] == feed_line["message"]["system"] and line["text"] == ""
            # Assigning again to the same operator changes nothing: no second line.
            ann.send(type="chat.assign", chatId=chat_id, operatorId=people["Bob"])
            assert ann.of_type("chat")["chat"]["operatorIds"] == [people["Bob"]]
            # Bob's "Mine" list has it now; Ann's does not; it is no longer unassigned.
            bob = session_headers(client, app.id, "bob@shop.example", origin=None)
            mine = client.get("/api/operator/chats", params={"mine": 1}, headers=bob).json()["chats"]
            assert [c["id"] for c in mine] == [chat_id] and mine[0]["operatorIds"] == [people["Bob"]]
            unassigned = client.get("/api/operator/chats", params={"assigned": 0}, headers=bob).json()
            assert unassigned["chats"] == []
        frames = guest.sync()
    lines = [f for f in frames if f["type"] == "event" and (f["event"].get("message") or {}).get("system")]
    assert lines == []  # the repeat produced nothing
    assert stored_chat(database, chat_id).operator_ids == [people["Bob"]]


def test_assign_to_a_team_picks_an_online_member_round_robin_and_keeps_the_team(
        client, make_app, database):
    app = make_app([ORIGIN])
    people = make_people(database, app.id, "Ann", "Bob", "Cid", "Dan", online=("Cid", "Dan"))
    sales = make_team(database, app.id, "Sales", [people["Bob"], people["Cid"], people["Dan"]])
    with operator(client, app.id) as ann:
        picked = []
        for n in range(2):
            with visitor(client, app.id) as guest:
                # The new chat goes to Ann (the visitor's assignment rules), then to the team.
                guest.send(type="message.send", clientId="v-1", text=f"question {n}", assignees=["Ann"])
                chat_id = guest.ack("v-1")["message"]["chatId"]
                assert system_line(guest, "assigned")["system"] == {"code": "assigned",
                                                                    "operatorId": people["Ann"]}
                ann.send(type="chat.assign", chatId=chat_id, teamId=sales)
                chat = ann.next(lambda f, wanted=chat_id: f["type"] == "chat"
                                and f["chat"]["id"] == wanted)["chat"]
                assert chat["teamId"] == sales
                picked.append(chat["operatorIds"][0])
                line = system_line(guest, "assigned")
                assert line["system"] == {"code": "assigned", "operatorId": chat["operatorIds"][0],
                                          "by": people["Ann"], "teamId": sales}
        # Bob is offline: the two online members get one chat each (least recently assigned first).
        assert sorted(picked) == sorted([people["Cid"], people["Dan"]])
        assert stored_chat(database, chat_id).team_id == sales
        # A direct assignment leaves the team.
        ann.send(type="chat.assign", chatId=chat_id, operatorId=people["Bob"])
        chat = ann.next(lambda f: f["type"] == "chat" and f["chat"]["operatorIds"] == [people["Bob"]])["chat"]
        assert chat["teamId"] is None
        # Nobody online in the team: its members still take turns.
        offline = make_team(database, app.id, "Nights", [people["Bob"]])
        ann.send(type="chat.assign", chatId=chat_id, teamId=offline)
        assert ann.next(lambda f: f["type"] == "chat" and f["chat"]["teamId"] == offline)["chat"][
            "operatorIds"] == [people["Bob"]]
        empty = make_team(database, app.id, "Empty", [])
        ann.send(type="chat.assign", chatId=chat_id, teamId=empty)
        refused = ann.of_type("error")
        assert refused["code"] == "PARLEY_E_CONFLICT" and refused["chatId"] == chat_id


def test_assign_refuses_other_apps_ids_and_bad_frames(client, make_app, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    people = make_people(database, shop.id, "Ann", "Bob")
    strangers = make_people(database, other.id, "Eve", online=("Eve",))
    their_team = make_team(database, other.id, "Elsewhere", [strangers["Eve"]])
    with visitor(client, other.id) as foreign:
        foreign_chat = foreign.say("f-1", "secret")["message"]["chatId"]
    with visitor(client, shop.id) as guest, operator(client, shop.id) as ann:
        chat_id = guest.say("v-1", "hi")["message"]["chatId"]
        for frame in ({"operatorId": strangers["Eve"]}, {"teamId": their_team}, {"operatorId": "f" * 24},
                      {"teamId": "nope"}):
            ann.send(type="chat.assign", chatId=chat_id, **frame)
            assert ann.of_type("error")["code"] == "PARLEY_E_NOT_FOUND", frame
        ann.send(type="chat.assign", chatId=foreign_chat, operatorId=strangers["Eve"])
        assert ann.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
        for frame in ({}, {"operatorId": strangers["Eve"], "teamId": their_team}, {"operatorId": ""},
                      {"operatorId": "x" * 65}):
            ann.send(type="chat.assign", chatId=chat_id, **frame)
            assert ann.of_type("error")["code"] == "PARLEY_E_BAD_FRAME", frame
        # A closed chat is reopened first, then assigned.
        ann.send(type="chat.close", chatId=chat_id)
        ann.of_type("chat")
        ann.send(type="chat.assign", chatId=chat_id, operatorId=people["Bob"])
        assert ann.of_type("error")["code"] == "PARLEY_E_CONFLICT"
        transfers = [f for f in guest.sync() if f["type"] == "event"
                     and "by" in ((f["event"].get("message") or {}).get("system") or {"code": "x"})
                     and f["event"]["message"]["system"]["code"] == "assigned"]
        assert transfers == []
    assert stored_chat(database, chat_id).operator_ids == [people["Ann"]]  # Ann was online: hers
    assert stored_chat(database, foreign_chat).operator_ids == [strangers["Eve"]]


def test_a_reply_joins_an_unassigned_chat_and_other_inboxes_learn_it(client, make_app, database):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann", "Bob")
    with visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "anyone?")["message"]["chatId"]  # nobody online: unassigned
        with operator(client, app.id, "bob@shop.example") as bob, operator(client, app.id) as ann:
            ann.send(type="message.send", chatId=chat_id, clientId="o-1", text="Hi!")
            ann.ack("o-1")
            joined = bob.of_type("chat.assigned")["chat"]
            assert joined["id"] == chat_id and len(joined["operatorIds"]) == 1


# -- internal notes ------------------------------------------------------------------------

def test_notes_reach_operators_and_never_the_visitor(client, make_app, database, smtp):
    app = make_app([ORIGIN])
    allow_transcripts_to_any_email(database, app.id)  # the transcript below goes to an unsigned address
    make_people(database, app.id, "Ann", "Bob")
    with visitor(client, app.id) as guest, visitor(client, app.id, **same_visitor(guest)) as second_tab:
        question = guest.say("v-1", "Do you have a price list for shops?")["message"]
        chat_id = question["chatId"]
        with operator(client, app.id) as ann, operator(client, app.id, "bob@shop.example") as bob:
            ann.send(type="note.add", chatId=chat_id, clientId="n-1", text=NOTE)
            note = ann.ack("n-1")["message"]
            assert (note["authorKind"], note["text"], note["system"]) == ("note", NOTE, None)
            # Idempotent like message.send: a resend is the same note, announced once.
            ann.send(type="note.add", chatId=chat_id, clientId="n-1", text=NOTE)
            assert ann.ack("n-1")["message"] == note
            fed = bob.next(lambda f: f["type"] == "message" and f["message"]["id"] == note["id"])
            assert fed["chatId"] == chat_id and fed["message"] == note
            ann.send(type="note.add", chatId=chat_id, clientId="n-2", text="   ")
            assert ann.ack("n-2")["code"] == "PARLEY_E_BAD_FRAME"
            ann.send(type="message.send", chatId=chat_id, clientId="o-1", text="Yes, here it is.")
            reply = ann.ack("o-1")["message"]
            # Operators' history has it, between the question and the reply.
            ann.send(type="history", chatId=chat_id)
            assert [m["id"] for m in ann.of_type("history")["messages"]] == [question["id"], note["id"],
                                                                             reply["id"]]
            # The chat list's preview is the conversation, not the note.
            ann_http = session_headers(client, app.id, origin=None)
            [listed] = client.get("/api/operator/chats", headers=ann_http).json()["chats"]
            assert listed["lastMessage"]["id"] == reply["id"]
        # The visitor: nothing live on either tab, nothing in history (any page size), in
        # the replayed log, in the event table, or in a transcript.
        for tab in (guest, second_tab):
            frames = tab.sync()
            assert NOTE not in json.dumps(frames)
            assert not any(f.get("message", {}).get("authorKind") == "note" for f in frames)
        for limit in (1, 2, 50):
            guest.send(type="history", limit=limit)
            page = guest.of_type("history")
            assert [m["id"] for m in page["messages"]] == [question["id"], reply["id"]][-limit:]
        guest.send(type="history", before=reply["id"], limit=1)
        page = guest.of_type("history")
        assert [m["id"] for m in page["messages"]] == [question["id"]] and page["hasMore"] is False
        guest.send(type="transcript.request", email="me@example.org")
        assert guest.of_type("transcript")["sent"] is True
        credentials = same_visitor(guest)
    with visitor(client, app.id, lastSeq=0, **credentials) as later:
        assert NOTE not in json.dumps(later.sync())
    events = run(database, lambda s: s.scalars(select(Event.payload)))
    assert NOTE not in json.dumps(list(events))
    [transcript] = smtp.messages
    body = transcript.content.decode()
    assert "Yes, here it is." in body and "reseller" not in body


def test_a_note_is_never_a_chats_preview_in_any_list(client, make_app, database):
    """The chat list, the visitor's details pane and search results list chats the same way
    (one query): the preview is the conversation's last message, never an internal note."""
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    with visitor(client, app.id) as guest:
        question = guest.say("v-1", "Do you ship porcelain mugs abroad?")["message"]
        chat_id = question["chatId"]
        with operator(client, app.id) as ann:
            ann.send(type="note.add", chatId=chat_id, clientId="n-1", text=NOTE)
            assert ann.ack("n-1")["message"]["authorKind"] == "note"
        headers = session_headers(client, app.id, origin=None)
        [listed] = client.get("/api/operator/chats", headers=headers).json()["chats"]
        details = client.get(f"/api/operator/visitors/{guest.first['visitorId']}", headers=headers)
        [in_details] = details.json()["chats"]
        search = client.get("/api/operator/search", params={"q": "porcelain"}, headers=headers)
        [found] = search.json()["results"]
    for chat in (listed, in_details, found["chat"]):
        assert chat["id"] == chat_id
        assert chat["lastMessage"]["id"] == question["id"], chat["lastMessage"]
        assert chat["unread"] == 1


def test_notes_are_not_in_missed_chat_mails_and_do_not_count_as_an_answer(
        client, make_app, database, smtp):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    with visitor(client, app.id) as guest:
        chat_id = guest.say("v-1", "Hello? Anyone?")["message"]["chatId"]
        with operator(client, app.id) as ann:
            ann.send(type="note.add", chatId=chat_id, clientId="n-1", text=NOTE)
            ann.ack("n-1")

    async def age_and_tick():
        async with database.session() as session:
            chat = await session.get(Chat, chat_id)
            chat.started_at = datetime.now(UTC) - timedelta(minutes=30)
            await session.commit()
        sent = await Clock(database, InProcessFanout()).notify_missed_chats(datetime.now(UTC))
        await database.engine.dispose()
        return sent
    assert asyncio.run(age_and_tick()) == 1
    body = email.message_from_bytes(smtp.messages[0].content).get_payload(decode=True).decode()
    assert "> Hello? Anyone?" in body and "reseller" not in body


def test_notes_only_in_the_operators_own_app(client, make_app, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    make_people(database, shop.id, "Ann")
    with visitor(client, other.id) as stranger:
        foreign_chat = stranger.say("s-1", "secret")["message"]["chatId"]
    with operator(client, shop.id) as ann:
        ann.send(type="note.add", chatId=foreign_chat, clientId="n-1", text=NOTE)
        assert ann.ack("n-1")["code"] == "PARLEY_E_NOT_FOUND"
    notes = run(database, lambda s: s.scalars(select(Message).where(Message.author_kind == "note")))
    assert list(notes) == []


# -- close and reopen ----------------------------------------------------------------------------

def test_reopen_a_closed_chat(client, make_app, database):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    with visitor(client, app.id) as guest, operator(client, app.id) as ann:
        chat_id = guest.say("v-1", "one more thing")["message"]["chatId"]
        ann.send(type="chat.close", chatId=chat_id)
        assert ann.of_type("chat")["chat"]["status"] == "closed"
        event_of(guest, "chat.closed")
        ann.send(type="chat.reopen", chatId=chat_id)
        answer = ann.of_type("chat")["chat"]
        assert (answer["status"], answer["endedAt"], answer["closedBy"]) == ("open", None, None)
        assert ann.of_type("chat.reopened")["chat"] == answer
        reopened = event_of(guest, "chat.reopened")["chat"]
        assert reopened == answer
        line = system_line(guest, "reopened")
        assert line["chatId"] == chat_id and line["system"]["by"] == answer["operatorIds"][0]
        # The visitor's next message goes to the same chat again.
        assert guest.say("v-2", "thanks for reopening")["message"]["chatId"] == chat_id
        # Reopening an open chat changes nothing.
        ann.send(type="chat.reopen", chatId=chat_id)
        assert ann.of_type("chat")["chat"]["status"] == "open"
        later = guest.sync()
        assert [f for f in later if f["type"] == "event" and f["event"]["type"] == "chat.reopened"] == []
        guest.send(type="history", limit=1)
        assert guest.of_type("history")["chat"]["status"] == "open"
    assert stored_chat(database, chat_id).status == "open"


def test_reopen_is_refused_while_the_visitor_has_another_open_chat(client, make_app, database):
    app, other = make_app([ORIGIN]), make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    with visitor(client, other.id) as stranger:
        foreign_chat = stranger.say("s-1", "x")["message"]["chatId"]
        stranger.send(type="chat.close")
        event_of(stranger, "chat.closed")
    with visitor(client, app.id) as guest, operator(client, app.id) as ann:
        first = guest.say("v-1", "first")["message"]["chatId"]
        guest.send(type="chat.close")
        event_of(guest, "chat.closed")
        second = guest.say("v-2", "a new question")["message"]["chatId"]
        assert second != first
        ann.send(type="chat.reopen", chatId=first)
        refused = ann.of_type("error")
        assert refused["code"] == "PARLEY_E_CONFLICT"
        assert (refused["chatId"], refused["openChatId"]) == (first, second)
        ann.send(type="chat.reopen", chatId=foreign_chat)
        assert ann.of_type("error")["code"] == "PARLEY_E_NOT_FOUND"
    assert stored_chat(database, first).status == "closed"
    assert stored_chat(database, foreign_chat).status == "closed"


# -- canned responses over HTTP ---------------------------------------------------------------------

def test_canned_responses_crud_and_live_reload(client, make_app, database):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann", "Bob")
    ann = session_headers(client, app.id)
    bob = session_headers(client, app.id, "bob@shop.example")
    assert client.get("/api/operator/canned", headers=ann).json() == {"responses": []}
    with operator(client, app.id, "bob@shop.example") as bob_tab:
        created = client.post("/api/operator/canned", headers=ann,
                              json={"shortcut": "thanks", "text": "  Thank you for contacting us!  "})
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        item = created.json()["response"]
        assert (item["shortcut"], item["text"]) == ("thanks", "Thank you for contacting us!")
        assert bob_tab.of_type("canned.changed") == {"v": 1, "type": "canned.changed"}
    client.post("/api/operator/canned", headers=ann, json={"shortcut": "bye", "text": "Bye!"})
    listed = client.get("/api/operator/canned", headers=bob).json()["responses"]
    assert [r["shortcut"] for r in listed] == ["bye", "thanks"]  # by shortcut
    # Any operator may edit and delete.
    changed = client.patch(f"/api/operator/canned/{item['id']}", headers=bob, json={"text": "Thanks!"})
    assert changed.status_code == 200 and changed.json()["response"]["text"] == "Thanks!"
    taken = client.patch(f"/api/operator/canned/{item['id']}", headers=bob, json={"shortcut": "bye"})
    assert taken.status_code == 409 and taken.json()["code"] == "PARLEY_E_CONFLICT"
    again = client.post("/api/operator/canned", headers=ann, json={"shortcut": "bye", "text": "x"})
    assert again.status_code == 409 and again.json()["code"] == "PARLEY_E_CONFLICT"
    assert client.delete(f"/api/operator/canned/{item['id']}", headers=bob).status_code == 200
    assert client.delete(f"/api/operator/canned/{item['id']}", headers=bob).status_code == 404
    assert [r["shortcut"] for r in client.get("/api/operator/canned", headers=ann).json()["responses"]] == [
        "bye"]


def test_canned_responses_need_a_session_and_same_origin_writes(client, make_app, database):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    ann = session_headers(client, app.id)
    item = client.post("/api/operator/canned", headers=ann, json={"shortcut": "hi", "text": "Hi!"}).json()
    item_url = f"/api/operator/canned/{item['response']['id']}"
    for headers in ({}, {"Cookie": "parley_session=forged", "Origin": SERVER}):
        assert client.get("/api/operator/canned", headers=headers).status_code == 401
        answer = client.post("/api/operator/canned", headers=headers, json={"shortcut": "a", "text": "b"})
        assert answer.status_code in (401, 403)
    cookie_only = {"Cookie": ann["Cookie"]}
    for origin in (None, "https://evil.example", "http://testserver.evil.com", "https://testserver"):
        headers = {**cookie_only, **({"Origin": origin} if origin else {})}
        for method, url, body in (("POST", "/api/operator/canned", {"shortcut": "x", "text": "y"}),
                                  ("PATCH", item_url, {"text": "pwned"}), ("DELETE", item_url, None)):
            answer = client.request(method, url, headers=headers, json=body)
            assert answer.status_code == 403 and answer.json()["code"] == "PARLEY_E_ORIGIN", (method, origin)
    # Reading needs no Origin (a GET changes nothing).
    listed = client.get("/api/operator/canned", headers=cookie_only).json()["responses"]
    assert [(r["shortcut"], r["text"]) for r in listed] == [("hi", "Hi!")]


@pytest.mark.parametrize("body", [
    {"shortcut": "", "text": "x"}, {"shortcut": "Thanks", "text": "x"}, {"shortcut": "/thanks", "text": "x"},
    {"shortcut": "two words", "text": "x"}, {"shortcut": "a" * 65, "text": "x"},
    {"shortcut": "ok", "text": ""},
    {"shortcut": "ok", "text": "   "}, {"shortcut": "ok", "text": "x" * 5001}, {"shortcut": 5, "text": "x"},
    {"text": "x"}, {"shortcut": "ok"}, ["ok", "x"],
])
def test_canned_validation(client, make_app, database, body):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    ann = session_headers(client, app.id)
    answer = client.post("/api/operator/canned", headers=ann, json=body)
    assert answer.status_code == 400 and answer.json()["code"] == "PARLEY_E_BAD_FRAME", answer.text
    assert client.get("/api/operator/canned", headers=ann).json()["responses"] == []


def test_canned_limits_and_odd_requests(client, make_app, database):
    app = make_app([ORIGIN])
    make_people(database, app.id, "Ann")
    ann = session_headers(client, app.id)
    ok = client.post("/api/operator/canned", headers=ann, json={"shortcut": "a-b_9", "text": "x" * 5000})
    assert ok.status_code == 201
    url = f"/api/operator/canned/{ok.json()['response']['id']}"
    assert client.post("/api/operator/canned", headers=ann, content="shortcut=a").status_code == 415
    assert client.post("/api/operator/canned", headers={**ann, "Content-Type": "application/json"},
                       content="{").status_code == 400
    huge = client.post("/api/operator/canned", headers={**ann, "Content-Type": "application/json"},
                       content=json.dumps({"shortcut": "big", "text": "\u2603" * 20000}, ensure_ascii=True))
    assert huge.status_code == 413
    assert client.patch(url, headers=ann, json={}).status_code == 400
    assert client.patch(url, headers=ann, json={"shortcut": "NO"}).status_code == 400
    unknown = "/api/operator/canned/" + "0" * 24
    assert client.patch(unknown, headers=ann, json={"text": "x"}).status_code == 404
    assert client.get(url, headers=ann).status_code == 405


def test_canned_responses_stay_in_their_app(client, make_app, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    make_people(database, shop.id, "Ann")
    run(database, lambda s: operator_queries.create_operator(s, other.id, "eve@other.example", PASSWORD,
                                                             "Eve"))
    ann = session_headers(client, shop.id)
    eve = session_headers(client, other.id, "eve@other.example")
    mine = client.post("/api/operator/canned", headers=ann, json={"shortcut": "thanks", "text": "Thanks!"})
    url = f"/api/operator/canned/{mine.json()['response']['id']}"
    assert client.get("/api/operator/canned", headers=eve).json()["responses"] == []
    assert client.patch(url, headers=eve, json={"text": "pwned"}).status_code == 404
    assert client.delete(url, headers=eve).status_code == 404
    # The same shortcut is free in another app.
    assert client.post("/api/operator/canned", headers=eve,
                       json={"shortcut": "thanks", "text": "Merci"}).status_code == 201
    [kept] = client.get("/api/operator/canned", headers=ann).json()["responses"]
    assert kept["text"] == "Thanks!"


# -- the chat list and the assignees ------------------------------------------------------------------

def test_chat_list_filters_by_assignment(client, make_app, database):
    app = make_app([ORIGIN])
    people = make_people(database, app.id, "Ann", "Bob")
    with visitor(client, app.id) as one, visitor(client, app.id) as two:
        first = one.say("v-1", "one")["message"]["chatId"]
        second = two.say("v-2", "two")["message"]["chatId"]
    with operator(client, app.id) as ann:
        ann.send(type="chat.assign", chatId=second, operatorId=people["Bob"])
        ann.of_type("chat")
    headers = session_headers(client, app.id, origin=None)

    def ids(**params):
        response = client.get("/api/operator/chats", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["chats"]]
    assert ids(assigned=0) == [first]
    assert ids(assigned=1) == [second]
    assert sorted(ids()) == sorted([first, second])
    assert ids(mine=1) == [] and ids(mine=1, assigned=1) == []
    assert ids(status="closed", assigned=0) == []
    assert client.get("/api/operator/chats", params={"assigned": "yes"}, headers=headers).status_code == 400


def test_assignees_lists_the_apps_operators_and_teams_only(client, make_app, database):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    people = make_people(database, shop.id, "Ann", "Bob", online=("Bob",))
    sales = make_team(database, shop.id, "Sales", [people["Bob"]])
    make_people(database, other.id, "Eve")
    make_team(database, other.id, "Elsewhere", [])
    assert client.get("/api/operator/assignees").status_code == 401
    body = client.get("/api/operator/assignees", headers=session_headers(client, shop.id, origin=None)).json()
    assert body == {"operators": [{"id": people["Ann"], "name": "Ann", "online": False},
                                  {"id": people["Bob"], "name": "Bob", "online": True}],
                    "teams": [{"id": sales, "name": "Sales", "operatorIds": [people["Bob"]]}]}


# -- the inbox page's pure parts (static/inbox), under CPython ---------------------------------------

STATIC_INBOX = STATIC / "inbox"
load = partial(load_static, "inbox")


def api_chat(id_, status="open", operators=(), unread=0, last_id=1):
    return {"id": id_, "visitorId": "v" + id_, "status": status, "operatorIds": list(operators),
            "teamId": None, "startedAt": "2025-01-01T09:00:00.000Z", "endedAt": None,
            "visitor": {"id": "v" + id_, "name": None, "email": None, "country": None},
            "lastMessage": {"id": last_id, "authorKind": "visitor", "text": "hi",
                            "createdAt": "2025-01-01T10:00:00.000Z", "file": None},
            "unread": unread}


def test_model_tabs_and_their_unread_counts():
    inbox = load("model").Inbox()
    inbox.set_me("me")
    inbox.load_chats([api_chat("a", unread=2, last_id=5),
                      api_chat("b", operators=["me"], unread=1, last_id=6),
                      api_chat("c", operators=["bob"], last_id=7),
                      api_chat("d", status="closed", operators=["me"], unread=1, last_id=8)])
    assert [c["id"] for c in inbox.listed("unassigned")] == ["a"]
    assert [c["id"] for c in inbox.listed("mine")] == ["b"]
    assert [c["id"] for c in inbox.listed("open")] == ["c", "b", "a"]
    assert [c["id"] for c in inbox.listed("closed")] == ["d"]
    assert [inbox.tab_unread(tab) for tab in ("unassigned", "mine", "open", "closed")] == [2, 1, 3, 1]
    assert [inbox.count(tab) for tab in ("unassigned", "mine", "open", "closed")] == [1, 1, 3, 1]
    # A transfer moves the chat between tabs; a reopen brings a closed chat back.
    assert inbox.chat_changed({"id": "a", "operatorIds": ["me"], "teamId": "t1"})
    assert [c["id"] for c in inbox.listed("mine")] == ["b", "a"] and inbox.listed("unassigned") == []
    assert inbox.chats["a"]["teamId"] == "t1"
    inbox.chat_changed({"id": "d", "status": "open", "endedAt": None, "closedBy": None})
    assert inbox.chats["d"]["status"] == "open" and inbox.chats["d"]["closedBy"] is None
    # A list asked for before that news does not close it again, nor undo the transfer...
    asked = 0  # before both changes
    stale = {**api_chat("d", status="closed", operators=["me"], last_id=8), "closedBy": "operator"}
    inbox.load_chats([stale, api_chat("a", last_id=5)], since=asked)
    assert inbox.chats["d"]["status"] == "open" and inbox.chats["a"]["operatorIds"] == ["me"]
    # ...but a list asked for after it is right (the chat was closed again since).
    inbox.load_chats([{**stale, "status": "closed", "closedBy": "operator"}], since=inbox.chat_version)
    assert inbox.chats["d"]["status"] == "closed" and inbox.chats["d"]["closedBy"] == "operator"


def test_model_notes_are_no_preview_and_no_unread():
    model = load("model")
    inbox = model.Inbox()
    inbox.load_chats([api_chat("a", last_id=1)])
    note = {"id": 9, "chatId": "a", "authorKind": "note", "authorId": "me", "text": "psst",
            "clientId": "n", "createdAt": "2025-01-01T10:00:00.000Z"}
    inbox.add_message("a", note)
    assert inbox.chats["a"]["lastMessage"]["id"] == 1 and inbox.unread(inbox.chats["a"]) == 0
    assert [m["id"] for m in inbox.conversation("a")] == [9]
    item = inbox.queue("a", "for the team", 1700000000000, "ab", note=True)
    assert item["note"] is True and inbox.pending("a") == [item]


def test_canned_matching_and_insertion():
    canned = load("canned")
    responses = [{"id": "1", "shortcut": "thanks", "text": "Thank you!"},
                 {"id": "2", "shortcut": "thx-short", "text": "Thx"},
                 {"id": "3", "shortcut": "hours", "text": "We are open 9-17."}]
    assert canned.slash_query("/th", 3) == (0, "th")
    assert canned.slash_query("Hello /ho", 9) == (6, "ho")
    assert canned.slash_query("Hello /", 7) == (6, "")
    assert canned.slash_query("a/th", 4) is None  # a slash inside a word is no shortcut
    assert canned.slash_query("/th is", 6) is None  # the caret left the shortcut
    assert canned.slash_query("/Th", 3) == (0, "th")  # shortcuts are lower case; typing need not be
    assert canned.slash_query("see https://x/th", 16) is None
    assert [r["shortcut"] for r in canned.matching(responses, "th")] == ["thanks", "thx-short"]
    assert [r["shortcut"] for r in canned.matching(responses, "")] == ["hours", "thanks", "thx-short"]
    assert [r["shortcut"] for r in canned.matching(responses, "open")] == []
    assert canned.insert("Hi /th", 6, 3, "Thank you!") == ("Hi Thank you!", 13)
    assert canned.insert("/thx please", 4, 0, "Thx") == ("Thx please", 3)
    assert canned.clean_shortcut("  /Thanks ") == "thanks"
    assert canned.valid_shortcut("a-b_9")
    assert not canned.valid_shortcut("a b") and not canned.valid_shortcut("")


def test_every_string_key_of_the_chat_ops_modules_exists():
    check_inbox_strings(*(STATIC_INBOX / f"{name}.py"
                          for name in ("chat_ops", "canned", "canned_ui", "main", "model")))
