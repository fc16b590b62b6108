"""One command table for both Chaport interfaces.

`chaport.open()` and `chaport.q('open')` are the same row here, checked by the
same argument spec; the browser binding maps each row to one handler. Adding a
method is adding one row.
"""

# Argument kinds a spec may name.
ANY = "any"
CALLABLE = "function"
STRING = "string"
OBJECT = "object"
BOOL = "boolean"
LIST = "array"
STRING_LIST = "array of strings"
POSITION = "position array"
TRIGGER = "trigger object"
TARGET = "'_blank', a window name or {selector}"

# name -> tuple of (argument name, kind, required). Order is the spec's.
COMMANDS = {
    "close": (),
    "compare": (("value", ANY, False), ("matcher", STRING, True), ("expected", ANY, False)),
    "disableTriggers": (("triggerIds", STRING_LIST, False),),
    "enableTriggers": (("triggerIds", STRING_LIST, False),),
    "getActiveTrigger": (),
    "getParameterValue": (("key", STRING, True),),
    "getTriggerById": (("triggerId", STRING, True),),
    "getWidgetState": (),
    "hideLauncher": (),
    "isOnline": (("callback", CALLABLE, True),),
    "newPageView": (("details", OBJECT, False),),
    "on": (("event", STRING, True), ("listener", CALLABLE, True)),
    "open": (),
    "openIn": (("target", TARGET, True),),
    "setActiveTrigger": (("trigger", TRIGGER, True),),
    "setAssignmentRules": (("assignments", OBJECT, True),),
    "setVisitorData": (("data", OBJECT, True), ("hash", STRING, False)),
    "showLauncher": (),
    "startSession": (("visitorCredentials", OBJECT, False), ("callback", CALLABLE, False)),
    "stopSession": (("clearCredentials", BOOL, False), ("callback", CALLABLE, False)),
    "toggle": (),
    "updatePosition": (("position", POSITION, True), ("callback", CALLABLE, False)),
}

# Commands that draw or talk to the server, so they wait for `ready` when called
# earlier (the Command Queue's promise). The rest answer at once: they read or
# set state the widget uses when it starts (e.g. startSession with autoStart off).
AFTER_READY = (
    "close", "hideLauncher", "isOnline", "newPageView", "open", "openIn", "setActiveTrigger",
    "showLauncher", "toggle", "updatePosition",
)

# Commands whose first argument is a list of strings; `q('disableTriggers',
# ['a', 'b'])` in the spec passes the ids themselves, not an argument list.
_LIST_FIRST = ("disableTriggers", "enableTriggers")


def _kind_error(value, kind):
    """Returns None when `value` fits `kind`, else what was expected."""
    if kind == ANY:
        return None
    if kind == CALLABLE:
        ok = callable(value)
    elif kind == STRING:
        ok = isinstance(value, str)
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind in (OBJECT, TRIGGER):
        ok = isinstance(value, dict)
    elif kind in (LIST, POSITION):
        ok = isinstance(value, list)
    elif kind == STRING_LIST:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind == TARGET:
        # '_blank' or a named window (the spec's openIn is a window target or {selector}).
        ok = (isinstance(value, str) and value.strip() != "") or (
            isinstance(value, dict) and isinstance(value.get("selector"), str))
    else:
        ok = False
    return None if ok else "must be a " + kind if kind != TARGET else "must be " + kind


def queue_arguments(name, raw):
    """Turns the second argument of `chaport.q(name, raw)` into a list of arguments."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        # `q('startSession', {id, token})` passes one argument without a list.
        return [raw]
    if name in _LIST_FIRST and all(isinstance(v, str) for v in raw):
        return [raw]
    return raw


def shift_callback(name, args):
    """`startSession(cb)` / `stopSession(cb)`: a lone function is the callback."""
    if name in ("startSession", "stopSession") and len(args) == 1 and callable(args[0]):
        return [None, args[0]]
    return args


def check_call(name, args):
    """Validates a call; returns an error message naming the method, or None."""
    spec = COMMANDS.get(name)
    if spec is None:
        return "unknown method '%s'" % name
    if len(args) > len(spec):
        # Trailing undefined/None arguments are harmless; extra real ones are a mistake.
        extra = [a for a in args[len(spec):] if a is not None]
        if extra:
            return "chaport.%s takes at most %d argument(s), got %d" % (name, len(spec), len(args))
    for index, (arg_name, kind, required) in enumerate(spec):
        value = args[index] if index < len(args) else None
        if value is None:
            if required:
                return "chaport.%s: argument '%s' is required (%s)" % (name, arg_name, kind)
            continue
        problem = _kind_error(value, kind)
        if problem:
            return "chaport.%s: argument '%s' %s" % (name, arg_name, problem)
    return None
