# set_triggers validation, matching() with conditions through compare, get_by_id.
from widget.core.parameters import parameters_for
from widget.core.triggers import TriggerState, condition_matches, message_conditioned

state = TriggerState(None)
warnings = state.set_triggers(
    [
        {
            "id": "pricing",
            "message": "Questions about pricing?",
            "kind": "invitation",
            "delay": 10,
            "conditions": [["page_url", "contains", "/pricing"], ["country", "=", "us"]],
            "enabled": True,
        },
        {
            "id": "spring",
            "message": "Spring sale!",
            "kind": "bot",
            "delay": 0,
            "conditions": [["utm_campaign", "=", "Spring Sale"]],
            "enabled": True,
        },
        {"id": "always", "message": "Hello there", "conditions": []},
        {"id": "bad-matcher", "message": "x", "conditions": [["page_url", "~=", "a"]]},
        {"id": "bad-key", "message": "x", "conditions": [["page_title", "=", "a"]]},
        {"id": "bad-shape", "message": "x", "conditions": [["page_url", "="]]},
        {"id": "not-es", "message": "Not Spanish", "conditions": [["language", "!=", "es"]]},
        {
            "id": "odd-fields",
            "message": "defaults",
            "kind": "popup",
            "delay": -3,
            "conditions": "x",
            "enabled": "yes",
        },
        {"id": "pricing", "message": "duplicate"},
        {"id": "", "message": "no id"},
        {"id": "no-message"},
        {"id": "blank", "message": ""},
        "not a dict",
    ]
)
for warning in warnings:
    print("warning:", warning)
assert len(warnings) == 5

odd = next(t for t in state.triggers() if t["id"] == "odd-fields")
assert odd["kind"] == "invitation" and odd["delay"] == 0 and odd["conditions"] == []
assert odd["enabled"] is True
print("odd-fields normalised:", sorted((k, repr(v)) for k, v in odd.items()))

VISITS = [
    ("pricing page in US", ("https://shop.example.com/pricing?x=1", None, "en-US", "US", None)),
    ("spring campaign", ("https://shop.example.com/?utm_campaign=spring+sale", None, "es", None, None)),
    ("nothing known", (None, None, None, None, None)),
]
for label, args in VISITS:
    params = parameters_for(*args)
    ids = [t["id"] for t in state.matching(params)]
    print("matching", label, "->", ids)
    assert "bad-matcher" not in ids and "bad-key" not in ids and "bad-shape" not in ids
    assert "always" in ids and "odd-fields" in ids

params = parameters_for("https://shop.example.com/pricing", None, "en", "US", None)
assert [t["id"] for t in state.matching(params)][:1] == ["pricing"]
state.disable(["pricing"])
assert "pricing" not in [t["id"] for t in state.matching(params)]
print("after disable [pricing]:", [t["id"] for t in state.matching(params)])
assert state.matching(None) == state.matching({})

# Returned triggers are copies: editing them changes nothing inside.
first = state.matching({})[0]
first["message"] = "edited"
first["conditions"].append(["x", "=", "y"])
assert state.get_by_id(first["id"])["message"] != "edited"

print("get_by_id pricing:", sorted(state.get_by_id("pricing").items()))
print("get_by_id missing:", state.get_by_id("missing"), state.get_by_id(None))
copy = state.get_by_id("spring")
copy["message"] = "changed"
assert state.get_by_id("spring")["message"] == "Spring sale!"

for condition in (
    ["country", "=", "US"],
    ["country", "gt", "A"],
    ["country", "?", "US"],
    "x",
    None,
    ["country", "=", "US", "extra"],
    [1, "=", "US"],
):
    print("condition", repr(condition), "->", condition_matches(condition, {"country": "US"}))

# Triggers on message_text wait for the visitor's message (never shown for a page).
for number, trigger in enumerate((
    {"conditions": [["message_text", "contains", "price"]]},
    {"conditions": [["page_url", "contains", "x"], ["message_text", "=", "hi"]]},
    {"conditions": [["page_url", "contains", "x"]]},
    {"conditions": []},
    {"conditions": ["message_text"]},
    {},
)):
    print("message conditioned", number, "->", message_conditioned(trigger))
