"""normalize_config and its helpers: defaults, warnings, devices, properties (CPython only)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widget.core.config import (
    DEVICES,
    INTERNAL_ERROR,
    OPTIONS,
    WINDOW_COLOR_NAMES,
    default_config,
    normalize_config,
    parse_position,
    resolve_window_color,
    trigger_enabled,
    widget_visible_for,
)

SHAPE = {
    "appId": None,
    "analytics": {"google": {"id", "api", "apiObject", "enabled"}},
    "appearance": {"windowColor", "teamName", "onlineWelcome", "offlineWelcome", "position", "textStatuses"},
    "assignments": {"resolve", "rules", "defaultRules"},
    "closeButton": None,
    "countries": {"include", "exclude"},
    "devices": {"include", "exclude", "configs"},
    "history": None,
    "init": {"event", "eventTarget", "maxDelay", "delayAfterEvent"},
    "language": {"use", "source"},
    "launcher": {"show"},
    "openIn": None,
    "operators": None,
    "parley": {"reconnectingAfter", "ui"},
    "responsive": None,
    "session": {"user": {"id", "token"}, "autoStart": None, "persist": None, "cookieDomain": None},
    "triggers": {"all", "enabled", "disabled"},
    "visitor": {"name", "email", "phone", "notes", "custom"},
    "visitorIntegrityHash": None,
}


def assert_shape(config: dict) -> None:
    assert set(config) == set(SHAPE) == set(OPTIONS)
    for key, keys in SHAPE.items():
        if isinstance(keys, set):
            assert set(config[key]) == keys, key
        elif isinstance(keys, dict):
            assert set(config[key]) == set(keys), key
            for sub, subkeys in keys.items():
                if subkeys is not None:
                    assert set(config[key][sub]) == subkeys, (key, sub)
    position = config["appearance"]["position"]
    assert position[0] in ("left", "right") and len(position) == 3
    assert isinstance(config["history"], bool)
    assert isinstance(config["launcher"]["show"], bool)
    assert isinstance(config["triggers"]["all"], bool)


def test_defaults() -> None:
    config, warnings = normalize_config({"appId": "app"}, "desktop")
    assert warnings == []
    assert_shape(config)
    assert config == {**default_config(), "appId": "app"}
    assert config["init"] == {"event": "load", "eventTarget": None, "maxDelay": 5000, "delayAfterEvent": 500}
    assert config["language"] == {"use": None, "source": "header"}
    assert config["session"]["autoStart"] is True and config["session"]["persist"] is True
    assert config["appearance"]["position"] == ["right", 20, 20]
    assert config["closeButton"] is None and config["history"] is True


def test_missing_app_id_is_a_warning() -> None:
    assert normalize_config({}, "desktop")[1] == ["missing required option 'appId'"]
    assert normalize_config(None, "ios")[1] == ["missing required option 'appId'"]


@pytest.mark.parametrize(
    ("raw", "warning"),
    [
        ({"apperance": {}}, "unknown option 'apperance'"),
        ({"appearance": {"position": ["top"]}}, "appearance.position[0] must be 'left' or 'right'"),
        (
            {"appearance": {"position": ["left", "1"]}},
            "appearance.position[1] must be a non-negative number of pixels",
        ),
        (
            {"appearance": {"windowColor": "#12"}},
            "appearance.windowColor must be a hex colour like '#a077bc' or one of "
            + ", ".join(WINDOW_COLOR_NAMES),
        ),
        ({"init": {"maxDelay": "5s"}}, "init.maxDelay must be a non-negative number"),
        (
            {"init": {"eventTarget": "window"}},
            "init.eventTarget must be an EventTarget (e.g. window or an element)",
        ),
        ({"language": {"source": "cookie"}}, "language.source must be one of html, header"),
        ({"launcher": {"show": "false"}}, "launcher.show must be true or false"),
        ({"countries": {"exclude": ["USA"]}}, "countries.exclude[0] must be a 2-letter country code"),
        (
            {"devices": {"include": ["tablet"]}},
            "devices.include[0] must be one of desktop, ios, android, mobile",
        ),
        ({"devices": {"configs": {"tv": {}}}}, "unknown option 'devices.configs.tv'"),
        ({"triggers": {"disabled": "t1"}}, "triggers.disabled must be a boolean or an array of trigger IDs"),
        ({"session": {"user": {"id": "v"}}}, "session.user needs both id and token; it is ignored"),
        ({"visitor": {"custom": {"a": {"b": 1}}}}, "visitor.custom.a must be a string, number or boolean"),
        (
            {"analytics": {"google": {"api": "gtag.js"}}},
            "analytics.google.api must be one of gtag, gtm, ga, gaq",
        ),
        (
            {"assignments": {"rules": [{"t": ["url", "=", 1]}]}},
            "assignments.rules[0]['t'][0] must be a parameter key"
            " (one of page_url, message_text, country, language, referrer_url,"
            " utm_source, utm_medium, utm_term, utm_campaign, utm_content)",
        ),
        ({"devices": {"mobile": {"history": 0}}}, "devices.mobile.history must be true or false"),
        (
            {"devices": {"configs": {"desktop": {"init": {"bad": 1}}}}},
            "unknown option 'devices.configs.desktop.init.bad'",
        ),
        ({"parley": {"reconnectingAfter": -1}}, "parley.reconnectingAfter must be a non-negative number"),
        ({"parley": {"reconnectAfter": 1}}, "unknown option 'parley.reconnectAfter'"),
        ({"parley": {"ui": "no"}}, "parley.ui must be true or false"),
    ],
)
def test_one_warning_naming_the_path(raw: dict, warning: str) -> None:
    config, warnings = normalize_config({"appId": "app", **raw}, "desktop")
    assert warnings == [warning]
    assert_shape(config)


def test_parley_reconnecting_after() -> None:
    # Parley's own option: how long the socket is down before "Reconnecting…" shows.
    defaults = normalize_config({"appId": "app"}, "desktop")[0]["parley"]
    assert defaults == {"reconnectingAfter": 4000, "ui": True}
    config, warnings = normalize_config({"appId": "app", "parley": {"reconnectingAfter": 300}}, "desktop")
    assert warnings == []
    assert config["parley"] == {"reconnectingAfter": 300, "ui": True}


def test_parley_ui_false_is_headless() -> None:
    config, warnings = normalize_config({"appId": "app", "parley": {"ui": False}}, "desktop")
    assert warnings == []
    assert config["parley"]["ui"] is False


def test_bad_values_fall_back_to_defaults() -> None:
    raw = {
        "appId": "app",
        "appearance": {"position": ["up"], "windowColor": "nope", "teamName": 3},
        "init": {"maxDelay": -5, "event": ""},
        "history": "no",
        "triggers": 0,
    }
    config, warnings = normalize_config(raw, "desktop")
    assert len(warnings) == 7
    defaults = default_config()
    assert config["appearance"] == defaults["appearance"]
    assert config["init"] == defaults["init"]
    assert config["history"] is True
    assert config["triggers"] == defaults["triggers"]


def test_device_overrides_merge_before_validation() -> None:
    raw = {
        "appId": "app",
        "appearance": {"position": ["left", 1, 1], "teamName": "Base"},
        "devices": {
            "mobile": {"appearance": {"position": ["right", 0, 50]}},
            "configs": {
                "mobile": {"appearance": {"teamName": "Mobile"}},
                "android": {"appearance": {"teamName": "A"}},
            },
        },
    }
    desktop = normalize_config(raw, "desktop")[0]["appearance"]
    ios = normalize_config(raw, "ios")[0]["appearance"]
    android = normalize_config(raw, "android")[0]["appearance"]
    assert (desktop["position"], desktop["teamName"]) == (["left", 1, 1], "Base")
    assert (ios["position"], ios["teamName"]) == (["right", 0, 50], "Mobile")
    assert (android["position"], android["teamName"]) == (["right", 0, 50], "A")


def test_override_fixing_a_base_value_leaves_no_warning() -> None:
    raw = {"appId": "a", "history": "x", "devices": {"configs": {"desktop": {"history": False}}}}
    assert normalize_config(raw, "desktop")[1] == []
    assert normalize_config(raw, "ios")[1] == ["history must be true or false"]


def test_internal_errors_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    import widget.core.config as module

    def broken(ck: Any, raw: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "_check", broken)
    config, warnings = normalize_config({"appId": "a"}, "desktop")
    assert config == default_config()
    assert warnings == [INTERNAL_ERROR + "bug"]


def test_unknown_device_warns_and_uses_desktop() -> None:
    config, warnings = normalize_config({"appId": "a", "devices": {"desktop": {"history": False}}}, "tv")
    assert warnings == ["device must be one of desktop, ios, android; using 'desktop'"]
    assert config["history"] is False


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (["right"], (["right", 20, 20], None)),
        (["left", 0, 100.0], (["left", 0, 100], None)),
        (["left", 1.5], (["left", 1.5, 20], None)),
        ([], (None, "position[0] must be 'left' or 'right'")),
        (["left", 1, 2, 3], (None, "position must have at most 3 elements: [side, x, y]")),
        ("left", (None, "position must be an array like ['right', 20, 20]")),
        (["left", False], (None, "position[1] must be a non-negative number of pixels")),
        (["left", 1, float("nan")], (None, "position[2] must be a non-negative number of pixels")),
    ],
)
def test_parse_position(value: Any, result: tuple) -> None:
    assert parse_position(value) == result


def test_window_colors() -> None:
    assert resolve_window_color("#ABC") == "#aabbcc"
    assert resolve_window_color("#A077bc") == "#a077bc"
    for name in WINDOW_COLOR_NAMES:
        color = resolve_window_color(name)
        assert color is not None and resolve_window_color(color) == color
    assert resolve_window_color("rgb(1,2,3)") is None


@pytest.mark.parametrize(
    ("triggers", "enabled", "disabled"),
    [
        (None, {"x", "y"}, set()),
        (False, set(), {"x", "y"}),
        ({"enabled": False}, set(), {"x", "y"}),
        ({"disabled": True}, set(), {"x", "y"}),
        ({"disabled": ["x"]}, {"y"}, {"x"}),
        ({"enabled": ["x"]}, {"x"}, {"y"}),
        ({"enabled": ["x", "y"], "disabled": ["y"]}, {"x"}, {"y"}),
    ],
)
def test_triggers_forms(triggers: Any, enabled: set, disabled: set) -> None:
    config, warnings = normalize_config({"appId": "a", "triggers": triggers}, "desktop")
    assert warnings == []
    for trigger_id in enabled:
        assert trigger_enabled(config["triggers"], trigger_id)
    for trigger_id in disabled:
        assert not trigger_enabled(config["triggers"], trigger_id)


def test_visibility() -> None:
    def visible(raw: dict, device: str, country: str | None) -> bool:
        return widget_visible_for(normalize_config({"appId": "a", **raw}, device)[0], device, country)

    assert visible({"devices": {"include": ["mobile"]}}, "ios", None)
    assert not visible({"devices": {"include": ["mobile"]}}, "desktop", None)
    assert not visible({"devices": {"exclude": ["android"], "include": ["android"]}}, "android", None)
    assert visible({"countries": {"exclude": ["US"]}}, "desktop", None)
    assert not visible({"countries": {"include": ["US"]}}, "desktop", None)
    assert visible({"countries": {"include": ["US"]}}, "desktop", "us")
    assert visible({"countries": {"include": ["US"], "exclude": ["DE"]}}, "desktop", "FR")


# -- properties -----------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
option_names = st.sampled_from(
    [
        *OPTIONS,
        "google",
        "position",
        "include",
        "exclude",
        "configs",
        "mobile",
        "ios",
        "android",
        "desktop",
        "rules",
        "defaultRules",
        "resolve",
        "user",
        "id",
        "token",
        "enabled",
        "disabled",
        "custom",
        "selector",
        "event",
        "maxDelay",
        "use",
        "source",
        "show",
        "apiObject",
        "windowColor",
    ]
)
keys = option_names | st.text(max_size=6)


def extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5)


json_values = st.recursive(json_scalars, extend, max_leaves=30)
# What the binding passes besides JSON: JS functions as callables, other JS objects opaque.
host_values = st.recursive(json_scalars | st.just(print) | st.builds(object), extend, max_leaves=30)


@settings(max_examples=300)
@given(host_values, st.sampled_from(DEVICES))
def test_normalize_config_never_raises_and_fills_every_option(raw: Any, device: str) -> None:
    config, warnings = normalize_config(raw, device)
    assert_shape(config)
    assert all(isinstance(w, str) and w for w in warnings)
    assert not any(w.startswith(INTERNAL_ERROR) for w in warnings)
    assert widget_visible_for(config, device, None) in (True, False)


@settings(max_examples=200)
@given(st.dictionaries(option_names, json_values, max_size=8), st.sampled_from(DEVICES))
def test_warnings_are_distinct_and_input_is_untouched(raw: dict, device: str) -> None:
    before = copy.deepcopy(raw)
    config, warnings = normalize_config(raw, device)
    assert_shape(config)
    assert raw == before
    assert len(set(warnings)) == len(warnings), warnings
    assert not any(w.startswith(INTERNAL_ERROR) for w in warnings)
