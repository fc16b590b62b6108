"""The inbox's state, without the DOM: chats, messages, outbox, typing previews,
read receipts both ways, and the operator's own typing.

Pure Python that runs under MicroPython (in the page) and CPython (in tests):
no `typing` at runtime, no dataclasses, no walrus in comprehensions. Functions
that need words take the page's `t` (strings.t), so this module holds no text.
"""

# The visitor's widget hides "Ann is typing" a few seconds after the last frame, so
# while the operator keeps typing a new `typing: true` goes out this often, no more.
TYPING_EVERY_MS = 2000

# What a chat shows for its rating, by the protocol's values.
RATING_KEYS = {"good": "chat.rating.good", "bad": "chat.rating.bad"}


def short_id(value):
    return (value or "")[-6:]


def human_size(size, t):
    """1234567 -> '1.2 MB' (decimal units, as file managers and the widget show them)."""
    if not isinstance(size, int) or size < 0:
        return ""
    if size < 1000:
        return t("size.b", n=size)
    value = size / 1000
    for unit in ("kb", "mb"):
        if value < 1000:
            return t("size." + unit, n=_one_decimal(value))
        value = value / 1000
    return t("size.gb", n=_one_decimal(value))


def _one_decimal(value):
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def is_image(file):
    return str(file.get("contentType") or "").startswith("image/")


def safe_file_url(file):
    """The file's URL if it is one of this server's download paths, else None.

    The server always answers `/files/<id>/<name>`; anything else (say a
    `javascript:` URL from a bug or a hostile database) is never put in an href.
    """
    url = file.get("url")
    if isinstance(url, str) and url.startswith("/files/") and "//" not in url:
        return url
    return None


def upload_problem(status, body, size, t):
    """What to tell the operator when POST /api/operator/files did not answer 201
    (`size`: the picked file's bytes, named in the "too large" message)."""
    if status == 0:
        return t("upload.network")
    if status == 413:
        return t("upload.too_large", size=human_size(size, t))
    if status == 415:
        return t("upload.type")
    if status == 401:
        return t("error.session")
    if status == 429:
        return t("upload.rate")
    reason = body.get("message") if isinstance(body, dict) else None
    return t("upload.failed", reason=reason or str(status))


def thumb_size(width, height, max_width=240, max_height=180):
    """An image's thumbnail size in CSS pixels (never scaled up), or None when unknown.
    Set as width/height attributes, it reserves the space before the image loads, so
    the conversation does not jump away from the bottom."""
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    scale = min(1, max_width / width, max_height / height)
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def rating_text(chat, t):
    """'👍 Rated good' for a rated chat, '' otherwise (the comment is shown apart)."""
    key = RATING_KEYS.get(chat.get("rating"))
    return t(key) if key else ""


class TypingOut:
    """When this operator tells a visitor it is typing (the operator `typing` frame).

    `changed` is called on every edit of the reply box and `stop` when the box is
    emptied, the reply is sent or the chat is left; both answer the frames to send.
    """

    def __init__(self):
        self.chat_id = None  # the chat the visitor was last told about (typing: true)
        self.last_ms = 0

    def changed(self, chat_id, text, now_ms):
        if not chat_id or not text.strip():
            return self.stop()
        frames = self.stop() if self.chat_id not in (None, chat_id) else []
        if self.chat_id is None or now_ms - self.last_ms >= TYPING_EVERY_MS:
            self.chat_id = chat_id
            self.last_ms = now_ms
            frames.append({"type": "typing", "chatId": chat_id, "typing": True})
        return frames

    def stop(self):
        if self.chat_id is None:
            return []
        frame = {"type": "typing", "chatId": self.chat_id, "typing": False}
        self.chat_id = None
        self.last_ms = 0
        return [frame]


class Inbox:
    def __init__(self):
        self.chats = {}  # chat id -> chat dict (the API's shape: visitor, lastMessage, unread)
        self.messages = {}  # chat id -> {message id: message}
        self.has_more = {}  # chat id -> older history exists
        # chat id -> newest visitor message id an operator has read (our own `seen`
        # frames, other tabs' `seen` frames, `seenAt` in history): drives unread counts.
        self.read_upto = {}
        # chat id -> newest message id the visitor has seen (its `seen` frames): "Seen".
        self.visitor_seen = {}
        # chat id -> newest visitor message id known (messages or list previews): what a
        # `seen` must reach for the chat to count as read, even once a reply is newer.
        self.newest_visitor = {}
        self.operators = {}  # operator id -> name, for system lines ("Ann joined the chat")
        self.teams = {}  # team id -> name, for transfer lines
        self.typing = {}  # chat id -> what the visitor is typing
        self.outbox = []  # unacknowledged sends: {"chatId", "clientId", "text", "state", "error"}
        self.current = None  # the open conversation's chat id
        self.tab = "open"  # unassigned | mine | open (all open chats) | closed
        self.me_id = None  # this operator's id ("Mine")
        # Feed news about chats are numbered; a list asked for at version N does not undo
        # what the feed said about a chat after N (see load_chats).
        self.chat_version = 0
        self.changed_in = {}  # chat id -> chat_version of its last feed change
        self._sent = 0

    # -- chats ------------------------------------------------------------------
    def set_me(self, operator_id):
        self.me_id = operator_id

    def load_chats(self, chats, since=None):
        """Merges a list from GET /api/operator/chats (the server is right about these).
        `since`: chat_version when the list was asked for (None: it may predate any news)."""
        for chat in chats:
            known = self.chats.get(chat["id"])
            if known is not None:
                self._keep_newer(known, chat, since)
            self.chats[chat["id"]] = chat
            last = chat.get("lastMessage")
            if last and last["authorKind"] == "visitor":
                self._saw_visitor_message(chat["id"], last["id"])
            self._apply_read(chat["id"])

    def _keep_newer(self, known, chat, since):
        """A list is read over HTTP while the feed keeps going: what already arrived live
        (a newer message, a close or reopen, a transfer, a rating) is not undone by an
        answer read before it."""
        if self.last_id(known) > self.last_id(chat):
            chat["lastMessage"] = known["lastMessage"]
            chat["unread"] = max(chat.get("unread", 0), known.get("unread", 0))
        if chat["id"] in self.changed_in and (since is None or self.changed_in[chat["id"]] > since):
            for key in ("status", "endedAt", "closedBy", "operatorIds", "teamId"):
                if key in known:
                    chat[key] = known[key]
        for key in ("endedAt", "closedBy", "rating", "ratingComment", "transcriptEmail"):
            if chat.get(key) is None and known.get(key) is not None:
                chat[key] = known[key]

    def chat_started(self, chat):
        """A live `chat.started`: a new chat; details come with the next list load."""
        known = self.chats.get(chat["id"])
        if known is None:
            chat = dict(chat)
            chat["visitor"] = {"id": chat.get("visitorId"), "name": None, "email": None, "country": None}
            chat["lastMessage"] = None
            chat["unread"] = 0
            self.chats[chat["id"]] = chat
            return True
        known.update(chat)
        return False

    def chat_changed(self, chat):
        """A chat's new state (closed, rated, ...): a CHAT from the feed; True when it was known."""
        known = self.chats.get(chat["id"])
        if known is None:
            return False
        for key in ("status", "endedAt", "operatorIds", "teamId", "closedBy", "rating", "ratingComment",
                    "transcriptEmail"):
            if key in chat:
                known[key] = chat[key]
        self.chat_version += 1
        self.changed_in[chat["id"]] = self.chat_version
        return True

    def last_id(self, chat):
        last = chat.get("lastMessage")
        return last["id"] if last else 0

    def transcript_requested(self, chat, email):
        """A `transcript.requested` frame; True when the chat is known."""
        known = self.chat_changed(chat)
        if known and email:
            self.chats[chat["id"]]["transcriptEmail"] = email
        return known

    def unread(self, chat):
        return chat.get("unread", 0)

    def total_unread(self):
        return sum(self.unread(chat) for chat in self.chats.values() if chat["status"] == "open")

    def in_tab(self, chat, tab):
        """Whether a chat is listed under a tab: unassigned, mine, open (all open) or closed."""
        if tab == "closed":
            return chat["status"] == "closed"
        if chat["status"] != "open":
            return False
        if tab == "unassigned":
            return not chat.get("operatorIds")
        if tab == "mine":
            return self.me_id is not None and self.me_id in (chat.get("operatorIds") or [])
        return tab == "open"

    def listed(self, tab):
        """The chats of one tab, most recent activity first."""
        chats = [chat for chat in self.chats.values() if self.in_tab(chat, tab)]
        chats.sort(key=lambda chat: (self.last_id(chat), chat.get("startedAt") or ""), reverse=True)
        return chats

    def count(self, tab):
        return len([1 for chat in self.chats.values() if self.in_tab(chat, tab)])

    def tab_unread(self, tab):
        """The unread visitor messages of a tab's chats (its badge)."""
        return sum(self.unread(chat) for chat in self.chats.values() if self.in_tab(chat, tab))

    def select(self, chat_id):
        """Shows a chat; it is read only once a `seen` for it goes out (see seen_to_send)."""
        self.current = chat_id

    # -- read receipts ----------------------------------------------------------------
    def _saw_visitor_message(self, chat_id, message_id):
        if message_id > self.newest_visitor.get(chat_id, 0):
            self.newest_visitor[chat_id] = message_id

    def newest_visitor_id(self, chat_id):
        """The newest visitor message id known in a chat (loaded or in a list preview)."""
        return self.newest_visitor.get(chat_id, 0)

    def seen_to_send(self, chat_id):
        """The `upTo` for a `seen` frame now that the chat is on screen, or None when
        nothing new arrived since the last one (so each visitor message is reported once)."""
        newest = 0
        for message in self.messages.get(chat_id, {}).values():
            if message["authorKind"] == "visitor" and message["id"] > newest:
                newest = message["id"]
        if newest <= self.read_upto.get(chat_id, 0):
            return None
        return newest

    def mark_read(self, chat_id, up_to):
        """Operators have read the visitor's messages up to `up_to` (ours or a `seen` frame)."""
        if up_to > self.read_upto.get(chat_id, 0):
            self.read_upto[chat_id] = up_to
        self._apply_read(chat_id)

    def _apply_read(self, chat_id):
        """Brings the chat's unread count in line with what is known to be read: a list
        loaded just before our `seen` was stored must not bring the badge back."""
        chat = self.chats.get(chat_id)
        up_to = self.read_upto.get(chat_id, 0)
        if chat is None or not up_to or not chat.get("unread"):
            return
        newest = self.newest_visitor_id(chat_id) or self.last_id(chat)
        if up_to >= newest:
            chat["unread"] = 0
        elif chat_id in self.has_more and up_to >= (self.oldest_id(chat_id) or 0):
            # Every unread message is loaded here: count them.
            chat["unread"] = len([1 for m in self.messages[chat_id].values()
                                  if m["authorKind"] == "visitor" and m["id"] > up_to])

    def seen(self, chat_id, up_to, by):
        """A live `seen` frame; True when what a shown message says changed."""
        if chat_id is None or not isinstance(up_to, int):
            return False
        if by == "operator":
            self.mark_read(chat_id, up_to)
            return True
        if by == "visitor" and up_to > self.visitor_seen.get(chat_id, 0):
            self.visitor_seen[chat_id] = up_to
            return True
        return False

    def status(self, message):
        """An operator message's receipt: 'seen' by the visitor, else 'sent' (stored)."""
        if message.get("seenAt") or message["id"] <= self.visitor_seen.get(message["chatId"], 0):
            return "seen"
        return "sent"

    # -- system lines -----------------------------------------------------------------
    def system_text(self, system, t):
        """The words of a system line, or None for codes this inbox does not know."""
        if not isinstance(system, dict):
            return None
        code = system.get("code")
        if code == "assigned":
            name = self.operators.get(system.get("operatorId"))
            by = system.get("by")
            if by and by != system.get("operatorId"):
                # A transfer (chat.assign) by an operator: say who did it, and to which team.
                values = {"by": self.operators.get(by) or t("system.someone"),
                          "name": name or t("system.someone")}
                team = self.teams.get(system.get("teamId"))
                if team:
                    return t("system.transferred.team", team=team, **values)
                return t("system.transferred", **values)
            return t("system.assigned", name=name) if name else t("system.assigned.someone")
        if code == "closed":
            return t("system.closed.visitor") if system.get("by") == "visitor" else t("system.closed")
        if code == "reopened":
            name = self.operators.get(system.get("by"))
            return t("system.reopened.by", name=name) if name else t("system.reopened")
        return None

    def unknown_operator(self, message):
        """The operator id of an 'assigned' line whose name this inbox does not know yet."""
        system = message.get("system")
        if isinstance(system, dict) and system.get("code") == "assigned":
            operator_id = system.get("operatorId")
            if operator_id and operator_id not in self.operators:
                return operator_id
        return None

    def set_operators(self, operators):
        for operator in operators or []:
            self.operators[operator["id"]] = operator.get("name") or ""

    def set_teams(self, teams):
        for team in teams or []:
            self.teams[team["id"]] = team.get("name") or ""

    def preview(self, last, t):
        """The chat list's one-line preview of its newest (non-system) message."""
        if not last:
            return t("list.no_messages")
        text = last.get("text") or ""
        file = last.get("file")
        if file:
            attachment = t("list.file", name=file.get("name") or "")
            text = attachment + " " + text if text else attachment
        if last["authorKind"] == "operator":
            text = t("you") + ": " + text
        return text

    # -- messages ---------------------------------------------------------------
    def add_message(self, chat_id, message):
        """Stores a message (from history, an ack or the live feed); True if it is new."""
        known = self.messages.setdefault(chat_id, {})
        new = message["id"] not in known
        old = known.get(message["id"])
        if old is not None and old.get("seenAt") and not message.get("seenAt"):
            # An ack or event is a snapshot from sending time: keep the newer receipt.
            message = dict(message)
            message["seenAt"] = old["seenAt"]
        known[message["id"]] = message
        visitor = message["authorKind"] == "visitor"
        if visitor:
            self._saw_visitor_message(chat_id, message["id"])
        if visitor and message.get("seenAt"):
            self.read_upto[chat_id] = max(self.read_upto.get(chat_id, 0), message["id"])
        chat = self.chats.get(chat_id)
        # System lines and internal notes are no preview and no activity (the server's
        # list skips them too).
        if chat is not None and message["authorKind"] not in ("system", "note") \
                and message["id"] > self.last_id(chat):
            chat["lastMessage"] = {"id": message["id"], "authorKind": message["authorKind"],
                                   "text": message["text"], "createdAt": message["createdAt"],
                                   "file": message.get("file")}
            if visitor:
                self.typing.pop(chat_id, None)
                if message["id"] > self.read_upto.get(chat_id, 0):
                    chat["unread"] = chat.get("unread", 0) + 1
        return new

    def history_loaded(self, chat_id):
        """True once a `history` answer came for the chat (live messages alone are not all)."""
        return chat_id in self.has_more

    def forget_history(self, keep):
        """After a reconnect the feed replays nothing: other chats reload when opened."""
        for chat_id in list(self.has_more):
            if chat_id != keep:
                del self.has_more[chat_id]
                self.messages.pop(chat_id, None)

    def add_history(self, chat_id, messages, has_more, older):
        """A `history` answer; `older` when it was a page before the oldest shown."""
        if not older:
            self.has_more[chat_id] = has_more
        elif not has_more:
            self.has_more[chat_id] = False
        for message in messages:
            self.add_message(chat_id, message)
        self._apply_read(chat_id)

    def conversation(self, chat_id):
        known = self.messages.get(chat_id, {})
        return [known[key] for key in sorted(known)]

    def oldest_id(self, chat_id):
        known = self.messages.get(chat_id)
        return min(known) if known else None

    # -- the outbox ---------------------------------------------------------------
    def queue(self, chat_id, text, now_ms, salt, file=None, note=False):
        """A new reply with its own client id; stays here until its ack arrives.
        `file` is an uploaded FILE (POST /api/operator/files) sent as `fileId`;
        `note`: an internal note (`note.add`), which the visitor never sees."""
        self._sent += 1
        item = {"chatId": chat_id, "clientId": f"op-{now_ms}-{salt}-{self._sent}",
                "text": text, "file": file, "state": "sending", "error": None, "note": note}
        self.outbox.append(item)
        return item

    def acked(self, client_id, message):
        for item in self.outbox:
            if item["clientId"] == client_id:
                self.outbox.remove(item)
                break
        self.add_message(message["chatId"], message)

    def failed(self, client_id, state, error):
        """Marks an outbox item: 'retry' (kept, resent later) or 'failed' (given up)."""
        for item in self.outbox:
            if item["clientId"] == client_id:
                item["state"] = state
                item["error"] = error
                return item
        return None

    def drop_failed(self, chat_id):
        self.outbox = [i for i in self.outbox if not (i["chatId"] == chat_id and i["state"] == "failed")]

    def pending(self, chat_id):
        return [item for item in self.outbox if item["chatId"] == chat_id]

    def to_resend(self):
        return [item for item in self.outbox if item["state"] != "failed"]

    # -- typing -------------------------------------------------------------------
    def visitor_typing(self, chat_id, visitor_id, text):
        """A live `typing` frame; returns the chat id it belongs to (None if unknown)."""
        if chat_id is None:
            for chat in self.chats.values():
                if chat.get("visitorId") == visitor_id and chat["status"] == "open":
                    chat_id = chat["id"]
                    break
        if chat_id is None:
            return None
        if text:
            self.typing[chat_id] = text
        else:
            self.typing.pop(chat_id, None)
        return chat_id

    def visitor_label(self, chat, anonymous):
        visitor = chat.get("visitor") or {}
        name = visitor.get("name") or visitor.get("email")
        return name or anonymous.format(short=short_id(chat.get("visitorId")))
