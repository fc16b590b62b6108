"""The visitor WebSocket: hello/welcome, identity, origins, bad frames."""

from __future__ import annotations

import json

import pytest
from starlette.websockets import WebSocketDisconnect

ORIGIN = "https://shop.example"


def hello(client, app_id, origin=ORIGIN, **extra):
    with client.websocket_connect("/ws/visitor", headers={"Origin": origin}) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id, **extra}))
        frame = ws.receive_json()
        if frame["type"] == "error":
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            frame["closeCode"] = closed.value.code
        return frame


def test_new_visitor_gets_an_id_and_token(client, make_app):
    app = make_app([ORIGIN])
    frame = hello(client, app.id)
    assert frame["type"] == "welcome" and frame["v"] == 1
    assert len(frame["visitorId"]) == 24 and len(frame["visitorToken"]) > 30


def test_returning_visitor_keeps_its_id_only_with_its_token(client, make_app):
    app = make_app([ORIGIN])
    first = hello(client, app.id)
    again = hello(client, app.id, visitorId=first["visitorId"], visitorToken=first["visitorToken"])
    assert again["visitorId"] == first["visitorId"]
    forged = hello(client, app.id, visitorId=first["visitorId"], visitorToken="guess")
    assert forged["visitorId"] != first["visitorId"]
    no_token = hello(client, app.id, visitorId=first["visitorId"])
    assert no_token["visitorId"] != first["visitorId"]


def test_visitor_of_one_app_cannot_resume_in_another(client, make_app):
    one, other = make_app([ORIGIN]), make_app([ORIGIN])
    first = hello(client, one.id)
    moved = hello(client, other.id, visitorId=first["visitorId"], visitorToken=first["visitorToken"])
    assert moved["visitorId"] != first["visitorId"]


def test_unknown_app(client):
    frame = hello(client, "nope")
    assert frame["code"] == "PARLEY_E_UNKNOWN_APP" and frame["closeCode"] == 4404
    assert "unknown appId" in frame["message"]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.com",
                                    "http://shop.example", "https://shop.example:8443", "null"])
def test_origin_must_match_exactly(client, make_app, origin):
    app = make_app([ORIGIN])
    frame = hello(client, app.id, origin=origin)
    assert frame["code"] == "PARLEY_E_ORIGIN" and frame["closeCode"] == 4403


def test_app_without_origins_accepts_any_site(client, make_app):
    app = make_app([])
    assert hello(client, app.id, origin="https://anywhere.example")["type"] == "welcome"


@pytest.mark.parametrize("raw, code", [
    ("not json", "PARLEY_E_BAD_FRAME"),
    ("[]", "PARLEY_E_BAD_FRAME"),
    ('{"type": "hello"}', "PARLEY_E_BAD_FRAME"),
    ('{"type": "hello", "appId": 5}', "PARLEY_E_BAD_FRAME"),
    ('{"type": "launch-missiles", "appId": "x"}', "PARLEY_E_BAD_FRAME"),
    ('{"v": 9, "type": "hello", "appId": "x"}', "PARLEY_E_VERSION"),
    ('{"type": "hello", "appId": "' + "x" * 70000 + '"}', "PARLEY_E_TOO_LARGE"),
])
def test_bad_frames_get_stable_codes(client, raw, code):
    with client.websocket_connect("/ws/visitor") as ws:
        ws.send_text(raw)
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["code"] == code
