"""The admin page's shell: tabs, messages, requests and the confirmation dialog, around
one module per screen: the app and its installation code (app_screen), operators
(operators_screen), teams (teams_screen) and triggers (triggers_screen).

Runs in MicroPython under PyScript on Parley's own origin, like the inbox. Everything
goes through /api/admin/* (docs/protocol.md, "Admin HTTP API"), which checks it all
again; `model` holds the pure checks. Every string comes from `strings.STRINGS`; user
text only ever reaches the page as `textContent` or a form value.
"""

import asyncio

from app_screen import AppScreen
from dom import api, el, on, spawn, translate_page
from model import error_field, error_text
from operators_screen import OperatorsScreen
from pyscript import document, window
from pyscript.ffi import create_proxy
from strings import t
from teams_screen import TeamsScreen
from triggers_screen import TriggersScreen

SECTIONS = ("app", "install", "operators", "teams", "triggers")


class Admin:
    def __init__(self):
        self.app = AppScreen(self)
        self.operators = OperatorsScreen(self)
        self.teams = TeamsScreen(self)
        self.triggers = TriggersScreen(self)
        self.section = "app"
        self.invalid = []  # inputs marked aria-invalid by the last error
        self.answer = None  # the confirmation dialog's answer, while it is open: asyncio.Event
        self.answered = False

    # -- start ---------------------------------------------------------------------------
    async def start(self):
        translate_page()
        state = document.body.getAttribute("data-state")
        el("boot").hidden = True
        if state != "admin":
            self.refuse(state)
            return
        self._bind()
        el("admin").hidden = False
        self.show(self.section_from_hash(), focus=False)
        status, me = await api("GET", "/api/operator/me")
        if status == 200:
            el("me").textContent = t("header.signed_in", name=me.get("name") or me.get("email"))
        await self.app.load_app()
        await self.app.load_snippet()
        await self.operators.load_operators()
        await self.teams.load_teams()
        await self.triggers.load_triggers()
        self.app.fill_zones()

    def refuse(self, state):
        reason = "login" if state == "login" else "forbidden"
        el("refused-title").textContent = t("refused." + reason + ".title")
        el("refused-text").textContent = t("refused." + reason + ".text")
        el("refused").hidden = False

    def _bind(self):
        for section in SECTIONS:
            on(el("tab-" + section), "click", self.on_tab_click)
        on(el("tabs"), "keydown", self.on_tab_key)
        # (A property, not addEventListener: calling window's methods through the proxy is refused.)
        window.onhashchange = create_proxy(lambda event: self.show(self.section_from_hash(), focus=False))
        for screen in (self.app, self.operators, self.teams, self.triggers):
            screen.bind()
        # The confirmation dialog
        on(el("confirm-yes"), "click", lambda event: self.answer_with(True))
        on(el("confirm-no"), "click", lambda event: self.answer_with(False))
        on(el("confirm"), "cancel", lambda event: self.answer_with(False))  # Escape

    # -- sections (tabs) ---------------------------------------------------------------------
    def section_from_hash(self):
        name = str(window.location.hash or "").lstrip("#")
        return name if name in SECTIONS else self.section

    def show(self, section, focus=True):
        self.section = section
        for name in SECTIONS:
            tab = el("tab-" + name)
            selected = name == section
            tab.setAttribute("aria-selected", "true" if selected else "false")
            tab.setAttribute("tabindex", "0" if selected else "-1")
            el("panel-" + name).hidden = not selected
        if str(window.location.hash or "") != "#" + section:
            window.history.replaceState(None, "", "#" + section)
        if focus:
            el("tab-" + section).focus()

    def on_tab_click(self, event):
        self.show(event.currentTarget.getAttribute("data-section"))

    def on_tab_key(self, event):
        key = event.key
        index = SECTIONS.index(self.section)
        if key in ("ArrowDown", "ArrowRight"):
            index = (index + 1) % len(SECTIONS)
        elif key in ("ArrowUp", "ArrowLeft"):
            index = (index - 1) % len(SECTIONS)
        elif key == "Home":
            index = 0
        elif key == "End":
            index = len(SECTIONS) - 1
        else:
            return
        event.preventDefault()
        self.show(SECTIONS[index])

    # -- messages ------------------------------------------------------------------------------
    def say(self, msg_id, text, error=False):
        node = el(msg_id)
        node.className = "msg error" if error else "msg ok"
        node.textContent = text

    def unmark(self):
        for node in self.invalid:
            node.removeAttribute("aria-invalid")
        self.invalid = []

    def mark(self, input_id):
        node = el(input_id) if input_id else None
        if node:
            node.setAttribute("aria-invalid", "true")
            self.invalid.append(node)
            node.focus()

    def fail(self, msg_id, text, input_id=None):
        """A failed action: the message says why, the field (if any) is marked and focused."""
        self.unmark()
        self.say(msg_id, text, error=True)
        self.mark(input_id)

    async def call(self, method, path, body, msg_id, fields=None, button=None):
        """Sends one admin request; on failure shows why (and marks the field the server
        named, through `fields`: {api field: input id}). Returns the answer, or None."""
        if button:
            button.disabled = True
        status, answer = await api(method, path, body)
        if button:
            button.disabled = False
        if 200 <= status < 300:
            self.unmark()
            return answer if answer is not None else {}
        field = error_field(answer)
        input_id = None
        if field and fields:
            input_id = fields.get(field) or fields.get(field.split("[")[0].split(".")[0])
        self.fail(msg_id, error_text(status, answer, t), input_id)
        if status == 404:
            spawn(self.reload_all())
        return None

    async def ask(self, text, yes):
        """Asks in a modal dialog (Cancel has the focus); True when the admin confirmed."""
        before = document.activeElement
        dialog = el("confirm")
        el("confirm-text").textContent = text
        el("confirm-yes").textContent = yes
        self.answer = asyncio.Event()
        self.answered = False
        dialog.showModal()
        el("confirm-no").focus()
        await self.answer.wait()
        self.answer = None
        if dialog.open:
            dialog.close()
        if before and before.isConnected:
            before.focus()
        return self.answered

    def answer_with(self, value):
        if self.answer is not None:
            self.answered = value
            self.answer.set()

    async def reload_all(self):
        await self.operators.load_operators()
        await self.teams.load_teams()
        await self.triggers.load_triggers()

    async def copy(self, source_id, msg_id):
        node = el(source_id)
        text = node.value
        try:
            await window.navigator.clipboard.writeText(text)
            self.say(msg_id, t("copied"))
            return
        except Exception:  # no clipboard API, or it was refused: fall back to the old way
            pass
        node.focus()
        node.select()
        try:
            copied = document.execCommand("copy")
        except Exception:
            copied = False
        self.say(msg_id, t("copied") if copied else t("copy.manual"), error=not copied)

admin = Admin()
spawn(admin.start())
