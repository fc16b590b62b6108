# normalize_assignments / normalize_rules: the assignments option and setAssignmentRules.
from widget.core.assignments import normalize_rules
from widget.core.config import normalize_assignments, normalize_config


def is_fn():
    return True


def text(value):
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, dict):
        return "{" + ", ".join([text(k) + ": " + text(value[k]) for k in sorted(value)]) + "}"
    if isinstance(value, list):
        return "[" + ", ".join([text(v) for v in value]) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join([text(v) for v in value]) + ")"
    if callable(value):
        return "<function>"
    return repr(value)


SPEC_EXAMPLE = {
    "rules": [
        {"example.com-team-id": ["page_url", "contains", "example.com"]},
        {"sales-team-id": is_fn},
        {"us-sales-team-id": ["country", "=", "US"]},
        {"es-support-team-id": ["language", "=", "es"]},
        {"john-id": True},
        {"nobody": False},
    ],
    "defaultRules": [],
}
assignments, warnings = normalize_assignments(SPEC_EXAMPLE)
print(text(assignments), warnings)
assert warnings == []
assert assignments["rules"][0] == ("example.com-team-id", ("page_url", "contains", "example.com"))
assert assignments["rules"][1][1] is is_fn
assert assignments["defaultRules"] == []
# Idempotent: normalised rules validate to themselves.
again, warnings = normalize_assignments(assignments)
assert again == assignments and warnings == []

# The same through chaportConfig.
config, warnings = normalize_config({"appId": "a", "assignments": SPEC_EXAMPLE}, "desktop")
assert config["assignments"] == assignments and warnings == []

print(text(normalize_assignments(None)))
print(text(normalize_assignments({"resolve": is_fn})))

BAD = {
    "resolve": "team-1",
    "rules": [
        {"a": ["page_url", "contains"]},
        {"b": ["pageurl", "=", "x"]},
        {"c": ["page_url", "==", "x"]},
        {"d": ["country", "=", None]},
        {"e": ["country", "=", ["US"]]},
        {"f": "yes"},
        {"g": True, "h": True},
        {},
        "team",
        {"": True},
        {"ok": ["utm_source", "!=", "ads"]},
        {"num": ["page_url", "gt", 3]},
    ],
    "defaultRules": "none",
    "default": [],
}
assignments, warnings = normalize_assignments(BAD, "setAssignmentRules")
print(text(assignments))
for warning in warnings:
    print("  " + warning)
assert assignments["resolve"] is None and assignments["defaultRules"] is None
assert [rule[0] for rule in assignments["rules"]] == ["ok", "num"]
assert len(warnings) == 13

print(normalize_rules("x", "rules"), normalize_rules(None, "rules"), normalize_rules([], "rules"))
