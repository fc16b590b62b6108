"""What the visitor sees of the widget: the launcher, the window's state (open or not),
the invitation, the unread count and the blinking title, the texts and colour every part
is drawn with; and what the visitor does to them (clicks, scrolls, Back on mobile).

A mixin of widget.browser.main.Widget (its state is made in Widget.__init__); the chat
window's build is widget.browser.window_build.
"""

import parley_js

from widget.browser import ui
from widget.browser.hostjs import later, to_host
from widget.browser.storage import STORAGE_PREFIX
from widget.browser.timing import mark
from widget.core.state import EXPANDED
from widget.core.triggers import message_conditioned

DEFAULT_COLOR = "#3659e3"  # readable with white text (contrast > 4.5)


class Drawing:
    """The launcher, the window's state, the invitation, the unread count."""

    # -- the launcher and the window's state -------------------------------------
    def _color(self):
        return self.config["appearance"]["windowColor"] or DEFAULT_COLOR

    def _texts(self):
        t = self.translator.t
        appearance = self.config["appearance"]
        if self.online:
            welcome = appearance["onlineWelcome"] or t("welcome_online")
        else:
            welcome = appearance["offlineWelcome"] or t("welcome_offline")
        return {
            "placeholder": t("composer_placeholder"),
            "offline_title": t("offline_form_title"),
            "email_placeholder": t("email_placeholder"),
            "send": t("send"),
            "title": appearance["teamName"] or t("header_title"),
            "status": t("status_online") if self.online else t("status_offline"),
            "close": t("launcher_close"),
            "welcome": welcome,
            "dismiss": t("invitation_close"),
            "invitation_title": t("invitation_title"),
            "attach": t("attach_file"),
            "cancel": t("cancel"),
            "rate_title": t("rate_title"),
            "rate_good": t("rate_good"),
            "rate_bad": t("rate_bad"),
            "rate_comment": t("rate_comment_placeholder"),
            "rate_thanks": t("rate_thanks"),
            "transcript_request": t("transcript_request"),
        }

    def _render(self):
        if self.launcher is not None:
            return
        position = self.config["appearance"]["position"]
        t = self.translator.t
        self.launcher = ui.Launcher(self.host, self._launcher_clicked, self._color(), position,
                                    t("launcher_open"))
        self.launcher.show(self._launcher_shown())
        mark("launcher")
        self._draw_state()
        self._prepare_window()

    def _redraw(self):
        """Draws the launcher, the window and an invitation again (their texts, labels and
        direction are the old language's), keeping what the visitor had: the window open
        or not, the draft, the scroll position, the invitation."""
        if self.window is not None:
            self.restored_ui["draft"] = self.window.draft()
            self.restored_ui["scroll"] = self.window.scroll_state()
            self.scroll_restored = False
        active = self.triggers.active
        invitation_shown = self.invitation is not None and active is not None
        self._cancel_window_build()
        for part in (self.launcher, self.window, self.invitation):
            if part is not None:
                ui.remove(part)
        self.launcher = self.window = self.invitation = None
        self._render()
        if invitation_shown:
            self._draw_invitation(active["message"])

    def _launcher_shown(self):
        return self.launcher_visible and self.widget_allowed

    def _close_button_shown(self):
        # The spec: shown when the launcher is hidden and on mobile, unless closeButton says.
        explicit = self.config["closeButton"]
        if explicit is not None:
            return bool(explicit)
        return not self._launcher_shown() or self.device in ("ios", "android") or self._full_screen()

    def _full_screen(self):
        # `responsive` on mobile: false, the site is not responsive (floating window); true,
        # the site says it is (full-screen chat, no detection); unset, detect: a responsive
        # site (viewport meta) is laid out at the phone's width, a fixed-width one at ~980 px.
        responsive = self.config["responsive"]
        if responsive is False or self.device not in ("ios", "android"):
            return False
        return responsive is True or self.host.innerWidth <= 600

    def _draw_state(self):
        if self.launcher is None:
            return
        expanded = self.state.value == EXPANDED
        if expanded:
            self._ensure_window()
        if self.window is not None:
            self.window.show(expanded)
        t = self.translator.t
        self.launcher.set_expanded(expanded, t("launcher_close") if expanded else t("launcher_open"))
        if expanded and self.window is not None:  # (else its code is on its way: drawn again then)
            self._read_all()
            self.view.report_seen()
        if self.window is not None and self.window.full_screen:
            # The full-screen chat has its own close button; the launcher would cover it.
            self.launcher.show(self._launcher_shown() and not expanded)
        if expanded and self.invitation is not None:
            self._dismiss_invitation()

    def _changed(self, new_state):
        if new_state is None:
            return
        if self.widget_allowed:
            self._render()
        self._draw_state()
        self._sync_history(new_state)
        self._save_ui()
        self.emitter.emit("widget.stateChange", new_state)
        self.analytics.track(new_state)

    def _shown_operators(self):
        """The app's operators, limited by the `operators` option (operator ids or names, or
        team ids: the spec's "include team IDs to include their members")."""
        operators = [o for o in self.server_operators if isinstance(o, dict)]
        wanted = self.config["operators"]
        if wanted:
            names = [str(w).lower() for w in wanted]
            operators = [o for o in operators
                         if o.get("id") in wanted or str(o.get("name") or "").lower() in names
                         or any(team in wanted for team in o.get("teamIds") or ())]
        return operators

    def _offer_offline_form(self):
        if self.window is not None:
            self.window.ask_email(not self.online and not self.chat_open and not self.timeline.messages())

    # -- the visitor's clicks ----------------------------------------------------
    def _launcher_clicked(self):
        # A person clicked: move focus into the chat (never on load or API calls).
        self.toggle()
        if self.client is not None:
            self.client.launcher_clicked(self.state.value)
        if self.state.value == EXPANDED:
            # After the window's code has come, if it was still downloading (drawn first).
            self._with_window_code(self._focus_window_input)

    def _focus_window_input(self):
        if self.state.value == EXPANDED and self.window is not None:
            self.window.focus_input()

    def _close_by_visitor(self):
        # Esc or ✕: collapse and give focus back to the launcher.
        self.close()
        if self.launcher is not None and self._launcher_shown():
            self.launcher.focus()

    # -- the window's state and draft across pages -------------------------------
    def _save_ui(self):
        # Not drawn yet (or gone): the draft stays what the last page left.
        draft = self.window.draft() if self.window is not None else (self.restored_ui.get("draft") or "")
        scroll = self.window.scroll_state() if self.window is not None else None
        if scroll is None or not self.scroll_restored:
            scroll = self.restored_ui.get("scroll")  # not drawn yet: keep the last page's
        self.store.save("ui", {"state": self.state.value, "draft": draft, "scroll": scroll})

    def _scrolled(self):
        # Saved shortly after scrolling stops, not on every scroll event.
        if self.scroll_timer is not None:
            self.host.clearTimeout(self.scroll_timer)
        self.scroll_timer = self.host.setTimeout(self._scroll_settled, 250)

    def _scroll_settled(self):
        self.scroll_timer = None
        if self.scroll_restored:
            self._save_ui()

    # -- unread messages while collapsed -----------------------------------------
    def _interaction(self, _event):
        self.interacted = True

    def _unread_message(self, message):
        self.unread += 1
        self._changed(self.state.unread_message())
        self._draw_unread()
        if self.interacted and isinstance(message.get("id"), int):
            parley_js.notifyOnce(STORAGE_PREFIX + self.config["appId"] + ":sound", str(message["id"]))
        if self.page_title is None:
            self.page_title = self.host.document.title
        if self._reduced_motion():
            # A blinking title is motion the visitor asked not to see: the count is shown
            # steadily instead ("(2) Page"), as the inbox does.
            self.host.document.title = "(%d) %s" % (self.unread, self.page_title)
        elif self.title_timer is None:
            self.title_timer = self.host.setInterval(self._blink_title, 1000)

    def _reduced_motion(self):
        try:
            return bool(self.host.matchMedia("(prefers-reduced-motion: reduce)").matches)
        except Exception:
            return False

    def _blink_title(self):
        document = self.host.document
        alert = self.translator.t("new_message")
        document.title = self.page_title if document.title == alert else alert

    def _read_all(self):
        self.unread = 0
        self._draw_unread()
        if self.title_timer is not None:
            self.host.clearInterval(self.title_timer)
            self.title_timer = None
        if self.page_title is not None:
            self.host.document.title = self.page_title
            self.page_title = None

    def _draw_unread(self):
        if self.launcher is None:
            return
        t = self.translator.t
        label = t("launcher_close") if self.state.value == EXPANDED else t("launcher_open")
        if self.unread:
            label = "%s (%s)" % (label, t("new_messages", count=self.unread))
        self.launcher.set_unread(self.unread, label)

    # -- invitations (auto-invitations and chatbots) -----------------------------
    def _schedule_triggers(self):
        """Starts the delay of every enabled trigger whose conditions match this page."""
        if self.chat_open or self.triggers.started:
            return
        for trigger in self.triggers.matching(self.parameters()):
            if message_conditioned(trigger):
                continue  # waits for the visitor's message (_message_trigger)
            delay = trigger.get("delay") or 0
            later(self._trigger_due(trigger["id"], self.host.location.href), int(delay * 1000))

    def _trigger_due(self, trigger_id, page_url):
        def fire():
            # Still on that page, still no chat, still enabled and matching?
            if self.host.location.href != page_url or self.chat_open or self.triggers.started:
                return
            if self.state.value == EXPANDED or self.triggers.active is not None:
                return
            for trigger in self.triggers.matching(self.parameters()):
                if trigger["id"] == trigger_id:
                    shown = self.triggers.show(trigger)
                    self._show_invitation(trigger["message"])
                    if shown is not None:
                        # First time for this visitor: the event, once across pages.
                        self.store.save("shown", self.triggers.shown_ids())
                        self.emitter.emit(shown[0], to_host(shown[1]))
                        self.analytics.track(shown[0])
                    return
        return fire

    def _show_invitation(self, message):
        if self.client is not None:
            self.client.greeting(self.triggers.active, message)
        if not self.widget_allowed:
            return
        self._render()
        self._draw_invitation(message)

    def _draw_invitation(self, message):
        if self.state.value == EXPANDED:
            return
        if self.invitation is None:
            self.invitation = ui.Invitation(
                self.host, self._color(), self.config["appearance"]["position"], self._texts(),
                self._invitation_accepted, self._invitation_cancelled,
            )
        self.invitation.set_message(message)
        self.invitation.show(True)

    def _greeting(self, action):
        # Operators see invitations accepted or dismissed live (Customer SDK greetings).
        active = self.triggers.active or {}
        self._send({"type": "greeting", "action": action, "triggerId": active.get("id")})

    def _invitation_accepted(self):
        self._greeting("accept")
        self.open()

    def _invitation_cancelled(self):
        self._greeting("cancel")
        self._dismiss_invitation()

    def _dismiss_invitation(self):
        self.triggers.clear_active()
        if self.invitation is not None:
            self.invitation.show(False)

    # -- SPA navigation and the mobile Back button -------------------------------
    def _navigated(self, how):
        if how == "popstate" and self.history_entry and self.state.value == EXPANDED:
            # Back on mobile collapses the window (the `history` option).
            self.history_entry = False
            self.close()
            return
        url = self.host.location.href
        if url == self.last_page_url:
            return  # e.g. our own history entry, or replaceState of the same URL
        self.last_page_url = url
        self.new_page_view()
        self._dismiss_invitation()
        self._schedule_triggers()

    def _history_wanted(self):
        return self.config["history"] and self.device in ("ios", "android")

    def _sync_history(self, new_state):
        if not self._history_wanted():
            return
        if new_state == EXPANDED and not self.history_entry:
            self.history_entry = True
            self.host.history.pushState(to_host({"parleyChat": True}), "")
        elif new_state != EXPANDED and self.history_entry:
            # Closed by the visitor or the API: drop our entry so Back means the site's Back.
            self.history_entry = False
            self.host.history.back()
