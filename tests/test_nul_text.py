"""A NUL character in any text is refused with a clear error, on every path in: frames,
visitor data and JSON API bodies. PostgreSQL can't store one in text (SQLite can), so a
message with one used to be stored on one database and fail with a database error on the
other."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from parley import protocol
from parley.storage import operator_queries
from parley.storage.models import Message
from tests.helpers.db import OPERATOR_PASSWORD, run
from tests.helpers.sockets import ORIGIN, SERVER, login, visitor


def test_frames_with_a_nul_anywhere_are_refused():
    for frame in ({"v": 1, "type": "message.send", "clientId": "c1", "text": "abc\x00def"},
                  {"v": 1, "type": "message.send", "clientId": "c\x00", "text": "hi"}):
        with pytest.raises(protocol.FrameError) as refused:
            protocol.decode_visitor_frame(json.dumps(frame))
        assert refused.value.code == protocol.E_BAD_FRAME and "NUL" in str(refused.value)
        with pytest.raises(protocol.FrameError):
            protocol.decode_visitor_frame(json.dumps(frame).encode())


def test_a_backslash_and_u0000_typed_as_text_is_not_a_nul():
    text = "see \\u0000 in the docs"  # a visitor may well write that
    frame = protocol.decode_visitor_frame(json.dumps({"v": 1, "type": "message.send", "clientId": "c1",
                                                      "text": text}))
    assert frame.text == text


def test_visitor_data_and_api_bodies_with_a_nul_are_refused():
    with pytest.raises(protocol.FrameError):
        protocol.decode_visitor_data(json.dumps({"name": "Ann\x00"}))
    with pytest.raises(ValueError, match="NUL"):
        protocol.strict_json(json.dumps({"custom": {"k\x00": 1}}))
    assert protocol.strict_json(json.dumps({"name": "Ann"})) == {"name": "Ann"}


def test_a_message_with_a_nul_is_refused_and_nothing_is_stored(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        tab.send(type="message.send", clientId="c1", text="abc\x00def")
        assert tab.of_type("error")["code"] == "PARLEY_E_BAD_FRAME"
        assert tab.say("c2", "fine")["type"] == "ack"  # the socket goes on
    assert run(database, lambda s: s.scalar(select(func.count()).select_from(Message))) == 1


# Every route with an id or name in its path: ids go to the database as text. On PostgreSQL
# a NUL there was a database error (HTTP 500, the connection dropped) where SQLite said 404.
PATHS_WITH_IDS = [
    ("GET", "/api/operator/visitors/%00", None),
    ("PATCH", "/api/operator/visitors/%00", {"notes": "x"}),
    ("PATCH", "/api/operator/canned/%00", {"text": "x"}),
    ("DELETE", "/api/operator/canned/%00", None),
    ("PATCH", "/api/admin/operators/%00", {"role": "admin"}),
    ("DELETE", "/api/admin/operators/%00", None),
    ("POST", "/api/admin/operators/%00/reset-password", None),
    ("PATCH", "/api/admin/teams/%00", {"name": "x"}),
    ("DELETE", "/api/admin/teams/%00", None),
    ("POST", "/api/admin/teams/%00/members", {"operatorId": "x"}),
    ("DELETE", "/api/admin/teams/{team}/members/%00", None),
    ("PATCH", "/api/admin/triggers/%00", {"message": "x"}),
    ("DELETE", "/api/admin/triggers/%00", None),
    ("GET", "/chat/%00", None),
    ("GET", "/chat-config/%00", None),
    ("GET", "/files/%00/a.txt", None),
]


def test_a_nul_in_a_path_names_nothing(client, make_app, database):
    app = make_app([ORIGIN])
    run(database, lambda s: operator_queries.create_operator(s, app.id, "ada@shop.example", OPERATOR_PASSWORD,
                                                             "Ada", "admin"))
    signed_in = login(client, app.id, "ada@shop.example")
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Origin": SERVER, "Cookie": f"parley_session={signed_in.cookies['parley_session']}"}
    team = client.post("/api/admin/teams", json={"name": "Sales"}, headers=headers).json()
    answers = {}
    for method, path, body in PATHS_WITH_IDS:
        try:
            response = client.request(method, path.replace("{team}", team["id"]), json=body, headers=headers)
            api = path.startswith("/api/")
            answers[method, path] = (response.status_code, response.json()["code"] if api else None)
        except Exception as error:  # the in-process app raises what a real server answers with a 500
            answers[method, path] = (500, type(error).__name__)
    assert answers == {(method, path): (404, protocol.E_NOT_FOUND if path.startswith("/api/") else None)
                       for method, path, _body in PATHS_WITH_IDS}
