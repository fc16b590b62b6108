"""What the chat window shows around the messages: receipts, typing, system lines, end of chat.

Pure logic fed with the server's frames (docs/protocol.md); the browser code
draws what it answers. Runs under CPython and MicroPython alike.
"""

# Hide "Ann is typing…" when no new typing frame came for this long (ms).
TYPING_TIMEOUT_MS = 6000

# The spec's statuses of the visitor's own messages (appearance.textStatuses): Sending
# (not stored yet), Unread (stored, no operator has read it), Read.
SENDING, UNREAD, SEEN = "message_sending", "message_unread", "message_read"


class Receipts:
    """Read receipts both ways.

    - The operator's: `seen` events (by 'operator') and `seenAt` on the visitor's
      own messages say how far the operator has read; those show as "Read".
    - The visitor's: the newest operator or system message id the visitor has
      seen, reported once to the server (`seen` frame) when the window shows it.
    """

    def __init__(self):
        self.operator_seen_up_to = 0
        self.reported_up_to = 0

    def learn_message(self, message):
        """Reads `seenAt` of a message from history or an ack. True when it moved on."""
        message_id = message.get("id")
        if not isinstance(message_id, int):
            return False
        if message.get("authorKind") == "visitor" and message.get("seenAt"):
            return self._operator_read(message_id)
        if message.get("authorKind") != "visitor" and message.get("seenAt"):
            # Seen by this visitor before (another tab, an earlier page).
            self.reported_up_to = max(self.reported_up_to, message_id)
        return False

    def learn_event(self, event):
        """A `seen` event; True when the operator read further (statuses change)."""
        up_to = event.get("upTo")
        if not isinstance(up_to, int):
            return False
        if event.get("by") == "operator":
            return self._operator_read(up_to)
        self.reported_up_to = max(self.reported_up_to, up_to)
        return False

    def _operator_read(self, up_to):
        if up_to <= self.operator_seen_up_to:
            return False
        self.operator_seen_up_to = up_to
        return True

    def status(self, message, pending):
        """The status key of one of the visitor's own messages."""
        if pending or not isinstance(message.get("id"), int):
            return SENDING
        if message["id"] <= self.operator_seen_up_to:
            return SEEN
        return UNREAD

    def to_report(self, messages):
        """The id to send in a `seen` frame now (the window shows these), or None."""
        newest = 0
        for message in messages:
            if message.get("authorKind") != "visitor" and isinstance(message.get("id"), int):
                newest = max(newest, message["id"])
        if newest <= self.reported_up_to:
            return None
        self.reported_up_to = newest
        return newest


class OperatorTyping:
    """The operator's typing indicator: shown on typing frames, gone on stop,
    on their next message, or after TYPING_TIMEOUT_MS without news."""

    def __init__(self):
        self.name = None
        self.operator_id = None
        self.until = 0

    def frame(self, frame, now):
        operator = frame.get("operator") or {}
        if frame.get("typing") is False:
            self.stop()
            return
        self.name = operator.get("name") or ""
        self.operator_id = operator.get("id")
        self.until = now + TYPING_TIMEOUT_MS

    def message(self, message):
        """A message arrived: its author is not typing any more."""
        if message.get("authorKind") == "operator" and message.get("authorId") in (self.operator_id, None):
            self.stop()

    def stop(self):
        self.name = None
        self.operator_id = None
        self.until = 0

    def text(self, now, t):
        """What the indicator says now ('' when nobody types)."""
        if self.name is None or now >= self.until:
            return ""
        if self.name:
            return t("named_typing", name=self.name)
        return t("operator_typing")


def system_text(system, operator_names, t):
    """The words of a system line, or None for codes this widget does not know."""
    if not isinstance(system, dict):
        return None
    code = system.get("code")
    if code == "assigned":
        name = operator_names.get(system.get("operatorId")) or t("operator")
        return t("operator_joined", name=name)
    if code == "closed":
        return t("chat_ended")
    if code == "reopened":
        return t("chat_reopened")
    return None


def after_chat(chat):
    """What the end-of-chat panel offers for the newest chat: None (chat open or
    unknown), 'rate' (closed, not rated yet) or 'rated'."""
    if not isinstance(chat, dict) or chat.get("status") != "closed":
        return None
    return "rated" if chat.get("rating") in ("good", "bad") else "rate"


def human_size(size):
    """1234567 -> '1.2 MB' (decimal units, like file managers)."""
    if not isinstance(size, int) or size < 0:
        return ""
    if size < 1000:
        return "%d B" % size
    for unit in ("KB", "MB", "GB"):
        size = size / 1000
        if size < 1000 or unit == "GB":
            return ("%.1f %s" % (size, unit)).replace(".0 ", " ")
    return ""


def transcript_problem(code, t):
    """The end-of-chat panel's note for a refused transcript.request (the error's code)."""
    if code == "PARLEY_E_CONFLICT":
        return t("transcript_already")
    if code == "PARLEY_E_RATE_LIMIT":
        return t("transcript_later")
    if code == "PARLEY_E_FORBIDDEN":
        return t("transcript_refused")
    return t("error_generic")


def upload_problem(status, max_bytes, t):
    """The message for a failed upload's HTTP status."""
    if status == 413:
        return t("file_too_large", max=human_size(max_bytes))
    if status == 415:
        return t("file_type_not_allowed")
    return t("upload_failed")
