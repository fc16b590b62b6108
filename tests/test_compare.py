"""compare(): a table of every matcher and type rule, plus properties (CPython only)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget.core.compare import JS_NULL, MATCHERS, compare, fold, parse_number

TABLE = [
    # = / != : case-insensitive for strings
    ("US", "=", "us", True),
    ("US", "=", "USA", False),
    ("Привет", "=", "пРИВЕТ", True),
    ("Ünïcode", "=", "üNÏCODE", True),
    ("US", "!=", "us", False),
    ("US", "!=", "CA", True),
    # contains / !contains: case-insensitive too
    ("https://Example.com/Pricing", "contains", "example.COM/pricing", True),
    ("https://example.com/", "contains", "pricing", False),
    ("abc", "contains", "", True),
    ("https://example.com/", "!contains", "PRICING", True),
    ("https://example.com/pricing", "!contains", "Pricing", False),
    # ordering, both spellings
    (10, "gt", 9, True),
    (10, ">", 10, False),
    (9, "lt", 10, True),
    (10, "<", 10, False),
    (10, "gte", 10, True),
    (10, ">=", 11, False),
    (10, "lte", 10, True),
    (11, "<=", 10, False),
    (2.5, "gt", 2, True),
    # numeric strings against numbers
    ("10", "gt", 9, True),
    ("10", "=", 10, True),
    ("10.0", "=", 10, True),
    ("1e3", "=", 1000, True),
    ("abc", "=", 0, False),
    ("abc", "lt", 1, False),
    (12.0, "contains", "12", True),
    (12345, "contains", 234, True),
    # strings with strings
    ("007", "=", "7", False),
    ("10", "gt", "9", True),
    ("b", "gt", "A", True),
    # booleans: equality only
    (True, "=", True, True),
    (True, "=", "true", True),
    (True, "=", 1, False),
    (0, "=", False, False),
    (True, "gt", False, False),
    (True, "contains", "t", False),
    # missing values
    (None, "=", None, False),
    (None, "!=", None, True),
    (None, "=", "", False),
    (None, "contains", "", False),
    (None, "!contains", "x", True),
    (None, "gte", 0, False),
    ("x", "!=", None, True),
    (JS_NULL, "=", "null", False),
    # objects
    ([1, 2], "=", [1, 2], True),
    (["a"], "contains", "a", False),
    ({"a": 1}, "!=", {"a": 2}, True),
]


@pytest.mark.parametrize(("value", "matcher", "expected", "result"), TABLE)
def test_table(value: object, matcher: str, expected: object, result: bool) -> None:
    assert compare(value, matcher, expected) is result


def test_every_matcher_is_in_the_table() -> None:
    assert {row[1] for row in TABLE} == set(MATCHERS)
    assert MATCHERS == ("=", "!=", "contains", "!contains", "gt", ">", "lt", "<", "gte", ">=", "lte", "<=")


@pytest.mark.parametrize("matcher", ["==", "eq", "", "GT", None, 1, ["="]])
def test_unknown_matcher_names_it_and_the_valid_ones(matcher: object) -> None:
    with pytest.raises(ValueError) as caught:
        compare("a", matcher, "a")
    message = str(caught.value)
    assert "unknown matcher" in message
    assert repr(matcher) in message or f"'{matcher}'" in message or "undefined" in message
    assert ", ".join(MATCHERS) in message


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", 12), (" -3.5 ", -3.5), ("1e3", 1000.0), (".5", 0.5), ("5.", 5.0), ("+7", 7)],
)
def test_parse_number_accepts_decimals(text: str, number: float) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["", ".", "-", "1e", "inf", "nan", "0x10", "1_000", "١٢", "1e999", "1 2"])
def test_parse_number_rejects_the_rest(text: str) -> None:
    assert parse_number(text) is None


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)
numbers = st.integers() | st.floats(allow_nan=False)
matchers = st.sampled_from(MATCHERS)


@given(json_values, matchers, json_values)
def test_compare_never_raises_and_returns_a_bool(value: object, matcher: str, expected: object) -> None:
    assert compare(value, matcher, expected) in (True, False)


@given(json_values, json_values)
def test_equal_and_not_equal_are_complementary(value: object, expected: object) -> None:
    assert compare(value, "=", expected) is not compare(value, "!=", expected)
    assert compare(value, "contains", expected) is not compare(value, "!contains", expected)


@given(numbers, numbers)
def test_ordering_matchers_are_complementary_for_numbers(left: float, right: float) -> None:
    assert compare(left, "gt", right) is not compare(left, "lte", right)
    assert compare(left, "lt", right) is not compare(left, "gte", right)
    assert compare(left, "gt", right) is (left > right)
    assert compare(left, ">=", right) is (left >= right)
    assert compare(left, "=", right) is (left == right)


@given(st.integers(), st.integers())
def test_numeric_strings_order_like_their_numbers(left: int, right: int) -> None:
    assert compare(str(left), "gt", right) is (left > right)
    assert compare(left, "lt", str(right)) is (left < right)
    assert compare(str(left), "=", right) is (left == right)


@given(st.text(), st.text())
def test_string_rules(text: str, other: str) -> None:
    assert compare(text, "contains", text)
    assert compare(text + other, "contains", other)
    assert compare(text, "=", text.upper()) is (fold(text) == fold(text.upper()))
    assert compare(text, "=", other) is compare(other, "=", text)


@given(st.text(alphabet=st.characters(max_codepoint=0x17F)))
def test_fold_agrees_with_lower_where_both_fold(text: str) -> None:
    # Outside the few characters casefold expands (ß, İ, ŉ, ſ) our fold is lower().
    if not any(c in text for c in "ßİŉſ"):
        assert fold(text) == text.lower()


@given(json_values, matchers)
def test_missing_value_only_matches_negations(expected: object, matcher: str) -> None:
    for missing in (None, JS_NULL):
        assert compare(missing, matcher, expected) is matcher.startswith("!")
