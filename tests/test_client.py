"""parley.client against a real server (uvicorn in a process of its own, as
tests/test_chat_real_server.py starts it): a visitor and an operator client talk."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal

import pytest

from parley import protocol
from parley.client import (
    ERROR_CODES,
    ClientError,
    Credentials,
    OperatorClient,
    Timing,
    VisitorClient,
    sdk_code,
)
from tests.helpers.client import EMAIL, TIMING, operator_for, record, texts, visitor_for
from tests.helpers.ports import free_port
from tests.helpers.server import SITE
from tests.helpers.waiting import wait_until_async


async def test_a_conversation_both_ways(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    customer_ids = record(visitor, "customer_id")
    incoming = record(visitor, "incoming_event")
    feed = record(operator, "message")
    order: list[str] = []
    for name in ("incoming_chat", "incoming_event"):
        visitor.on(name, lambda _payload, name=name: order.append(name))
    try:
        welcome = await visitor.connect(timeout=10)
        assert customer_ids == [welcome["visitorId"]] and visitor.availability == "online"
        started = await visitor.start_chat("Do you ship to Norway?")
        chat_id = started["chat"]["id"]
        assert started["message"]["text"] == "Do you ship to Norway?" and visitor.active_chat["id"] == chat_id
        await wait_until_async(lambda: len(order) >= 2)
        assert order[:2] == ["incoming_chat", "incoming_event"]  # the log's order: the chat, then its message
        with pytest.raises(ClientError) as again:
            await visitor.start_chat("twice")
        assert again.value.code == "CHAT_ALREADY_ACTIVE"
        await wait_until_async(lambda: any(f["message"]["text"] == "Do you ship to Norway?" for f in feed))
        assert chat_id in [chat["id"] for chat in await operator.list_chats()]

        typing = visitor.expect("incoming_typing_indicator")
        await operator.set_typing(chat_id)
        indicator = (await asyncio.wait_for(typing, 10))["typing_indicator"]
        assert indicator["is_typing"] and indicator["author_id"] == operator.profile["operatorId"]

        reply = await operator.send_message(chat_id, "Yes, in 3 days.")
        await wait_until_async(lambda: "Yes, in 3 days." in texts(incoming))
        seen = operator.expect("seen")
        await visitor.mark_events_as_seen(reply["id"])
        assert (await asyncio.wait_for(seen, 10))["upTo"] == reply["id"]

        await visitor.send_event({"type": "message", "text": "Great, thanks"}, chat_id)
        await wait_until_async(lambda: any(f["message"]["text"] == "Great, thanks" for f in feed))
        assigned = visitor.expect("chat_transferred")
        bob = next(o["id"] for o in (await operator.assignees())["operators"]
                   if o["id"] != operator.profile["operatorId"])
        chat = await operator.assign(chat_id, operator_id=bob)
        assert chat["operatorIds"] == [bob]
        assert (await asyncio.wait_for(assigned, 10))["transferred_to"]["agent_ids"] == chat["operatorIds"]
        assert visitor.get_chat(chat_id)["operatorIds"] == [bob]  # kept up to date from the system line

        ended = visitor.expect("chat_deactivated")
        assert (await operator.close_chat(chat_id))["status"] == "closed"
        assert (await asyncio.wait_for(ended, 10))["chat_id"] == chat_id
        assert visitor.active_chat is None and visitor.get_chat(chat_id)["status"] == "closed"
        # Each message once, the visitor's own included (they come as ack and as event).
        ids = [e["event"]["id"] for e in incoming]
        assert len(ids) == len(set(ids))
        assert texts(incoming) == ["Do you ship to Norway?", "Yes, in 3 days.", "Great, thanks"]
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_history_pages_newest_first(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("m0"))["chat"]["id"]
        for n in range(1, 7):
            await visitor.send_event({"type": "message", "text": f"m{n}"})
        pages = [page async for page in visitor.get_chat_history(chat_id, page_size=3)]
        assert [[m["text"] for m in page if not m["system"]] for page in pages][:1] == [["m4", "m5", "m6"]]
        everything = [m["text"] for page in reversed(pages) for m in page if not m["system"]]
        assert everything == [f"m{n}" for n in range(7)]
        operator_pages = [page async for page in operator.get_chat_history(chat_id, page_size=4)]
        assert [m["text"] for page in reversed(operator_pages) for m in page
                if not m["system"]] == everything
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_resume_after_the_server_drops_the_socket(served):
    server = served[0]
    visitor = visitor_for(served)
    operator = await operator_for(served)
    incoming = record(visitor, "incoming_event")
    disconnects = record(visitor, "disconnected")
    connects = record(visitor, "connected")
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("before"))["chat"]["id"]
        # The network goes while a message is on its way: its ack may never come.
        on_the_way = asyncio.create_task(visitor.send_event({"type": "message", "text": "in flight"}))
        await visitor.drop_connection()
        await on_the_way  # resent on the next socket, acknowledged once
        await operator.send_message(chat_id, "reply 1")
        await wait_until_async(lambda: "reply 1" in texts(incoming))

        # The server stops (closing every socket) and starts again; meanwhile the visitor writes.
        await asyncio.to_thread(server.stop)
        queued = asyncio.create_task(visitor.send_event({"type": "message", "text": "while down"}))
        await wait_until_async(lambda: not visitor.connected)
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(queued, 20)
        await wait_until_async(lambda: operator.connected, 20)
        await operator.send_message(chat_id, "reply 2")
        await wait_until_async(lambda: "reply 2" in texts(incoming))

        assert disconnects and all(d["will_reconnect"] for d in disconnects) and len(connects) >= 3
        assert disconnects[0]["reason"] == "connection_lost"
        expected = ["before", "in flight", "reply 1", "while down", "reply 2"]
        assert texts(incoming) == expected  # no loss, no duplicate, in order
        stored = [m["text"] for page in [p async for p in operator.get_chat_history(chat_id)]
                  for m in page if not m["system"]]
        assert sorted(stored) == sorted(expected)
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_a_visitor_restored_from_saved_credentials(served):
    first = visitor_for(served)
    operator = await operator_for(served)
    try:
        await first.connect(timeout=10)
        chat_id = (await first.start_chat("hello"))["chat"]["id"]
        await wait_until_async(lambda: first.credentials.last_seq >= 2)
        saved = first.credentials.to_dict()
        await first.disconnect()
        # While nobody is connected for the visitor, the operator answers twice.
        await operator.send_message(chat_id, "answer 1")
        await operator.send_message(chat_id, "answer 2")

        again = visitor_for(served, credentials=Credentials.from_dict(saved))
        incoming = record(again, "incoming_event")
        ids = record(again, "customer_id")
        welcome = await again.connect(timeout=10)
        assert welcome["visitorId"] == saved["visitorId"] and ids == []
        await wait_until_async(lambda: texts(incoming) == ["answer 1", "answer 2"])  # just what was missed
        assert again.active_chat["id"] == chat_id
        await again.send_event({"type": "message", "text": "same visitor"})
        assert [c["id"] for c in await operator.list_chats()].count(chat_id) == 1

        # Restored without a seq: the whole log is replayed, so every chat is known.
        fresh = visitor_for(served, credentials={"visitorId": saved["visitorId"],
                                                 "visitorToken": saved["visitorToken"]})
        everything = record(fresh, "incoming_event")
        await fresh.connect(timeout=10)
        await wait_until_async(lambda: "same visitor" in texts(everything))
        assert texts(everything) == ["hello", "answer 1", "answer 2", "same visitor"]
        assert [c["id"] for c in fresh.list_chats()] == [chat_id]
        await fresh.disconnect()
        await again.disconnect()
    finally:
        await operator.aclose()


async def test_unacknowledged_messages_survive_in_the_credentials(served):
    async with visitor_for(served) as visitor:
        pass
    assert not visitor.connected
    # Written after the client stopped: it fails now, but goes with the credentials.
    with pytest.raises(ClientError) as stopped:
        await visitor.send_event({"type": "message", "text": "from last time"})
    assert stopped.value.code == "CONNECTION_LOST"
    saved = visitor.credentials.to_dict()
    assert [frame["text"] for frame in saved["outbox"]] == ["from last time"]
    restored = visitor_for(served, credentials=saved)
    incoming = record(restored, "incoming_event")
    try:
        await restored.connect(timeout=10)
        await wait_until_async(lambda: texts(incoming) == ["from last time"])
        assert restored.credentials.outbox == []
    finally:
        await restored.disconnect()


async def test_rating_a_chat(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("help?"))["chat"]["id"]
        closed = visitor.expect("chat_deactivated")
        await operator.close_chat(chat_id)
        await asyncio.wait_for(closed, 10)
        rated_feed = operator.expect("chat.rated")
        chat = await visitor.rate_chat(chat_id, score=1, comment="Quick and kind")
        assert (chat["rating"], chat["ratingComment"]) == ("good", "Quick and kind")
        assert (await asyncio.wait_for(rated_feed, 10))["chat"]["rating"] == "good"
        assert (await visitor.rate_chat(score=0))["rating"] == "bad"  # the newest chat
        with pytest.raises(ClientError) as wrong:
            await visitor.rate_chat(score=5)
        assert wrong.value.code == "VALIDATION"
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_upload_and_send_a_file(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    progress: list[float] = []
    try:
        await visitor.connect(timeout=10)
        await visitor.start_chat("here is the invoice")
        data = b"order 1234\n" * 20000  # ~220 KB: several chunks
        file = await visitor.upload_file(data, "invoice.txt", on_progress=progress.append)
        assert (file["name"], file["size"]) == ("invoice.txt", len(data))
        assert file["contentType"] == "text/plain; charset=utf-8"
        assert progress[-1] == 1.0 and progress == sorted(progress)
        arrived = operator.expect("message", lambda f: (f["message"]["file"] or {}).get("id") == file["id"])
        message = await visitor.send_event({"type": "file", "file": file, "text": "caption"})
        assert message["file"]["id"] == file["id"] and message["text"] == "caption"
        await asyncio.wait_for(arrived, 10)
        with pytest.raises(ClientError) as refused:
            await visitor.upload_file(b"MZ\x90\x00" + bytes(100), "tool.exe")
        assert (refused.value.code, refused.value.parley_code) == ("FILE_TYPE", protocol.E_FILE_TYPE)
        with pytest.raises(ClientError) as missing:
            await visitor.send_event({"type": "file", "file_id": "0" * 32})
        assert missing.value.code == "MISSING_FILE"
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_customer_data(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    updates = record(visitor, "customer_updated")
    try:
        await visitor.connect(timeout=10)
        told = operator.expect("visitor.updated", lambda f: f["visitor"]["id"] == visitor.visitor_id)
        profile = await visitor.update_customer(name="Jo", email="jo@example.org", fields={"plan": "pro"})
        assert (profile["name"], profile["email"]) == ("Jo", "jo@example.org")
        assert profile["custom"] == {"plan": "pro"}
        assert (await asyncio.wait_for(told, 10))["visitor"]["name"] == "Jo"
        await visitor.set_customer_session_fields({"basket": 10})
        customer = await visitor.get_customer()
        assert customer["custom"] == {"plan": "pro", "basket": 10} and customer["id"] == visitor.visitor_id
        assert [u["name"] for u in updates] == ["Jo", "Jo"]
        viewed = operator.expect("page.view", lambda f: f["visitorId"] == visitor.visitor_id)
        await visitor.update_customer_page("https://shop.example/mugs?utm_source=news", "Mugs")
        assert (await asyncio.wait_for(viewed, 10))["utm"] == {"source": "news"}
        with pytest.raises(ClientError) as too_long:
            await visitor.update_customer(name="x" * 201)
        assert (too_long.value.code, too_long.value.parley_code) == ("VALIDATION", protocol.E_BAD_FRAME)
        with pytest.raises(ClientError) as no_address:
            await visitor.update_customer(email="[email protected]")
        assert no_address.value.code == "VALIDATION" and "email" in no_address.value.message
    finally:
        await visitor.disconnect()
        await operator.aclose()


def test_every_parley_error_code_has_a_client_code():
    codes = {value for name, value in vars(protocol).items() if name.startswith("E_")}
    assert codes <= {key for key in ERROR_CODES if isinstance(key, str)}
    assert sdk_code(protocol.E_BAD_FRAME) == "VALIDATION"
    assert sdk_code(protocol.E_RATE_LIMIT) == "RATE_LIMIT"
    assert sdk_code(protocol.E_CONFLICT) == "CHAT_ALREADY_ACTIVE"
    assert sdk_code(protocol.E_CONFLICT, "transcript") == "TRANSCRIPT_ALREADY_REQUESTED"
    assert sdk_code(protocol.E_NOT_FOUND) == "MISSING_CHAT"
    assert sdk_code(protocol.E_NOT_FOUND, "file") == "MISSING_FILE"
    assert sdk_code(protocol.E_UNKNOWN_APP) == "LICENSE_NOT_FOUND"
    assert sdk_code("PARLEY_E_SOMETHING_NEW") == "SOMETHING_NEW"  # a newer server's code stays readable
    error = ClientError.from_frame({"type": "error", "code": protocol.E_RATE_LIMIT, "message": "slow down",
                                    "retryAfter": 2.5, "clientId": "c-1"})
    assert (error.code, error.retry_after, error.details) == ("RATE_LIMIT", 2.5, {"clientId": "c-1"})


async def test_errors_from_the_server_carry_client_codes(served):
    _server, base, app_id, _secret = served
    with pytest.raises(ClientError) as unknown_app:
        await VisitorClient(base, "no-such-app", origin=SITE, timing=TIMING).connect(timeout=10)
    assert (unknown_app.value.code, unknown_app.value.parley_code) == ("LICENSE_NOT_FOUND",
                                                                       protocol.E_UNKNOWN_APP)
    with pytest.raises(ClientError) as foreign:
        await VisitorClient(base, app_id, origin="https://evil.example", timing=TIMING).connect(timeout=10)
    assert foreign.value.code == "ORIGIN_NOT_ALLOWED"
    with pytest.raises(ClientError) as wrong_login:
        await OperatorClient(base, timing=TIMING).login(EMAIL, "wrong password")
    assert wrong_login.value.code == "AUTHENTICATION"
    with pytest.raises(ClientError) as nobody_there:
        await VisitorClient(f"http://127.0.0.1:{free_port()}", app_id, timing=TIMING).connect(timeout=0.5)
    assert nobody_there.value.code == "REQUEST_TIMEOUT"

    visitor = visitor_for(served)
    operator = await operator_for(served)
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("hi"))["chat"]["id"]
        with pytest.raises(ClientError) as resume:
            await visitor.resume_chat("some-closed-chat")
        assert resume.value.code == "NOT_SUPPORTED"
        with pytest.raises(ClientError) as no_chat:
            await visitor.rate_chat("not-a-chat-of-mine", score=1)
        assert (no_chat.value.code, no_chat.value.parley_code) == ("MISSING_CHAT", protocol.E_NOT_FOUND)
        with pytest.raises(ClientError) as nobody:
            await operator.assign(chat_id, operator_id="f" * 24)
        assert (nobody.value.code, nobody.value.details.get("chatId")) == ("NOT_FOUND", chat_id)
        with pytest.raises(ClientError) as other_chat:
            await operator.close_chat("not-a-chat")
        assert other_chat.value.code == "MISSING_CHAT"
        # chat.rate allows 10 a minute per visitor; the 11th says when to try again.
        with pytest.raises(ClientError) as limited:
            for _ in range(11):
                await visitor.rate_chat(chat_id, score=1)
        assert limited.value.code == "RATE_LIMIT" and limited.value.retry_after > 0
        # The socket stays usable after errors, and requests still get their own answers.
        assert (await visitor.get_customer())["id"] == visitor.visitor_id
        assert [c["id"] for c in visitor.list_chats()] == [chat_id]
        await visitor.deactivate_chat()
        with pytest.raises(ClientError) as inactive:
            await visitor.deactivate_chat(chat_id)
        assert inactive.value.code == "MISSING_CHAT"
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_a_stalled_server_is_unstable_then_recovered_or_dropped(served):
    """SIGSTOP freezes the server (a stalled network, as far as the clients can tell)."""
    server = served[0]
    fast_pings = {"ping_interval": 0.1, "unstable_after": 0.3}
    patient = visitor_for(served, Timing(request_timeout=10, dead_after=60, **fast_pings))
    impatient = visitor_for(served, Timing(request_timeout=10, backoff_first=0.05, backoff_max=0.5,
                                           dead_after=1.0, **fast_pings))
    events: list[str] = []
    for name in ("connection_unstable", "connection_recovered"):
        patient.on(name, lambda _payload, name=name: events.append(name))
    try:
        await patient.connect(timeout=10)
        await impatient.connect(timeout=10)
        unstable = patient.expect("connection_unstable")
        dropped = impatient.expect("disconnected")
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            await asyncio.wait_for(unstable, 10)
            assert (await asyncio.wait_for(dropped, 10))["will_reconnect"]
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        back = impatient.expect("connected")
        await wait_until_async(lambda: "connection_recovered" in events)
        assert events[:2] == ["connection_unstable", "connection_recovered"] and patient.connected
        await asyncio.wait_for(back, 30)
        assert impatient.connected
    finally:
        await patient.disconnect()
        await impatient.disconnect()


async def test_a_burst_cut_by_a_drop_arrives_once_and_in_order(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("start"))["chat"]["id"]
        sends = [asyncio.create_task(visitor.send_event({"type": "message", "text": f"b{n}"}))
                 for n in range(6)]
        await asyncio.sleep(0)  # one turn of the loop, no time: the first sends are under way
        await visitor.drop_connection()
        sends += [asyncio.create_task(visitor.send_event({"type": "message", "text": f"b{n}"}))
                  for n in range(6, 9)]
        acked = await asyncio.wait_for(asyncio.gather(*sends), 20)
        assert [m["text"] for m in acked] == [f"b{n}" for n in range(9)]
        assert len({m["id"] for m in acked}) == 9 and visitor.credentials.outbox == []
        stored = [m["text"] for page in reversed([p async for p in operator.get_chat_history(chat_id)])
                  for m in page if not m["system"]]
        assert stored == ["start", *[f"b{n}" for n in range(9)]]
        with pytest.raises(ClientError) as bad_file:
            await visitor.send_event({"type": "file", "file_id": "../etc/passwd"})
        assert bad_file.value.code == "VALIDATION"
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_listeners_on_once_off_and_one_that_fails(caplog):
    from parley.client.emitter import Emitter

    emitter = Emitter()
    calls: list[str] = []

    def failing(_payload):
        raise RuntimeError("a listener's bug")

    async def later(payload):
        calls.append(f"async {payload}")

    emitter.on("x", failing)
    emitter.on("x", lambda p: calls.append(f"on {p}"))
    emitter.once("x", lambda p: calls.append(f"once {p}"))
    emitter.on("x", later)
    next_x = emitter.expect("x", lambda p: p == 2)
    emitter.emit("x", 1)
    emitter.off("x", failing)
    emitter.emit("x", 2)
    assert await asyncio.wait_for(next_x, 1) == 2
    await wait_until_async(lambda: "async 2" in calls, 1)
    await wait_until_async(lambda: "async 1" in calls, 1)
    # Plain listeners run at once, in order; coroutines as tasks afterwards.
    assert [c for c in calls if not c.startswith("async")] == ["on 1", "once 1", "on 2"]
    assert "a listener's bug" in caplog.text and caplog.text.count("failed") == 1


async def test_availability_follows_the_operators(served):
    visitor = visitor_for(served)
    try:
        await visitor.connect(timeout=10)
        await wait_until_async(lambda: visitor.availability == "offline")  # earlier tests' operators are gone
        online = visitor.expect("availability_updated", lambda p: p["availability"] == "online")
        operator = await operator_for(served)
        await asyncio.wait_for(online, 10)
        offline = visitor.expect("availability_updated", lambda p: p["availability"] == "offline")
        await operator.aclose()
        await asyncio.wait_for(offline, 10)
    finally:
        await visitor.disconnect()


async def test_logged_in_users_and_signed_data(served):
    secret = served[3]
    token = hashlib.sha1(f"{secret}user-42".encode()).hexdigest()
    user = visitor_for(served, user={"id": "user-42", "token": token})
    try:
        assert (await user.connect(timeout=10))["visitorId"] == "user-42"
        data_json = json.dumps({"name": "Jo Signed", "email": "jo@example.org"})
        signed = hashlib.sha1(f"{secret}{data_json}".encode()).hexdigest()
        profile = await user.update_customer_signed(data_json, signed)
        assert (profile["name"], profile["verified"]) == ("Jo Signed", True)
        with pytest.raises(ClientError) as forged:
            await user.update_customer_signed(json.dumps({"name": "Mallory"}), signed)
        assert forged.value.code == "BAD_HASH"
        await user.start_chat("Where is my order?")
        with pytest.raises(ClientError) as elsewhere:
            await user.request_transcript("someone@else.example")  # not the email the site signed
        assert elsewhere.value.code == "FORBIDDEN"
        assert elsewhere.value.details["request"] == "transcript.request"
    finally:
        await user.disconnect()
    impostor = visitor_for(served, user={"id": "user-42", "token": "0" * 40})
    gone = impostor.expect("disconnected")
    with pytest.raises(ClientError) as refused:
        await impostor.connect(timeout=10)
    assert refused.value.code == "BAD_TOKEN"
    assert (await asyncio.wait_for(gone, 1)) | {"error": None} == {
        "reason": "identity_mismatch", "code": 4401, "error": None, "will_reconnect": False}


async def test_proactive_chat_properties_and_prediction(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    try:
        await visitor.connect(timeout=10)
        predicted = await visitor.get_predicted_agent()
        assert predicted == {"agent": {"id": operator.profile["operatorId"], "name": "ann"}, "queue": False}
        invited = visitor.expect("incoming_chat")
        started = await operator.start_chat(visitor.visitor_id, "Hi! Can I help you find a mug?")
        chat_id = started["chat"]["id"]
        assert (await asyncio.wait_for(invited, 10))["started_by"] == "operator"
        with pytest.raises(ClientError) as twice:
            await operator.start_chat(visitor.visitor_id, "Hello again")
        assert (twice.value.code, twice.value.details["openChatId"]) == ("CHAT_ALREADY_ACTIVE", chat_id)
        assert await visitor.update_chat_properties({"basket": 3, "coupon": "MUGS"}) == {
            "basket": 3, "coupon": "MUGS"}
        assert await visitor.delete_chat_properties(["coupon"]) == {"basket": 3}
        await visitor.deactivate_chat(chat_id)
        with pytest.raises(ClientError) as no_chat:
            await visitor.update_chat_properties({"basket": 4})
        assert no_chat.value.code == "MISSING_CHAT"
        reopened = visitor.expect("incoming_chat", lambda p: p["reopened"])
        assert (await operator.reopen_chat(chat_id))["status"] == "open"
        assert (await asyncio.wait_for(reopened, 10))["chat"]["id"] == chat_id
        assert visitor.active_chat["id"] == chat_id
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_operator_replies_survive_a_drop(served):
    visitor = visitor_for(served)
    operator = await operator_for(served)
    reconnected = record(operator, "connected")
    try:
        await visitor.connect(timeout=10)
        chat_id = (await visitor.start_chat("hello"))["chat"]["id"]
        sends = [asyncio.create_task(operator.send_message(chat_id, f"r{n}")) for n in range(4)]
        await asyncio.sleep(0)  # one turn of the loop, no time: the first sends are under way
        await operator.drop_connection()
        sends += [asyncio.create_task(operator.send_message(chat_id, f"r{n}")) for n in range(4, 6)]
        acked = await asyncio.wait_for(asyncio.gather(*sends), 20)
        assert [m["text"] for m in acked] == [f"r{n}" for n in range(6)] and reconnected
        stored = [m["text"] for page in reversed([p async for p in operator.get_chat_history(chat_id)])
                  for m in page if m["authorKind"] in ("visitor", "operator")]
        assert stored == ["hello", *[f"r{n}" for n in range(6)]]
    finally:
        await visitor.disconnect()
        await operator.aclose()


async def test_the_outbox_keeps_rate_limited_messages_and_the_order():
    from parley.client.outbox import Outbox

    sent: list[str] = []
    connected = {"up": False}

    async def send(frame: dict) -> None:
        if not connected["up"]:
            raise ClientError("CONNECTION_LOST", "not connected")
        sent.append(frame["clientId"])

    outbox = Outbox(send)
    first = await outbox.put({"type": "message.send", "clientId": "a", "text": "1"})
    assert sent == [] and len(outbox) == 1  # offline: queued
    connected["up"] = True
    second = await outbox.put({"type": "message.send", "clientId": "b", "text": "2"})
    assert sent == ["a", "b"]  # the older one first, then the new one
    # Not stored (over a limit): it stays and goes again after retryAfter.
    assert outbox.take({"type": "error", "code": protocol.E_RATE_LIMIT, "clientId": "a", "retryAfter": 0.05})
    await wait_until_async(lambda: sent == ["a", "b", "a"], 2)
    assert outbox.take({"type": "ack", "clientId": "a", "message": {"id": 1}})
    assert (await first)["message"] == {"id": 1}
    # Any other error removes it and fails the send.
    assert outbox.take({"type": "error", "code": protocol.E_BAD_FRAME, "clientId": "b", "message": "no"})
    with pytest.raises(ClientError) as refused:
        await second
    assert refused.value.code == "VALIDATION" and len(outbox) == 0
    assert not outbox.take({"type": "ack", "clientId": "someone-else's"})
    outbox.close()


async def test_a_seq_the_server_never_had_resets_the_history(served):
    async with visitor_for(served) as visitor:
        await visitor.start_chat("one")
        await wait_until_async(lambda: visitor.credentials.last_seq >= 2)
        saved = visitor.credentials.to_dict()
    # Another server's seq (or a database restored from an older backup): the server can't
    # replay from there, says `reset`, and the client continues from the seq it names.
    saved["lastSeq"] = 10**6
    again = visitor_for(served, credentials=saved)
    reset = again.expect("history_reset")
    try:
        await again.connect(timeout=10)
        assert (await asyncio.wait_for(reset, 10))["seq"] == again.welcome["seq"]
        assert again.credentials.last_seq == again.welcome["seq"]
        pages = [page async for page in again.get_chat_history()]
        assert [m["text"] for page in pages for m in page if not m["system"]] == ["one"]
    finally:
        await again.disconnect()
