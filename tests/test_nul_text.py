"""A NUL character in any text is refused with a clear error, on every path in: frames,
visitor data and JSON API bodies. PostgreSQL can't store one in text (SQLite can), so a
message with one used to be stored on one database and fail with a database error on the
other."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from parley import protocol
from parley.storage.models import Message
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, visitor


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
