"""Binds the command table (widget.core.commands) to the host page's `window.chaport`.

`chaport` is a plain object of the host realm (RUNTIME-NOTES: a Python object
would throw on unknown attributes and list Python internals). Every method and
`q` go through one path: convert arguments, check them against the table's
spec, run the handler, convert the result back. Nothing throws into the page.
"""

import parley_js

from widget.browser import console
from widget.browser.hostjs import to_host, to_py
from widget.core.commands import AFTER_READY, COMMANDS, check_call, queue_arguments, shift_callback


class HostApi:
    def __init__(self, host, handlers):
        # handlers: command name -> Python callable taking the checked arguments.
        self.host = host
        self.handlers = handlers
        self.ready = False
        self._waiting = []
        self.object = None
        # The host's own argument values of the call being handled (e.g. the
        # object whose exact JSON an integrity hash signs).
        self.raw_args = []
        # Builds `chaport.client` the first time the page reads it (widget.browser.client).
        self.client_factory = None

    def install(self, stub):
        """Turns the snippet's stub into the real API; returns the stub's queue and listeners.

        The methods go onto the stub object itself: pages keep references to it
        (the spec's own `var cpt = window.chaport; cpt.on('ready', ...)`).
        """
        queued = []
        listeners = {}
        if stub is not None and parley_js.kind(stub) == "object":
            raw_queue = parley_js.get(stub, "_q")
            if parley_js.kind(raw_queue) == "array":
                queued = [raw_queue[i] for i in range(raw_queue.length)]
            listeners = to_py(parley_js.get(stub, "_l")) or {}
        is_stub = stub is not None and parley_js.kind(stub) == "object"
        api = stub if is_stub else parley_js.hostObject()
        for name in COMMANDS:
            parley_js.set(api, name, parley_js.answering(self._method(name)))
        parley_js.set(api, "q", parley_js.answering(self._answer_queued_call))
        if self.client_factory is not None:
            parley_js.lazy(api, "client", self.client_factory)
        # Pages keep the stub's q too (`var cpt = window.chaport.q; cpt('open')`): its
        # pushes into _q now reach the real API instead of a queue nobody reads.
        forward = parley_js.hostObject()
        parley_js.set(forward, "push", self._forward_stub_call)
        parley_js.set(api, "_q", forward)
        parley_js.set(api, "_l", parley_js.hostObject())
        self.object = api
        if not is_stub:
            self.host.chaport = api
        if not isinstance(queued, list):
            queued = []
        if not isinstance(listeners, dict):
            listeners = {}
        return queued, listeners

    def _forward_stub_call(self, args=None):
        try:
            if args is not None and parley_js.kind(args) == "array" and args.length:
                self._queue_call(args[0], args[1] if args.length > 1 else None)
        except Exception as error:
            console.error("a chaport.q call failed: %s" % error)

    def replay(self, queued):
        """Runs the stub's queued `q(...)` calls, in the order the page made them."""
        for entry in queued:
            try:
                if parley_js.kind(entry) == "array" and entry.length:
                    self._queue_call(entry[0], entry[1] if entry.length > 1 else None)
            except Exception as error:
                console.error("a queued chaport.q call failed: %s" % error)

    def set_ready(self):
        self.ready = True
        waiting, self._waiting = self._waiting, []
        for name, args in waiting:
            self._run(name, args)

    def _method(self, name):
        # give(answer), not `return answer`: see parley_js.answering in boot.mjs.
        def method(give, *args):
            answer = None
            try:
                self.raw_args = list(args)
                answer = to_host(self.call(name, [to_py(a) for a in args]))
            except Exception as error:  # never throw into the host page
                console.error("chaport.%s failed: %s" % (name, error))
            give(answer)
        return method

    def _answer_queued_call(self, give, name=None, args=None):
        give(self._queue_call(name, args))

    def _queue_call(self, name=None, args=None):
        try:
            if args is not None and parley_js.kind(args) == "array":
                self.raw_args = [args[i] for i in range(args.length)]
            else:
                self.raw_args = [args]
            return to_host(self.call_queued(name, to_py(args)))
        except Exception as error:
            console.error("chaport.q('%s') failed: %s" % (name, error))
            return None

    def call_queued(self, name, args):
        if not isinstance(name, str):
            console.error("chaport.q needs a method name as its first argument, got %r" % (name,))
            return None
        return self.call(name, queue_arguments(name, args))

    def call(self, name, args):
        args = list(args)
        while args and args[-1] is None:  # JS passes undefined for omitted arguments
            args.pop()
        args = shift_callback(name, args)
        problem = check_call(name, args)
        if problem:
            console.error(problem)
            return None
        if not self.ready and name in AFTER_READY:
            self._waiting.append((name, args))
            return None
        return self._run(name, args)

    def _run(self, name, args):
        try:
            return self.handlers[name](*args)
        except Exception as error:
            console.error("chaport.%s failed: %s" % (name, error))
            return None
