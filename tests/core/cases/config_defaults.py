# normalize_config: every option present with its default; garbage never raises.
from widget.core.config import OPTIONS, default_config, normalize_config


def dump(value, indent=""):
    # Dict order differs between the interpreters: always print sorted keys.
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            if isinstance(item, dict) and item:
                print(indent + key + ":")
                dump(item, indent + "  ")
            else:
                print(indent + key + ": " + text(item))
    else:
        print(indent + text(value))


def text(value):
    if isinstance(value, str):
        return "'" + value + "'"
    if callable(value):
        return "<function>"
    return repr(value)


config, warnings = normalize_config({"appId": "app-1"}, "desktop")
dump(config)
print(warnings)
assert warnings == []
assert sorted(config) == sorted(OPTIONS)
expected = default_config()
expected["appId"] = "app-1"
assert config == expected
assert config["init"] == {
    "event": "load",
    "eventTarget": None,
    "maxDelay": 5000,
    "delayAfterEvent": 500,
}
assert config["appearance"]["position"] == ["right", 20, 20]
assert config["language"]["source"] == "header"
assert config["history"] is True and config["launcher"]["show"] is True
assert config["session"]["autoStart"] is True and config["session"]["persist"] is True
assert config["closeButton"] is None
assert config["triggers"] == {"all": True, "enabled": None, "disabled": []}

# Options given as null/undefined are "not given": no warning, the default stays.
nulls = {}
for name in OPTIONS:
    nulls[name] = None
nulls["appId"] = "app-1"
config, warnings = normalize_config(nulls, "ios")
print(warnings)
assert warnings == [] and config == expected

GARBAGE = [
    None,
    [],
    5,
    "appId",
    True,
    {"appId": 7},
    {"appId": ""},
    {"appId": "a", "appearance": [], "init": "now", "session": 1, "visitor": "me"},
    {"appId": "a", "devices": [1], "countries": {"include": "US"}, "triggers": "off"},
    {"appId": "a", "devices": {"configs": [], "mobile": 3}},
    {"appId": "a", "assignments": {"rules": {"a": True}, "resolve": "x", "defaultRules": 0}},
    {"appId": "a", "apperance": {}, "Appid": "b", "launcher": {"show": 0, "hide": True}},
    {"appId": "a", "analytics": {"google": {"api": "gtag4", "enabled": "yes", "id": 3}}},
    {"appId": "a", "language": {"use": "english", "source": "HTML"}, "history": "false"},
    {"appId": "a", "init": {"maxDelay": -1, "delayAfterEvent": "500", "event": ""}},
    {"appId": "a", "openIn": 42, "operators": "op-1", "responsive": 1, "closeButton": "no"},
    {"appId": "a", "visitorIntegrityHash": 12, "visitor": {"name": 1, "custom": [1]}},
]
for raw in GARBAGE:
    config, warnings = normalize_config(raw, "desktop")
    assert sorted(config) == sorted(OPTIONS)
    print(len(warnings))
    for warning in warnings:
        print("  " + warning)

config, warnings = normalize_config(GARBAGE[-4], "desktop")
assert config["launcher"] == {"show": True} and config["history"] is True
config, warnings = normalize_config(GARBAGE[-2], "desktop")
assert config["openIn"] is None and config["operators"] is None
