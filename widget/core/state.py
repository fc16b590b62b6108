"""The widget's visual state, as `getWidgetState()` and `widget.stateChange` report it."""

EXPANDED = "expanded"
COLLAPSED = "collapsed"
UNREAD = "unreadMessage"
STATES = (EXPANDED, COLLAPSED, UNREAD)


class WidgetState:
    """Decides the next visual state; the caller draws it and emits the change."""

    def __init__(self):
        self.value = COLLAPSED

    def _move(self, new):
        # Returns the new state when it changed, else None, so the caller emits
        # `widget.stateChange` only for real changes.
        if new == self.value:
            return None
        self.value = new
        return new

    def open(self):
        return self._move(EXPANDED)

    def close(self):
        return self._move(COLLAPSED)

    def toggle(self):
        # The spec: from any state other than expanded (e.g. showing a message), expand.
        return self._move(COLLAPSED if self.value == EXPANDED else EXPANDED)

    def unread_message(self):
        # A message that arrives while the window is open is read at once.
        if self.value == EXPANDED:
            return None
        return self._move(UNREAD)
