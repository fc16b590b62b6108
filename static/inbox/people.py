"""The inbox's visitor features without the DOM: who is on the site now, how to word a
visit (time on site, device, source), search snippets, initials, and which new
messages deserve a notification.

Pure Python that runs under MicroPython (in the page) and CPython (in tests): no
`typing` at runtime, no dataclasses, no walrus. Functions that need words take the
page's `t` (strings.t).
"""

# A visitor whose socket closed is shown a little longer: loading the next page closes
# the old page's socket before the new page's widget connects.
LEAVING_GRACE_MS = 8000
# How often the list of visitors on the site is read again (it also catches other
# server processes' visitors coming and going).
REFRESH_MS = 15000
SEARCH_MIN = 2
SEARCH_MAX = 200
DEVICES = ("desktop", "ios", "android")


def initials(name, email=None):
    """'Ann Lee' -> 'AL', 'ann@shop.example' -> 'A', nothing -> '?'."""
    words = [w for w in (name or "").split() if w]
    if not words:
        local = (email or "").split("@")[0]
        return local[:1].upper() or "?"
    if len(words) == 1:
        return words[0][:1].upper()
    return (words[0][:1] + words[-1][:1]).upper()


def host_of(url):
    """'https://www.example.com/path?q=1' -> 'www.example.com' ('' for anything else)."""
    text = url or ""
    start = text.find("://")
    if start < 0:
        return ""
    rest = text[start + 3:]
    for stop in "/?#":
        cut = rest.find(stop)
        if cut >= 0:
            rest = rest[:cut]
    at = rest.rfind("@")
    return rest[at + 1:] if at >= 0 else rest


def path_of(url):
    """What a page URL shows after its host: '/mugs/blue?x=1' ('/' when nothing)."""
    text = url or ""
    start = text.find("://")
    if start < 0:
        return text
    rest = text[start + 3:]
    cut = -1
    for stop in "/?#":
        found = rest.find(stop)
        if found >= 0 and (cut < 0 or found < cut):
            cut = found
    return rest[cut:] if cut >= 0 else "/"


def duration(seconds, t):
    """Time on site: '40 s', '12 min', '2 h 5 min'."""
    seconds = int(seconds) if seconds and seconds > 0 else 0
    if seconds < 60:
        return t("time.seconds", n=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return t("time.minutes", n=minutes)
    return t("time.hours", h=minutes // 60, m=minutes % 60)


def device_text(device, t):
    return t("device." + (device if device in DEVICES else "desktop"))


def source_text(visitor, t):
    """Where the visit came from: utm tags when there are any, else the referrer's host."""
    utm = visitor.get("utm") or {}
    parts = [str(utm[key]) for key in ("source", "medium", "campaign") if utm.get(key)]
    if parts:
        return t("source.utm", tags=" / ".join(parts))
    host = host_of(visitor.get("referrer"))
    return t("source.referrer", host=host) if host else t("source.direct")


def visitor_name(visitor, t):
    """A visitor's name, email, or 'Visitor 3fa2c1'."""
    name = visitor.get("name") or visitor.get("email")
    return name or t("visitor.anonymous", short=(visitor.get("id") or "")[-6:])


def highlight_parts(snippet, highlight):
    """[(text, marked)] pieces of a search snippet; the match (start, end) is marked."""
    text = snippet or ""
    if not isinstance(highlight, list) or len(highlight) != 2:
        return [(text, False)]
    start, end = highlight[0], highlight[1]
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return [(text, False)]
    parts = [(text[:start], False), (text[start:end], True), (text[end:], False)]
    return [part for part in parts if part[0]]


def search_query(text):
    """The query to send for what is typed, or None while it is too short (or too long)."""
    query = " ".join((text or "").split())
    if len(query) < SEARCH_MIN or len(query) > SEARCH_MAX:
        return None
    return query


class OnlineVisitors:
    """The visitors on the site now: the server's list, kept current by feed frames."""

    def __init__(self):
        self.visitors = {}  # visitor id -> ONLINE_VISITOR (GET /api/operator/visitors/online)
        self.leaving = {}  # visitor id -> when its last socket closed (ms)
        self.loaded = False

    def load(self, visitors, now_ms):
        """The server's list replaces ours; a visitor it still lists is not leaving."""
        known = {}
        for visitor in visitors:
            known[visitor["id"]] = visitor
            self.leaving.pop(visitor["id"], None)
        # One that just left stays for the grace period, as it did before the reload.
        for visitor_id in list(self.leaving):
            if visitor_id in self.visitors and visitor_id not in known:
                known[visitor_id] = self.visitors[visitor_id]
        self.visitors = known
        self.loaded = True
        self.expire(now_ms)

    def page_view(self, frame):
        """A live `page.view`; True when the visitor was known (else: read the list again)."""
        visitor = self.visitors.get(frame.get("visitorId"))
        if visitor is None:
            return False
        self.leaving.pop(visitor["id"], None)
        page = {"url": frame.get("url") or "", "title": frame.get("title") or "",
                "referrer": frame.get("referrer") or "", "utm": frame.get("utm") or {},
                "createdAt": frame.get("createdAt")}
        visitor["page"] = page
        visitor["pageViews"] = (visitor.get("pageViews") or 0) + 1
        if not visitor.get("visitStartedAt"):
            visitor["visitStartedAt"] = page["createdAt"]
            visitor["referrer"] = page["referrer"]
        if not visitor.get("utm") and page["utm"]:
            visitor["utm"] = page["utm"]  # the visit's first campaign tags (as the server counts)
        return True

    def left(self, visitor_id, now_ms):
        """A live `visitor.left`: it goes after the grace period unless it comes back."""
        if visitor_id in self.visitors:
            self.leaving[visitor_id] = now_ms
            return True
        return False

    def expire(self, now_ms):
        """Drops visitors whose grace period is over; True when something went."""
        gone = [v for v, since in self.leaving.items() if now_ms - since >= LEAVING_GRACE_MS]
        for visitor_id in gone:
            self.leaving.pop(visitor_id, None)
            self.visitors.pop(visitor_id, None)
        return bool(gone)

    def chat_changed(self, chat):
        """A chat started or closed: whether the visitor is in a chat now."""
        visitor = self.visitors.get(chat.get("visitorId"))
        if visitor is None:
            return False
        if chat.get("status") == "open":
            visitor["chatId"] = chat["id"]
        elif visitor.get("chatId") == chat.get("id"):
            visitor["chatId"] = None
        return True

    def updated(self, profile):
        """A `visitor.updated` frame (name, email, verified)."""
        visitor = self.visitors.get(profile.get("id"))
        if visitor is None:
            return False
        for key in ("name", "email", "verified"):
            if key in profile:
                visitor[key] = profile[key]
        return True

    def listed(self):
        """Newest arrivals first, so rows keep their place as visitors browse."""
        visitors = list(self.visitors.values())
        visitors.sort(key=lambda v: (v.get("visitStartedAt") or v.get("lastSeenAt") or "", v["id"]),
                      reverse=True)
        return visitors

    def count(self):
        return len([1 for v in self.visitors if v not in self.leaving])


class Notifier:
    """Which new visitor messages to announce (sound + desktop notification).

    Every operator tab sees every message; only one of them should ring. A tab
    showing the message's chat (visible) claims it quietly; the others wait a
    moment and ring if nobody claimed it yet (the claim itself is made under a
    cross-tab lock by the page)."""

    def __init__(self):
        self.new_chats = set()  # chats whose chat.started came and no visitor message yet

    def chat_started(self, chat):
        if chat.get("id"):
            self.new_chats.add(chat["id"])

    def plan(self, frame, current_chat, visible):
        """For a feed `message` frame: None, or {"id", "chatId", "quiet", "newChat"}.
        `quiet`: this tab shows that chat, so nobody should ring for it."""
        message = frame.get("message") or {}
        if message.get("authorKind") != "visitor" or not isinstance(message.get("id"), int):
            return None
        chat_id = frame.get("chatId") or message.get("chatId")
        new_chat = chat_id in self.new_chats
        self.new_chats.discard(chat_id)
        return {"id": message["id"], "chatId": chat_id, "quiet": bool(visible and chat_id == current_chat),
                "newChat": new_chat}


def notification_text(plan, message, visitor_label, t):
    """(title, body) of a notification for a planned message."""
    title = t("notify.new_chat" if plan["newChat"] else "notify.new_message", name=visitor_label)
    text = " ".join((message.get("text") or "").split())
    file = message.get("file")
    if not text and file:
        text = t("list.file", name=file.get("name") or "")
    if len(text) > 140:
        text = text[:139] + "…"
    return title, text
