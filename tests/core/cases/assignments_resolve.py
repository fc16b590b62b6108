# resolve_assignment: resolve -> rules -> defaultRules, first match wins.
from widget.core.assignments import JS_NULL, resolve_assignment
from widget.core.config import normalize_assignments

calls = []


class Cp:
    """Stands in for the `cp` object the binding passes to host functions."""

    def __init__(self, parameters):
        self.parameters = parameters

    def getParameterValue(self, key):
        return self.parameters.get(key)


def assign(option, parameters, server_default_rules=None):
    assignments, warnings = normalize_assignments(option)
    assert warnings == [], warnings
    return resolve_assignment(assignments, parameters, Cp(parameters), server_default_rules)


PRICING = {"page_url": "https://Example.com/pricing", "country": "us", "language": "es"}
OTHER = {"page_url": "https://example.com/", "country": "DE", "language": "de"}

RULES = {
    "rules": [
        {"pricing-team": ["page_url", "contains", "PRICING"]},
        {"us-team": ["country", "=", "US"]},
        {"es-team": ["language", "=", "es"]},
    ]
}
print(assign(RULES, PRICING))
print(assign(RULES, {"country": "US"}))
print(assign(RULES, OTHER))
print(assign(RULES, {}))
assert assign(RULES, PRICING) == (["pricing-team"], [])
assert assign(RULES, OTHER) == (None, [])


# resolve comes first; its return value decides whether to go on.
def resolve_by(value):
    def resolve(cp):
        calls.append(cp.getParameterValue("country"))
        return value

    return resolve


FALLBACK = [{"fallback": True}]
for value in ["team-1", ["a", "b", "a"], None, JS_NULL, [], ["a", 3], 42, ("x",)]:
    option = {"resolve": resolve_by(value), "rules": FALLBACK}
    assignments, warnings = normalize_assignments(option)
    print(resolve_assignment(assignments, OTHER, Cp(OTHER), None))
print(calls)
assert resolve_assignment(
    normalize_assignments({"resolve": resolve_by(JS_NULL), "rules": FALLBACK})[0],
    OTHER,
    Cp(OTHER),
    None,
) == ([], [])


def broken(cp):
    raise ValueError("host bug")


print(assign({"resolve": broken, "rules": FALLBACK}, OTHER))


# Rule functions: called with cp, JS truthiness, a raising one is no match.
def vip(cp):
    return cp.getParameterValue("country") == "DE"


def empty_list(cp):
    return []  # truthy in JS


def zero(cp):
    return 0


print(assign({"rules": [{"z": zero}, {"bad": broken}, {"vip": vip}]}, OTHER))
print(assign({"rules": [{"z": zero}, {"list": empty_list}]}, OTHER))
print(assign({"rules": [{"vip": vip}]}, PRICING))
assert assign({"rules": [{"bad": broken}, {"vip": vip}]}, OTHER)[0] == ["vip"]

# Default rules: the app's, replaced by defaultRules, disabled by [].
APP = [{"app-team": ["country", "=", "de"]}, {"app-fallback": True}]
print(assign({}, OTHER, APP))
print(assign({}, PRICING, APP))
print(assign({"rules": [{"us-team": ["country", "=", "US"]}]}, OTHER, APP))
print(assign({"defaultRules": []}, OTHER, APP))
print(assign({"defaultRules": [{"mine": True}]}, OTHER, APP))
print(assign(None, OTHER, APP))
print(resolve_assignment(None, OTHER, None, [{"x": "bad"}, {"y": True}]))
print(resolve_assignment(None, None, None, None))
assert assign({"defaultRules": []}, OTHER, APP) == (None, [])
assert assign({}, OTHER, APP) == (["app-team"], [])
