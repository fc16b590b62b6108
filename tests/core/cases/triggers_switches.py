# The enabled/disabled switches: the `triggers` option, enableTriggers and
# disableTriggers (ids touch only those ids; no ids means all), app-disabled triggers.
from widget.core.triggers import TriggerState

SERVER = [
    {"id": "a", "message": "Hi A", "kind": "invitation", "delay": 0, "conditions": [], "enabled": True},
    {"id": "b", "message": "Hi B", "kind": "bot", "delay": 5, "conditions": [], "enabled": True},
    {"id": "c", "message": "Hi C", "kind": "invitation", "delay": 1.5, "conditions": [], "enabled": True},
    {"id": "off", "message": "Never", "kind": "bot", "delay": 0, "conditions": [], "enabled": False},
]
IDS = ("a", "b", "c", "off")


def on(state):
    return "".join(i if state.is_enabled(i) else "-" for i in ("a", "b", "c")) + (
        " off!" if state.is_enabled("off") else ""
    )


def fresh(option):
    state = TriggerState(option)
    assert state.set_triggers(SERVER) == []
    return state


OPTIONS = [
    ("default None", None, "abc"),
    ("all true", {"all": True, "enabled": None, "disabled": []}, "abc"),
    ("false", {"all": False, "enabled": None, "disabled": []}, "---"),
    ("disabled [b]", {"all": True, "enabled": None, "disabled": ["b"]}, "a-c"),
    ("enabled [a, c]", {"all": False, "enabled": ["a", "c"], "disabled": []}, "a-c"),
    ("enabled [a, c] disabled [c]", {"all": False, "enabled": ["a", "c"], "disabled": ["c"]}, "a--"),
    ("enabled [off]", {"all": False, "enabled": ["off"], "disabled": []}, "---"),
]
for label, option, expected in OPTIONS:
    state = fresh(option)
    got = on(state)
    assert got == expected, (label, got)
    print("option", label, "->", got)

# The spec's method semantics, step by step.
state = fresh({"all": False, "enabled": ["a"], "disabled": []})
steps = [
    ("enable [b]", lambda: state.enable(["b"]), "ab-"),
    ("disable [a]", lambda: state.disable(["a"]), "-b-"),
    ("enable all", lambda: state.enable(), "abc"),
    ("disable [c]", lambda: state.disable(["c"]), "ab-"),
    ("disable all", lambda: state.disable(None), "---"),
    ("enable [c, nope]", lambda: state.enable(["c", "nope"]), "--c"),
    ("enable [off]", lambda: state.enable(["off"]), "--c"),
    ("enable 'a' (single id)", lambda: state.enable("a"), "a-c"),
    ("disable [] (no ids listed)", lambda: state.disable([]), "a-c"),
]
for label, action, expected in steps:
    error = action()
    assert error is None, (label, error)
    got = on(state)
    assert got == expected, (label, got)
    print("step", label, "->", got)

for bad in (42, [1, "a"], {"a": 1}):
    error = state.disable(bad)
    assert error is not None
    shown = sorted(bad.items()) if isinstance(bad, dict) else repr(bad)
    print("disable bad", shown, "->", error, "| still", on(state))
    assert on(state) == "a-c"

assert state.is_enabled("nope")
assert not state.is_enabled("off")
print("unknown id follows the page switch:", state.is_enabled("nope"))
