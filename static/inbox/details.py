"""The visitor details pane beside a conversation: who the visitor is (verified or
not), custom fields, notes the operators keep (editable), the chat's properties, the
invitations the visitor opened or dismissed (live), past chats and pages viewed.

Read from GET /api/operator/visitors/{id} when another visitor's chat is shown;
kept current by the feed (`visitor.updated`, `page.view`, chats starting and ending).
Notes are saved with PATCH, which every other inbox tab hears as `visitor.updated`.
"""

import asyncio

from dom import (
    api,
    clear,
    el,
    encode,
    local_date_time,
    local_time,
    make,
    on_guarded,
    reason_of,
    spawn_guarded,
)
from people import device_text, path_of, visitor_name
from pyscript import window
from strings import t

WIDE_PX = 1200  # from this width the pane is open beside the conversation by default
MAX_PAGES = 50
MAX_GREETINGS = 10


class Details:
    def __init__(self, app):
        self.app = app
        self.visitor_id = None
        self.data = None  # the last answer: {"visitor", "chats", "pageViews"}
        self.saved_notes = ""
        self.saving = False
        self.wanted = int(window.innerWidth) >= WIDE_PX
        self.request = 0
        self.reload_pending = False
        # Greetings (invitations opened or dismissed) are live frames, not stored: kept per
        # visitor while this inbox is open, newest first.
        self.greetings = {}
        on_guarded(el("details-toggle"), "click", lambda event: self.set_open(not self.wanted, focus=True))
        on_guarded(el("details-close"), "click", self.on_close)
        on_guarded(el("details-save"), "click", lambda event: self.save_notes())
        on_guarded(el("details-notes"), "input", lambda event: self.render_notes_state())
        on_guarded(el("details-notes"), "keydown", self.on_notes_key)
        on_guarded(el("details-chats"), "click", self.on_chat_click)
        on_guarded(el("details"), "keydown", self.on_key)

    # -- which visitor -----------------------------------------------------------------
    def shown_chat(self):
        state = self.app.state
        return state.chats.get(state.current) if state.current else None

    def follow(self, *args, **kwargs):
        """After every conversation render: load the shown chat's visitor when it changed."""
        chat = self.shown_chat()
        if chat is None or el("conversation").hidden:
            el("details").hidden = True
            el("details-toggle").setAttribute("aria-expanded", "false")
            return
        visitor_id = chat.get("visitorId")
        if visitor_id != self.visitor_id:
            self.visitor_id = visitor_id
            self.data = None
            self.render()
            spawn_guarded(self.load())
        self.place()
        self.mark_current()

    def place(self):
        shown = self.wanted and self.shown_chat() is not None and not el("conversation").hidden
        el("details").hidden = not shown
        el("details-toggle").setAttribute("aria-expanded", "true" if shown else "false")
        el("details-toggle").textContent = t("details.hide") if shown else t("details.show")

    def set_open(self, wanted, focus=False):
        self.wanted = wanted
        self.place()
        if wanted and focus:
            el("details-heading").focus()

    def on_close(self, event):
        self.set_open(False)
        el("details-toggle").focus()

    def on_key(self, event):
        # Escape closes the pane where it covers the conversation (narrow screens).
        if event.key == "Escape" and int(window.innerWidth) < WIDE_PX:
            self.on_close(event)

    def left(self, message=""):
        self.visitor_id = None
        self.data = None
        el("details").hidden = True

    async def load(self):
        self.request += 1
        request = self.request
        visitor_id = self.visitor_id
        status, body = await api("GET", "/api/operator/visitors/" + encode(visitor_id))
        if request != self.request or visitor_id != self.visitor_id:
            return  # another chat was opened meanwhile
        if status == 401:
            self.app.leave(t("error.session"))
            return
        if status != 200 or not isinstance(body, dict):
            el("details-status").textContent = t("details.failed", reason=reason_of(status, body, t))
            return
        self.data = body
        self.saved_notes = body["visitor"].get("notes") or ""
        el("details-notes").value = self.saved_notes
        self.render()

    def reload_soon(self):
        if self.reload_pending or self.visitor_id is None:
            return
        self.reload_pending = True

        async def later():
            await asyncio.sleep(0.3)
            self.reload_pending = False
            await self.load()

        spawn_guarded(later())

    # -- feed frames -------------------------------------------------------------------
    def frame(self, frame):
        kind = frame.get("type")
        if kind == "visitor.updated":
            self.visitor_updated(frame.get("visitor") or {})
        elif kind == "page.view" and frame.get("visitorId") == self.visitor_id and self.data:
            views = self.data["pageViews"]
            views.insert(0, {"url": frame.get("url") or "", "title": frame.get("title") or "",
                             "referrer": frame.get("referrer") or "", "utm": frame.get("utm") or {},
                             "createdAt": frame.get("createdAt")})
            del views[MAX_PAGES:]
            self.render_pages()
        elif kind in ("chat.started", "chat.closed", "chat.rated", "chat.assigned"):
            chat = frame.get("chat") or {}
            if chat.get("visitorId") == self.visitor_id:
                self.reload_soon()
        elif kind == "subscribed" and self.visitor_id:
            self.reload_soon()
        elif kind == "greeting":
            seen = self.greetings.setdefault(frame.get("visitorId"), [])
            now = local_time(window.Date.new().toISOString())
            seen.insert(0, (frame.get("action"), frame.get("triggerId"), now))
            del seen[MAX_GREETINGS:]
            if frame.get("visitorId") == self.visitor_id:
                self.render_greetings()
        elif kind == "chat.properties":
            chat = frame.get("chat") or {}
            listed = self.app.state.chats.get(chat.get("id"))
            if listed is not None:
                listed["properties"] = dict(chat.get("properties") or {})
            if chat.get("id") == self.app.state.current:
                self.render_properties()

    def visitor_updated(self, profile):
        """Names in the chat list and header follow the visitor's data; the pane too."""
        visitor_id = profile.get("id")
        changed = False
        for chat in self.app.state.chats.values():
            if chat.get("visitorId") == visitor_id:
                listed = chat.setdefault("visitor", {"id": visitor_id})
                for key in ("name", "email"):
                    if key in profile:
                        listed[key] = profile[key]
                changed = True
        if changed:
            self.app.render_list()
            if self.app.state.current:
                self.app.render_head()
        if visitor_id != self.visitor_id or not self.data:
            return
        shown = self.data["visitor"]
        box = el("details-notes")
        dirty = box.value != self.saved_notes
        for key in ("name", "email", "phone", "notes", "verified"):
            if key in profile:
                shown[key] = profile[key]
        if "custom" in profile:
            # A visitor's update carries the changed custom keys only: merge them in.
            merged = dict(shown.get("custom") or {})
            merged.update(profile["custom"] or {})
            shown["custom"] = merged
        self.saved_notes = shown.get("notes") or ""
        if not dirty:
            box.value = self.saved_notes
        self.render()

    # -- drawing -----------------------------------------------------------------------
    def render(self):
        data = self.data
        el("details-status").textContent = "" if data else t("details.loading")
        el("details-body").setAttribute("aria-busy", "false" if data else "true")
        for node_id in ("details-fields", "details-custom", "details-chats", "details-pages"):
            clear(el(node_id))
        if not data:
            el("details-verified").hidden = True
            el("details-name").textContent = ""
            return
        visitor = data["visitor"]
        el("details-name").textContent = visitor_name(visitor, t)
        verified = el("details-verified")
        verified.hidden = not visitor.get("verified")
        verified.textContent = t("details.verified")
        verified.setAttribute("title", t("details.verified.hint"))
        fields = el("details-fields")
        online = t("details.online") if visitor.get("online") else local_date_time(visitor.get("lastSeenAt"))
        for key, value in (("details.email", visitor.get("email")), ("details.phone", visitor.get("phone")),
                           ("details.country", visitor.get("country")),
                           ("details.language", visitor.get("language")),
                           ("details.device", device_text(visitor.get("device"), t)),
                           ("details.first_seen", local_date_time(visitor.get("firstSeenAt"))),
                           ("details.last_seen", online)):
            if value:
                fields.appendChild(make("dt", None, t(key)))
                fields.appendChild(make("dd", None, str(value)))
        custom = visitor.get("custom") or {}
        box = el("details-custom")
        for key in sorted(custom):
            box.appendChild(make("dt", None, key))
            value = custom[key]
            box.appendChild(make("dd", None, t("details.empty_value") if value is None else str(value)))
        el("details-custom-section").hidden = not custom
        self.render_notes_state()
        self.render_properties()
        self.render_greetings()
        self.render_chats()
        self.render_pages()

    def render_properties(self):
        """The shown chat's properties (the visitor's page sets them: chat.properties)."""
        box = el("details-props")
        clear(box)
        chat = self.shown_chat() or {}
        properties = chat.get("properties") or {}
        for key in sorted(properties):
            value = properties[key]
            box.appendChild(make("dt", None, key))
            box.appendChild(make("dd", None, t("details.empty_value") if value is None else str(value)))
        el("details-props-section").hidden = not properties

    def render_greetings(self):
        listing = el("details-greetings")
        clear(listing)
        seen = self.greetings.get(self.visitor_id) or []
        for action, trigger, when in seen:
            key = "details.greeting.accept" if action == "accept" else "details.greeting.cancel"
            listing.appendChild(make("li", None, t(key, time=when,
                                                   trigger=trigger or t("details.greeting.unnamed"))))
        el("details-greetings-section").hidden = not seen

    def render_notes_state(self):
        box = el("details-notes")
        dirty = self.data is not None and box.value != self.saved_notes
        save = el("details-save")
        save.disabled = self.saving or not dirty or self.data is None
        save.textContent = t("details.saving") if self.saving else t("details.save")
        if dirty:
            el("details-saved").textContent = t("details.unsaved")

    def render_chats(self):
        listing = el("details-chats")
        clear(listing)
        chats = (self.data or {}).get("chats") or []
        for chat in chats:
            item = make("li")
            button = make("button", "mini-chat")
            button.type = "button"
            button.setAttribute("data-chat", chat["id"])
            when = local_date_time(chat.get("startedAt"))
            status = t("details.chat.open") if chat.get("status") == "open" else t("details.chat.closed")
            button.appendChild(make("span", "when", when + " · " + status))
            button.appendChild(make("span", "preview", self.app.state.preview(chat.get("lastMessage"), t)))
            item.appendChild(button)
            listing.appendChild(item)
        if not chats:
            listing.appendChild(make("li", "empty-line", t("details.no_chats")))
        self.mark_current()

    def mark_current(self):
        current = self.app.state.current
        for button in el("details-chats").querySelectorAll("[data-chat]"):
            if button.getAttribute("data-chat") == current:
                button.setAttribute("aria-current", "true")
            else:
                button.removeAttribute("aria-current")

    def render_pages(self):
        listing = el("details-pages")
        clear(listing)
        views = (self.data or {}).get("pageViews") or []
        for view in views:
            item = make("li")
            title = view.get("title") or path_of(view.get("url"))
            item.appendChild(make("span", "title", title))
            when = local_date_time(view.get("createdAt"))
            line = make("span", "meta", when + " · " + path_of(view.get("url")))
            line.setAttribute("title", view.get("url") or "")
            item.appendChild(line)
            listing.appendChild(item)
        if not views:
            listing.appendChild(make("li", "empty-line", t("details.no_pages")))

    # -- actions -----------------------------------------------------------------------
    def on_chat_click(self, event):
        button = event.target.closest("[data-chat]")
        if button is None or not self.data:
            return
        chat_id = button.getAttribute("data-chat")
        for chat in self.data.get("chats") or []:
            if chat["id"] == chat_id and chat_id not in self.app.state.chats:
                self.app.state.load_chats([chat])
        self.app.open_chat(chat_id)

    def on_notes_key(self, event):
        if event.key == "Enter" and (event.ctrlKey or event.metaKey):
            event.preventDefault()
            self.save_notes()

    def save_notes(self):
        if self.data is None or self.saving:
            return
        spawn_guarded(self.send_notes(self.visitor_id, el("details-notes").value))

    async def send_notes(self, visitor_id, notes):
        self.saving = True
        self.render_notes_state()
        el("details-saved").textContent = t("details.saving")
        status, body = await api("PATCH", "/api/operator/visitors/" + encode(visitor_id), {"notes": notes})
        self.saving = False
        if visitor_id != self.visitor_id:
            return
        if status == 200 and isinstance(body, dict):
            self.data = body
            self.saved_notes = body["visitor"].get("notes") or ""
            box = el("details-notes")
            if box.value == notes:
                box.value = self.saved_notes
            self.render()
            el("details-saved").textContent = t("details.saved")
            return
        if status == 401:
            self.app.leave(t("error.session"))
            return
        self.render_notes_state()
        el("details-saved").textContent = t("details.save_failed", reason=reason_of(status, body, t))


def install(app, hooks):
    details = Details(app)
    hooks.rendered.append(details.follow)
    hooks.opened.append(details.follow)
    hooks.frames.append(details.frame)
    hooks.leaving.append(details.left)
    app.details = details
    return details
