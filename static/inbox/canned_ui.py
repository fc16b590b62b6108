"""Canned responses on the page: the "/shortcut" list in the composer and the
dialog where operators add, edit and delete them.

The list follows the listbox pattern: the reply box keeps the focus and points at
the active option with aria-activedescendant; arrow keys move, Enter or Tab
inserts, Escape closes; a click inserts too. main.App calls `load`, `on_key`
(first, on every keydown in the reply box), `update` (on input) and `close`.
"""

from canned import clean_shortcut, insert, matching, preview, slash_query, valid_shortcut
from dom import clear, el, make, on
from strings import t


class CannedUI:
    def __init__(self, app, api, spawn):
        self.app = app
        self.api = api
        self.spawn = spawn
        self.responses = []
        self.shown = []  # the options in the composer's list now
        self.active = 0
        self.query = None  # (start, query) of the "/shortcut" being typed
        self.dismissed = None  # the query Escape closed the list for
        self.editing = None  # the response the dialog's form edits (None: a new one)
        self.busy = False
        listbox = el("canned-list")
        on(listbox, "mousedown", lambda event: event.preventDefault())  # the reply keeps focus
        on(listbox, "click", self.on_option_click)
        on(el("canned-open"), "click", self.open_dialog)
        on(el("canned-close"), "click", lambda event: el("canned-dialog").close())
        on(el("canned-form"), "submit", self.on_save)
        on(el("canned-cancel"), "click", lambda event: self.edit(None))
        on(el("canned-items"), "click", self.on_item_click)

    # -- loading ---------------------------------------------------------------------------
    async def load(self):
        generation = self.app.generation
        status, body = await self.api("GET", "/api/operator/canned")
        if generation != self.app.generation:
            return
        if status == 200 and isinstance(body, dict):
            self.responses = body.get("responses") or []
            self.render_items()
            if self.query is not None:
                self.update()
        elif status == 401:
            self.app.leave(t("error.session"))
        else:
            reason = t("error.network") if status == 0 else str((body or {}).get("message") or status)
            self.app.show_banner(t("canned.load_failed", reason=reason))

    def reload(self):
        self.spawn(self.load())

    # -- the composer's list -----------------------------------------------------------------
    def update(self):
        """After every edit of the reply box: show the responses the "/query" matches."""
        box = el("reply")
        found = slash_query(str(box.value), box.selectionStart)
        if found != self.query:
            self.active = 0
            self.dismissed = None
        self.query = found
        if found is None or found == self.dismissed:
            self.close()
            return
        self.shown = matching(self.responses, found[1])
        if not self.shown:
            self.close()
            return
        self.active = min(self.active, len(self.shown) - 1)
        self.render_list()

    def render_list(self):
        listbox = el("canned-list")
        clear(listbox)
        for index, response in enumerate(self.shown):
            option = make("li", "canned-option")
            option.id = "canned-opt-" + str(index)
            option.setAttribute("role", "option")
            option.setAttribute("data-index", str(index))
            selected = index == self.active
            option.setAttribute("aria-selected", "true" if selected else "false")
            option.appendChild(make("span", "shortcut", "/" + response["shortcut"]))
            option.appendChild(make("span", "text", preview(response["text"])))
            listbox.appendChild(option)
        listbox.hidden = False
        box = el("reply")
        box.setAttribute("aria-activedescendant", "canned-opt-" + str(self.active))
        status = t("canned.matches", count=len(self.shown))
        if el("canned-live").textContent != status:
            el("canned-live").textContent = status
        active = el("canned-opt-" + str(self.active))
        if active is not None:  # keep the active option in view
            top = int(active.offsetTop)
            bottom = top + int(active.offsetHeight)
            if top < int(listbox.scrollTop):
                listbox.scrollTop = top
            elif bottom > int(listbox.scrollTop) + int(listbox.clientHeight):
                listbox.scrollTop = bottom - int(listbox.clientHeight)

    def is_open(self):
        return not el("canned-list").hidden

    def close(self):
        self.shown = []
        el("canned-list").hidden = True
        clear(el("canned-list"))
        el("reply").removeAttribute("aria-activedescendant")
        el("canned-live").textContent = ""

    def on_key(self, event):
        """A keydown in the reply box; True when the list used it (main then ignores it)."""
        if not self.is_open() or event.isComposing:
            return False
        key = event.key
        count = len(self.shown)
        if key in ("ArrowDown", "ArrowUp"):
            step = 1 if key == "ArrowDown" else -1
            self.active = (self.active + step) % count
            self.render_list()
        elif key in ("Enter", "Tab") and not event.shiftKey:
            self.choose(self.active)
        elif key == "Escape":
            self.dismissed = self.query
            self.close()
        else:
            return False
        event.preventDefault()
        return True

    def on_option_click(self, event):
        option = event.target.closest("[data-index]")
        if option:
            self.choose(int(option.getAttribute("data-index")))

    def choose(self, index):
        """Puts the response's text in place of the "/query" (the operator still sends it)."""
        if self.query is None or not 0 <= index < len(self.shown):
            return
        box = el("reply")
        start = self.query[0]
        text, caret = insert(str(box.value), box.selectionStart, start, self.shown[index]["text"])
        box.value = text
        box.setSelectionRange(caret, caret)
        self.query = None
        self.close()
        box.focus()
        self.app.on_reply_input(None)  # setting .value fires no input event: typing goes out here

    def leave(self):
        """Logged out: close the list and the dialog, forget the responses."""
        self.close()
        self.query = None
        self.responses = []
        if el("canned-dialog").open:
            el("canned-dialog").close()

    # -- the management dialog ---------------------------------------------------------------
    def open_dialog(self, event):
        self.edit(None)
        el("canned-saved").textContent = ""
        self.render_items()
        el("canned-dialog").showModal()
        self.reload()

    def render_items(self):
        items = el("canned-items")
        clear(items)
        for response in self.responses:
            item = make("li", "canned-item")
            item.appendChild(make("code", "shortcut", "/" + response["shortcut"]))
            item.appendChild(make("span", "text", response["text"]))
            actions = make("span", "actions")
            for action in ("edit", "delete"):
                button = make("button", "link", t("canned." + action))
                button.type = "button"
                button.setAttribute("data-action", action)
                button.setAttribute("data-id", response["id"])
                label = t("canned." + action + ".label", shortcut=response["shortcut"])
                button.setAttribute("aria-label", label)
                actions.appendChild(button)
            item.appendChild(actions)
            items.appendChild(item)
        el("canned-empty").hidden = bool(self.responses)

    def on_item_click(self, event):
        button = event.target.closest("[data-action]")
        if not button:
            return
        found = [r for r in self.responses if r["id"] == button.getAttribute("data-id")]
        if not found:
            return
        if button.getAttribute("data-action") == "edit":
            self.edit(found[0])
            el("canned-text").focus()
        else:
            self.spawn(self.delete(found[0]))

    def edit(self, response):
        self.editing = response
        el("canned-form-title").textContent = (
            t("canned.editing", shortcut=response["shortcut"]) if response else t("canned.new"))
        el("canned-shortcut").value = response["shortcut"] if response else ""
        el("canned-text").value = response["text"] if response else ""
        el("canned-save").textContent = t("canned.save") if response else t("canned.add")
        el("canned-cancel").hidden = response is None
        el("canned-error").textContent = ""

    def on_save(self, event):
        event.preventDefault()
        if not self.busy:
            self.spawn(self.save())

    async def save(self):
        shortcut = clean_shortcut(str(el("canned-shortcut").value))
        text = str(el("canned-text").value).strip()
        error = el("canned-error")
        if not valid_shortcut(shortcut):
            error.textContent = t("canned.bad_shortcut")
            el("canned-shortcut").focus()
            return
        if not text or len(text) > 5000:
            error.textContent = t("canned.bad_text")
            el("canned-text").focus()
            return
        body = {"shortcut": shortcut, "text": text}
        self.busy = True
        if self.editing is None:
            status, answer = await self.api("POST", "/api/operator/canned", body)
        else:
            status, answer = await self.api("PATCH", "/api/operator/canned/" + self.editing["id"], body)
        self.busy = False
        if status in (200, 201):
            self.edit(None)
            el("canned-saved").textContent = t("canned.saved", shortcut=shortcut)
            await self.load()
            el("canned-shortcut").focus()
        else:
            self.failed(status, answer, shortcut, error)

    async def delete(self, response):
        status, answer = await self.api("DELETE", "/api/operator/canned/" + response["id"])
        if status in (200, 404):  # 404: someone else deleted it already
            if self.editing is not None and self.editing["id"] == response["id"]:
                self.edit(None)
            el("canned-saved").textContent = t("canned.deleted", shortcut=response["shortcut"])
            await self.load()
            el("canned-shortcut").focus()
        else:
            self.failed(status, answer, response["shortcut"], el("canned-error"))

    def failed(self, status, answer, shortcut, error):
        if status == 401:
            self.app.leave(t("error.session"))
        elif status == 409:
            error.textContent = t("canned.taken", shortcut=shortcut)
        elif status == 0:
            error.textContent = t("canned.failed", reason=t("error.network"))
        else:
            reason = answer.get("message") if isinstance(answer, dict) else None
            error.textContent = t("canned.failed", reason=reason or str(status))
