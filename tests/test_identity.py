"""parley.identity: PHP json_encode spelling, visitorIntegrityHash and logged-in user tokens."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley import identity
from parley.identity import integrity_hash_ok, php_style_json, user_token, user_token_ok, valid_user_id

SALT = "my-personal-salt"


def browser_json(data) -> str:
    """What the browser's JSON.stringify(data) gives for plain data."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# What PHP 7.1+ prints for json_encode($data) with default flags.
@pytest.mark.parametrize(("browser", "php"), [
    ('"é"', '"\\u00e9"'),
    ('"😀"', '"\\ud83d\\ude00"'),
    ('"a/b"', '"a\\/b"'),
    ('{"name":"José Müller","site":"https://shop.example/a"}',
     '{"name":"Jos\\u00e9 M\\u00fcller","site":"https:\\/\\/shop.example\\/a"}'),
    ('"Ünïcödé €10 — 日本"', '"\\u00dcn\\u00efc\\u00f6d\\u00e9 \\u20ac10 \\u2014 \\u65e5\\u672c"'),
    ('{"custom":{"balance":1000,"pro":true,"x":null}}', '{"custom":{"balance":1000,"pro":true,"x":null}}'),
    # Escapes the browser wrote are kept whole: "\\" then "/" is a backslash and a slash.
    ('"a\\\\/b \\"q\\" \\n \\u001f"', '"a\\\\\\/b \\"q\\" \\n \\u001f"'),
    ('"\\u00e9 already escaped \\/"', '"\\u00e9 already escaped \\/"'),
    ('"\\ud83d\\ude00"', '"\\ud83d\\ude00"'),
    ("", ""),
])
def test_php_style_json_examples(browser, php):
    assert php_style_json(browser) == php


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12))
def test_php_style_json_is_ascii_same_data_and_idempotent(data):
    php = php_style_json(browser_json(data))
    assert php.isascii() and "/" not in php.replace("\\/", "")
    assert json.loads(php) == data  # the same data, only spelled differently
    assert php_style_json(php) == php


def test_integrity_hash_accepts_the_browser_or_php_spelling():
    data = {"name": "José", "email": "jose@shop.example", "site": "https://shop.example/"}
    sent = browser_json(data)
    php = php_style_json(sent)
    assert sent != php
    assert integrity_hash_ok(SALT, sent, sha1(SALT + sent))
    assert integrity_hash_ok(SALT, sent, sha1(SALT + php))
    assert integrity_hash_ok(SALT, sent, sha1(SALT + php).upper())
    assert not integrity_hash_ok(SALT, sent, sha1("other" + php))
    assert not integrity_hash_ok(SALT, browser_json({**data, "name": "Mallory"}), sha1(SALT + php))
    assert not integrity_hash_ok(SALT, sent, "")
    assert not integrity_hash_ok(SALT, sent, "é" * 40)


def test_user_token_is_sha1_of_salt_and_id_without_separator():
    visitor_id = "5820a1375ddf087b2e54921d"
    assert user_token(SALT, visitor_id) == sha1(SALT + visitor_id)
    assert user_token_ok(SALT, visitor_id, sha1(SALT + visitor_id))
    assert user_token_ok(SALT, visitor_id, sha1(SALT + visitor_id).upper())
    for wrong in (sha1(SALT + "." + visitor_id), sha1(visitor_id + SALT), sha1(SALT + visitor_id)[:-1],
                  "", "ü" * 40):
        assert not user_token_ok(SALT, visitor_id, wrong)
    assert not user_token_ok("other salt", visitor_id, sha1(SALT + visitor_id))


@pytest.mark.parametrize(("user_id", "ok"), [
    ("5820a1375ddf087b2e54921d", True), ("user_42-A", True), ("a", True), ("a" * 64, True),
    ("", False), ("a" * 65, False), ("a b", False), ("a/b", False), ("é", False), ("id\n", False),
    (42, False), (None, False),
])
def test_user_ids(user_id, ok):
    assert valid_user_id(user_id) is ok
    if isinstance(user_id, str):
        assert user_token_ok(SALT, user_id, sha1(SALT + user_id)) is ok


def test_same_is_constant_time_equality():
    assert identity.same("abc", "abc") and not identity.same("abc", "abd")
