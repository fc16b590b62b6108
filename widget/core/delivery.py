"""The visitor side of "nothing lost, nothing twice".

- Outbox: every message the visitor writes gets a client id at once and stays
  queued until the server acknowledges that id; on reconnect the queue is sent
  again in order (the server stores a client id once, so a resend is harmless).
- Timeline: messages by server id, so a message that arrives twice (resend
  ack + live event, or two tabs) shows once, in server order.
- The newest event seq seen, which `hello` sends so the server replays exactly
  what this tab missed.
"""

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_client_id(random_bits, counter):
    """A client message id from random bits (an int) and a per-page counter."""
    text = ""
    value = random_bits
    while value and len(text) < 16:
        text += _ALPHABET[value % 36]
        value //= 36
    return "c%s-%d" % (text or "0", counter)


class Outbox:
    def __init__(self):
        self._pending = []  # frames in the order written

    def add(self, client_id, text, file=None):
        """Queues a message; `file` is an uploaded file dict (its id is sent as fileId,
        the rest lets a reloaded page draw the pending message)."""
        frame = {"type": "message.send", "clientId": client_id, "text": text}
        if isinstance(file, dict) and isinstance(file.get("id"), str):
            frame["fileId"] = file["id"]
            frame["file"] = file
        self._pending.append(frame)
        return frame

    def acknowledge(self, client_id):
        """Drops the message the server stored; returns True if it was pending."""
        for index, frame in enumerate(self._pending):
            if frame["clientId"] == client_id:
                del self._pending[index]
                return True
        return False

    def pending(self):
        """Frames to (re)send after a (re)connect, oldest first."""
        return list(self._pending)

    def is_pending(self, client_id):
        return any(frame["clientId"] == client_id for frame in self._pending)

    def restore(self, frames):
        """Adds frames kept from an earlier page (e.g. written just before a reload)."""
        for frame in frames or ():
            if (isinstance(frame, dict) and isinstance(frame.get("clientId"), str)
                    and isinstance(frame.get("text"), str) and not self.is_pending(frame["clientId"])):
                self.add(frame["clientId"], frame["text"], frame.get("file"))


class Timeline:
    """Messages of the visitor's chat, unique by id and ordered by id (server order)."""

    def __init__(self):
        self._by_id = {}
        self.last_seq = 0

    def add(self, message):
        """Adds a message dict with an int `id`; returns True when it is new."""
        message_id = message.get("id") if isinstance(message, dict) else None
        if not isinstance(message_id, int) or message_id in self._by_id:
            return False
        self._by_id[message_id] = message
        return True

    def has_id(self, message_id):
        return message_id in self._by_id

    def saw_seq(self, seq):
        """Records an event seq; returns False for one already seen (a duplicate)."""
        if not isinstance(seq, int) or seq <= self.last_seq:
            return False
        self.last_seq = seq
        return True

    def messages(self):
        return [self._by_id[key] for key in sorted(self._by_id)]

    def has_client_id(self, client_id):
        return any(m.get("clientId") == client_id for m in self._by_id.values())

    def clear(self):
        self._by_id = {}
        self.last_seq = 0
