"""The operator inbox: login, chat list, conversation, replies, live updates,
read receipts, typing, attachments, ratings.

Runs in MicroPython under PyScript on Parley's own origin. State lives in
`model.Inbox`; this module draws it and talks to the server (HTTP for login,
lists and uploads, /ws/operator for everything live). Every string comes from
`strings.STRINGS`; user text only ever reaches the page as `textContent`.
"""

import asyncio
import json

from canned_ui import CannedUI
from chat_ops import ChatOps
from dom import api, clear, el, local_time, make, on, reason_of, spawn, translate_page
from extras import install as install_extras
from hooks import Hooks
from model import (
    Inbox,
    TypingOut,
    human_size,
    is_image,
    rating_text,
    safe_file_url,
    thumb_size,
    upload_problem,
)
from pyscript import document, window
from pyscript.ffi import create_proxy
from strings import t

BACKOFF_MS = (500, 1000, 2000, 4000, 8000, 15000)
HISTORY_PAGE = 50
CLOSED_PAGE = 50
OPEN_PAGE = 200
NEAR_BOTTOM_PX = 80
NEAR_TOP_PX = 60  # scrolled this close to the top: load earlier messages
TABS = ("unassigned", "mine", "open", "closed")


class App:
    def __init__(self):
        self.hooks = Hooks()  # where the features of extras.py join in (hooks.py)
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
        self.typing_out = TypingOut()
        self.upload = None  # the upload under way: {"xhr", "chatId", "name", "size", "percent"}
        self.upload_error = None  # {"chatId", "text"}: the last failed upload's message
        self.asked_operators = set()  # operator ids already looked up once (system lines)
        self.salt = f"{int(window.Math.random() * 4294967295):x}"
        self._bind()
        self.ops = ChatOps(self, api, spawn)  # assign/transfer, reopen, internal notes
        self.canned = CannedUI(self, api, spawn)  # "/shortcut" in the composer, and their dialog

    # -- wiring ------------------------------------------------------------------------
    def _bind(self):
        on(el("login-form"), "submit", self.on_login)
        on(el("logout"), "click", self.on_logout)
        on(el("banner-close"), "click", lambda event: self.hide_banner())
        for tab in TABS:
            on(el("tab-" + tab), "click", lambda event, tab=tab: self.show_tab(tab))
            on(el("tab-" + tab), "keydown", self.on_tab_key)
        on(el("composer"), "submit", self.on_send)
        on(el("reply"), "keydown", self.on_reply_key)
        on(el("reply"), "input", self.on_reply_input)
        on(el("attach"), "click", self.on_attach)
        on(el("file-input"), "change", self.on_file_picked)
        on(el("upload-cancel"), "click", self.on_upload_cancel)
        # Read receipts wait for the operator to actually look: a hidden tab sends none.
        on(document, "visibilitychange", lambda event: self.report_seen())
        on(el("conv-close"), "click", self.on_close_chat)
        on(el("conv-earlier"), "click", self.on_earlier)
        on(el("log-wrap"), "scroll", self.on_log_scroll)  # infinite scroll up through history
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
            error.textContent = t("error.action", reason=reason_of(status, answer, t))

    def enter(self, me):
        self._enter(me)
        self.hooks.run("entered", me)

    def _enter(self, me):
        self.me = me
        self.state = Inbox()
        self.state.set_operators(me.get("operators"))
        self.state.set_me(me.get("id"))
        self.typing_out = TypingOut()
        self.asked_operators = set()
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
        self.ops.entered()
        self.canned.reload()

    def on_logout(self, event):
        spawn(self.logout())

    async def logout(self):
        status, answer = await api("POST", "/api/operator/logout", {})
        if status != 200:
            reason = reason_of(status, answer, t)
            self.show_banner(t("error.logout", reason=reason))
            return
        self.leave("")

    def leave(self, message):
        self._leave(message)
        self.hooks.run("leaving", message)

    def _leave(self, message):
        self.stop_typing()
        self.cancel_upload()
        self.canned.leave()  # a modal dialog must not sit on top of the login form
        self.upload_error = None
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

    def send_all(self, frames):
        for frame in frames:
            self.send(frame)

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
        self._handle(frame)
        self.hooks.run("frames", frame)

    def _handle(self, frame):
        kind = frame.get("type")
        state = self.state
        if kind == "subscribed":
            self.connected = True
            self.attempt = 0
            self.set_conn("live")
            # The feed has no replay: reload what is shown, then resend what is unacknowledged.
            spawn(self.refresh_chats())
            state.forget_history(state.current)
            if state.current:
                self.request_history(state.current)
            for item in state.to_resend():
                self.send_item(item)
        elif kind == "message":
            chat_id = frame["chatId"]
            state.add_message(chat_id, frame["message"])
            self.learn_operator(frame["message"])
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
        elif kind in ("chat.closed", "chat", "chat.rated", "transcript.requested", "chat.assigned",
                      "chat.reopened"):
            self.on_chat_frame(kind, frame)
        elif kind == "canned.changed":
            self.canned.reload()
        elif kind == "seen":
            chat_id = frame.get("chatId")
            if state.seen(chat_id, frame.get("upTo"), frame.get("by")):
                self.render_list()
                if chat_id == state.current:
                    self.render_conversation()
        elif kind == "error":
            self.on_error(frame)

    def on_chat_frame(self, kind, frame):
        """A chat's new state: closed, rated, a transcript requested (or our close's answer)."""
        state = self.state
        chat = frame["chat"]
        if chat["id"] == self.closing:
            self.closing = None
        self.ops.chat_answer(chat)
        if kind == "transcript.requested":
            known = state.transcript_requested(chat, frame.get("email"))
        else:
            known = state.chat_changed(chat)
        if not known:
            self.schedule_refresh()
        if chat["id"] == state.current and chat.get("status") == "closed":
            self.stop_typing()  # a closed chat has no reply box left to type in
        self.render_list()
        if chat["id"] == state.current:
            self.render_conversation()

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
        if self.ops.on_error(frame):
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
        since = self.state.chat_version  # feed news after this are newer than these lists
        lists = []
        queries = [f"status=open&limit={OPEN_PAGE}", f"status=closed&limit={CLOSED_PAGE}"]
        while queries:
            query = queries.pop(0)
            code, body = await api("GET", "/api/operator/chats?" + query)
            if generation != self.generation:
                return
            if code == 401:
                self.leave(t("error.session"))
                return
            if code != 200:
                reason = reason_of(code, body, t)
                self.show_banner(t("error.chats", reason=reason))
                return
            lists.append(body["chats"])
            if query.startswith("status=open") and len(body["chats"]) >= OPEN_PAGE:
                # More open chats than one page: the Unassigned and Mine tabs get their own.
                queries += [f"status=open&assigned=0&limit={OPEN_PAGE}",
                            f"status=open&mine=1&limit={OPEN_PAGE}"]
        for chats in lists:
            self.state.load_chats(chats, since)
        self.render_list()
        if self.state.current:
            self.render_head()

    def show_tab(self, status):
        self.state.tab = status
        self.render_list()

    def on_tab_key(self, event):
        focused = str(event.currentTarget.id)[4:]  # "tab-mine" -> "mine"
        index = TABS.index(focused) if focused in TABS else 0
        moves = {"ArrowLeft": index - 1, "ArrowRight": index + 1, "Home": 0, "End": len(TABS) - 1}
        if event.key in moves:
            event.preventDefault()
            other = TABS[moves[event.key] % len(TABS)]
            self.show_tab(other)
            el("tab-" + other).focus()

    def render_all(self):
        self.render_list()
        self.render_conversation()

    def render_list(self):
        state = self.state
        for name in TABS:
            tab = el("tab-" + name)
            clear(tab)
            tab.appendChild(make("span", "tab-label", t("tab." + name)))
            unread = state.tab_unread(name)
            if unread:  # the badge shows the number; the tab's name says what it counts
                # A space between the words and the number: the visible text reads
                # "Closed 3", which the name "Closed, 3 unread" contains (WCAG 2.5.3).
                tab.appendChild(document.createTextNode(" "))
                badge = make("span", "tab-badge", str(unread))
                badge.setAttribute("aria-hidden", "true")
                tab.appendChild(badge)
                tab.setAttribute("aria-label", t("tab.unread", label=t("tab." + name), count=unread))
            else:
                tab.removeAttribute("aria-label")
            tab.setAttribute("aria-selected", "true" if state.tab == name else "false")
            tab.tabIndex = 0 if state.tab == name else -1
        el("chat-panel").setAttribute("aria-labelledby", "tab-" + state.tab)
        listing = el("chat-list")
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
        button.appendChild(make("span", "preview", state.preview(last, t)))
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
        self._open_chat(chat_id)
        self.hooks.run("opened", chat_id)

    def _open_chat(self, chat_id):
        state = self.state
        if state.current != chat_id:
            state.drop_failed(state.current)
            self.stop_typing()  # leaving a chat: its visitor stops seeing "typing"
            self.upload_error = None
        state.select(chat_id)
        self.canned.close()
        self.ops.chat_opened()
        self.hide_banner()
        self.render_list()
        self.render_conversation(stick=True)
        if not state.history_loaded(chat_id):
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
        for message in frame["messages"]:
            self.learn_operator(message)
        if chat_id == state.current:
            self.render_conversation(stick=before is None)
            if before is not None:  # keep the reader's place when older messages come in above
                log_wrap.scrollTop = log_wrap.scrollHeight - old_height
            self.render_list()

    def on_earlier(self, event):
        state = self.state
        if state.current:
            self.request_history(state.current, before=state.oldest_id(state.current))

    def on_log_scroll(self, event):
        """Near the top of a conversation with more history: the next page loads by itself."""
        state = self.state
        chat_id = state.current
        if not chat_id or not state.has_more.get(chat_id) or chat_id in self.loading_history:
            return
        if int(el("log-wrap").scrollTop) < NEAR_TOP_PX:
            self.request_history(chat_id, before=state.oldest_id(chat_id))

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
        self.ops.render_head(chat)
        self.render_feedback(chat)

    def render_feedback(self, chat):
        """The visitor's rating (👍/👎 and comment) and transcript request, under the title."""
        node = el("conv-feedback")
        clear(node)
        shown = False
        rating = rating_text(chat, t)
        if rating:
            node.appendChild(make("span", "rating " + chat["rating"], rating))
            if chat.get("ratingComment"):
                node.appendChild(make("span", "rating-comment",
                                      t("chat.rating.comment", comment=chat["ratingComment"])))
            shown = True
        if chat.get("transcriptEmail"):
            node.appendChild(make("span", "transcript", t("chat.transcript", email=chat["transcriptEmail"])))
            shown = True
        node.hidden = not shown

    def render_conversation(self, stick=False):
        self._render_conversation(stick)
        self.hooks.run("rendered")

    def _render_conversation(self, stick):
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
            row = self.message_row(message)
            if row is not None:
                log.appendChild(row)
        for item in state.pending(chat["id"]):
            log.appendChild(self.pending_row(item))
        el("conv-earlier").hidden = not state.has_more.get(chat["id"])
        self.render_typing()
        self.render_upload()
        if stick or near_bottom:
            log_wrap.scrollTop = log_wrap.scrollHeight
        self.report_seen()

    def message_row(self, message):
        """A message's row; None for a system line this inbox cannot word (unknown code)."""
        kind = message["authorKind"]
        if kind == "system":
            return self.system_row(message)
        row = make("li", "msg " + kind)
        row.setAttribute("data-id", str(message["id"]))
        if kind == "note":  # an internal note: labelled, and never shown to the visitor
            row.appendChild(make("div", "note-label", t("author.note")))
        row.appendChild(self.bubble(message.get("text"), message.get("file")))
        parts = [t("author." + kind), local_time(message["createdAt"])]
        if kind == "note":
            mine = self.me and message.get("authorId") == self.me.get("id")
            author = self.state.operators.get(message.get("authorId")) or t("author.operator")
            parts[0] = t("you") if mine else author
        if kind == "bot":
            # A bot login's turns carry its name; a bot trigger's answer is "Bot".
            parts[0] = self.state.operators.get(message.get("authorId")) or t("author.bot")
        if kind == "operator":
            if self.me and message.get("authorId") == self.me.get("id"):
                parts[0] = t("you")
            parts.append(t("msg." + self.state.status(message)))  # "Sent" or "Seen"
        meta = make("div", "meta", " · ".join(parts))
        row.appendChild(meta)
        return row

    def system_row(self, message):
        # Only the structured `system` field is read: a system line's `text` is never shown.
        text = self.state.system_text(message.get("system"), t)
        if text is None:
            return None
        row = make("li", "msg system")
        row.setAttribute("data-id", str(message["id"]))
        row.appendChild(make("div", "line", text))
        return row

    def bubble(self, text, file):
        """A message's text and attachment; every piece of data goes in as text or a checked URL."""
        if not file:
            return make("div", "bubble", text or "")
        node = make("div", "bubble has-file")
        node.appendChild(self.attachment(file))
        if text:
            node.appendChild(make("div", "caption", text))
        return node

    def attachment(self, file):
        name = file.get("name") or ""
        url = safe_file_url(file)
        if url is None:
            return make("span", "file-name", name)
        link = make("a", "file")
        link.href = url
        if is_image(file):
            # A thumbnail that opens the full image in a new tab, with no opener or referrer.
            link.className = "file file-image"
            link.target = "_blank"
            link.rel = "noopener noreferrer"
            link.setAttribute("aria-label", t("file.open", name=name))
            image = make("img")
            image.src = url
            image.alt = name
            size = thumb_size(file.get("width"), file.get("height"))
            if size is not None:
                image.width = size[0]
                image.height = size[1]
            link.appendChild(image)
            return link
        link.className = "file file-download"
        link.rel = "noopener noreferrer"
        link.setAttribute("download", name)
        link.setAttribute("aria-label", t("file.download", name=name, size=human_size(file.get("size"), t)))
        link.appendChild(make("span", "file-name", name))
        link.appendChild(make("span", "file-size", human_size(file.get("size"), t)))
        return link

    def pending_row(self, item):
        failed = item["state"] == "failed"
        kind = "note" if item.get("note") else "operator"
        row = make("li", "msg " + kind + " " + ("failed" if failed else "pending"))
        row.appendChild(self.bubble(item["text"], item.get("file")))
        note = t("msg.sending") if item["state"] == "sending" else item["error"] or t("msg.retry")
        row.appendChild(make("div", "meta", note))
        return row

    def learn_operator(self, message):
        """An 'assigned' line naming an operator added after this inbox loaded: ask once."""
        operator_id = self.state.unknown_operator(message)
        if operator_id and operator_id not in self.asked_operators:
            self.asked_operators.add(operator_id)
            spawn(self.refresh_operators())

    async def refresh_operators(self):
        generation = self.generation
        status, body = await api("GET", "/api/operator/me")
        if generation != self.generation or status != 200 or not isinstance(body, dict):
            return
        self.state.set_operators(body.get("operators"))
        self.render_conversation()

    # -- read receipts and typing --------------------------------------------------------
    def report_seen(self):
        """Sends `seen` for the open chat once per new visitor message, only while the
        chat is on screen in a visible tab (that is what the visitor's "Read" means)."""
        state = self.state
        chat_id = state.current
        if not chat_id or chat_id not in state.chats or str(document.visibilityState) != "visible":
            return
        up_to = state.seen_to_send(chat_id)
        if up_to is not None and self.send({"type": "seen", "chatId": chat_id, "upTo": up_to}):
            state.mark_read(chat_id, up_to)
            self.render_list()

    def on_reply_input(self, event):
        self.canned.update()
        if self.ops.note_mode:  # a note is for the team: the visitor sees no "typing"
            self.stop_typing()
            return
        self.send_all(self.typing_out.changed(self.state.current, el("reply").value, int(window.Date.now())))

    def stop_typing(self):
        self.send_all(self.typing_out.stop())

    def render_typing(self):
        state = self.state
        node = el("typing")
        text = state.typing.get(state.current) if state.current else None
        node.hidden = not text
        node.textContent = t("conv.typing", text=text) if text else ""

    # -- actions -------------------------------------------------------------------------
    def on_reply_key(self, event):
        if self.canned.on_key(event):  # the "/shortcut" list takes arrows, Enter, Tab, Escape
            return
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
        item = state.queue(chat["id"], text, int(window.Date.now()), self.salt, note=self.ops.note_mode)
        box.value = ""
        self.canned.close()
        self.send_item(item)
        self.stop_typing()  # setting .value fires no input event: say it here
        self.render_conversation(stick=True)

    def send_item(self, item):
        """Sends (or resends: same clientId, the server stores it once) an outbox item."""
        kind = "note.add" if item.get("note") else "message.send"
        frame = {"type": kind, "chatId": item["chatId"], "clientId": item["clientId"], "text": item["text"]}
        if item.get("file"):
            frame["fileId"] = item["file"]["id"]
        sent = self.send(frame)
        item["state"] = "sending" if sent else "retry"  # "retry" goes out after the next reconnect

    # -- attachments ---------------------------------------------------------------------
    def on_attach(self, event):
        if self.upload is None:
            el("file-input").click()

    def on_file_picked(self, event):
        picker = el("file-input")
        chosen = picker.files
        file = chosen.item(0) if chosen is not None and int(chosen.length) > 0 else None
        picker.value = ""  # so picking the same file again (after an error) fires `change`
        if file is not None:
            self.start_upload(file)

    def start_upload(self, file):
        """POSTs the raw file with XMLHttpRequest (fetch cannot report upload progress);
        the session cookie and the page's Origin go along as the endpoint requires."""
        state = self.state
        chat = state.chats.get(state.current) if state.current else None
        if chat is None or chat["status"] != "open" or self.upload is not None:
            return
        generation = self.generation
        xhr = window.XMLHttpRequest.new()
        upload = {"xhr": xhr, "chatId": chat["id"], "name": str(file.name), "size": int(file.size),
                  "percent": 0}

        def progress(event):
            if self.upload is upload and event.lengthComputable and int(event.total) > 0:
                upload["percent"] = min(100, int(int(event.loaded) * 100 / int(event.total)))
                self.render_upload()

        def finished(event):
            # A cancelled upload (self.upload replaced) or a logout in between: nothing to do.
            if self.upload is upload and generation == self.generation:
                self.upload = None
                self.upload_finished(upload, int(xhr.status), str(xhr.responseText or ""))

        def failed(event):
            if self.upload is upload and generation == self.generation:
                self.upload = None
                self.upload_finished(upload, 0, "")

        xhr.open("POST", "/api/operator/files?name=" + str(window.encodeURIComponent(upload["name"])))
        xhr.setRequestHeader("Accept", "application/json")
        xhr.upload.onprogress = create_proxy(progress)
        xhr.onload = create_proxy(finished)
        xhr.onerror = create_proxy(failed)
        self.upload = upload
        self.upload_error = None
        xhr.send(file)
        self.render_upload()

    def upload_finished(self, upload, status, text):
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        if status == 201 and isinstance(body, dict) and isinstance(body.get("file"), dict):
            # Stored: now the message that carries it (no caption), through the outbox.
            now = int(window.Date.now())
            item = self.state.queue(upload["chatId"], "", now, self.salt, file=body["file"])
            self.send_item(item)
            self.render_conversation(stick=True)
            return
        if status == 401:
            self.leave(t("error.session"))
            return
        self.upload_error = {"chatId": upload["chatId"],
                             "text": upload_problem(status, body, upload["size"], t)}
        self.render_upload()

    def on_upload_cancel(self, event):
        self.cancel_upload()
        self.render_upload()

    def cancel_upload(self):
        upload = self.upload
        self.upload = None  # first, so the abort's own events are ignored
        if upload is not None:
            upload["xhr"].abort()

    def render_upload(self):
        """Progress and Cancel for the open chat's upload, or the last upload's error."""
        current = self.state.current
        upload = self.upload
        showing = upload is not None and upload["chatId"] == current
        el("upload").hidden = not showing
        if showing:
            text = t("upload.progress", name=upload["name"], percent=upload["percent"])
            el("upload-text").textContent = text
            el("upload-bar").value = upload["percent"]
        error = self.upload_error
        shown_error = error["text"] if error is not None and error["chatId"] == current else ""
        el("upload-error").hidden = not shown_error
        el("upload-error").textContent = shown_error
        el("attach").disabled = upload is not None

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
install_extras(inbox)  # live visitors, visitor details, search, profile, notifications
spawn(inbox.start())
