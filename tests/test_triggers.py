"""CPython-only checks of widget.core.triggers: tables plus hypothesis properties.

The enable/disable switches are checked against a plain model of the spec's
sentences ("passing specific triggers ... doesn't enable/disable any other").
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget.core.config import trigger_enabled
from widget.core.parameters import PARAMETER_KEYS
from widget.core.triggers import TriggerState, condition_matches, normalise_trigger

IDS = ("a", "b", "c", "d")


def server(app_disabled: frozenset[str] = frozenset()) -> list[dict]:
    return [
        {
            "id": trigger_id,
            "message": "Hello " + trigger_id,
            "kind": "bot" if trigger_id == "b" else "invitation",
            "delay": 3,
            "conditions": [],
            "enabled": trigger_id not in app_disabled,
        }
        for trigger_id in IDS
    ]


OPTIONS = st.fixed_dictionaries(
    {
        "all": st.booleans(),
        "enabled": st.one_of(st.none(), st.lists(st.sampled_from(IDS), max_size=4)),
        "disabled": st.lists(st.sampled_from(IDS), max_size=4),
    }
)
ID_ARGS = st.one_of(st.none(), st.lists(st.sampled_from((*IDS, "zz")), max_size=4))
OPERATIONS = st.lists(st.tuples(st.sampled_from(("enable", "disable")), ID_ARGS), max_size=12)


@given(OPTIONS, st.frozensets(st.sampled_from(IDS)))
def test_option_reads_like_config_trigger_enabled(option: dict, app_disabled: frozenset) -> None:
    state = TriggerState(option)
    state.set_triggers(server(app_disabled))
    for trigger_id in IDS:
        expected = trigger_enabled(option, trigger_id) and trigger_id not in app_disabled
        assert state.is_enabled(trigger_id) == expected


@given(OPTIONS, OPERATIONS, st.frozensets(st.sampled_from(IDS)))
def test_enable_disable_follow_the_spec_model(
    option: dict, operations: list, app_disabled: frozenset
) -> None:
    state = TriggerState(option)
    state.set_triggers(server(app_disabled))
    model = {trigger_id: trigger_enabled(option, trigger_id) for trigger_id in IDS}
    for name, ids in operations:
        assert getattr(state, name)(ids) is None
        turn_on = name == "enable"
        for trigger_id in IDS if ids is None else ids:
            if trigger_id in model:
                model[trigger_id] = turn_on
        for trigger_id in IDS:
            assert state.is_enabled(trigger_id) == (model[trigger_id] and trigger_id not in app_disabled)
    assert [t["id"] for t in state.matching({})] == [
        trigger_id for trigger_id in IDS if model[trigger_id] and trigger_id not in app_disabled
    ]


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (None, "abcd"),
        ({"all": False, "enabled": None, "disabled": []}, ""),
        ({"all": True, "enabled": None, "disabled": ["a", "c"]}, "bd"),
        ({"all": False, "enabled": ["c"], "disabled": []}, "c"),
        ({"all": False, "enabled": ["b", "c"], "disabled": ["c"]}, "b"),
    ],
)
def test_option_table(option: dict | None, expected: str) -> None:
    state = TriggerState(option)
    state.set_triggers(server())
    assert "".join(t["id"] for t in state.matching({})) == expected


def test_spec_disable_then_enable_examples() -> None:
    state = TriggerState({"all": True, "enabled": None, "disabled": []})
    state.set_triggers(server())
    state.disable()
    state.enable(["a"])  # "to disable all and enable some, call disableTriggers first"
    assert [t["id"] for t in state.matching({})] == ["a"]
    state.enable()
    state.disable(["b", "d"])  # "to re-enable all and disable some, call enableTriggers first"
    assert [t["id"] for t in state.matching({})] == ["a", "c"]


def test_bad_id_arguments_are_reported_and_change_nothing() -> None:
    state = TriggerState(None)
    state.set_triggers(server())
    for bad in (1, {"a": True}, ["a", 2], True):
        assert state.disable(bad) is not None
        assert state.enable(bad) is not None
    assert [t["id"] for t in state.matching({})] == list(IDS)


def test_conditions_all_must_match() -> None:
    state = TriggerState(None)
    state.set_triggers(
        [
            {
                "id": "t",
                "message": "m",
                "conditions": [["country", "=", "de"], ["page_url", "contains", "/help"]],
            }
        ]
    )
    assert [t["id"] for t in state.matching({"country": "DE", "page_url": "https://x/help"})] == ["t"]
    assert state.matching({"country": "DE", "page_url": "https://x/"}) == []
    assert state.matching({"country": None, "page_url": "https://x/help"}) == []


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
CONDITIONS = st.lists(
    st.one_of(
        st.tuples(
            st.one_of(st.sampled_from(PARAMETER_KEYS), JSONISH),
            st.one_of(st.sampled_from(("=", "!=", "contains", "gt", "<=", "~", "")), JSONISH),
            JSONISH,
        ).map(list),
        JSONISH,
    ),
    max_size=4,
)


@given(st.lists(JSONISH | st.fixed_dictionaries({"id": st.text(max_size=3)}), max_size=4))
def test_set_triggers_never_raises(raw: list) -> None:
    state = TriggerState(None)
    warnings = state.set_triggers(raw)
    assert all(isinstance(w, str) for w in warnings)
    assert len(state.triggers()) + len(warnings) == len(raw)


@given(CONDITIONS, st.dictionaries(st.sampled_from(PARAMETER_KEYS), JSONISH))
def test_matching_never_raises_and_bad_conditions_never_match(conditions: list, parameters: dict) -> None:
    state = TriggerState(None)
    state.set_triggers([{"id": "t", "message": "m", "conditions": conditions}])
    matched = state.matching(parameters)
    assert len(matched) <= 1
    for condition in conditions:
        malformed = (
            not isinstance(condition, list)
            or len(condition) != 3
            or condition[0] not in PARAMETER_KEYS
            or condition[1] not in ("=", "!=", "contains", "gt", "<=")
        )
        if malformed:
            assert not condition_matches(condition, parameters)
            assert matched == []


@given(st.lists(st.text(min_size=1, max_size=4), max_size=10))
def test_mark_shown_is_true_once_and_survives_export(ids: list[str]) -> None:
    state = TriggerState(None)
    firsts = [state.mark_shown(trigger_id) for trigger_id in ids]
    assert sum(firsts) == len(set(ids))
    assert state.shown_ids() == list(dict.fromkeys(ids))
    reloaded = TriggerState(None)
    reloaded.restore_shown(state.shown_ids())
    assert not any(reloaded.mark_shown(trigger_id) for trigger_id in ids)


def test_show_fires_once_per_trigger_with_kind_specific_event() -> None:
    state = TriggerState(None)
    state.set_triggers(server())
    events = [state.show(t) for t in state.matching({}) * 2]
    assert events[:4] == [
        ("chat.autoInvitation", {"id": "a", "message": "Hello a"}),
        ("chat.botSent", {"id": "b", "message": "Hello b"}),
        ("chat.autoInvitation", {"id": "c", "message": "Hello c"}),
        ("chat.autoInvitation", {"id": "d", "message": "Hello d"}),
    ]
    assert events[4:] == [None] * 4
    assert state.get_active() == {"id": "d", "message": "Hello d"}


def test_active_trigger_lifecycle() -> None:
    state = TriggerState(None)
    state.set_triggers(server())
    assert state.get_active() is None
    trigger = state.get_by_id("b")
    assert trigger == {"id": "b", "message": "Hello b"}
    trigger["message"] = "Edited"
    assert state.set_active(trigger) is None
    assert state.get_active() == {"id": "b", "message": "Edited"}
    assert state.active["kind"] == "bot"
    assert state.get_by_id("b") == {"id": "b", "message": "Hello b"}
    assert state.set_active({"message": "Custom message"}) is None
    assert state.get_active() == {"id": None, "message": "Custom message"}
    assert state.set_active({"message": ""}) is not None
    assert state.set_active({"id": "missing", "message": "x"}) is not None
    assert state.get_active() == {"id": None, "message": "Custom message"}
    state.chat_started()
    assert state.get_active() is None
    assert state.set_active({"message": "again"}) is not None
    assert state.get_active() is None


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        ({"id": "x", "message": "m"}, "kind", "invitation"),
        ({"id": "x", "message": "m", "kind": "bot"}, "kind", "bot"),
        ({"id": "x", "message": "m", "delay": True}, "delay", 0),
        ({"id": "x", "message": "m", "delay": float("nan")}, "delay", 0),
        ({"id": "x", "message": "m", "delay": 2.5}, "delay", 2.5),
        ({"id": "x", "message": "m", "enabled": False}, "enabled", False),
        ({"id": "x", "message": "m", "enabled": 0}, "enabled", True),
    ],
)
def test_normalise_trigger_defaults(raw: dict, field: str, value: object) -> None:
    trigger, error = normalise_trigger(raw)
    assert error is None
    assert trigger[field] == value
