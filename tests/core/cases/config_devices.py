# Device overrides (both spec forms, merge order) and widget_visible_for.
from widget.core.config import device_visitor, normalize_config, widget_visible_for


def text(value):
    # Sorted keys: dict order differs between the interpreters.
    if isinstance(value, dict):
        return "{" + ", ".join([k + ": " + text(value[k]) for k in sorted(value)]) + "}"
    return repr(value)


BASE = {
    "appId": "app-1",
    "appearance": {"position": ["left", 10, 10], "teamName": "Team", "windowColor": "red"},
    "history": True,
    "devices": {
        # The spec's "More complete example" form: directly under devices.
        "mobile": {"appearance": {"position": ["right", 0, 50]}, "launcher": {"show": False}},
        "configs": {
            "mobile": {"appearance": {"teamName": "Mobile team"}},
            "ios": {"appearance": {"teamName": "iOS team"}, "history": False},
            "desktop": {"closeButton": True},
        },
    },
}

for device in ("desktop", "ios", "android"):
    config, warnings = normalize_config(BASE, device)
    appearance = config["appearance"]
    print(
        device,
        appearance["position"],
        appearance["teamName"],
        appearance["windowColor"],
        config["launcher"]["show"],
        config["history"],
        config["closeButton"],
        warnings,
    )
    assert warnings == []
    assert sorted(config["devices"]["configs"]) == ["desktop", "ios", "mobile"]

desktop = normalize_config(BASE, "desktop")[0]
ios = normalize_config(BASE, "ios")[0]
android = normalize_config(BASE, "android")[0]
assert desktop["appearance"]["position"] == ["left", 10, 10] and desktop["closeButton"] is True
assert ios["appearance"]["teamName"] == "iOS team" and ios["history"] is False
assert android["appearance"]["teamName"] == "Mobile team" and android["history"] is True
assert android["appearance"]["windowColor"] == "#e53935"  # kept from the base by the deep merge
# Input is not modified by merging.
assert BASE["appearance"]["teamName"] == "Team"

# Only the documented form.
config, warnings = normalize_config(
    {
        "appId": "a",
        "devices": {"configs": {"mobile": {"appearance": {"position": ["right", 0, 50]}}}},
    },
    "android",
)
print(config["appearance"]["position"], warnings)
assert config["appearance"]["position"] == ["right", 0, 50]

# Bad values inside an override are named with the override's path, and fall back
# to the base (default) value; overrides for other devices are still checked.
BAD = {
    "appId": "a",
    "launcher": {"show": False},
    "devices": {
        "mobile": {"appearance": {"position": ["middle"]}, "launcher": {"show": "no"}},
        "configs": {
            "android": {"apperance": {}, "devices": {"include": ["ios"]}},
            "tablet": {},
            "desktop": 5,
        },
    },
}
for device in ("desktop", "ios", "android"):
    config, warnings = normalize_config(BAD, device)
    print(device, config["appearance"]["position"], config["launcher"], config["devices"]["include"])
    for warning in warnings:
        print("  " + warning)
    assert "unknown option 'devices.configs.tablet'" in warnings
    assert "devices.mobile.appearance.position[0] must be 'left' or 'right'" in warnings
    assert config["devices"]["include"] is None


# Visibility by device and country.
def visible(devices, countries, device, country):
    config = normalize_config({"appId": "a", "devices": devices, "countries": countries}, device)[0]
    return widget_visible_for(config, device, country)


TABLE = [
    # devices, countries, device, country, expected
    (None, None, "desktop", None, True),
    ({"include": ["mobile"]}, None, "desktop", "US", False),
    ({"include": ["mobile"]}, None, "ios", "US", True),
    ({"include": ["mobile"]}, None, "android", "US", True),
    ({"exclude": ["mobile"]}, None, "android", "US", False),
    ({"exclude": ["ios"]}, None, "android", "US", True),
    ({"exclude": ["desktop"], "include": ["desktop"]}, None, "desktop", "US", False),
    ({"exclude": [], "include": ["ios"]}, None, "desktop", "US", False),
    ({"include": []}, None, "desktop", "US", True),
    (None, {"include": ["US"]}, "desktop", "US", True),
    (None, {"include": ["us"]}, "desktop", "us", True),
    (None, {"include": ["US"]}, "desktop", "DE", False),
    (None, {"include": ["US"]}, "desktop", None, False),
    (None, {"exclude": ["US"]}, "desktop", "US", False),
    (None, {"exclude": ["US"]}, "desktop", None, True),
    (None, {"exclude": ["US"], "include": ["US"]}, "desktop", "DE", True),
    (None, {"exclude": ["DE"], "include": ["US"]}, "desktop", "DE", False),
    ({"include": ["desktop"]}, {"include": ["US"]}, "desktop", "US", True),
    ({"include": ["desktop"]}, {"include": ["US"]}, "ios", "US", False),
]
for devices, countries, device, country, expected in TABLE:
    got = visible(devices, countries, device, country)
    print(text(devices), text(countries), device, country, got)
    assert got is expected

# Where the visitor a device sends is: None (the page's own) unless its override sets one.
raw = {"visitor": {"name": "Page"}, "devices": {"mobile": {"visitor": {"name": "Mobile"}},
                                                "configs": {"ios": {"visitor": {"name": "Phone"}}}}}
for device in ("desktop", "android", "ios"):
    print("device visitor", device, device_visitor(raw, device))
print("device visitor no config", device_visitor(None, "ios"), device_visitor({"visitor": 5}, "ios"))
