"""Crossing between the host page's JavaScript realm and Python.

RUNTIME-NOTES: iterating a plain host object raises a JS TypeError that
bypasses try/except, and values handed back to the host must be built in the
host realm. Everything that crosses goes through these two functions.
"""

import parley_js

MAX_DEPTH = 12  # host config is small; a cycle or a DOM node must not hang us


def to_py(value, depth=0):
    """Converts a host value to plain Python (dict/list/str/number/bool/None).

    Functions stay callable (JS functions as proxies); other non-plain objects
    (DOM nodes, EventTargets, class instances) are passed through as they are.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    kind = parley_js.kind(value)
    if kind == "undefined" or kind == "null":
        # MicroPython hands JS undefined over as a proxy object, not None.
        return None
    if kind == "array":
        if depth >= MAX_DEPTH:
            return []
        return [to_py(value[i], depth + 1) for i in range(value.length)]
    if kind == "object":
        if depth >= MAX_DEPTH:
            return {}
        keys = parley_js.keys(value)
        return {keys[i]: to_py(parley_js.get(value, keys[i]), depth + 1) for i in range(keys.length)}
    return value


def to_host(value):
    """Builds `value` (plain Python) as a host-realm value the page can use normally."""
    if isinstance(value, dict):
        target = parley_js.hostObject()
        for key in value:
            parley_js.set(target, key, to_host(value[key]))
        return target
    if isinstance(value, (list, tuple)):
        target = parley_js.hostArray()
        for item in value:
            parley_js.push(target, to_host(item))
        return target
    return value


class HostCallbackError(Exception):
    """A host page function threw; the message is the JS error's."""


def host_callable(fn):
    """A Python callable that runs a host function and turns its JS exception
    into HostCallbackError (a Python exception that try/except can catch)."""
    if parley_js.kind(fn) != "function":
        return fn

    def call(*args):
        problem = parley_js.guard(fn, *args)
        if problem is not None:
            raise HostCallbackError(problem)
    return call


def later(callback, ms=0):
    """Runs `callback` after `ms` on the host's timer (js.setTimeout can throw Illegal invocation)."""
    return parley_js.later(callback, ms)


def idle(callback, timeout_ms=2000):
    """Runs `callback(deadline)` when the host page is idle (requestIdleCallback), at the
    latest after `timeout_ms`; where there is no requestIdleCallback, after a short timer."""
    return parley_js.idle(callback, timeout_ms)
