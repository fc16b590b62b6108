"""The admin screens: the app (name, origins, appearance, working hours, secret), its
installation code, operators, teams and triggers.

Runs in MicroPython under PyScript on Parley's own origin, like the inbox. Everything
goes through /api/admin/* (docs/protocol.md, "Admin HTTP API"), which checks it all
again; `model` holds the pure checks. Every string comes from `strings.STRINGS`; user
text only ever reaches the page as `textContent` or a form value.
"""

import asyncio

from dom import api, clear, el, make, on, option, spawn, translate_page
from model import (
    DEFAULT_COLOR,
    check_origin,
    conditions_text,
    display_name,
    error_field,
    error_text,
    hours_body,
    looks_like_email,
    non_members,
    parse_delay,
    readable_text_color,
    resolve_color,
    trigger_label,
)
from pyscript import document, window
from pyscript.ffi import create_proxy
from strings import t

SECTIONS = ("app", "install", "operators", "teams", "triggers")
NEW_CONDITION = ("page_url", "contains", "")


def focused_id():
    active = document.activeElement
    return str(active.id) if active and active.id else ""


def refocus(element_id, fallback=None):
    """Focus goes back to the element with this id after a redraw (or to `fallback`)."""
    node = el(element_id) if element_id else None
    if not node and fallback:
        node = el(fallback)
    if node:
        node.focus()


class Admin:
    def __init__(self):
        self.app = None
        self.snippet = ""
        self.operators = []
        self.me = None
        self.teams = []
        self.triggers = []
        self.keys = []
        self.matchers = []
        self.kinds = []
        self.colors = {}
        self.color_names = []
        self.section = "app"
        self.editing = None  # the id of the trigger in the editor; None: a new one
        self.conditions = []  # the editor's rows: [key, matcher, value]
        self.resetting = None  # the operator whose password is being reset
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
        await self.load_app()
        await self.load_snippet()
        await self.load_operators()
        await self.load_teams()
        await self.load_triggers()
        self.fill_zones()

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
        # App
        on(el("name-form"), "submit", self.on_name)
        on(el("origin-form"), "submit", self.on_add_origin)
        on(el("origins-list"), "click", self.on_origins_click)
        on(el("appearance-form"), "submit", self.on_appearance)
        on(el("ap-color"), "input", self.on_color_typed)
        on(el("ap-color-picker"), "input", self.on_color_picked)
        on(el("ap-team"), "input", lambda event: self.render_preview())
        on(el("ap-online"), "input", lambda event: self.render_preview())
        on(el("ap-offline"), "input", lambda event: self.render_preview())
        on(el("preview-online"), "change", lambda event: self.render_preview())
        on(el("preview-offline"), "change", lambda event: self.render_preview())
        on(el("hours-form"), "submit", self.on_hours)
        on(el("hours-clear"), "click", self.on_hours_clear)
        on(el("secret-rotate"), "click", self.on_secret_ask)
        on(el("secret-no"), "click", self.on_secret_cancel)
        on(el("secret-yes"), "click", self.on_secret_rotate)
        on(el("secret-copy"), "click", lambda event: spawn(self.copy("secret-value", "secret-msg")))
        # Installation
        on(el("snippet-copy"), "click", lambda event: spawn(self.copy("snippet", "install-msg")))
        # Operators
        on(el("operator-rows"), "click", self.on_operator_click)
        on(el("operator-rows"), "change", self.on_operator_change)
        on(el("operator-form"), "submit", self.on_create_operator)
        on(el("reset-form"), "submit", self.on_reset)
        on(el("reset-cancel"), "click", lambda event: self.close_reset())
        on(el("reset-copy"), "click", lambda event: spawn(self.copy("reset-result-value", "reset-msg")))
        # Teams
        on(el("team-list"), "click", self.on_team_click)
        on(el("team-list"), "submit", self.on_team_submit)
        on(el("team-form"), "submit", self.on_create_team)
        # Triggers
        on(el("trigger-rows"), "click", self.on_trigger_click)
        on(el("trigger-rows"), "change", self.on_trigger_change)
        on(el("trigger-form"), "submit", self.on_save_trigger)
        on(el("trigger-cancel"), "click", lambda event: self.reset_trigger_form(focus=True))
        on(el("condition-add"), "click", self.on_add_condition)
        on(el("conditions"), "click", self.on_conditions_click)
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
        await self.load_operators()
        await self.load_teams()
        await self.load_triggers()

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

    # -- the app -------------------------------------------------------------------------------
    async def load_app(self):
        status, body = await api("GET", "/api/admin/app")
        if status != 200:
            self.fail("app-msg", t("error.load", reason=error_text(status, body, t)))
            return
        self.color_names = [pair[0] for pair in body.get("windowColors") or []]
        self.colors = {}
        for name, hex_color in body.get("windowColors") or []:
            self.colors[name] = hex_color
        names = el("color-names")
        clear(names)
        for name in self.color_names:
            names.appendChild(option(name, name))
        el("ap-color-hint").textContent = t("appearance.color.hint", names=", ".join(self.color_names))
        self.set_app(body, fill=True)

    def set_app(self, body, fill=False):
        """Shows the app's settings; `fill` also refills the form fields (else typed text stays)."""
        self.app = body
        el("app-id").textContent = t("app.id", id=body["appId"])
        el("snippet-label").textContent = t("install.label", name=body["name"])
        self.render_origins()
        hours = body.get("workingHours")
        el("hours-current").textContent = (t("hours.current", description=hours["description"]) if hours
                                          else t("hours.current.none"))
        if fill:
            el("app-name").value = body["name"]
            appearance = body.get("appearance") or {}
            el("ap-color").value = appearance.get("windowColor") or ""
            el("ap-team").value = appearance.get("teamName") or ""
            el("ap-online").value = appearance.get("onlineWelcome") or ""
            el("ap-offline").value = appearance.get("offlineWelcome") or ""
            el("hours-spec").value = hours["spec"] if hours else ""
            el("hours-zone").value = hours["timezone"] if hours else self.browser_zone()
            self.on_color_typed(None)

    def on_name(self, event):
        event.preventDefault()
        spawn(self.save_name())

    async def save_name(self):
        name = el("app-name").value.strip()
        if not name or len(name) > 200:
            self.fail("name-msg", t("name.empty"), "app-name")
            return
        body = await self.call("PATCH", "/api/admin/app", {"name": name}, "name-msg", {"name": "app-name"})
        if body is not None:
            self.set_app(body)
            self.say("name-msg", t("saved"))

    def render_origins(self):
        origins = self.app.get("origins") or []
        listing = el("origins-list")
        clear(listing)
        for origin in origins:
            item = make("li")
            item.appendChild(make("code", text=origin))
            button = make("button", "link", t("remove"), type="button", data_action="remove-origin",
                          data_origin=origin, aria_label=t("origins.remove", origin=origin))
            item.appendChild(button)
            listing.appendChild(item)
        listing.hidden = not origins
        el("origins-none").hidden = bool(origins)

    def on_add_origin(self, event):
        event.preventDefault()
        spawn(self.add_origin())

    async def add_origin(self):
        text = el("origin-new").value.strip()
        if not text:
            self.fail("origins-msg", t("origins.empty"), "origin-new")
            return
        origin = check_origin(text)
        if origin is None:
            self.fail("origins-msg", t("origins.invalid", origin=text), "origin-new")
            return
        origins = list(self.app.get("origins") or [])
        if origin in origins:
            self.fail("origins-msg", t("origins.duplicate", origin=origin), "origin-new")
            return
        origins.append(origin)
        body = await self.call("PATCH", "/api/admin/app", {"origins": origins}, "origins-msg",
                               {"origins": "origin-new"})
        if body is not None:
            self.set_app(body)
            el("origin-new").value = ""
            self.say("origins-msg", t("origins.added", origin=origin))
            el("origin-new").focus()

    def on_origins_click(self, event):
        button = event.target.closest("[data-action=remove-origin]")
        if button:
            spawn(self.remove_origin(button.getAttribute("data-origin")))

    async def remove_origin(self, origin):
        origins = [o for o in self.app.get("origins") or [] if o != origin]
        body = await self.call("PATCH", "/api/admin/app", {"origins": origins}, "origins-msg")
        if body is not None:
            self.set_app(body)
            self.say("origins-msg", t("origins.removed", origin=origin))
            el("origin-new").focus()

    # appearance and its live preview
    def current_color(self):
        typed = el("ap-color").value.strip()
        return resolve_color(typed, self.colors) if typed else DEFAULT_COLOR

    def on_color_typed(self, event):
        color = self.current_color()
        if color is not None:
            el("ap-color-picker").value = color
        self.render_preview()

    def on_color_picked(self, event):
        el("ap-color").value = el("ap-color-picker").value
        self.render_preview()

    def render_preview(self):
        color = self.current_color() or DEFAULT_COLOR
        head = el("preview-head")
        head.style.background = color
        head.style.color = readable_text_color(color)
        send = el("preview-send")
        send.style.background = color
        send.style.color = readable_text_color(color)
        el("preview-team").textContent = el("ap-team").value.strip() or t("preview.team")
        offline = el("preview-offline").checked
        typed = el("ap-offline" if offline else "ap-online").value.strip()
        el("preview-welcome").textContent = typed or t("preview.welcome.offline" if offline
                                                       else "preview.welcome.online")

    def on_appearance(self, event):
        event.preventDefault()
        spawn(self.save_appearance())

    async def save_appearance(self):
        color = el("ap-color").value.strip()
        if color and resolve_color(color, self.colors) is None:
            self.fail("appearance-msg", t("appearance.color.invalid", value=color,
                                          names=", ".join(self.color_names)), "ap-color")
            return
        appearance = {"windowColor": color or None, "teamName": el("ap-team").value,
                      "onlineWelcome": el("ap-online").value, "offlineWelcome": el("ap-offline").value}
        fields = {"appearance.windowColor": "ap-color", "appearance.teamName": "ap-team",
                  "appearance.onlineWelcome": "ap-online", "appearance.offlineWelcome": "ap-offline"}
        body = await self.call("PATCH", "/api/admin/app", {"appearance": appearance}, "appearance-msg",
                               fields)
        if body is not None:
            self.set_app(body)
            self.say("appearance-msg", t("appearance.saved"))

    # working hours
    def browser_zone(self):
        try:
            return str(window.Intl.DateTimeFormat.new().resolvedOptions().timeZone or "")
        except Exception:
            return ""

    def fill_zones(self):
        try:
            zones = window.Intl.supportedValuesOf("timeZone")
        except Exception:  # an older browser: the field still takes any name
            return
        listing = el("zones")
        for zone in zones:
            listing.appendChild(option(str(zone), str(zone)))

    def on_hours(self, event):
        event.preventDefault()
        spawn(self.save_hours())

    async def save_hours(self):
        body = hours_body(el("hours-spec").value, el("hours-zone").value)
        if body is None:
            missing = "hours-spec" if not el("hours-spec").value.strip() else "hours-zone"
            self.fail("hours-msg", t("hours.missing"), missing)
            return
        fields = {"workingHours.spec": "hours-spec", "workingHours.timezone": "hours-zone",
                  "workingHours": "hours-spec"}
        answer = await self.call("PATCH", "/api/admin/app", body, "hours-msg", fields)
        if answer is not None:
            self.set_app(answer)
            el("hours-spec").value = answer["workingHours"]["spec"]
            self.say("hours-msg", t("hours.saved"))

    def on_hours_clear(self, event):
        spawn(self.clear_hours())

    async def clear_hours(self):
        answer = await self.call("PATCH", "/api/admin/app", {"workingHours": None}, "hours-msg",
                                 button=el("hours-clear"))
        if answer is not None:
            self.set_app(answer)
            el("hours-spec").value = ""
            self.say("hours-msg", t("hours.cleared"))

    # secret
    def on_secret_ask(self, event):
        el("secret-confirm").hidden = False
        el("secret-msg").textContent = ""
        el("secret-no").focus()

    def on_secret_cancel(self, event):
        el("secret-confirm").hidden = True
        el("secret-rotate").focus()

    def on_secret_rotate(self, event):
        spawn(self.rotate_secret())

    async def rotate_secret(self):
        body = await self.call("POST", "/api/admin/app/rotate-secret", None, "secret-msg",
                               button=el("secret-yes"))
        el("secret-confirm").hidden = True
        if body is None:
            el("secret-rotate").focus()
            return
        el("secret-new").hidden = False
        el("secret-value").value = body["secret"]
        self.say("secret-msg", t("secret.rotated"))
        el("secret-value").focus()
        el("secret-value").select()

    # -- installation ----------------------------------------------------------------------------
    async def load_snippet(self):
        status, body = await api("GET", "/api/admin/snippet")
        if status != 200:
            self.fail("install-msg", t("error.load", reason=error_text(status, body, t)))
            return
        el("snippet").value = body["snippet"]

    # -- operators -------------------------------------------------------------------------------
    async def load_operators(self):
        status, body = await api("GET", "/api/admin/operators")
        if status != 200:
            self.fail("operators-msg", t("error.load", reason=error_text(status, body, t)))
            return
        self.operators = body["operators"]
        self.me = body["me"]
        self.render_operators()

    def operator(self, operator_id):
        for operator in self.operators:
            if operator["id"] == operator_id:
                return operator
        return None

    def render_operators(self):
        keep = focused_id()
        rows = el("operator-rows")
        clear(rows)
        for operator in self.operators:
            oid = operator["id"]
            name = display_name(operator, t)
            row = make("tr")
            row.appendChild(make("td", text=display_name(operator, t, self.me)))
            row.appendChild(make("td", text=operator["email"]))
            cell = make("td")
            select = make("select", id="role-" + oid, data_id=oid,
                          aria_label=t("operators.role.of", name=name))
            for role in ("operator", "admin", "bot"):
                select.appendChild(option(role, t("role." + role), operator["role"] == role))
            if oid == self.me:
                select.disabled = True
            cell.appendChild(select)
            row.appendChild(cell)
            presence = operator["presence"]
            row.appendChild(make("td", "presence " + presence, t("presence." + presence)))
            actions = make("td", "actions")
            actions.appendChild(make("button", None, t("operators.reset"), type="button", id="reset-" + oid,
                                     data_action="reset", data_id=oid,
                                     aria_label=t("operators.reset.of", name=name)))
            if oid != self.me:
                actions.appendChild(make("button", "danger", t("delete"), type="button", id="delete-" + oid,
                                         data_action="delete", data_id=oid,
                                         aria_label=t("operators.delete.of", name=name)))
            row.appendChild(actions)
            rows.appendChild(row)
        refocus(keep)

    def on_operator_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        operator = self.operator(button.getAttribute("data-id"))
        if operator is None:
            return
        action = button.getAttribute("data-action")
        if action == "reset":
            self.open_reset(operator)
        elif action == "delete":
            spawn(self.delete_operator(operator))

    def on_operator_change(self, event):
        select = event.target
        operator = self.operator(select.getAttribute("data-id"))
        if operator is not None:
            spawn(self.change_role(operator, select))

    async def change_role(self, operator, select):
        role = select.value
        body = await self.call("PATCH", "/api/admin/operators/" + operator["id"], {"role": role},
                               "operators-msg")
        if body is None:
            select.value = operator["role"]
            select.focus()
            return
        operator["role"] = body["role"]
        self.say("operators-msg", t("operators.role.changed", name=display_name(operator, t),
                                    role=t("role." + body["role"])))

    async def delete_operator(self, operator):
        name = display_name(operator, t)
        if not await self.ask(t("operators.delete.confirm", name=name, email=operator["email"]),
                              t("operators.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/operators/" + operator["id"], None, "operators-msg")
        if body is None:
            return
        if self.resetting == operator["id"]:
            self.close_reset(focus=False)
        await self.load_operators()
        await self.load_teams()
        self.say("operators-msg", t("operators.deleted", name=name))
        el("new-email").focus()

    def open_reset(self, operator):
        self.resetting = operator["id"]
        el("reset-form").hidden = False
        el("reset-heading").textContent = t("reset.heading", name=display_name(operator, t))
        el("reset-password").value = ""
        el("reset-result").hidden = True
        el("reset-result-value").value = ""
        el("reset-msg").textContent = ""
        el("reset-password").focus()

    def close_reset(self, focus=True):
        operator_id = self.resetting
        self.resetting = None
        el("reset-form").hidden = True
        el("reset-result-value").value = ""
        if focus and operator_id:
            refocus("reset-" + operator_id, "new-email")

    def on_reset(self, event):
        event.preventDefault()
        spawn(self.reset_password())

    async def reset_password(self):
        operator = self.operator(self.resetting)
        if operator is None:
            self.close_reset()
            return
        password = el("reset-password").value
        if password and len(password) < 8:
            self.fail("reset-msg", t("operators.invalid.password"), "reset-password")
            return
        body = await self.call("POST", "/api/admin/operators/" + operator["id"] + "/reset-password",
                               {"password": password} if password else None, "reset-msg",
                               {"password": "reset-password"})
        if body is None:
            return
        el("reset-password").value = ""
        name = display_name(operator, t)
        self.say("reset-msg", t("reset.done", name=name, count=body.get("sessionsEnded", 0)))
        if body.get("password"):
            el("reset-result").hidden = False
            el("reset-result-label").textContent = t("reset.generated", name=name)
            el("reset-result-value").value = body["password"]
            el("reset-result-value").focus()
            el("reset-result-value").select()

    def on_create_operator(self, event):
        event.preventDefault()
        spawn(self.create_operator())

    async def create_operator(self):
        email = el("new-email").value.strip()
        password = el("new-password").value
        if not looks_like_email(email):
            self.fail("operator-form-msg", t("operators.invalid.email"), "new-email")
            return
        if len(password) < 8:
            self.fail("operator-form-msg", t("operators.invalid.password"), "new-password")
            return
        request = {"email": email, "password": password, "role": el("new-role").value}
        if el("new-name").value.strip():
            request["name"] = el("new-name").value.strip()
        fields = {"email": "new-email", "password": "new-password", "name": "new-name", "role": "new-role"}
        body = await self.call("POST", "/api/admin/operators", request, "operator-form-msg", fields)
        if body is None:
            return
        for input_id in ("new-email", "new-name", "new-password"):
            el(input_id).value = ""
        el("new-role").value = "operator"
        await self.load_operators()
        self.render_teams()  # the member pickers list the new operator
        self.say("operator-form-msg", t("operators.created", email=body["email"]))
        el("new-email").focus()

    # -- teams -------------------------------------------------------------------------------------
    async def load_teams(self):
        status, body = await api("GET", "/api/admin/teams")
        if status != 200:
            self.fail("teams-msg", t("error.load", reason=error_text(status, body, t)))
            return
        self.teams = body["teams"]
        self.render_teams()

    def team(self, team_id):
        for team in self.teams:
            if team["id"] == team_id:
                return team
        return None

    def render_teams(self):
        keep = focused_id()
        listing = el("team-list")
        clear(listing)
        for team in self.teams:
            listing.appendChild(self.team_card(team))
        el("teams-none").hidden = bool(self.teams)
        listing.hidden = not self.teams
        refocus(keep)

    def team_card(self, team):
        tid = team["id"]
        name = team["name"]
        card = make("li", "team card", id="team-" + tid)
        card.appendChild(make("h2", text=name))
        card.appendChild(make("p", "hint mono", t("teams.id", id=tid)))

        rename = make("form", "stack", data_form="rename", data_id=tid)
        rename.setAttribute("novalidate", "")
        rename.appendChild(make("label", text=t("teams.name"), for_="team-name-" + tid))
        row = make("div", "row")
        field = make("input", id="team-name-" + tid, maxlength="200", autocomplete="off")
        field.value = name
        row.appendChild(field)
        row.appendChild(make("button", None, t("teams.rename"), type="submit"))
        rename.appendChild(row)
        card.appendChild(rename)

        card.appendChild(make("h3", text=t("teams.members")))
        members = [self.operator(oid) for oid in team["memberIds"]]
        members = [m for m in members if m is not None]
        if members:
            listing = make("ul", "members")
            for member in members:
                item = make("li")
                member_name = display_name(member, t)
                item.appendChild(make("span", text=member_name))
                item.appendChild(make("span", "hint", member["email"]))
                item.appendChild(make("button", "link", t("remove"), type="button",
                                      id="remove-" + tid + "-" + member["id"], data_action="remove-member",
                                      data_id=tid, data_operator=member["id"],
                                      aria_label=t("teams.member.remove", name=member_name, team=name)))
                listing.appendChild(item)
            card.appendChild(listing)
        else:
            card.appendChild(make("p", "hint", t("teams.members.none")))

        candidates = non_members(self.operators, team["memberIds"])
        if candidates:
            add = make("form", "stack", data_form="add-member", data_id=tid)
            add.setAttribute("novalidate", "")
            add.appendChild(make("label", text=t("teams.member.add", team=name), for_="team-add-" + tid))
            row = make("div", "row")
            select = make("select", id="team-add-" + tid)
            select.appendChild(option("", t("teams.member.choose")))
            for operator in candidates:
                text = display_name(operator, t) + " · " + operator["email"]
                select.appendChild(option(operator["id"], text))
            row.appendChild(select)
            row.appendChild(make("button", None, t("teams.member.add.button"), type="submit",
                                 id="team-add-button-" + tid))
            add.appendChild(row)
            card.appendChild(add)
        else:
            card.appendChild(make("p", "hint", t("teams.member.all")))

        card.appendChild(make("button", "danger", t("teams.delete"), type="button", id="team-delete-" + tid,
                              data_action="delete-team", data_id=tid,
                              aria_label=t("teams.delete.of", name=name)))
        card.appendChild(make("p", "msg", None, id="team-msg-" + tid, role="status"))
        return card

    def on_team_submit(self, event):
        event.preventDefault()
        form = event.target
        team = self.team(form.getAttribute("data-id"))
        if team is None:
            return
        if form.getAttribute("data-form") == "rename":
            spawn(self.rename_team(team))
        else:
            spawn(self.add_member(team))

    def on_team_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        team = self.team(button.getAttribute("data-id"))
        if team is None:
            return
        if button.getAttribute("data-action") == "delete-team":
            spawn(self.delete_team(team))
        elif button.getAttribute("data-action") == "remove-member":
            spawn(self.remove_member(team, button.getAttribute("data-operator")))

    def replace_team(self, body):
        for index, team in enumerate(self.teams):
            if team["id"] == body["id"]:
                self.teams[index] = body
        self.render_teams()

    async def rename_team(self, team):
        field_id = "team-name-" + team["id"]
        name = el(field_id).value.strip()
        msg = "team-msg-" + team["id"]
        if not name or len(name) > 200:
            self.fail(msg, t("name.empty"), field_id)
            return
        body = await self.call("PATCH", "/api/admin/teams/" + team["id"], {"name": name}, msg,
                               {"name": field_id})
        if body is not None:
            self.replace_team(body)
            self.say("team-msg-" + team["id"], t("teams.renamed", name=body["name"]))

    async def add_member(self, team):
        select_id = "team-add-" + team["id"]
        operator = self.operator(el(select_id).value)
        msg = "team-msg-" + team["id"]
        if operator is None:
            self.fail(msg, t("teams.member.choose"), select_id)
            return
        body = await self.call("POST", "/api/admin/teams/" + team["id"] + "/members",
                               {"operatorId": operator["id"]}, msg, {"operatorId": select_id})
        if body is not None:
            self.replace_team(body)
            self.say(msg, t("teams.member.added", name=display_name(operator, t), team=body["name"]))
            refocus(select_id, "team-name-" + team["id"])

    async def remove_member(self, team, operator_id):
        operator = self.operator(operator_id)
        msg = "team-msg-" + team["id"]
        path = "/api/admin/teams/" + team["id"] + "/members/" + operator_id
        body = await self.call("DELETE", path, None, msg)
        if body is not None:
            self.replace_team(body)
            name = display_name(operator, t) if operator else operator_id
            self.say(msg, t("teams.member.removed", name=name, team=body["name"]))
            refocus("team-add-" + team["id"], "team-name-" + team["id"])

    async def delete_team(self, team):
        if not await self.ask(t("teams.delete.confirm", name=team["name"]), t("teams.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/teams/" + team["id"], None, "team-msg-" + team["id"])
        if body is None:
            return
        self.teams = [other for other in self.teams if other["id"] != team["id"]]
        self.render_teams()
        self.say("teams-msg", t("teams.deleted", name=team["name"]))
        el("new-team").focus()

    def on_create_team(self, event):
        event.preventDefault()
        spawn(self.create_team())

    async def create_team(self):
        name = el("new-team").value.strip()
        if not name or len(name) > 200:
            self.fail("team-form-msg", t("name.empty"), "new-team")
            return
        body = await self.call("POST", "/api/admin/teams", {"name": name}, "team-form-msg",
                               {"name": "new-team"})
        if body is not None:
            self.teams.append(body)
            self.render_teams()
            el("new-team").value = ""
            self.say("team-form-msg", t("teams.created", name=body["name"]))
            el("new-team").focus()

    # -- triggers ----------------------------------------------------------------------------------
    async def load_triggers(self):
        status, body = await api("GET", "/api/admin/triggers")
        if status != 200:
            self.fail("triggers-msg", t("error.load", reason=error_text(status, body, t)))
            return
        first = not self.keys
        self.triggers = body["triggers"]
        self.keys = body["parameterKeys"]
        self.matchers = body["matchers"]
        self.kinds = body["kinds"]
        if first:
            kinds = el("tr-kind")
            clear(kinds)
            for kind in self.kinds:
                kinds.appendChild(option(kind, t("kind." + kind)))
            self.render_conditions()
        self.render_triggers()

    def trigger(self, trigger_id):
        for trigger in self.triggers:
            if trigger["id"] == trigger_id:
                return trigger
        return None

    def render_triggers(self):
        keep = focused_id()
        rows = el("trigger-rows")
        clear(rows)
        for trigger in self.triggers:
            tid = trigger["id"]
            label = trigger_label(trigger)
            row = make("tr")
            cell = make("td", "message-cell")
            if trigger.get("name"):
                cell.appendChild(make("strong", text=trigger["name"]))
            cell.appendChild(make("span", text=trigger["message"]))
            row.appendChild(cell)
            row.appendChild(make("td", text=t("kind." + trigger["kind"])))
            row.appendChild(make("td", text=t("triggers.seconds", n=trigger["delay"])))
            row.appendChild(make("td", text=conditions_text(trigger["conditions"], t)))
            toggle_cell = make("td")
            toggle = make("input", type="checkbox", id="enabled-" + tid, data_id=tid,
                          aria_label=t("triggers.enabled.of", name=label))
            toggle.checked = bool(trigger["enabled"])
            toggle_cell.appendChild(toggle)
            row.appendChild(toggle_cell)
            actions = make("td", "actions")
            actions.appendChild(make("button", None, t("triggers.edit"), type="button", id="edit-" + tid,
                                     data_action="edit", data_id=tid,
                                     aria_label=t("triggers.edit.of", name=label)))
            actions.appendChild(make("button", "danger", t("delete"), type="button",
                                     id="trigger-delete-" + tid, data_action="delete", data_id=tid,
                                     aria_label=t("triggers.delete.of", name=label)))
            row.appendChild(actions)
            rows.appendChild(row)
        el("trigger-table").hidden = not self.triggers
        el("triggers-none").hidden = bool(self.triggers)
        refocus(keep)

    def on_trigger_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        trigger = self.trigger(button.getAttribute("data-id"))
        if trigger is None:
            return
        if button.getAttribute("data-action") == "edit":
            self.edit_trigger(trigger)
        else:
            spawn(self.delete_trigger(trigger))

    def on_trigger_change(self, event):
        box = event.target
        trigger = self.trigger(box.getAttribute("data-id"))
        if trigger is not None:
            spawn(self.toggle_trigger(trigger, box))

    async def toggle_trigger(self, trigger, box):
        enabled = bool(box.checked)
        body = await self.call("PATCH", "/api/admin/triggers/" + trigger["id"], {"enabled": enabled},
                               "triggers-msg")
        if body is None:
            box.checked = not enabled
            box.focus()
            return
        trigger["enabled"] = body["enabled"]
        label = trigger_label(body)
        key = "triggers.turned_on" if body["enabled"] else "triggers.turned_off"
        self.say("triggers-msg", t(key, name=label))

    async def delete_trigger(self, trigger):
        question = t("triggers.delete.confirm", name=trigger_label(trigger))
        if not await self.ask(question, t("triggers.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/triggers/" + trigger["id"], None, "triggers-msg")
        if body is None:
            return
        if self.editing == trigger["id"]:
            self.reset_trigger_form()
        self.triggers = [other for other in self.triggers if other["id"] != trigger["id"]]
        self.render_triggers()
        self.say("triggers-msg", t("triggers.deleted"))
        el("tr-name").focus()

    # the editor
    def edit_trigger(self, trigger):
        self.editing = trigger["id"]
        el("trigger-form-heading").textContent = t("trigger.editing")
        el("trigger-submit").textContent = t("trigger.save")
        el("trigger-cancel").hidden = False
        el("tr-name").value = trigger.get("name") or ""
        el("tr-message").value = trigger["message"]
        el("tr-kind").value = trigger["kind"]
        el("tr-delay").value = str(trigger["delay"])
        el("tr-enabled").checked = bool(trigger["enabled"])
        self.conditions = [list(c) for c in trigger["conditions"]]
        self.render_conditions()
        el("trigger-form-msg").textContent = ""
        self.unmark()
        el("tr-name").focus()

    def reset_trigger_form(self, focus=False):
        editing = self.editing
        self.editing = None
        el("trigger-form-heading").textContent = t("trigger.new")
        el("trigger-submit").textContent = t("trigger.create")
        el("trigger-cancel").hidden = True
        for input_id in ("tr-name", "tr-message"):
            el(input_id).value = ""
        el("tr-delay").value = "0"
        el("tr-enabled").checked = True
        if self.kinds:
            el("tr-kind").value = self.kinds[0]
        self.conditions = []
        self.render_conditions()
        self.unmark()
        if focus:
            refocus("edit-" + editing if editing else "", "tr-name")

    def sync_conditions(self):
        """Reads the editor's rows back from the page (what the admin typed or chose)."""
        rows = []
        for index in range(len(self.conditions)):
            rows.append([el("cond-key-" + str(index)).value, el("cond-matcher-" + str(index)).value,
                         el("cond-value-" + str(index)).value])
        self.conditions = rows

    def render_conditions(self):
        listing = el("conditions")
        clear(listing)
        for index, (key, matcher, value) in enumerate(self.conditions):
            n = index + 1
            item = make("li", "condition")
            keys = make("select", id="cond-key-" + str(index), aria_label=t("trigger.condition.key", n=n))
            for option_key in self.keys:
                keys.appendChild(option(option_key, t("param." + option_key), option_key == key))
            matchers = make("select", id="cond-matcher-" + str(index),
                            aria_label=t("trigger.condition.matcher", n=n))
            for option_matcher in self.matchers:
                matchers.appendChild(option(option_matcher, t("matcher." + option_matcher),
                                            option_matcher == matcher))
            field = make("input", id="cond-value-" + str(index), autocomplete="off", maxlength="2000",
                         aria_label=t("trigger.condition.value", n=n))
            field.value = value
            item.appendChild(keys)
            item.appendChild(matchers)
            item.appendChild(field)
            item.appendChild(make("button", "link", t("remove"), type="button", data_index=str(index),
                                  aria_label=t("trigger.condition.remove", n=n)))
            listing.appendChild(item)
        listing.hidden = not self.conditions

    def on_add_condition(self, event):
        self.sync_conditions()
        self.conditions.append(list(NEW_CONDITION))
        self.render_conditions()
        el("cond-key-" + str(len(self.conditions) - 1)).focus()

    def on_conditions_click(self, event):
        button = event.target.closest("button[data-index]")
        if not button:
            return
        self.sync_conditions()
        index = int(button.getAttribute("data-index"))
        self.conditions.pop(index)
        self.render_conditions()
        if self.conditions:
            el("cond-key-" + str(min(index, len(self.conditions) - 1))).focus()
        else:
            el("condition-add").focus()

    def on_save_trigger(self, event):
        event.preventDefault()
        spawn(self.save_trigger())

    async def save_trigger(self):
        self.sync_conditions()
        message = el("tr-message").value.strip()
        if not message or len(message) > 5000:
            self.fail("trigger-form-msg", t("trigger.invalid.message"), "tr-message")
            return
        delay = parse_delay(el("tr-delay").value)
        if delay is None:
            self.fail("trigger-form-msg", t("trigger.invalid.delay"), "tr-delay")
            return
        for index, condition in enumerate(self.conditions):
            if not condition[2].strip():
                self.fail("trigger-form-msg", t("trigger.invalid.value", n=index + 1),
                          "cond-value-" + str(index))
                return
        body = {"name": el("tr-name").value.strip(), "message": message, "kind": el("tr-kind").value,
                "delay": delay, "conditions": self.conditions, "enabled": bool(el("tr-enabled").checked)}
        fields = {"name": "tr-name", "message": "tr-message", "kind": "tr-kind", "delay": "tr-delay",
                  "enabled": "tr-enabled"}
        for index in range(len(self.conditions)):
            fields["conditions[" + str(index) + "]"] = "cond-value-" + str(index)
        editing = self.editing
        method, path = "POST", "/api/admin/triggers"
        if editing:
            method, path = "PATCH", "/api/admin/triggers/" + editing
        answer = await self.call(method, path, body, "trigger-form-msg", fields, el("trigger-submit"))
        if answer is None:
            return
        if editing:
            self.triggers = [answer if other["id"] == editing else other for other in self.triggers]
        else:
            self.triggers.append(answer)
        self.render_triggers()
        self.reset_trigger_form()
        self.say("trigger-form-msg", t("trigger.saved" if editing else "trigger.created"))
        refocus("edit-" + answer["id"], "tr-name")


admin = Admin()
spawn(admin.start())
