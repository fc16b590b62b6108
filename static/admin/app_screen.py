"""The app screen (name, allowed origins, appearance with its live preview, working hours,
the secret) and the installation code."""

from dom import api, clear, el, make, on, option, spawn
from model import DEFAULT_COLOR, check_origin, error_text, hours_body, readable_text_color, resolve_color
from pyscript import window
from screen import Screen
from strings import t


class AppScreen(Screen):
    def __init__(self, admin):
        super().__init__(admin)
        self.app = None
        self.colors = {}
        self.color_names = []

    def bind(self):
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
        on(el("snippet-copy"), "click", lambda event: spawn(self.copy("snippet", "install-msg")))

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

    # -- the installation code -------------------------------------------------------------------------
    async def load_snippet(self):
        status, body = await api("GET", "/api/admin/snippet")
        if status != 200:
            self.fail("install-msg", t("error.load", reason=error_text(status, body, t)))
            return
        el("snippet").value = body["snippet"]
