"""The widget's session with the server: the socket, the hello, and what each frame
from the server changes (welcome, events, history, acks, presence, the reconnecting line).

A mixin of widget.browser.main.Widget: it reads and sets the Widget's state (made in
Widget.__init__) and calls its other parts (drawing, messages) through `self`.
"""

import js

from widget.browser import console
from widget.browser.hostjs import to_host
from widget.browser.timing import mark
from widget.core.config import merge_account_appearance, widget_visible_for
from widget.core.state import EXPANDED


class Frames:
    """Frames in (and the few out that the session itself sends)."""

    # -- the socket --------------------------------------------------------------
    def _socket_url(self):
        url = js.URL.new("../ws/visitor", self.base_url)
        url.protocol = "wss:" if url.protocol == "https:" else "ws:"
        return url.href

    def _send_hello(self):
        hello = {
            "type": "hello",
            "appId": self.config["appId"],
            "visitorId": self.visitor_id,
            "visitorToken": self.visitor_token,
            "page": self._page(),
        }
        if self.timeline.last_seq:
            # Reconnecting: the server replays exactly what this tab missed.
            hello["lastSeq"] = self.timeline.last_seq
        if self.user is not None:
            hello["user"] = self.user
        self.socket.send(hello)
        mark("connect")

    def _page(self):
        document = self.host.document
        return {"url": self.host.location.href, "title": document.title, "referrer": document.referrer}

    def _send(self, frame):
        if self.socket is None or not self.socket.send(frame):
            self.pending_frames.append(frame)

    def _down(self):
        """The socket closed and will be retried: after `parley.reconnectingAfter` ms still
        down, the window says so (a quick reconnect shows nothing). The composer stays usable:
        messages wait in the outbox."""
        if self.connection_down:
            return  # another failed retry of the same outage: its clock already runs
        self.connection_down = True
        if self.client is not None:
            self.client.down(self.socket.close_code if self.socket is not None else None)
        self.reconnecting_timer = self.host.setTimeout(self._show_reconnecting,
                                                       self.config["parley"]["reconnectingAfter"])

    def _show_reconnecting(self):
        self.reconnecting_timer = None
        if not self.connection_down:
            return
        self.reconnecting_shown = True
        if self.window is not None:
            self.window.set_connection(self.translator.t("reconnecting"))

    def _clear_reconnecting(self):
        """Connected again, or nothing is being retried any more: the line goes."""
        self.connection_down = False
        if self.reconnecting_timer is not None:
            self.host.clearTimeout(self.reconnecting_timer)
            self.reconnecting_timer = None
        if self.reconnecting_shown:
            self.reconnecting_shown = False
            if self.window is not None:
                self.window.set_connection(None)

    def _refused(self, _code):
        """The server refused this session for good (wrong session.user token, origin, app) and
        said why in an error frame. Retrying can't help: the session is over until the page
        calls startSession again, and whoever waits for it to start is never called."""
        self.socket = None
        self.session_running = False
        self.ready_waiters = []
        self._clear_reconnecting()
        if self.client is not None:
            self.client.down(_code)

    # -- frames in ---------------------------------------------------------------
    def _socket_frame(self, frame):
        """Every frame: chaport.client's answers go to it, the rest to the widget, then to it."""
        client = self.client
        if client is not None and client.claims(frame):
            return
        self._note_chats(frame)
        self._frame(frame)
        if client is not None:
            client.frame(frame)

    def _note_chats(self, frame):
        kind = frame.get("type")
        chat = None
        if kind in ("welcome", "history"):
            chat = frame.get("chat")
        elif kind == "event":
            chat = (frame.get("event") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), str):
            self.chats[chat["id"]] = chat

    def _frame(self, frame):
        kind = frame.get("type")
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "error" and frame.get("request") == "transcript.request":
            # The visitor's own request was refused (address, once per chat, limits): the
            # panel says so; nothing is wrong with the page.
            self.view.transcript_refused(frame)
        elif kind == "error":
            code = frame.get("code")
            message = frame.get("message") or code
            console.error_once("frame-" + str(code), "%s (%s)" % (message, code))
            if code == "PARLEY_E_UNKNOWN_APP":
                self.socket.stop()
        elif kind == "event":
            if self.timeline.saw_seq(frame.get("seq")):
                self._event(frame.get("event") or {})
        elif kind == "ack":
            self._acknowledged(frame.get("clientId"), frame.get("message"))
        elif kind == "history":
            for message in frame.get("messages") or ():
                self._show(message)
            self.view.chat_changed(frame.get("chat"))
            self._restore_chat(frame.get("chat"))
            self.history_loaded = True
            if not self.scroll_restored and self.window is not None:
                # The conversation is back: so is where the visitor was reading.
                self.window.restore_scroll(self.restored_ui.get("scroll"))
                self.scroll_restored = True
        elif kind == "typing":
            self.view.typing_frame(frame)
        elif kind == "queue":
            self.view.queue_frame(frame)
        elif kind == "transcript":
            self.view.transcript_answer(frame)
        elif kind == "online":
            # Operator presence changes come live, outside the event log.
            self._set_online(bool(frame.get("online")))
        elif kind == "reset":
            # Too much was missed to replay: reload the conversation instead.
            self.timeline.last_seq = frame.get("seq") or 0
            self.socket.send({"type": "history", "limit": 100})

    def _welcome(self, frame):
        mark("welcome")
        self._clear_reconnecting()
        self.visitor_id = frame.get("visitorId")
        self.visitor_token = frame.get("visitorToken")
        online = bool(frame.get("online"))
        if self.online_known:
            # Operators may have come or gone while the socket was down: a change all the same.
            self._set_online(online)
        else:
            self.online = online
            self.online_known = True
        self.country = frame.get("country")
        self.store.save_credentials(self.visitor_id, self.visitor_token)
        for warning in self.triggers.set_triggers(frame.get("triggers") or []) or ():
            console.warn("trigger from the server ignored: " + warning)
        self.server_operators = frame.get("operators") or []
        self.server_rules = frame.get("assignmentRules") or None
        self._restore_chat(frame.get("chat"))
        # The app's appearance defaults fill what the page's chaportConfig left unset.
        merge_account_appearance(self.config["appearance"], frame.get("appearance"))
        if frame.get("languages"):
            self._use_app_languages(frame["languages"])
        if isinstance(frame.get("maxUploadBytes"), int):
            self.view.max_upload = frame["maxUploadBytes"]
        pending, self.pending_frames = self.pending_frames, []
        for queued_frame in pending:
            self.socket.send(queued_frame)
        # Messages written while offline (or before a reload) go now, in order.
        for message_frame in self.outbox.pending():
            self.socket.send(message_frame)
        if self.started:
            return
        self.timeline.last_seq = frame.get("seq") or 0
        self.socket.send({"type": "history", "limit": 50})
        self.started = True
        # The site may hide the widget here (devices/countries): then API only, nothing drawn.
        self.widget_allowed = not self.headless and widget_visible_for(self.config, self.device, self.country)
        self.emitter.emit("ready", to_host({"visitorId": self.visitor_id}))
        mark("ready")
        # startSession callbacks: the session has started (unless a ready listener stopped it,
        # which dropped them).
        waiters, self.ready_waiters = self.ready_waiters, []
        for action in waiters:
            action()
        if not self.session_running:
            return  # a ready listener stopped the session (the spec's stopSession example)
        if self.widget_allowed:
            self._render()
            if self.restored_ui.get("state") == EXPANDED:
                self.open()
        self.api.set_ready()
        self.triggers.restore_shown(self.store.load("shown"))
        self._schedule_triggers()
        mark("done")

    def _event(self, event):
        kind = event.get("type")
        if kind == "message":
            message = event.get("message") or {}
            fresh = not self.timeline.has_id(message.get("id"))
            self._show(message)
            # Words from the team count as unread; system lines ("Ann joined") do not.
            if (fresh and message.get("authorKind") in ("operator", "bot") and self.state.value != EXPANDED
                    and not self.headless):  # headless: the page's own UI tells the visitor
                self._unread_message(message)
            # A bot's message shown for the first time (a live event, never a history reload).
            bot_sent = self.triggers.bot_message_event(message) if fresh else None
            if bot_sent is not None:
                self.emitter.emit(bot_sent[0], to_host(bot_sent[1]))
                self.analytics.track(bot_sent[0])
        elif kind == "chat.started":
            self.chat_open = True
            self.view.chat_started()
            if self.window is not None:
                self.window.ask_email(False)
            self.triggers.chat_started()
            if self.invitation is not None:
                self.invitation.show(False)
            # The spec: "fires when the visitor starts a chat"; an operator's proactive chat
            # is a chat all the same (no invitations, no assignment) but not the visitor's start.
            if event.get("startedBy") != "operator":
                self.emitter.emit("chat.started", to_host({"visitorId": self.visitor_id}))
                self.analytics.track("chat.started")

        elif kind == "chat.closed":
            self.chat_open = False
            self.view.chat_changed(event.get("chat"))
        elif kind == "chat.reopened":
            # An operator reopened the chat: it is open again, so the rating panel goes.
            self.chat_open = True
            self.view.chat_changed(event.get("chat"))
        elif kind == "chat.rated":
            self.view.chat_changed(event.get("chat"))
        elif kind == "seen":
            self.view.seen_event(event)

    def _restore_chat(self, chat):
        """The chat as the server has it (welcome: the open chat; history: the newest one).
        Only a live `chat.started` told this page before: a new page of an ongoing chat then
        showed invitations again and ran the assignment rules for its first message."""
        self.chat_open = isinstance(chat, dict) and chat.get("status") == "open"
        if not self.chat_open:
            return
        # No trigger during a chat (getActiveTrigger answers null), on this page too.
        self.triggers.chat_started()
        if self.invitation is not None:
            self.invitation.show(False)
        self._offer_offline_form()

    def _acknowledged(self, client_id, message):
        self._out_of_outbox(client_id)
        if isinstance(message, dict):
            self._show(message)

    def _set_online(self, online):
        if online == self.online:
            return
        self.online = online
        if self.window is not None:
            self.window.set_status(self._texts())
            self._offer_offline_form()
        self.emitter.emit("chat.onlineChange", online)
