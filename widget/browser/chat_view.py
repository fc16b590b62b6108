"""The conversation in the chat window: messages with names, times and read
receipts, the operator's typing, system lines, attachments, and the
end-of-chat panel (rating, transcript). Decisions come from widget.core.conversation;
this module turns server frames into drawing calls and frames to send."""

import js

from widget.browser import console
from widget.browser.hostjs import later, to_host
from widget.browser.uploads import Upload, visitor_headers
from widget.core.conversation import (
    TYPING_TIMEOUT_MS,
    OperatorTyping,
    Receipts,
    after_chat,
    human_size,
    system_text,
    transcript_problem,
    upload_problem,
)
from widget.core.state import EXPANDED
from widget.core.validation import looks_like_email

# The server's default limit until `welcome.maxUploadBytes` says otherwise.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ChatView:
    def __init__(self, widget):
        self.widget = widget
        self.receipts = Receipts()
        self.typing = OperatorTyping()
        self.chat = None  # the newest chat (CHAT dict), for the end-of-chat panel
        self.upload = None
        self.max_upload = MAX_UPLOAD_BYTES
        self._last_author = None  # who wrote the last drawn message (names once per run)
        self.queue_text = ""  # "You're number 2 in line", or "" when not queued

    # -- the window -------------------------------------------------------------
    def connect(self, window):
        window.on_attach = self.attach_file
        window.on_cancel_upload = self.cancel_upload
        window.on_rate = self.rate
        window.on_transcript = self.request_transcript
        self._last_author = None
        self._draw_end()
        # A window built after these frames came (it is built lazily) shows them too.
        window.set_queue(self.queue_text)
        self._draw_typing()

    def _t(self, key, **params):
        return self.widget.translator.t(key, **params)

    def _window(self):
        return self.widget.window

    # -- messages ----------------------------------------------------------------
    def _time(self, iso):
        if not isinstance(iso, str):
            return ""
        try:
            options = to_host({"hour": "2-digit", "minute": "2-digit"})
            return js.Date.new(iso).toLocaleTimeString(self.widget.translator.lang, options)
        except Exception:
            return ""

    def _operator_names(self):
        return {o.get("id"): o.get("name") for o in self.widget.server_operators if isinstance(o, dict)}

    def _file(self, file):
        if not isinstance(file, dict):
            return None
        shown = dict(file)
        shown["url"] = js.URL.new(file.get("url") or "/", self.widget.base_url).href
        shown["image"] = str(file.get("contentType") or "").startswith("image/")
        shown["sizeText"] = human_size(file.get("size"))
        return shown

    def drawing(self, message):
        """The window's dict for a server message (None: nothing to draw)."""
        author = message.get("authorKind") or "operator"
        text = message.get("text")
        if author == "system":
            text = system_text(message.get("system"), self._operator_names(), self._t)
            if not text:
                return None
        who = None
        author_key = (author, message.get("authorId"))
        if author == "operator" and author_key != self._last_author:
            who = self._operator_names().get(message.get("authorId")) or self._t("operator")
        self._last_author = author_key
        return {"author": author, "text": text, "id": message.get("id"), "clientId": message.get("clientId"),
                "file": self._file(message.get("file")), "who": who,
                # A system line is a quiet divider: no time under it.
                "time": "" if author == "system" else self._time(message.get("createdAt"))}

    def meta(self, message, pending=False):
        if message.get("authorKind", "visitor") != "visitor":
            return ""
        return self.widget._status(self.receipts.status(message, pending))

    def show(self, message):
        """Draws a server message (new or updated) and learns receipts and typing from it."""
        self.typing.message(message)
        self._draw_typing()
        if self.receipts.learn_message(message):
            self._restatus()
        window = self._window()
        if window is None:
            return
        drawing = self.drawing(message)
        if drawing is not None:
            window.show_message(drawing, self.meta(message))
        self.report_seen()

    def show_pending(self, frame):
        """A message of the visitor's outbox, not stored by the server yet."""
        window = self._window()
        if window is None:
            return
        message = {"authorKind": "visitor", "text": frame.get("text"), "clientId": frame["clientId"],
                   "file": frame.get("file")}
        self._last_author = ("visitor", None)
        window.show_message({"author": "visitor", "text": frame.get("text"), "clientId": frame["clientId"],
                             "file": self._file(frame.get("file")), "time": ""},
                            self.meta(message, pending=True))

    def _restatus(self):
        window = self._window()
        if window is None:
            return
        for message in self.widget.timeline.messages():
            if message.get("authorKind") == "visitor":
                window.set_meta("id:%d" % message["id"], self._time(message.get("createdAt")),
                                self.meta(message))

    # -- receipts ------------------------------------------------------------------
    def seen_event(self, event):
        if self.receipts.learn_event(event):
            self._restatus()

    def report_seen(self):
        """Tells the server what the visitor has seen: only while the window is open and the tab shown."""
        widget = self.widget
        if widget.window is None or widget.state.value != EXPANDED:
            return
        if widget.host.document.visibilityState != "visible":
            return
        up_to = self.receipts.to_report(widget.timeline.messages())
        if up_to is not None:
            widget._send({"type": "seen", "upTo": up_to})

    # -- the operator typing ---------------------------------------------------------
    def typing_frame(self, frame):
        self.typing.frame(frame, js.Date.now())
        self._draw_typing()
        if frame.get("typing") is not False:
            later(self._draw_typing, TYPING_TIMEOUT_MS + 50)

    def _draw_typing(self):
        window = self._window()
        if window is not None:
            window.set_typing(self.typing.text(js.Date.now(), self._t))

    # -- the queue ---------------------------------------------------------------------
    def queue_frame(self, frame):
        """'You're number 2 in line' while every operator is busy; gone once assigned."""
        position = frame.get("position")
        self.queue_text = self._t("queue_position", position=position) if isinstance(position, int) else ""
        window = self._window()
        if window is not None:
            window.set_queue(self.queue_text)

    # -- end of chat -------------------------------------------------------------------
    def chat_changed(self, chat):
        if isinstance(chat, dict):
            self.chat = chat
            self._draw_end()

    def chat_started(self):
        self.chat = None
        self._draw_end()

    def _draw_end(self):
        window = self._window()
        if window is not None:
            window.end.show(after_chat(self.chat))

    def rate(self, rating, comment):
        frame = {"type": "chat.rate", "rating": rating, "comment": comment[:2000]}
        if isinstance(self.chat, dict) and self.chat.get("id"):
            frame["chatId"] = self.chat["id"]
        self.widget._send(frame)

    def request_transcript(self, email):
        window = self._window()
        if not looks_like_email(email):
            window.end.transcript_result(self._t("email_invalid"), problem=True)
            return
        frame = {"type": "transcript.request", "email": email}
        if isinstance(self.chat, dict) and self.chat.get("id"):
            frame["chatId"] = self.chat["id"]
        self.widget._send(frame)

    def transcript_answer(self, frame):
        window = self._window()
        if window is not None:
            # Sent by mail now, or recorded for the team to send: either way it will come.
            window.end.transcript_result(self._t("transcript_sent", email=frame.get("email") or ""))

    def transcript_refused(self, frame):
        window = self._window()
        if window is not None:
            window.end.transcript_result(transcript_problem(frame.get("code"), self._t), problem=True)

    # -- attachments ---------------------------------------------------------------------
    def attach_file(self, file):
        widget = self.widget
        window = self._window()
        if self.upload is not None:
            return  # one at a time; the bar shows the running one
        if file.size > self.max_upload:
            window.upload.problem(upload_problem(413, self.max_upload, self._t))
            return
        if not widget.visitor_id or not widget.visitor_token:
            window.upload.problem(self._t("upload_failed"))
            return
        endpoint = js.URL.new("../api/visitor/files", widget.base_url).href
        headers = visitor_headers(widget.config["appId"], widget.visitor_id, widget.visitor_token)
        name = file.name
        window.upload.show(self._t("uploading", name=name, percent=0), 0)

        def progress(percent):
            window.upload.show(self._t("uploading", name=name, percent=percent), percent)

        def done(uploaded):
            self.upload = None
            window.upload.hide()
            widget.send_file(uploaded)

        def failed(status):
            cancelled = self.upload is not None and self.upload.cancelled
            self.upload = None
            if cancelled:
                window.upload.hide()
                return
            problem = upload_problem(status, self.max_upload, self._t)
            window.upload.problem(problem)
            console.warn("upload of '%s' failed (HTTP %s)" % (name, status))

        self.upload = Upload(endpoint, headers, file, progress, done, failed)

    def cancel_upload(self):
        if self.upload is not None:
            self.upload.cancel()
