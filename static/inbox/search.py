"""Search in the top bar: chats by message text, visitor name or email.

A combobox (ARIA 1.2 pattern): typing asks GET /api/operator/search after a short
pause; ArrowDown/ArrowUp move through the results, Enter opens the chosen chat,
Escape closes the list (a second Escape empties the box). Results are drawn with
textContent only; the match is a <mark> around the server-given offsets.
"""

import asyncio

from dom import api, clear, el, encode, local_date_time, make, on_guarded, reason_of, spawn_guarded
from people import highlight_parts, search_query, visitor_name
from pyscript import document
from pyscript.ffi import to_js
from strings import t

DEBOUNCE_S = 0.25


class Search:
    def __init__(self, app):
        self.app = app
        self.results = []
        self.active = -1
        self.typed = 0  # bumps on every edit: older answers are dropped
        self.query = None
        on_guarded(el("search-input"), "input", self.on_input)
        on_guarded(el("search-input"), "keydown", self.on_key)
        on_guarded(el("search-input"), "blur", lambda event: spawn_guarded(self.close_soon()))
        on_guarded(el("search-input"), "focus", self.on_focus)
        on_guarded(el("search-results"), "mousedown", lambda event: event.preventDefault())  # keep focus
        on_guarded(el("search-results"), "click", self.on_click)
        on_guarded(el("search-form"), "submit", self.on_submit)

    def left(self, message=""):
        el("search-input").value = ""
        self.results = []
        self.query = None
        self.close()

    # -- typing --------------------------------------------------------------------------
    def on_input(self, event):
        self.typed += 1
        query = search_query(el("search-input").value)
        if query is None:
            self.results = []
            self.query = None
            text = el("search-input").value.strip()
            self.render(t("search.short") if text else "")
            if not text:
                self.close()
            return
        spawn_guarded(self.search_later(query, self.typed))

    def on_focus(self, event):
        if self.results or self.query:
            self.open()

    async def search_later(self, query, typed):
        await asyncio.sleep(DEBOUNCE_S)
        if typed != self.typed:
            return
        self.render(t("search.searching"))
        status, body = await api("GET", "/api/operator/search?q=" + encode(query))
        if typed != self.typed:
            return
        if status == 401:
            self.app.leave(t("error.session"))
            return
        if status != 200 or not isinstance(body, dict):
            self.results = []
            self.render(t("search.failed", reason=reason_of(status, body, t)))
            return
        self.query = query
        self.results = body.get("results") or []
        self.active = 0 if self.results else -1
        count = len(self.results)
        if count == 0:
            self.render(t("search.none", query=query))
        elif count == 1:
            self.render(t("search.count.one"))
        else:
            self.render(t("search.count", count=count))

    # -- the list ------------------------------------------------------------------------
    def open(self):
        el("search-panel").hidden = False
        el("search-input").setAttribute("aria-expanded", "true")

    def close(self):
        el("search-panel").hidden = True
        box = el("search-input")
        box.setAttribute("aria-expanded", "false")
        box.removeAttribute("aria-activedescendant")

    async def close_soon(self):
        await asyncio.sleep(0.15)  # a click on a result lands first
        focused = document.activeElement
        if focused is None or str(focused.id) != "search-input":
            self.close()

    def render(self, status):
        el("search-status").textContent = status
        listing = el("search-results")
        clear(listing)
        for index, result in enumerate(self.results):
            listing.appendChild(self.option(index, result))
        self.open()
        self.mark_active()

    def option(self, index, result):
        chat = result.get("chat") or {}
        item = make("li", "search-result")
        item.id = "search-option-" + str(index)
        item.setAttribute("role", "option")
        item.setAttribute("data-index", str(index))
        head = make("div", "head")
        visitor = chat.get("visitor") or {"id": chat.get("visitorId")}
        head.appendChild(make("span", "who", visitor_name(visitor, t)))
        state = t("details.chat.open") if chat.get("status") == "open" else t("details.chat.closed")
        head.appendChild(make("span", "when", local_date_time(result.get("at")) + " · " + state))
        item.appendChild(head)
        line = make("div", "snippet")
        kind = result.get("match")
        if kind in ("name", "email"):
            line.appendChild(make("span", "field", t("search.match." + kind)))
        for text, marked in highlight_parts(result.get("snippet"), result.get("highlight")):
            line.appendChild(make("mark" if marked else "span", None, text))
        item.appendChild(line)
        return item

    def mark_active(self):
        box = el("search-input")
        for node in el("search-results").querySelectorAll("[role=option]"):
            chosen = node.getAttribute("data-index") == str(self.active)
            node.setAttribute("aria-selected", "true" if chosen else "false")
            if chosen:
                box.setAttribute("aria-activedescendant", node.id)
                node.scrollIntoView(to_js({"block": "nearest"}))
        if self.active < 0:
            box.removeAttribute("aria-activedescendant")

    # -- keys and clicks -----------------------------------------------------------------
    def on_key(self, event):
        key = event.key
        count = len(self.results)
        if key == "ArrowDown" and count:
            event.preventDefault()
            self.open()
            self.active = (self.active + 1) % count
            self.mark_active()
        elif key == "ArrowUp" and count:
            event.preventDefault()
            self.open()
            self.active = (self.active - 1) % count
            self.mark_active()
        elif key == "Escape":
            event.preventDefault()
            if not el("search-panel").hidden:
                self.close()
            else:
                el("search-input").value = ""
                self.results = []
                self.query = None

    def on_submit(self, event):
        event.preventDefault()
        if self.results and not el("search-panel").hidden:
            self.choose(self.active if self.active >= 0 else 0)

    def on_click(self, event):
        node = event.target.closest("[data-index]")
        if node is not None:
            self.choose(int(node.getAttribute("data-index")))

    def choose(self, index):
        if not 0 <= index < len(self.results):
            return
        chat = self.results[index].get("chat")
        if not chat:
            return
        state = self.app.state
        if chat["id"] not in state.chats:
            state.load_chats([chat])
        self.close()
        self.app.open_chat(chat["id"])


def install(app, hooks):
    search = Search(app)
    hooks.leaving.append(search.left)
    app.search = search
    return search
