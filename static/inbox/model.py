"""The inbox's state, without the DOM: chats, messages, outbox, typing previews.

Pure Python that runs under MicroPython (in the page) and CPython (in tests):
no `typing` at runtime, no dataclasses, no walrus in comprehensions.
"""


def short_id(value):
    return (value or "")[-6:]


class Inbox:
    def __init__(self):
        self.chats = {}  # chat id -> chat dict (the API's shape: visitor, lastMessage, unread)
        self.messages = {}  # chat id -> {message id: message}
        self.has_more = {}  # chat id -> older history exists
        self.read_upto = {}  # chat id -> newest message id this operator has seen
        self.typing = {}  # chat id -> what the visitor is typing
        self.outbox = []  # unacknowledged sends: {"chatId", "clientId", "text", "state", "error"}
        self.current = None  # the open conversation's chat id
        self.tab = "open"
        self._sent = 0

    # -- chats ------------------------------------------------------------------
    def load_chats(self, chats):
        """Merges a list from GET /api/operator/chats (the server is right about these)."""
        for chat in chats:
            self.chats[chat["id"]] = chat
            self._mark_read_if_current(chat["id"])

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
        """A chat's new state (closed, reopened); True when it was known."""
        known = self.chats.get(chat["id"])
        if known is None:
            return False
        for key in ("status", "endedAt", "operatorIds"):
            if key in chat:
                known[key] = chat[key]
        return True

    def last_id(self, chat):
        last = chat.get("lastMessage")
        return last["id"] if last else 0

    def unread(self, chat):
        if self.read_upto.get(chat["id"], 0) >= self.last_id(chat):
            return 0
        return chat.get("unread", 0)

    def total_unread(self):
        return sum(self.unread(chat) for chat in self.chats.values() if chat["status"] == "open")

    def listed(self, status):
        """The chats of one tab, most recent activity first."""
        chats = [chat for chat in self.chats.values() if chat["status"] == status]
        chats.sort(key=lambda chat: (self.last_id(chat), chat.get("startedAt") or ""), reverse=True)
        return chats

    def count(self, status):
        return len([1 for chat in self.chats.values() if chat["status"] == status])

    def select(self, chat_id):
        self.current = chat_id
        self._mark_read_if_current(chat_id)

    def _mark_read_if_current(self, chat_id):
        chat = self.chats.get(chat_id)
        if chat_id == self.current and chat is not None:
            self.read_upto[chat_id] = max(self.read_upto.get(chat_id, 0), self.last_id(chat))

    # -- messages ---------------------------------------------------------------
    def add_message(self, chat_id, message):
        """Stores a message (from history, an ack or the live feed); True if it is new."""
        known = self.messages.setdefault(chat_id, {})
        new = message["id"] not in known
        known[message["id"]] = message
        chat = self.chats.get(chat_id)
        if chat is not None and message["id"] > self.last_id(chat):
            chat["lastMessage"] = {"id": message["id"], "authorKind": message["authorKind"],
                                   "text": message["text"], "createdAt": message["createdAt"]}
            if message["authorKind"] == "visitor":
                chat["unread"] = chat.get("unread", 0) + 1
                self.typing.pop(chat_id, None)
            elif message["authorKind"] == "operator":
                chat["unread"] = 0
            self._mark_read_if_current(chat_id)
        return new

    def add_history(self, chat_id, messages, has_more, older):
        """A `history` answer; `older` when it was a page before the oldest shown."""
        if not older:
            self.has_more[chat_id] = has_more
        elif not has_more:
            self.has_more[chat_id] = False
        for message in messages:
            self.add_message(chat_id, message)

    def conversation(self, chat_id):
        known = self.messages.get(chat_id, {})
        return [known[key] for key in sorted(known)]

    def oldest_id(self, chat_id):
        known = self.messages.get(chat_id)
        return min(known) if known else None

    # -- the outbox ---------------------------------------------------------------
    def queue(self, chat_id, text, now_ms, salt):
        """A new reply with its own client id; stays here until its ack arrives."""
        self._sent += 1
        item = {"chatId": chat_id, "clientId": f"op-{now_ms}-{salt}-{self._sent}",
                "text": text, "state": "sending", "error": None}
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
