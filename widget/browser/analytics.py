"""Sends widget events to the host page's Google Analytics (widget.core.analytics decides)."""

import parley_js

from widget.browser import console
from widget.browser.hostjs import to_host
from widget.core.analytics import APIS, GLOBAL_NAMES, choose_api, hit


class Analytics:
    def __init__(self, host, google):
        self.host = host
        self.google = google

    def _target(self, api):
        # apiObject must be the host's own object (a copy would swallow the events).
        if self.google.get("api") == api and self.google.get("apiObject") is not None:
            try:
                return self.host.chaportConfig.analytics.google.apiObject
            except Exception:
                return None
        return parley_js.get(self.host, GLOBAL_NAMES[api])

    def _present(self):
        present = {}
        for api in APIS:
            target = self._target(api)
            kind = parley_js.kind(target)
            if api in ("gtag", "ga"):
                present[api] = kind == "function"
            else:  # dataLayer / _gaq: an array, or ga.js's object with push()
                present[api] = kind in ("array", "object", "instance") and \
                    parley_js.kind(parley_js.get(target, "push")) == "function"
        return present

    def track(self, event):
        # GA often loads after the widget: detect on every event, it is cheap.
        api = choose_api(self.google, self._present())
        if api is None:
            return
        sent = hit(api, event, self.google.get("id"))
        if sent is None:
            return
        kind, value = sent
        target = self._target(api)
        if kind == "call":
            problem = parley_js.guard(target, *[to_host(arg) for arg in value])
        else:
            problem = parley_js.guardMethod(target, "push", to_host(value))
        if problem is not None:
            console.error_once("analytics", "sending an event to Google Analytics failed: " + problem)
