"""Assignment rules and the resolve -> rules -> defaultRules priority (CPython only)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget.core.assignments import JS_NULL, PARAMETER_KEYS, normalize_rules, resolve_assignment
from widget.core.compare import MATCHERS, compare
from widget.core.config import normalize_assignments


def run(option: Any, parameters: dict, server_default_rules: Any = None) -> tuple:
    assignments, warnings = normalize_assignments(option)
    assert warnings == []
    return resolve_assignment(assignments, parameters, object(), server_default_rules)


PARAMS = {"page_url": "https://example.com/Pricing", "country": "US", "language": "es"}


def test_first_matching_rule_wins() -> None:
    option = {
        "rules": [
            {"never": False},
            {"pricing": ["page_url", "contains", "pricing"]},
            {"us": ["country", "=", "us"]},
            {"fallback": True},
        ]
    }
    assert run(option, PARAMS) == (["pricing"], [])
    assert run(option, {"country": "us"}) == (["us"], [])
    assert run(option, {}) == (["fallback"], [])


def test_no_match_lets_the_server_decide() -> None:
    assert run({"rules": [{"de": ["country", "=", "DE"]}]}, PARAMS) == (None, [])
    assert run(None, PARAMS) == (None, [])


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("team", ["team"]),
        (["a", "b"], ["a", "b"]),
        (["a", "a"], ["a"]),
        (None, ["fallback"]),
        (JS_NULL, []),
    ],
)
def test_resolve_return_values(returned: Any, expected: list) -> None:
    seen = []

    def resolve(cp: Any) -> Any:
        seen.append(cp)
        return returned

    cp = object()
    assignments, _ = normalize_assignments({"resolve": resolve, "rules": [{"fallback": True}]})
    assert resolve_assignment(assignments, PARAMS, cp, None) == (expected, [])
    assert seen == [cp]


@pytest.mark.parametrize("returned", [[], 42, {"id": "x"}, True])
def test_resolve_bad_return_continues_with_a_warning(returned: Any) -> None:
    ids, warnings = run({"resolve": lambda cp: returned, "rules": [{"fallback": True}]}, PARAMS)
    assert ids == ["fallback"]
    assert len(warnings) == 1 and "assignments.resolve" in warnings[0]


def test_raising_functions_are_reported_and_skipped() -> None:
    def boom(cp: Any) -> Any:
        raise RuntimeError("nope")

    ids, warnings = run({"resolve": boom, "rules": [{"bad": boom}, {"ok": lambda cp: "yes"}]}, {})
    assert ids == ["ok"]
    assert warnings == [
        "assignments.resolve raised RuntimeError: nope; continuing with the rules",
        "assignments.rules[0] ('bad'): the rule function raised RuntimeError: nope; treated as no match",
    ]


@pytest.mark.parametrize(
    ("returned", "matched"),
    [
        (True, True),
        (1, True),
        ("x", True),
        ([], True),
        ({}, True),
        (False, False),
        (0, False),
        ("", False),
        (None, False),
        (JS_NULL, False),
        (float("nan"), False),
    ],
)
def test_rule_functions_use_js_truthiness(returned: Any, matched: bool) -> None:
    ids, _ = run({"rules": [{"fn": lambda cp: returned}]}, {})
    assert (ids == ["fn"]) is matched


def test_default_rules_priority() -> None:
    app = [{"app": ["country", "=", "US"]}]
    assert run({}, PARAMS, app) == (["app"], [])
    assert run({"rules": [{"mine": ["country", "=", "US"]}]}, PARAMS, app) == (["mine"], [])
    assert run({"rules": [{"mine": ["country", "=", "FR"]}]}, PARAMS, app) == (["app"], [])
    assert run({"defaultRules": []}, PARAMS, app) == (None, [])
    assert run({"defaultRules": [{"override": True}]}, PARAMS, app) == (["override"], [])


def test_rule_validation_messages() -> None:
    rules, warnings = normalize_rules(
        [{"a": ["nope", "=", 1]}, {"b": ["country", "~", 1]}, {"c": True, "d": True}], "r"
    )
    assert rules == []
    assert warnings[0].startswith("r[0]['a'][0] must be a parameter key (one of page_url,")
    assert warnings[1].startswith("r[1]['b'][1] must be a matcher (one of =, !=,")
    assert warnings[2] == "r[2] must be an object with a single key (the team or operator ID)"


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
valid_conditions = st.booleans() | st.tuples(
    st.sampled_from(PARAMETER_KEYS), st.sampled_from(MATCHERS), st.text(max_size=5) | st.integers()
).map(list)
valid_rules = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=6), valid_conditions, min_size=1, max_size=1)
)


@given(valid_rules)
def test_valid_rules_are_all_kept(rules: list) -> None:
    normalized, warnings = normalize_rules(rules, "rules")
    assert warnings == []
    assert len(normalized) == len(rules)
    assert normalize_rules(normalized, "rules") == (normalized, [])


@given(json_values, st.dictionaries(st.sampled_from(PARAMETER_KEYS), json_scalars), json_values)
def test_never_raises(option: Any, parameters: dict, app_rules: Any) -> None:
    assignments, _ = normalize_assignments(option)
    ids, warnings = resolve_assignment(assignments, parameters, None, app_rules)
    assert ids is None or (isinstance(ids, list) and all(isinstance(i, str) for i in ids))
    assert all(isinstance(w, str) for w in warnings)


@given(valid_rules, st.dictionaries(st.sampled_from(PARAMETER_KEYS), st.text(max_size=5)))
def test_the_chosen_rule_is_the_first_that_matches(rules: list, parameters: dict) -> None:
    normalized, _ = normalize_rules(rules, "rules")
    ids, _ = resolve_assignment({"rules": normalized, "defaultRules": []}, parameters, None, None)
    expected = None
    for assignee, condition in normalized:
        if condition is True or (
            isinstance(condition, tuple) and compare(parameters.get(condition[0]), condition[1], condition[2])
        ):
            expected = [assignee]
            break
    assert ids == expected
