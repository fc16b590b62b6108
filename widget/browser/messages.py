"""The visitor's messages: the outbox (client ids, resends), what a new chat's first
message carries (assignees, a message trigger), the timeline's display, typing.

A mixin of widget.browser.main.Widget (its state is made in Widget.__init__).
"""

import js
import parley_js

from widget.browser import console
from widget.browser.hostjs import to_host, to_py
from widget.core.assignments import resolve_assignment
from widget.core.compare import JS_NULL
from widget.core.delivery import new_client_id
from widget.core.triggers import message_conditioned
from widget.core.validation import looks_like_email


class Messages:
    """What the visitor sends, and each message shown once."""

    def _show(self, message):
        if not isinstance(message, dict) or not self.timeline.add(message):
            return
        # The server has it (seen in history or an event even if its ack was lost).
        if message.get("clientId"):
            self._out_of_outbox(message["clientId"])
        if self.launcher is None and self.widget_allowed:
            self._render()
        if self.launcher is None:
            return
        # Drawn now if the window exists; otherwise the window draws the timeline when built.
        self._offer_offline_form()
        self.view.show(message)

    def send_message(self, text):
        """The visitor wrote `text`: queue it with a client id, show it, send it.
        Returns False when the message was not taken (the offline form needs a fix)."""
        self._writing(False)  # the composer empties as the message goes
        email = self.window.email_value() if self.window is not None else ""
        if email:
            if not looks_like_email(email):
                self.window.email_problem(self.translator.t("email_invalid"))
                return False
            self.window.email_problem(None)
            self._queue_visitor_data(to_host({"email": email}), None)
            self.window.ask_email(False)
            self.window.show_message({"author": "system", "text": self.translator.t("offline_thanks"),
                                      "clientId": "offline-thanks"}, "")
        self._queue_message(text)
        self._save_ui()  # the draft is gone

    def send_file(self, file):
        """An upload finished: send it as a message, queued like text (nothing lost offline)."""
        self._queue_message("", file)

    def _queue_message(self, text, file=None):
        """Gives the message a client id, keeps it in the outbox until acknowledged, shows it
        and sends it (when offline it stays queued and goes on reconnect)."""
        self.sent_count += 1
        client_id = new_client_id(int(js.Math.random() * 1099511627776), self.sent_count)
        frame = self.outbox.add(client_id, text, file)
        if not self.chat_open:
            assignees = self._assignees(text)
            if assignees is not None:
                frame["assignees"] = assignees
            answer = self._message_trigger(text)
            if answer is not None:
                frame["triggerId"] = answer
        self.store.save("outbox", self.outbox.pending())
        self.view.show_pending(frame)
        if self.socket is not None:
            self.socket.send(frame)
        return client_id

    def _message_trigger(self, text):
        """The id of the first enabled trigger with a `message_text` condition that the chat's
        opening message matches (the server answers with its message as the bot), or None.
        Triggers without one were for the page, before any message."""
        if self.triggers.started or not text:
            return None
        for trigger in self.triggers.matching(self.parameters(text)):
            if not message_conditioned(trigger):
                continue
            if self.triggers.mark_shown(trigger["id"]):
                self.store.save("shown", self.triggers.shown_ids())
                shown = self.triggers.event_for(trigger)
                self.emitter.emit(shown[0], to_host(shown[1]))
                self.analytics.track(shown[0])
            return trigger["id"]
        return None

    def _assignees(self, message_text):
        """Who a new chat should go to: assignment rules first, then the `operators` option."""
        # getParameterValue('message_text') inside `resolve` and function rules answers the
        # message being sent (the spec's resolve reads it), and only while they run.
        self.sending_text = message_text
        try:
            chosen, warnings = resolve_assignment(
                self._host_assignments(), self.parameters(message_text), self.api.object, self.server_rules)
        finally:
            self.sending_text = None
        for warning in warnings:
            console.warn(warning)
        if chosen is None and self.config["operators"]:
            chosen = list(self.config["operators"])
        return chosen[:20] if chosen is not None else None

    def _host_assignments(self):
        # Host functions in the rules are called through JS so that their own
        # exceptions are caught and null (stop) and undefined (go on) differ.
        assignments = self.assignments or {}
        wrapped = dict(assignments)
        if parley_js.kind(assignments.get("resolve")) == "function":
            wrapped["resolve"] = self._host_function(assignments["resolve"])
        if assignments.get("rules"):
            wrapped["rules"] = [
                (rule[0], self._host_function(rule[1]) if parley_js.kind(rule[1]) == "function" else rule[1])
                for rule in assignments["rules"]
            ]
        return wrapped

    def _host_function(self, fn):
        def call(cp):
            outcome = parley_js.call(fn, cp)
            kind = outcome.kind
            if kind == "error":
                raise RuntimeError(outcome.value)
            if kind == "null":
                return JS_NULL
            if kind == "undefined":
                return None
            return to_py(outcome.value)
        return call

    def _status(self, key):
        """A message status as text (appearance.textStatuses true) or as an icon with a label."""
        text = self.translator.t(key)
        if self.config["appearance"]["textStatuses"]:
            return text
        icon = {"message_unread": "\u2713", "message_read": "\u2713\u2713"}.get(key, "\u25f7")
        return (icon, text)

    def drop_unsent(self, client_id):
        """A message the server refused for good (chaport.client's sendEvent of an unknown
        file): out of the outbox and the window's pending bubbles."""
        self._out_of_outbox(client_id)
        if self.window is not None:
            self.window.drop_pending(client_id)

    def _out_of_outbox(self, client_id):
        if self.outbox.acknowledge(client_id):
            self.store.save("outbox", self.outbox.pending())

    def _visitor_typing(self, text):
        self._save_ui()
        self._writing(bool(text.strip()))
        # Sneak peek for the operator, at most once a second.
        now = js.Date.now()
        if now - self.last_typing_sent < 1000 or self.socket is None:
            return
        self.last_typing_sent = now
        self.socket.send({"type": "typing", "text": text[:1000]})

    def _writing(self, writing):
        # The page hears when the visitor starts and stops writing (onWebChat's onStartWriting).
        if writing == self.visitor_writing:
            return
        self.visitor_writing = writing
        if self.client is not None:
            self.client.visitor_typing(writing)
