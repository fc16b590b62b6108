"""CPython-only checks of widget.core.parameters: tables plus hypothesis properties.

The query parser is held to Python's own `urllib.parse.parse_qsl` (same rules as a
browser's URLSearchParams for `+`, escapes and invalid UTF-8), which MicroPython
lacks; that is why the module carries its own parser.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget.core.parameters import (
    PARAMETER_KEYS,
    UTM_KEYS,
    parameters_for,
    parse_query,
    percent_decode,
    query_string,
    split_language_tag,
    unknown_key_error,
)

# Text rich in the characters the parser treats specially.
QUERY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("%+=&#?abcdefABCDEF0123456789 "),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


def first_wins(pairs: list[tuple[str, str]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in pairs:
        result.setdefault(name, value)
    return result


def test_spec_parameter_table() -> None:
    assert PARAMETER_KEYS == (
        "page_url",
        "message_text",
        "country",
        "language",
        "referrer_url",
        "utm_source",
        "utm_medium",
        "utm_term",
        "utm_campaign",
        "utm_content",
    )
    assert set(UTM_KEYS) < set(PARAMETER_KEYS)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/?utm_source=a&utm_source=b", {"utm_source": "a"}),
        ("https://x.com/?q=one+two%21", {"q": "one two!"}),
        ("https://x.com/?q=%E2%9C%93", {"q": "✓"}),
        ("https://x.com/?q=%E2%9C", {"q": "\ufffd"}),
        ("https://x.com/?q=100%", {"q": "100%"}),
        ("https://x.com/?q=%G1", {"q": "%G1"}),
        ("https://x.com/?a=1#b=2", {"a": "1"}),
        ("https://x.com/#?a=1", {}),
        ("https://x.com/path", {}),
        ("", {}),
    ],
)
def test_parse_query_table(url: str, expected: dict[str, str]) -> None:
    assert parse_query(url) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("pt-BR", "pt"), ("ES", "es"), ("en_GB", "en"), ("", None), ("123", None), ("und", None)],
)
def test_split_language_tag_table(tag: str, expected: str | None) -> None:
    assert split_language_tag(tag) == expected


def test_parameters_for_reads_utm_and_normalises() -> None:
    params = parameters_for(
        "https://a.com/x?utm_source=ads&utm_medium=cpc&utm_term=red+shoes"
        "&utm_campaign=%C3%A9t%C3%A9&utm_content=banner",
        "https://ref.example/",
        "de-CH",
        "ch",
        "hello",
    )
    assert params == {
        "page_url": "https://a.com/x?utm_source=ads&utm_medium=cpc&utm_term=red+shoes"
        "&utm_campaign=%C3%A9t%C3%A9&utm_content=banner",
        "message_text": "hello",
        "country": "CH",
        "language": "de",
        "referrer_url": "https://ref.example/",
        "utm_source": "ads",
        "utm_medium": "cpc",
        "utm_term": "red shoes",
        "utm_campaign": "été",
        "utm_content": "banner",
    }


def test_parameters_for_missing_values_are_none() -> None:
    url = "https://a.com/?utm_source=&utm_medium=%20"
    params = parameters_for(url, "", "", None, "")
    assert params == {**dict.fromkeys(PARAMETER_KEYS), "page_url": url}
    assert parameters_for(None, None, None, None, None) == dict.fromkeys(PARAMETER_KEYS)


def test_unknown_key_error() -> None:
    for key in PARAMETER_KEYS:
        assert unknown_key_error(key) is None
    assert "page_title" in unknown_key_error("page_title")
    assert unknown_key_error(None) is not None


@given(st.text())
def test_parse_query_never_raises_on_any_text(text: str) -> None:
    for url in (text, "?" + text, "https://x.com/p?" + text):
        result = parse_query(url)
        assert isinstance(result, dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())


@given(QUERY_TEXT)
def test_parse_query_agrees_with_urllib(query: str) -> None:
    query = query.replace("#", "")
    expected = first_wins(parse_qsl(query, keep_blank_values=True))
    assert parse_query("https://x.com/p?" + query) == expected


@given(st.binary(max_size=40))
def test_percent_decode_is_utf8_with_replacement(data: bytes) -> None:
    encoded = "".join(f"%{b:02X}" for b in data)
    assert percent_decode(encoded) == data.decode("utf-8", "replace")
    assert percent_decode(encoded.lower()) == data.decode("utf-8", "replace")


@given(QUERY_TEXT)
def test_query_string_ignores_fragment(text: str) -> None:
    assert "#" not in query_string(text)
    assert query_string("https://x.com/?" + text.replace("#", "") + "#frag") == text.replace("#", "")


@given(st.text(max_size=12))
def test_split_language_tag_is_two_lowercase_ascii_letters_or_none(tag: str) -> None:
    code = split_language_tag(tag)
    assert code is None or (len(code) == 2 and code.isascii() and code.isalpha() and code.islower())


@given(
    st.dictionaries(st.sampled_from(UTM_KEYS), st.text(min_size=1), max_size=5),
    st.text(max_size=20),
)
def test_utm_values_round_trip_through_the_page_url(values: dict[str, str], path: str) -> None:
    query = "&".join(key + "=" + quote(value, safe="") for key, value in values.items())
    page_url = "https://shop.example/" + quote(path) + "?" + query + "#utm_source=fragment"
    params = parameters_for(page_url, None, None, None, None)
    assert sorted(params) == sorted(PARAMETER_KEYS)
    for key in UTM_KEYS:
        value = values.get(key)
        assert params[key] == (value if value is not None and value.strip() else None)
