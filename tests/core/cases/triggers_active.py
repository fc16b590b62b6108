# Active trigger (getActiveTrigger / setActiveTrigger), first-show events and the
# shown-ids export used to persist them across page loads.
from widget.core.triggers import TriggerState

SERVER = [
    {
        "id": "inv",
        "message": "Need help with %placeholder1%?",
        "kind": "invitation",
        "delay": 0,
        "conditions": [],
        "enabled": True,
    },
    {"id": "bot", "message": "I am a bot", "kind": "bot", "delay": 2, "conditions": [], "enabled": True},
]


def event(result):
    # (name, payload) with the payload's items sorted: dict order is not compared.
    if result is None:
        return None
    return (result[0], sorted(result[1].items()))


state = TriggerState(None)
state.set_triggers(SERVER)
print("active at start:", state.get_active(), state.active)

for bad in (
    None,
    "text",
    {},
    {"message": ""},
    {"message": "   "},
    {"message": 5},
    {"id": "ghost", "message": "x"},
    {"id": 7, "message": "x"},
):
    error = state.set_active(bad)
    assert error is not None, bad
    shown = sorted(bad.items()) if isinstance(bad, dict) else repr(bad)
    print("set_active", shown, "->", error)
assert state.get_active() is None

assert state.set_active({"message": "Custom message"}) is None
print("custom:", sorted(state.get_active().items()), state.active["kind"])

trigger = state.get_by_id("inv")
trigger["message"] = trigger["message"].replace("%placeholder1%", "your order")
assert state.set_active(trigger) is None
print("modified known:", sorted(state.get_active().items()), state.active["kind"])
assert state.get_by_id("inv")["message"] == "Need help with %placeholder1%?"

# Events fire only on the first show of each id.
for trigger in state.matching({}) + state.matching({}):
    print("show", trigger["id"], "->", event(state.show(trigger)))
print("shown ids:", state.shown_ids())
assert state.shown_ids() == ["inv", "bot"]
print("event_for bot:", event(state.event_for(state.matching({})[1])))
print("event_for custom:", event(state.event_for({"message": "hey"})))
print("event_for junk:", event(state.event_for(None)))

# A new page load: restore what was shown, nothing fires again.
next_page = TriggerState(None)
next_page.set_triggers(SERVER)
saved = state.shown_ids()
saved.extend([3, None, "", "inv"])  # junk and a repeat, as a tampered store might hold
next_page.restore_shown(saved)
assert next_page.shown_ids() == ["inv", "bot"]
print("after restore, show inv ->", event(next_page.show(next_page.matching({})[0])))
print("after restore, mark_shown new ->", next_page.mark_shown("new"), next_page.mark_shown("new"))
print("mark_shown None ->", next_page.mark_shown(None))
next_page.restore_shown("not a list")
print("shown ids:", next_page.shown_ids())

# Once a chat started: no active trigger, set_active refused, show does nothing.
assert next_page.get_active() is not None
next_page.chat_started()
print("after chat started:", next_page.get_active(), next_page.active, next_page.started)
print("set_active after start ->", next_page.set_active({"message": "late"}))
print("show after start ->", event(next_page.show(next_page.matching({})[1])))
assert next_page.get_active() is None

state.clear_active()
print("cleared:", state.get_active())

# Another visitor on the same page (stopSession(true)): their first shows fire again, and a
# chat of the last visitor does not block them; the page's switches stay.
next_page.disable(["bot"])
next_page.forget_visitor()
print("forgotten:", next_page.shown_ids(), next_page.started, next_page.get_active())
print("show inv for the new visitor ->", event(next_page.show(next_page.matching({})[0])))
print("bot still disabled:", [t["id"] for t in next_page.matching({})])
