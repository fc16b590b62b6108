"""The handlers of the Chaport API's methods (`chaport.open`, `on`, `startSession`...):
widget.browser.api binds them to the page's `window.chaport` and checks their arguments
first (widget.core.commands); chaport.client is built here when the page first reads it.

A mixin of widget.browser.main.Widget (its state is made in Widget.__init__). What a
handler returns goes back to the page through HostApi's `give`, never from a function
JS calls (boot.mjs `answering`).
"""

import parley_js

from widget.browser import console, ui
from widget.browser.chat_view import ChatView
from widget.browser.hostjs import host_callable, later, to_host
from widget.browser.transport import VisitorSocket
from widget.core.compare import compare
from widget.core.config import normalize_assignments, parse_position
from widget.core.delivery import Outbox
from widget.core.parameters import parameters_for, unknown_key_error


class ApiHandlers:
    """chaport.* as the page calls it."""

    # -- the chat window ---------------------------------------------------------
    def open(self):
        if isinstance(self.config["openIn"], str):
            # openIn '_blank': the chat lives on Parley's own page in a new tab.
            self._open_in_new_window()
            return
        self._changed(self.state.open())

    def close(self):
        self._changed(self.state.close())

    def toggle(self):
        if isinstance(self.config["openIn"], str):
            self._open_in_new_window()
            return
        self._changed(self.state.toggle())

    def open_in(self, target):
        """openIn(target): where the chat opens from now on, then open it there."""
        self.config["openIn"] = target
        if isinstance(target, str):
            self._open_in_new_window()
            return
        self._cancel_window_build()  # one under way would draw into the old place
        if self.window is not None:
            # A moved iframe reloads blank (RUNTIME-NOTES): draw the window anew there.
            ui.remove(self.window)
            self.window = None
            self._make_window()
            self._draw_state()
        self.open()

    def get_widget_state(self):
        return self.state.value

    def hide_launcher(self):
        self.launcher_visible = False
        if self.launcher is not None:
            self.launcher.show(False)
        if self.window is not None:
            self.window.set_close_button(self._close_button_shown())

    def show_launcher(self):
        self.launcher_visible = True
        if not self.widget_allowed:
            return
        self._render()
        self.launcher.show(self._launcher_shown())
        if self.window is not None:
            self.window.set_close_button(self._close_button_shown())

    def update_position(self, position, callback=None):
        parsed, problem = parse_position(position, "position")
        if problem:
            console.error("chaport.updatePosition: " + problem)
            return
        self.config["appearance"]["position"] = parsed
        if self.launcher is not None:
            self.launcher.place(parsed)
        if self.window is not None:
            self.window.place(parsed)
        if self.invitation is not None:
            self.invitation.place(parsed)
        if callback is not None:
            # No animation to wait for: the move is applied within this frame.
            later(lambda: self._call_back("updatePosition", callback), 0)

    # -- events and listeners ----------------------------------------------------
    def on(self, name, listener):
        listener = host_callable(listener)
        problem = self.emitter.on(name, listener)
        if problem:
            console.error("chaport.on: " + problem)
        elif name == "ready" and self.started:
            # A listener added after `ready` still hears it once, like jQuery's ready.
            later(lambda: listener(to_host({"visitorId": self.visitor_id})), 0)

    def _listener_failed(self, name, error):
        console.error("a '%s' listener threw: %s" % (name, error))

    def _call_back(self, method, callback, *args):
        try:
            host_callable(callback)(*args)
        except Exception as error:
            console.error("the callback passed to chaport.%s threw: %s" % (method, error))

    def _client_object(self, give):
        # give(the object), not `return`: see parley_js.answering in boot.mjs.
        try:
            if self.client is None:
                from widget.browser.client import Client  # loaded only when the page uses it

                self.client = Client(self)
            give(self.client.object)
        except Exception as error:
            console.error("chaport.client could not be built: %s" % error)
            give(None)

    # -- parameters, triggers, assignment ----------------------------------------
    def compare(self, value=None, matcher=None, expected=None):
        try:
            return compare(value, matcher, expected)
        except ValueError as error:
            console.error("chaport.compare: %s" % error)
            return False

    def parameters(self, message_text=None):
        location = self.host.location.href
        # The visitor's language is the browser's, whatever the widget shows: the spec's rule
        # "Spanish support if visitor language is Spanish" runs on a page forcing English.
        return parameters_for(location, self.host.document.referrer, self.host.navigator.language,
                              self.country, message_text)

    def get_parameter_value(self, key):
        problem = unknown_key_error(key)
        if problem:
            console.error("chaport.getParameterValue: " + problem)
            return None
        return self.parameters(self.sending_text)[key]

    def is_online(self, callback):
        self._call_back("isOnline", callback, self.online)

    def new_page_view(self, details=None):
        page = self._page()
        if isinstance(details, dict):
            for key in ("url", "title", "referrer"):
                if isinstance(details.get(key), str):
                    page[key] = details[key]
        frame = {"type": "page.view"}
        frame.update(page)
        self._send(frame)

    def set_active_trigger(self, trigger):
        problem = self.triggers.set_active(trigger)
        if problem:
            console.error("chaport.setActiveTrigger: " + problem)
            return
        active = self.triggers.active
        self._show_invitation(active["message"])
        if active.get("id") is None or self.triggers.mark_shown(active["id"]):
            name, payload = self.triggers.event_for(active)
            self.emitter.emit(name, to_host(payload))
            self.analytics.track(name)

    def set_assignment_rules(self, assignments):
        normalised, warnings = normalize_assignments(assignments, "setAssignmentRules")
        for warning in warnings:
            console.error("chaport." + warning)
        self.assignments = normalised

    def set_visitor_data(self, data, integrity_hash=None):
        # The server checks the hash against the exact JSON the page signed, so
        # send the host's own JSON text of the object, not a Python re-encoding.
        raw = self.api.raw_args[0] if self.api.raw_args else None
        self._queue_visitor_data(raw if raw is not None else to_host(data), integrity_hash)

    def _queue_visitor_data(self, host_value, integrity_hash):
        frame = {"type": "visitor.update", "dataJson": parley_js.json(host_value)}
        if integrity_hash:
            frame["hash"] = integrity_hash
        self._send(frame)

    # -- sessions ----------------------------------------------------------------
    def start_session(self, credentials=None, callback=None):
        """startSession(visitorCredentials?, callback?): `callback()` (no argument) runs once
        the session asked for has started (after its `ready`), never when it does not start."""
        user = None
        if credentials is not None:
            user = _user_credentials(credentials)
            if user is None:
                console.error("chaport.startSession: visitorCredentials must be {id, token} strings; "
                              "no session was started")
                return
        if self.session_running:
            if user is None or user == self.user:
                # The running session is the one asked for.
                if callback is not None:
                    self._when_ready(lambda: self._call_back("startSession", callback))
                return
            # Another logged-in user (Chaport's behaviour): this session ends, theirs starts.
            self.stop_session()
        self.session_running = True
        if user is None:
            user = _user_credentials(self.config["session"]["user"])
        self.user = user
        stored = self.store.load_credentials()
        if user is not None and stored.get("visitorId") != user["id"]:
            # What this device kept is another person's (or an anonymous visitor's): never
            # show it or send it as this user.
            self._forget_visitor()
            stored = {}
        self.visitor_id = stored.get("visitorId")
        self.visitor_token = stored.get("visitorToken")
        self.resumed_from = self.visitor_id if self.visitor_token else None
        self.socket = VisitorSocket(self._socket_url(), self._send_hello, self._socket_frame, self._down,
                                    self._refused)
        self.socket.connect()
        if callback is not None:
            self._when_ready(lambda: self._call_back("startSession", callback))

    def stop_session(self, clear_credentials=False, callback=None):
        if self.socket is not None:
            self.socket.stop()
            self.socket = None
            if self.client is not None:
                self.client.down(1000, manual=True)
        self.session_running = False
        self.ready_waiters = []  # stopped before `ready`: that session never started
        self._clear_reconnecting()
        self.close()
        self._cancel_window_build()
        for part in (self.launcher, self.window, self.invitation):
            if part is not None:
                ui.remove(part)
        self.launcher = self.window = self.invitation = None
        self.started = False
        self.api.ready = False
        self._read_all()  # no blinking title for a chat that is gone
        if clear_credentials:
            # After close(), which saved the window state: that goes too.
            self._forget_visitor()
            self.pending_frames = []  # queued for the forgotten visitor
        if callback is not None:
            later(lambda: self._call_back("stopSession", callback), 0)

    def _forget_visitor(self):
        """Nothing of the last visitor stays on this device or in this page: credentials,
        conversation, unsent messages, window state and draft, triggers already shown."""
        self.store.forget_credentials()
        for name in ("outbox", "ui", "shown"):
            self.store.save(name, None)
        self.visitor_id = self.visitor_token = None
        self.timeline.clear()
        self.outbox = Outbox()
        self.chat_open = False
        self.restored_ui = {}
        self.scroll_restored = False
        if self.scroll_timer is not None:
            self.host.clearTimeout(self.scroll_timer)
            self.scroll_timer = None
        self.view.cancel_upload()
        self.view = ChatView(self)  # receipts, typing, end-of-chat panel of that chat
        self.triggers.forget_visitor()

    def _when_ready(self, action):
        if self.started:
            later(action, 0)
        else:
            # Once, and for the session starting now only.
            self.ready_waiters.append(action)


def _user_credentials(value):
    """{id, token} of a logged-in user (startSession's or session.user), or None."""
    if isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("token"), str):
        return {"id": value["id"], "token": value["token"]}
    return None
