from widget.core.commands import COMMANDS, check_call, queue_arguments
from widget.core.state import WidgetState

print(sorted(COMMANDS))
print(check_call("open", []))
print(check_call("nope", []))
print(check_call("open", [1]))
print(check_call("open", [None]))
print(check_call("on", ["ready"]))
print(check_call("on", ["ready", 3]))
print(check_call("on", ["ready", print]))
print(queue_arguments("open", None))
print(queue_arguments("startSession", {"id": "x"}))
print(queue_arguments("disableTriggers", ["a", "b"]))
print(queue_arguments("on", ["ready", 1]))

state = WidgetState()
print(state.value, state.open(), state.open(), state.toggle(), state.toggle())
print(state.unread_message(), state.close(), state.unread_message(), state.toggle())
