"""The one place the widget talks to the host page's console: always `[parley]`-prefixed."""

PREFIX = "[parley] "
_host = None
_said = set()


def bind(host_window):
    global _host
    _host = host_window


def _say(level, message):
    if _host is None:
        print(PREFIX + message)
        return
    getattr(_host.console, level)(PREFIX + message)


def error(message):
    _say("error", message)


def warn(message):
    _say("warn", message)


def error_once(key, message):
    """Reports a problem that would otherwise repeat (e.g. on every reconnect) once."""
    if key in _said:
        return
    _said.add(key)
    error(message)
