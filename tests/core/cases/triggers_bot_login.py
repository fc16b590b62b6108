# chat.botSent for a bot login's message (a parley.client integration), not for a bot
# trigger's answer (its bubble already fired it) nor for anyone else's message.
from widget.core.triggers import TriggerState

state = TriggerState(None)
state.set_triggers([{"id": "faq", "message": "Ask me", "kind": "bot", "delay": 0, "conditions": [],
                     "enabled": True}])

from_bot_login = {"id": 7, "authorKind": "bot", "authorId": "op-bot", "text": "We ship to Norway."}
name, payload = state.bot_message_event(from_bot_login)
assert name == "chat.botSent", name
assert payload == {"id": "op-bot", "message": "We ship to Norway."}, payload
print(name, sorted(payload.items()))

from_trigger = {"id": 8, "authorKind": "bot", "authorId": "faq", "text": "Ask me"}
assert state.bot_message_event(from_trigger) is None
for other in ({"authorKind": "operator", "authorId": "op-ann", "text": "Hi"},
              {"authorKind": "visitor", "authorId": "v1", "text": "Hello"},
              {"authorKind": "bot", "authorId": None, "text": "?"}, {"authorKind": "bot"}, None, "bot", []):
    assert state.bot_message_event(other) is None, other
print("only a bot login's messages")
