"""Event emitter for `chaport.on(...)` listeners.

A listener that raises is reported through `on_error` and does not stop the
listeners after it, so one broken host callback can't silence the others.
"""

# Every event name the Chaport API defines; `on` with another name is a host mistake.
EVENT_NAMES = (
    "ready",
    "chat.autoInvitation",
    "chat.botSent",
    "chat.onlineChange",
    "chat.started",
    "widget.stateChange",
)


class EventEmitter:
    """Keeps listeners per event name and calls them in the order they were added."""

    def __init__(self, on_error):
        # on_error(event_name, exception): how a failing listener is reported.
        self._listeners = {}
        self._on_error = on_error

    def on(self, name, listener):
        """Add `listener` for `name`; returns an error string, or None when accepted."""
        if name not in EVENT_NAMES:
            return "unknown event '%s'; known events: %s" % (name, ", ".join(EVENT_NAMES))
        if not callable(listener):
            return "the listener for '%s' must be a function" % name
        self._listeners.setdefault(name, []).append(listener)
        return None

    def emit(self, name, payload=None):
        """Call every listener of `name` with `payload`; returns how many were called."""
        called = 0
        for listener in list(self._listeners.get(name, ())):
            called += 1
            try:
                if payload is None:
                    listener()
                else:
                    listener(payload)
            except Exception as error:  # a host callback may raise anything
                self._on_error(name, error)
        return called

    def count(self, name):
        return len(self._listeners.get(name, ()))
