"""The operator inbox: login, chat list, conversation, replies, live updates.

Runs in MicroPython under PyScript on Parley's own origin. State lives in
`model.Inbox`; this module draws it and talks to the server (HTTP for login
and lists, /ws/operator for everything live). Every string comes from
`strings.STRINGS`; user text only ever reaches the page as `textContent`.
"""

import asyncio
import json

from model import Inbox
from pyscript import document, fetch, window
from pyscript.ffi import create_proxy
from strings import t

BACKOFF_MS = (500, 1000, 2000, 4000, 8000, 15000)
HISTORY_PAGE = 50
CLOSED_PAGE = 50
OPEN_PAGE = 200
NEAR_BOTTOM_PX = 80


_running = set()


def spawn(coroutine):
    """Runs a coroutine in the background, keeping a reference until it ends."""
    async def run():
        try:
            await coroutine
        finally:
            _running.discard(task)

    task = asyncio.create_task(run())
    _running.add(task)
    return task


def el(element_id):
    return document.getElementById(element_id)


def make(tag, cls=None, text=None):
    node = document.createElement(tag)
    if cls:
        node.className = cls
    if text is not None:
        node.textContent = text
    return node


def clear(node):
    while node.firstChild:
        node.removeChild(node.firstChild)


def on(node, event, handler):
    node.addEventListener(event, create_proxy(handler))


def local_time(iso):
    if not iso:
        return ""
    moment = window.Date.new(iso)
    return f"{int(moment.getHours()):02d}:{int(moment.getMinutes()):02d}"


def error_reason(body, fallback):
    if isinstance(body, dict) and body.get("message"):
        return body["message"]
    return fallback


def translate_page():
    for node in document.querySelectorAll("[data-t]"):
        node.textContent = t(node.getAttribute("data-t"))
    for node in document.querySelectorAll("[data-t-label]"):
        node.setAttribute("aria-label", t(node.getAttribute("data-t-label")))
    for node in document.querySelectorAll("[data-t-placeholder]"):
        node.setAttribute("placeholder", t(node.getAttribute("data-t-placeholder")))
    document.title = t("app.title")


async def api(method, path, body=None):
    """(status, parsed JSON or None); status 0 when the server could not be reached."""
    options = {"method": method, "headers": {"Accept": "application/json"}}
    if body is not None:
        options["headers"]["Content-Type"] = "application/json"
        options["body"] = json.dumps(body)
    try:
        response = await fetch(path, **options)
        text = await response.text()
    except Exception:  # any network failure is "could not reach"
        return 0, None
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return int(response.status), parsed


class App:
    def __init__(self):
        self.state = Inbox()
        self.me = None
        self.socket = None
        self.connected = False
        self.stopped = True
        self.attempt = 0
        self.generation = 0  # bumps on logout/login: stale sockets and timers stand down
        self.refresh_pending = False
        self.loading_history = {}
        self.closing = None
        self.salt = f"{int(window.Math.random() * 4294967295):x}"
        self._bind()

    # -- wiring ------------------------------------------------------------------------
    def _bind(self):
        on(el("login-form"), "submit", self.on_login)
        on(el("logout"), "click", self.on_logout)
        on(el("banner-close"), "click", lambda event: self.hide_banner())
        on(el("tab-open"), "click", lambda event: self.show_tab("open"))
        on(el("tab-closed"), "click", lambda event: self.show_tab("closed"))
        on(el("tab-open"), "keydown", self.on_tab_key)
        on(el("tab-closed"), "keydown", self.on_tab_key)
        on(el("composer"), "submit", self.on_send)
        on(el("reply"), "keydown", self.on_reply_key)
        on(el("conv-close"), "click", self.on_close_chat)
        on(el("conv-earlier"), "click", self.on_earlier)
        # One listener for every row (rows are redrawn often; no proxy per row).
        on(el("chat-list"), "click", self.on_chat_click)

    async def start(self):
        translate_page()
        status, body = await api("GET", "/api/operator/me")
        el("boot").hidden = True
        if status == 200:
            self.enter(body)
        else:
            self.show_login(t("error.network") if status == 0 else "")

    # -- login / logout ------------------------------------------------------------------
    def show_login(self, message=""):
        el("inbox").hidden = True
        el("login").hidden = False
        el("login-error").textContent = message
        document.title = t("app.title")
        el("login-email").focus()

    def on_login(self, event):
        event.preventDefault()
        spawn(self.login())

    async def login(self):
        email = el("login-email").value.strip()
        password = el("login-password").value
        app_id = el("login-app").value.strip()
        error = el("login-error")
        if not email or not password:
            error.textContent = t("login.missing")
            return
        button = el("login-submit")
        button.disabled = True
        button.textContent = t("login.busy")
        error.textContent = ""
        body = {"email": email, "password": password}
        if app_id:
            body["appId"] = app_id
        status, answer = await api("POST", "/api/operator/login", body)
        button.disabled = False
        button.textContent = t("login.submit")
        if status == 200:
            el("login-password").value = ""
            status, me = await api("GET", "/api/operator/me")
            if status == 200:
                self.enter(me)
                return
        if status == 0:
            error.textContent = t("error.network")
        elif status == 429:
            seconds = 60
            if isinstance(answer, dict) and answer.get("retryAfter"):
                seconds = int(answer["retryAfter"])
            error.textContent = t("login.rate", seconds=seconds)
        elif status == 401 and isinstance(answer, dict) and answer.get("needAppId"):
            el("login-app-row").hidden = False
            error.textContent = t("login.app.hint")
            el("login-app").focus()
        elif status == 401:
            error.textContent = t("login.failed.app" if app_id else "login.failed")
            el("login-password").select()
        elif status == 403:
            error.textContent = t("login.origin")
        else:
            error.textContent = t("error.action", reason=error_reason(answer, str(status)))

    def enter(self, me):
        self.me = me
        self.state = Inbox()
        self.generation += 1
        self.stopped = False
        self.attempt = 0
        el("login").hidden = True
        el("inbox").hidden = False
        el("me").textContent = t("header.signed_in", name=me.get("name") or me.get("email"))
        self.hide_banner()
        self.render_all()
        self.connect()
        spawn(self.refresh_chats())

    def on_logout(self, event):
        spawn(self.logout())

    async def logout(self):
        status, answer = await api("POST", "/api/operator/logout", {})
        if status != 200:
            reason = t("error.network") if status == 0 else error_reason(answer, str(status))
            self.show_banner(t("error.logout", reason=reason))
            return
        self.leave("")

    def leave(self, message):
        self.stopped = True
        self.generation += 1
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        self.connected = False
        self.state = Inbox()
        self.me = None
        self.show_login(message)

    # -- the socket ----------------------------------------------------------------------
    def connect(self):
        generation = self.generation
        scheme = "wss" if window.location.protocol == "https:" else "ws"
        socket = window.WebSocket.new(scheme + "://" + window.location.host + "/ws/operator")
        self.socket = socket
        self.set_conn("connecting")

        def opened(event):
            if generation == self.generation:
                socket.send(json.dumps({"v": 1, "type": "subscribe"}))

        def received(event):
            if generation != self.generation:
                return
            try:
                frame = json.loads(event.data)
            except ValueError:
                return
            self.handle(frame)

        def closed(event):
            if generation != self.generation or self.socket is not socket:
                return
            self.socket = None
            self.connected = False
            if int(event.code) == 4401:
                self.leave(t("error.session"))
                return
            if not self.stopped:
                spawn(self.reconnect_later(generation))

        socket.onopen = create_proxy(opened)
        socket.onmessage = create_proxy(received)
        socket.onclose = create_proxy(closed)

    async def reconnect_later(self, generation):
        delay = BACKOFF_MS[min(self.attempt, len(BACKOFF_MS) - 1)]
        # A little jitter so a restarted server is not hit by every tab at once.
        delay = int(delay * (0.8 + 0.4 * window.Math.random()))
        self.attempt += 1
        self.set_conn("offline", seconds=max(1, (delay + 999) // 1000))
        await asyncio.sleep(delay / 1000)
        if generation == self.generation and not self.stopped and self.socket is None:
            self.connect()

    def send(self, frame):
        if self.socket is None or not self.connected:
            return False
        frame["v"] = 1
        self.socket.send(json.dumps(frame))
        return True

    def set_conn(self, state, seconds=0):
        node = el("conn")
        node.className = "conn " + state
        if state == "live":
            node.textContent = t("conn.live")
        elif state == "offline":
            node.textContent = t("conn.offline", seconds=seconds)
        else:
            node.textContent = t("conn.connecting")

    # -- frames --------------------------------------------------------------------------
    def handle(self, frame):
        kind = frame.get("type")
        state = self.state
        if kind == "subscribed":
            self.connected = True
            self.attempt = 0
            self.set_conn("live")
            # The feed has no replay: reload what is shown, then resend what is unacknowledged.
            spawn(self.refresh_chats())
            if state.current:
                self.request_history(state.current)
            for item in state.to_resend():
                self.send_item(item)
        elif kind == "message":
            chat_id = frame["chatId"]
            state.add_message(chat_id, frame["message"])
            if chat_id not in state.chats:
                self.schedule_refresh()
            self.render_list()
            if chat_id == state.current:
                self.render_conversation()
        elif kind == "ack":
            state.acked(frame["clientId"], frame["message"])
            self.render_list()
            self.render_conversation()
        elif kind == "history":
            self.on_history(frame)
        elif kind == "typing":
            chat_id = state.visitor_typing(frame.get("chatId"), frame.get("visitorId"), frame.get("text"))
            if chat_id is not None and chat_id == state.current:
                self.render_typing()
        elif kind == "chat.started":
            state.chat_started(frame["chat"])
            self.schedule_refresh()
            self.render_list()
        elif kind in ("chat.closed", "chat"):
            if frame["chat"]["id"] == self.closing:
                self.closing = None
            if not state.chat_changed(frame["chat"]):
                self.schedule_refresh()
            self.render_list()
            if frame["chat"]["id"] == state.current:
                self.render_conversation()
        elif kind == "error":
            self.on_error(frame)

    def on_error(self, frame):
        code = frame.get("code")
        client_id = frame.get("clientId")
        if client_id:
            if code == "PARLEY_E_RATE_LIMIT":
                seconds = int(frame.get("retryAfter") or 5)
                self.state.failed(client_id, "retry", t("error.rate", seconds=seconds))
                spawn(self.resend_later(client_id, seconds, self.generation))
            else:
                self.state.failed(client_id, "failed", t("msg.failed", reason=frame.get("message") or code))
            self.render_conversation()
            return
        if self.closing is not None:
            self.closing = None
            self.render_conversation()
        if code == "PARLEY_E_NOT_FOUND":
            self.show_banner(t("error.not_found"))
        else:
            self.show_banner(t("error.action", reason=frame.get("message") or code))

    async def resend_later(self, client_id, seconds, generation):
        await asyncio.sleep(seconds)
        if generation != self.generation:
            return
        for item in self.state.outbox:
            if item["clientId"] == client_id and item["state"] == "retry":
                item["state"] = "sending"
                self.send_item(item)
                self.render_conversation()

    # -- chat list -----------------------------------------------------------------------
    def schedule_refresh(self):
        if not self.refresh_pending:
            self.refresh_pending = True
            spawn(self.refresh_chats(delay_ms=150))

    async def refresh_chats(self, delay_ms=0):
        generation = self.generation
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        self.refresh_pending = False
        lists = []
        for status, limit in (("open", OPEN_PAGE), ("closed", CLOSED_PAGE)):
            code, body = await api("GET", f"/api/operator/chats?status={status}&limit={limit}")
            if generation != self.generation:
                return
            if code == 401:
                self.leave(t("error.session"))
                return
            if code != 200:
                reason = t("error.network") if code == 0 else error_reason(body, str(code))
                self.show_banner(t("error.chats", reason=reason))
                return
            lists.append(body["chats"])
        for chats in lists:
            self.state.load_chats(chats)
        self.render_list()
        if self.state.current:
            self.render_head()

    def show_tab(self, status):
        self.state.tab = status
        self.render_list()

    def on_tab_key(self, event):
        if event.key in ("ArrowLeft", "ArrowRight"):
            event.preventDefault()
            other = "closed" if self.state.tab == "open" else "open"
            self.show_tab(other)
            el("tab-" + other).focus()

    def render_all(self):
        self.render_list()
        self.render_conversation()

    def render_list(self):
        state = self.state
        for status in ("open", "closed"):
            tab = el("tab-" + status)
            label = t("tab." + status)
            count = state.count(status)
            tab.textContent = t("tab.count", label=label, count=count) if count else label
            tab.setAttribute("aria-selected", "true" if state.tab == status else "false")
            tab.tabIndex = 0 if state.tab == status else -1
        listing = el("chat-list")
        listing.setAttribute("aria-labelledby", "tab-" + state.tab)
        clear(listing)
        chats = state.listed(state.tab)
        for chat in chats:
            listing.appendChild(self.chat_row(chat))
        empty = el("chat-empty")
        empty.hidden = bool(chats)
        empty.textContent = t("list.empty." + state.tab)
        total = state.total_unread()
        document.title = t("app.title.unread", count=total) if total else t("app.title")

    def chat_row(self, chat):
        state = self.state
        unread = state.unread(chat)
        item = make("li")
        button = make("button", "chat-item" + (" unread" if unread else ""))
        button.type = "button"
        button.setAttribute("data-chat", chat["id"])
        if chat["id"] == state.current:
            button.setAttribute("aria-current", "true")
        name = state.visitor_label(chat, t("visitor.anonymous"))
        last = chat.get("lastMessage")
        button.appendChild(make("span", "who", name))
        when = last["createdAt"] if last else chat.get("startedAt")
        button.appendChild(make("span", "when", local_time(when)))
        if last:
            preview = last["text"]
            if last["authorKind"] == "operator":
                preview = t("you") + ": " + preview
        else:
            preview = t("list.no_messages")
        button.appendChild(make("span", "preview", preview))
        if unread:
            badge = make("span", "badge", str(unread))
            badge.setAttribute("aria-label", t("list.unread", count=unread))
            button.appendChild(badge)
        item.appendChild(button)
        return item

    def on_chat_click(self, event):
        button = event.target.closest("[data-chat]")
        if button:
            self.open_chat(button.getAttribute("data-chat"))

    # -- a conversation ------------------------------------------------------------------
    def open_chat(self, chat_id):
        state = self.state
        if state.current != chat_id:
            state.drop_failed(state.current)
        state.select(chat_id)
        self.hide_banner()
        self.render_list()
        self.render_conversation(stick=True)
        if chat_id not in state.messages:
            self.request_history(chat_id)
        el("reply").focus()

    def request_history(self, chat_id, before=None):
        frame = {"type": "history", "chatId": chat_id, "limit": HISTORY_PAGE}
        if before is not None:
            frame["before"] = before
        if self.send(frame):
            self.loading_history[chat_id] = before

    def on_history(self, frame):
        chat_id = frame.get("chatId")
        state = self.state
        if chat_id is None or chat_id not in state.chats:
            return
        before = self.loading_history.pop(chat_id, None)
        log_wrap = el("log-wrap")
        old_height = log_wrap.scrollHeight
        state.add_history(chat_id, frame["messages"], frame["hasMore"], before is not None)
        if chat_id == state.current:
            self.render_conversation(stick=before is None)
            if before is not None:  # keep the reader's place when older messages come in above
                log_wrap.scrollTop = log_wrap.scrollHeight - old_height
            self.render_list()

    def on_earlier(self, event):
        state = self.state
        if state.current:
            self.request_history(state.current, before=state.oldest_id(state.current))

    def render_head(self):
        state = self.state
        chat = state.chats.get(state.current)
        if chat is None:
            return
        el("conv-title").textContent = state.visitor_label(chat, t("visitor.anonymous"))
        visitor = chat.get("visitor") or {}
        details = [value for value in (visitor.get("email"), visitor.get("country")) if value]
        details.append(t("conv.started", time=local_time(chat.get("startedAt"))))
        el("conv-sub").textContent = " · ".join(details)
        open_chat = chat["status"] == "open"
        close = el("conv-close")
        close.hidden = not open_chat
        close.disabled = self.closing == chat["id"]
        close.textContent = t("conv.closing") if self.closing == chat["id"] else t("conv.close")
        el("conv-closed").hidden = open_chat
        el("composer").hidden = not open_chat

    def render_conversation(self, stick=False):
        state = self.state
        chat = state.chats.get(state.current) if state.current else None
        el("conv-none").hidden = chat is not None
        el("conv").hidden = chat is None
        if chat is None:
            return
        self.render_head()
        log_wrap = el("log-wrap")
        near_bottom = log_wrap.scrollHeight - log_wrap.scrollTop - log_wrap.clientHeight < NEAR_BOTTOM_PX
        log = el("log")
        clear(log)
        messages = state.conversation(chat["id"])
        if not messages and chat["id"] in self.loading_history:
            log.appendChild(make("li", "msg system", t("conv.loading")))
        for message in messages:
            log.appendChild(self.message_row(message))
        for item in state.pending(chat["id"]):
            log.appendChild(self.pending_row(item))
        el("conv-earlier").hidden = not state.has_more.get(chat["id"])
        self.render_typing()
        if stick or near_bottom:
            log_wrap.scrollTop = log_wrap.scrollHeight

    def message_row(self, message):
        kind = message["authorKind"]
        row = make("li", "msg " + kind)
        row.setAttribute("data-id", str(message["id"]))
        row.appendChild(make("div", "bubble", message["text"]))
        who = t("author." + kind)
        if kind == "operator" and self.me and message.get("authorId") == self.me.get("id"):
            who = t("you")
        row.appendChild(make("div", "meta", who + " · " + local_time(message["createdAt"])))
        return row

    def pending_row(self, item):
        failed = item["state"] == "failed"
        row = make("li", "msg operator " + ("failed" if failed else "pending"))
        row.appendChild(make("div", "bubble", item["text"]))
        note = t("msg.sending") if item["state"] == "sending" else item["error"] or t("msg.retry")
        row.appendChild(make("div", "meta", note))
        return row

    def render_typing(self):
        state = self.state
        node = el("typing")
        text = state.typing.get(state.current) if state.current else None
        node.hidden = not text
        node.textContent = t("conv.typing", text=text) if text else ""

    # -- actions -------------------------------------------------------------------------
    def on_reply_key(self, event):
        if event.key == "Enter" and not event.shiftKey and not event.isComposing:
            event.preventDefault()
            self.send_reply()

    def on_send(self, event):
        event.preventDefault()
        self.send_reply()

    def send_reply(self):
        state = self.state
        box = el("reply")
        text = box.value.strip()
        chat = state.chats.get(state.current) if state.current else None
        if not text or chat is None or chat["status"] != "open":
            return
        item = state.queue(chat["id"], text, int(window.Date.now()), self.salt)
        box.value = ""
        self.send_item(item)
        self.render_conversation(stick=True)

    def send_item(self, item):
        """Sends (or resends: same clientId, the server stores it once) an outbox item."""
        sent = self.send({"type": "message.send", "chatId": item["chatId"], "clientId": item["clientId"],
                          "text": item["text"]})
        item["state"] = "sending" if sent else "retry"  # "retry" goes out after the next reconnect

    def on_close_chat(self, event):
        state = self.state
        if not state.current or self.closing:
            return
        if self.send({"type": "chat.close", "chatId": state.current}):
            self.closing = state.current
            self.render_head()
        else:
            self.show_banner(t("error.action", reason=t("conn.reconnecting")))

    # -- messages to the operator --------------------------------------------------------
    def show_banner(self, text):
        el("banner-text").textContent = text
        el("banner").hidden = False

    def hide_banner(self):
        el("banner").hidden = True
        el("banner-text").textContent = ""


inbox = App()
spawn(inbox.start())
