"""Visitors on the site now, and starting a chat with one of them (proactive chat).

The list comes from GET /api/operator/visitors/online, read again every 15 s (that
also catches other server processes' visitors), and follows the feed in between:
`page.view` moves a visitor's current page, `visitor.left` takes it away after a
short grace (the next page of the site connects again), `chat.started`/`chat.closed`
switch its button between "Start chat" and "Open chat".
"""

import asyncio

from dom import api, clear, el, iso_ms, make, now_ms, on_guarded, spawn_guarded
from people import (
    LEAVING_GRACE_MS,
    REFRESH_MS,
    OnlineVisitors,
    device_text,
    duration,
    path_of,
    source_text,
    visitor_name,
)
from pyscript import window
from strings import t


def safe_page_url(url):
    """A visitor's page URL as a link target only when it is http(s)."""
    text = url or ""
    return text if text.startswith("https://") or text.startswith("http://") else None


def list_visitor(visitor):
    """A chat list item's `visitor` from an online visitor."""
    return {"id": visitor.get("id"), "name": visitor.get("name"), "email": visitor.get("email"),
            "country": visitor.get("country")}


class Visitors:
    def __init__(self, app):
        self.app = app
        self.store = OnlineVisitors()
        self.shown = False
        self.generation = 0
        self.refresh_pending = False
        self.starting = None  # {"visitorId", "clientId"} while the start dialog is open
        self.opener = None
        self._sent = 0
        on_guarded(el("visitors-toggle"), "click", lambda event: self.show(not self.shown))
        on_guarded(el("visitors-close"), "click", lambda event: self.show(False))
        on_guarded(el("visitors-rows"), "click", self.on_row_click)
        on_guarded(el("start-form"), "submit", self.on_start_submit)
        on_guarded(el("start-cancel"), "click", lambda event: self.close_dialog())
        on_guarded(el("start-dialog"), "close", self.on_dialog_closed)
        on_guarded(el("start-text"), "keydown", self.on_start_key)

    # -- lifecycle ---------------------------------------------------------------------
    def entered(self, me):
        self.generation += 1
        self.store = OnlineVisitors()
        self.render()
        spawn_guarded(self.refresh_loop(self.generation))

    def left(self, message=""):
        self.generation += 1
        self.close_dialog()
        self.show(False)
        self.store = OnlineVisitors()

    async def refresh_loop(self, generation):
        while generation == self.generation:
            await self.refresh(generation)
            await asyncio.sleep(REFRESH_MS / 1000)

    async def refresh(self, generation=None):
        generation = self.generation if generation is None else generation
        status, body = await api("GET", "/api/operator/visitors/online")
        if generation != self.generation or status != 200 or not isinstance(body, dict):
            return
        self.store.load(body.get("visitors") or [], now_ms())
        self.render()

    def schedule_refresh(self):
        if self.refresh_pending:
            return
        self.refresh_pending = True
        generation = self.generation

        async def later():
            await asyncio.sleep(0.4)
            self.refresh_pending = False
            await self.refresh(generation)

        spawn_guarded(later())

    def expire_later(self):
        generation = self.generation

        async def later():
            await asyncio.sleep(LEAVING_GRACE_MS / 1000 + 0.1)
            if generation == self.generation and self.store.expire(now_ms()):
                self.render()

        spawn_guarded(later())

    # -- feed frames -------------------------------------------------------------------
    def frame(self, frame):
        kind = frame.get("type")
        if kind == "subscribed":
            self.schedule_refresh()  # after a reconnect: nothing was replayed
        elif kind == "page.view":
            if self.store.page_view(frame):
                self.render()
            else:
                self.schedule_refresh()  # a newcomer: its country, device, ... come with the list
        elif kind == "visitor.left":
            if self.store.left(frame.get("visitorId"), now_ms()):
                self.render()
                self.expire_later()
        elif kind in ("chat.started", "chat.closed", "chat"):
            if self.store.chat_changed(frame.get("chat") or {}):
                self.render()
        elif kind == "visitor.updated":
            if self.store.updated(frame.get("visitor") or {}):
                self.render()
        elif kind == "ack":
            self.started(frame)
        elif kind == "error":
            self.start_failed(frame)

    # -- the view ----------------------------------------------------------------------
    def show(self, shown):
        self.shown = shown
        el("visitors").hidden = not shown
        el("conversation").hidden = shown
        toggle = el("visitors-toggle")
        toggle.setAttribute("aria-pressed", "true" if shown else "false")
        if shown:
            self.render()
            el("visitors-heading").focus()
            spawn_guarded(self.refresh())
        else:
            self.app.render_conversation()  # the conversation (and its details pane) again

    def chat_opened(self, chat_id):
        if self.shown:
            self.show(False)

    def render(self):
        count = self.store.count()
        toggle = el("visitors-toggle")
        toggle.textContent = t("visitors.toggle.count", count=count) if count else t("visitors.toggle")
        if not self.shown:
            return
        focused = window.document.activeElement
        keep = None
        if focused is not None and focused.closest("#visitors-rows") is not None:
            keep = (focused.getAttribute("data-action"), focused.getAttribute("data-visitor"))
        rows = el("visitors-rows")
        clear(rows)
        visitors = self.store.listed()
        now = now_ms()
        for visitor in visitors:
            rows.appendChild(self.row(visitor, now))
        el("visitors-empty").hidden = bool(visitors) or not self.store.loaded
        el("visitors-table").hidden = not visitors
        el("visitors-note").textContent = t("visitors.note", count=count)
        if keep is not None:
            again = rows.querySelector(f'[data-action="{keep[0]}"][data-visitor="{keep[1]}"]')
            if again is not None:
                again.focus()

    def row(self, visitor, now):
        leaving = visitor["id"] in self.store.leaving
        row = make("tr", "visitor-row" + (" leaving" if leaving else ""))
        row.setAttribute("data-visitor-row", visitor["id"])
        who = make("td", "who")
        name = make("div", "name", visitor_name(visitor, t))
        if visitor.get("verified"):
            badge = make("span", "verified", t("details.verified.short"))
            badge.setAttribute("title", t("details.verified.hint"))
            name.appendChild(badge)
        who.appendChild(name)
        facts = [visitor.get("country"), visitor.get("language"), device_text(visitor.get("device"), t)]
        who.appendChild(make("div", "meta", " · ".join([f for f in facts if f])))
        if leaving:
            who.appendChild(make("div", "meta", t("visitors.leaving")))
        row.appendChild(who)

        page = visitor.get("page") or {}
        cell = make("td", "page")
        title = page.get("title") or path_of(page.get("url")) or t("visitors.no_page")
        href = safe_page_url(page.get("url"))
        if href:
            link = make("a", "page-link", title)
            link.href = href
            link.target = "_blank"
            link.rel = "noopener noreferrer"
            cell.appendChild(link)
        else:
            cell.appendChild(make("div", "page-link", title))
        if page.get("url"):
            cell.appendChild(make("div", "meta url", path_of(page.get("url"))))
        row.appendChild(cell)

        row.appendChild(make("td", "num", str(visitor.get("pageViews") or 0)))
        started = iso_ms(visitor.get("visitStartedAt"))
        row.appendChild(make("td", "time", duration((now - started) / 1000, t) if started else "—"))
        row.appendChild(make("td", "source", source_text(visitor, t)))

        action = make("td", "action")
        label = visitor_name(visitor, t)
        if visitor.get("chatId"):
            button = make("button", "open-chat", t("visitors.open"))
            button.setAttribute("data-action", "open")
            button.setAttribute("data-chat", visitor["chatId"])
            button.setAttribute("aria-label", t("visitors.open.label", name=label))
        else:
            button = make("button", "start-chat primary", t("visitors.start"))
            button.setAttribute("data-action", "start")
            button.setAttribute("aria-label", t("visitors.start.label", name=label))
        button.type = "button"
        button.setAttribute("data-visitor", visitor["id"])
        action.appendChild(button)
        row.appendChild(action)
        return row

    def on_row_click(self, event):
        button = event.target.closest("[data-action]")
        if button is None:
            return
        visitor_id = button.getAttribute("data-visitor")
        if button.getAttribute("data-action") == "open":
            self.open_chat(button.getAttribute("data-chat"), visitor_id)
        else:
            self.open_dialog(visitor_id, button)

    def open_chat(self, chat_id, visitor_id):
        state = self.app.state
        if chat_id not in state.chats:
            visitor = self.store.visitors.get(visitor_id) or {"id": visitor_id}
            state.chat_started({"id": chat_id, "visitorId": visitor_id, "status": "open", "operatorIds": []})
            state.chats[chat_id]["visitor"] = list_visitor(visitor)
            self.app.schedule_refresh()
        self.show(False)
        self.app.open_chat(chat_id)

    # -- starting a chat ---------------------------------------------------------------
    def open_dialog(self, visitor_id, opener):
        visitor = self.store.visitors.get(visitor_id)
        if visitor is None:
            return
        self._sent += 1
        self.starting = {"visitorId": visitor_id,
                         "clientId": f"start-{now_ms()}-{self.app.salt}-{self._sent}"}
        self.opener = opener
        el("start-heading").textContent = t("start.heading", name=visitor_name(visitor, t))
        page = visitor.get("page") or {}
        el("start-page").textContent = t("start.page", page=page.get("title") or path_of(page.get("url"))) \
            if page.get("url") else ""
        el("start-text").value = ""
        el("start-error").textContent = ""
        self.set_busy(False)
        el("start-dialog").showModal()
        el("start-text").focus()

    def set_busy(self, busy):
        button = el("start-send")
        button.disabled = busy
        button.textContent = t("start.sending") if busy else t("start.send")

    def close_dialog(self):
        dialog = el("start-dialog")
        if dialog.open:
            dialog.close()

    def on_dialog_closed(self, event):
        self.starting = None
        opener = self.opener
        self.opener = None
        if opener is not None and opener.isConnected:
            opener.focus()

    def on_start_key(self, event):
        if event.key == "Enter" and not event.shiftKey and not event.isComposing:
            event.preventDefault()
            self.send_start()

    def on_start_submit(self, event):
        event.preventDefault()
        self.send_start()

    def send_start(self):
        starting = self.starting
        text = el("start-text").value.strip()
        if starting is None:
            return
        if not text:
            el("start-error").textContent = t("start.empty")
            el("start-text").focus()
            return
        # The same clientId on every try: the server stores the chat once.
        frame = {"type": "chat.start", "visitorId": starting["visitorId"], "clientId": starting["clientId"],
                 "text": text}
        if not self.app.send(frame):
            el("start-error").textContent = t("start.offline")
            return
        el("start-error").textContent = ""
        self.set_busy(True)

    def started(self, frame):
        starting = self.starting
        if starting is None or frame.get("clientId") != starting["clientId"] or not frame.get("chat"):
            return
        chat = frame["chat"]
        visitor = self.store.visitors.get(starting["visitorId"]) or {}
        state = self.app.state
        if chat["id"] not in state.chats:
            state.chat_started(chat)
        known = state.chats[chat["id"]]
        if not (known.get("visitor") or {}).get("name"):
            known["visitor"] = list_visitor(visitor)
            known["visitor"]["id"] = chat["visitorId"]
        message = frame.get("message")
        if message:
            state.add_message(chat["id"], message)
        self.store.chat_changed(chat)
        self.opener = None
        self.close_dialog()
        self.show(False)
        self.app.open_chat(chat["id"])

    def start_failed(self, frame):
        starting = self.starting
        if starting is None or frame.get("clientId") != starting["clientId"]:
            return
        self.set_busy(False)
        if frame.get("code") == "PARLEY_E_CONFLICT" and frame.get("openChatId"):
            self.opener = None
            self.close_dialog()
            self.open_chat(frame["openChatId"], starting["visitorId"])
            self.app.show_banner(t("start.already_open"))
            return
        if frame.get("code") == "PARLEY_E_NOT_FOUND":
            el("start-error").textContent = t("start.gone")
            return
        el("start-error").textContent = t("start.failed", reason=frame.get("message") or frame.get("code"))


def install(app, hooks):
    visitors = Visitors(app)
    hooks.entered.append(visitors.entered)
    hooks.leaving.append(visitors.left)
    hooks.frames.append(visitors.frame)
    hooks.opened.append(visitors.chat_opened)
    app.visitors = visitors
    return visitors

