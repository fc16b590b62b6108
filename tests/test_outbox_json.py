"""The sockets' frames as JSON (parley.web.sockets.Outbox): msgspec's encoder, which must say
what json.dumps said (the same values, compact, non-ASCII text raw, not \\u-escaped)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from parley.web import sockets

values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(st.dictionaries(st.text(), values, max_size=6))
def test_a_frame_encodes_to_the_same_json_values(frame: dict) -> None:
    try:
        expected = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: neither can send it
        return
    encoded = sockets._encode_json(frame)
    assert json.loads(encoded) == json.loads(expected)


def test_non_ascii_text_is_raw_utf8_and_compact() -> None:
    frame = {"type": "message", "text": "Grüße 😀 \u2028 Ж", "n": [1, 2.5, None, True]}
    encoded = sockets._encode_json(frame)
    assert encoded == json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
    assert "😀".encode() in encoded and b"\\u" not in encoded
