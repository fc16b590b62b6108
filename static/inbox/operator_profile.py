"""The operator's own profile: name, avatar (initials when none) and password.

The avatar is uploaded with POST /api/operator/files, then stored with
PATCH /api/operator/me {avatarUrl}; the name and password go with Save (a new
password needs the current one). Other tabs hear `operator.updated`.
"""

from dom import api, clear, el, encode, make, on_guarded, reason_of, spawn_guarded, translate, upload
from people import initials
from strings import t

IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp"


def draw_avatar(node, profile):
    """An <img> of the avatar, or the name's initials."""
    clear(node)
    url = (profile or {}).get("avatarUrl")
    if isinstance(url, str) and url.startswith("/files/") and "//" not in url:
        image = make("img")
        image.src = url
        image.alt = ""
        node.appendChild(image)
        node.classList.add("has-image")
    else:
        node.textContent = initials((profile or {}).get("name"), (profile or {}).get("email"))
        node.classList.remove("has-image")


class Profile:
    def __init__(self, app):
        self.app = app
        self.profile = None
        self.busy = False
        on_guarded(el("profile-button"), "click", self.open)
        on_guarded(el("profile-dialog"), "close", self.on_closed)

    def build(self):
        """Puts the form into the dialog (translated, wired); `on_closed` takes it out."""
        dialog = el("profile-dialog")
        clear(dialog)
        dialog.appendChild(el("profile-template").content.cloneNode(True))
        translate(dialog)
        on_guarded(el("profile-form"), "submit", self.on_submit)
        on_guarded(el("profile-cancel"), "click", lambda event: el("profile-dialog").close())
        on_guarded(el("avatar-upload"), "click", lambda event: el("avatar-input").click())
        on_guarded(el("avatar-input"), "change", self.on_avatar_picked)
        on_guarded(el("avatar-remove"), "click", self.on_avatar_remove)

    def on_closed(self, event):
        clear(el("profile-dialog"))
        el("profile-button").focus()

    def entered(self, me):
        self.profile = {"id": me.get("id"), "name": me.get("name"), "email": me.get("email"),
                        "avatarUrl": None}
        self.render()
        spawn_guarded(self.load())

    def left(self, message=""):
        self.profile = None
        dialog = el("profile-dialog")
        if dialog.open:
            dialog.close()

    async def load(self):
        status, body = await api("GET", "/api/operator/profile")
        if status == 200 and isinstance(body, dict) and body.get("profile"):
            self.profile = body["profile"]
            self.render()

    def render(self):
        profile = self.profile or {}
        draw_avatar(el("profile-avatar"), profile)
        button = el("profile-button")
        label = t("profile.open", name=profile.get("name") or profile.get("email") or "")
        shown = el("profile-avatar").textContent
        if shown:
            # The initials are the button's visible text: its name must contain them, or a
            # speech-input user saying what they see can't press it (WCAG 2.5.3, label in name).
            label = t("profile.open.initials", initials=shown, label=label)
        button.setAttribute("aria-label", label)
        button.setAttribute("title", label)
        if el("profile-form") is not None:
            draw_avatar(el("profile-preview"), profile)
            el("avatar-remove").hidden = not profile.get("avatarUrl")

    def showing(self):
        return el("profile-form") is not None

    # -- the dialog ----------------------------------------------------------------------
    def open(self, event):
        self.build()
        profile = self.profile or {}
        el("profile-name").value = profile.get("name") or ""
        el("profile-email").textContent = profile.get("email") or ""
        el("profile-current").value = ""
        el("profile-new").value = ""
        el("profile-error").textContent = ""
        el("profile-status").textContent = ""
        self.render()
        el("profile-dialog").showModal()
        el("profile-name").focus()

    def on_submit(self, event):
        event.preventDefault()
        if self.busy:
            return
        changes = {}
        name = " ".join(el("profile-name").value.split())
        if not name:
            el("profile-error").textContent = t("profile.name.missing")
            el("profile-name").focus()
            return
        if name != (self.profile or {}).get("name"):
            changes["name"] = name
        current, new = el("profile-current").value, el("profile-new").value
        if current or new:
            if not current:
                el("profile-error").textContent = t("profile.password.need_current")
                el("profile-current").focus()
                return
            if len(new) < 8:
                el("profile-error").textContent = t("profile.password.short")
                el("profile-new").focus()
                return
            changes["currentPassword"] = current
            changes["newPassword"] = new
        if not changes:
            el("profile-status").textContent = t("profile.unchanged")
            return
        spawn_guarded(self.save(changes, "profile.saved"))

    async def save(self, changes, done_key):
        self.busy = True
        el("profile-save").disabled = True
        el("profile-error").textContent = ""
        el("profile-status").textContent = t("profile.saving")
        status, body = await api("PATCH", "/api/operator/me", changes)
        self.busy = False
        if status == 200 and isinstance(body, dict):
            self.applied(body["profile"])
        if status == 401:
            self.app.leave(t("error.session"))
            return
        if not self.showing():
            return  # closed meanwhile
        el("profile-save").disabled = False
        if status == 200 and isinstance(body, dict):
            el("profile-current").value = ""
            el("profile-new").value = ""
            el("profile-status").textContent = t(done_key)
            return
        el("profile-status").textContent = ""
        if status == 403 and "newPassword" in changes:
            el("profile-error").textContent = t("profile.password.wrong")
            el("profile-current").select()
        elif status == 429:
            el("profile-error").textContent = t("profile.password.rate")
        else:
            el("profile-error").textContent = t("profile.failed", reason=reason_of(status, body, t))

    def applied(self, profile):
        """Our new profile: the header and the app's operator names follow."""
        self.profile = profile
        self.render()
        if self.app.me is None:
            return  # logged out meanwhile
        self.app.me["name"] = profile.get("name")
        el("me").textContent = t("header.signed_in", name=profile.get("name") or profile.get("email"))
        self.app.state.set_operators([{"id": profile["id"], "name": profile.get("name")}])

    # -- avatar upload -------------------------------------------------------------------
    def on_avatar_remove(self, event):
        spawn_guarded(self.save({"avatarUrl": None}, "profile.avatar.removed"))

    def on_avatar_picked(self, event):
        picker = el("avatar-input")
        chosen = picker.files
        file = chosen.item(0) if chosen is not None and int(chosen.length) > 0 else None
        picker.value = ""
        if file is not None:
            spawn_guarded(self.upload(file))

    async def upload(self, file):
        el("profile-error").textContent = ""
        el("profile-status").textContent = t("profile.avatar.uploading")
        if str(file.type) not in IMAGE_TYPES.split(","):
            el("profile-status").textContent = ""
            el("profile-error").textContent = t("profile.avatar.type")
            return
        status, body = await upload("/api/operator/files?name=" + encode(str(file.name)), file)
        if not self.showing():
            return
        if status != 201 or not isinstance(body, dict) or not body.get("file"):
            el("profile-status").textContent = ""
            key = {0: "upload.network", 413: "profile.avatar.large", 415: "profile.avatar.type"}.get(status)
            el("profile-error").textContent = t(key) if key else t("profile.failed", reason=str(status))
            return
        await self.save({"avatarUrl": body["file"]["url"]}, "profile.avatar.saved")

    # -- other tabs ----------------------------------------------------------------------
    def frame(self, frame):
        if frame.get("type") != "operator.updated":
            return
        operator = frame.get("operator") or {}
        self.app.state.set_operators([operator])
        if self.profile and operator.get("id") == self.profile.get("id"):
            profile = dict(self.profile)
            profile["name"] = operator.get("name")
            profile["avatarUrl"] = operator.get("avatarUrl")
            self.applied(profile)
        self.app.render_conversation()


def install(app, hooks):
    profile = Profile(app)
    hooks.entered.append(profile.entered)
    hooks.leaving.append(profile.left)
    hooks.frames.append(profile.frame)
    app.profile = profile
    return profile
