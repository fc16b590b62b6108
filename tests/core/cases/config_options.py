# normalize_config: valid values of every option, normalised.
from widget.core.config import (
    WINDOW_COLOR_NAMES,
    WINDOW_COLORS,
    normalize_config,
    parse_position,
    resolve_window_color,
    trigger_enabled,
)


def text(value):
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, dict):
        return "{" + ", ".join([text(k) + ": " + text(value[k]) for k in sorted(value)]) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join([text(v) for v in value]) + "]"
    if callable(value):
        return "<function>"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return "<object>"  # repr() of an object shows an address


class Target:
    """Stands in for a JS EventTarget (an opaque object)."""


def config_of(**options):
    options["appId"] = "app-1"
    return normalize_config(options, "desktop")


TARGET = Target()
API = Target()
config, warnings = config_of(
    analytics={"google": {"id": "G-1", "api": "gtm", "apiObject": API, "enabled": False}},
    appearance={
        "windowColor": "#A077BC",
        "teamName": "Team",
        "onlineWelcome": "Hi",
        "offlineWelcome": "",
        "position": ["left", 0, 50.0],
        "textStatuses": True,
    },
    closeButton=False,
    countries={"include": ["us", "CA", "US"], "exclude": ["DE"]},
    history=False,
    init={
        "event": "DOMContentLoaded",
        "eventTarget": TARGET,
        "maxDelay": 0,
        "delayAfterEvent": 1000,
    },
    language={"use": "pt_br", "source": "html"},
    launcher={"show": False},
    openIn="_blank",
    operators=["operator-id-1", "operator-name-2"],
    responsive=True,
    session={
        "user": {"id": "visitor-id", "token": "token"},
        "autoStart": False,
        "persist": False,
        "cookieDomain": ".example.co.uk",
    },
    visitor={
        "name": "John Doe",
        "email": "john@example.com",
        "phone": "+1",
        "notes": "n",
        "custom": {"subscriptionPlan": "pro", "balance": 1000.0, "vip": True},
    },
    visitorIntegrityHash="abc123",
)
print(warnings)
assert warnings == []
for key in sorted(config):
    print(key, text(config[key]))
assert config["analytics"]["google"]["apiObject"] is API
assert config["init"]["eventTarget"] is TARGET
assert config["appearance"]["position"] == ["left", 0, 50]
assert config["appearance"]["windowColor"] == "#a077bc"
assert config["countries"] == {"include": ["US", "CA"], "exclude": ["DE"]}
assert config["language"]["use"] == "pt-BR"

print(config_of(openIn={"selector": "#chat-container"})[0]["openIn"])
print(config_of(openIn={"selector": ""})[1])
print(config_of(openIn={})[1])

# windowColor: hex forms and the spec's names.
for value in ["#abc", "#AABBCC", " teal ", "Dark-Gray", "#abcd", "abc", "#ggg", "navy", 3, None]:
    print(text(value), resolve_window_color(value))
assert sorted(WINDOW_COLOR_NAMES) == sorted(WINDOW_COLORS)
for name in WINDOW_COLOR_NAMES:
    assert resolve_window_color(name) == WINDOW_COLORS[name]
    assert len(WINDOW_COLORS[name]) == 7
print(config_of(appearance={"windowColor": "navy"})[1])

# Position (also used by updatePosition).
for value in [
    ["right"],
    ["left", 5],
    ["right", 0, 100],
    ("left", 1, 2),
    ["right", None, 7],
    [],
    ["top", 1, 1],
    ["Left"],
    ["left", -1],
    ["left", 1, "2"],
    ["left", True],
    ["left", 1, 2, 3],
    "right",
    None,
    {"side": "left"},
    ["left", float("inf")],
]:
    print(text(value), text(parse_position(value)))
print(parse_position(["up"], "updatePosition: position"))
print(config_of(appearance={"position": ["middle", 1, 1]})[1])

# triggers: every form of the spec in one shape.
FORMS = [
    None,
    True,
    False,
    {"enabled": False},
    {"disabled": True},
    {"enabled": True},
    {"disabled": False},
    {"disabled": ["trigger-id"]},
    {"enabled": ["trigger-id"]},
    {"enabled": ["a", "b"], "disabled": ["b"]},
    {"enabled": True, "disabled": True},
    {"disabled": ["a", 1, ""]},
    {"enabled": "a"},
    "off",
    {"enable": False},
]
for form in FORMS:
    config, warnings = config_of(triggers=form)
    triggers = config["triggers"]
    on = [t for t in ("trigger-id", "a", "b", "other") if trigger_enabled(triggers, t)]
    print(text(form), text(triggers), on, warnings)
assert not trigger_enabled(config_of(triggers=False)[0]["triggers"], "x")
assert trigger_enabled(config_of(triggers={"enabled": ["x"]})[0]["triggers"], "x")
assert not trigger_enabled(config_of(triggers={"disabled": ["x"]})[0]["triggers"], "x")

# analytics: apiObject needs api; session.user needs id and token.
config, warnings = config_of(analytics={"google": {"apiObject": API}})
print(text(config["analytics"]), warnings)
print(config_of(session={"user": {"token": "t"}})[1])
print(config_of(language={"use": "e"})[1], config_of(language={"use": "en-"})[1])
print(config_of(language={"use": "EN"})[0]["language"])
