"""The widget's entry point in the browser: wires config, API, transport and UI.

boot.mjs calls `start(host_window, runtime_window, base_url, build_id)` once
the runtime is up. Decisions live in widget.core; this module does the I/O.
"""


import js
import parley_js

from widget.browser import console, ui
from widget.browser.analytics import Analytics
from widget.browser.api import HostApi
from widget.browser.chat_view import ChatView
from widget.browser.handover import redeem_token, request_token
from widget.browser.hostjs import host_callable, idle, later, to_host, to_py
from widget.browser.storage import STORAGE_PREFIX, BrowserStorage
from widget.browser.timing import mark
from widget.browser.transport import VisitorSocket
from widget.browser.uploads import visitor_headers
from widget.core.assignments import resolve_assignment
from widget.core.compare import JS_NULL, compare
from widget.core.config import (
    device_visitor,
    merge_account_appearance,
    normalize_assignments,
    normalize_config,
    parse_position,
    resolve_window_color,
    widget_visible_for,
)
from widget.core.delivery import Outbox, Timeline, new_client_id
from widget.core.device import device_from_user_agent
from widget.core.events import EventEmitter
from widget.core.handover import PENDING, handover_fragment, read_fragment
from widget.core.i18n import LANGUAGES, Translator, choose_language
from widget.core.parameters import parameters_for, unknown_key_error
from widget.core.state import EXPANDED, WidgetState
from widget.core.triggers import TriggerState, message_conditioned
from widget.core.validation import looks_like_email

DEFAULT_COLOR = "#3659e3"  # readable with white text (contrast > 4.5)
# How long the chat page waits for the opening widget's handover token (that widget's
# request gives up after widget.browser.handover.TIMEOUT_MS and then sends none).
HANDOVER_WAIT_MS = 15000
# The chat window built in idle time: a slice runs build steps until this much time has
# passed (each step takes a few ms), so no slice reaches 10 ms (issue 16).
WINDOW_SLICE_MS = 4


class Widget:
    def __init__(self, host, base_url):
        self.host = host
        self.base_url = base_url
        self.emitter = EventEmitter(self._listener_failed)
        self.state = WidgetState()
        self.visitor_id = None
        self.visitor_token = None
        self.queued = None  # the host's queued API calls, replayed once start-up goes on
        self.handover_waiting = False  # the chat page waits for a handover token (openIn '_blank')
        self.restored_ui = {}
        self.online = False
        self.online_known = False  # a welcome told this page whether operators are online
        self.connection_down = False  # the socket closed and is being retried
        self.reconnecting_timer = None
        self.reconnecting_shown = False  # the window says "Reconnecting…"
        self.ready_waiters = []  # startSession callbacks for the session starting now
        self.country = None  # ISO code from the server's GeoIP, when it knows
        self.launcher = None
        self.window = None  # built when the visitor opens the chat, or in idle time after ready
        self.window_steps = None  # the idle-time build under way (a generator), if any
        self.window_draft = None  # the window that build is drawing (not usable until complete)
        # The window's code comes in a second bundle after `ready` (boot.mjs loadLater).
        self.window_code = False  # it is in the runtime's files
        self.window_code_waiting = []  # what runs when it arrives (asked for once)
        self.history_loaded = False  # the first history frame came (the scroll can be restored)
        self.invitation = None
        self.launcher_visible = True  # launcher.show, then hideLauncher/showLauncher
        self.widget_allowed = True  # devices/countries (and parley.ui) say the widget shows here
        self.headless = False  # parley.ui false: nothing drawn, the page's own UI on chaport.client
        self.started = False  # `ready` has fired
        self.session_running = False
        self.socket = None
        self.config = None
        self.triggers = TriggerState()
        self.assignments = None
        self.pending_frames = []  # visitor data etc. sent once the socket is up
        self.history_entry = False  # our mobile Back-button entry is on the history stack
        self.outbox = Outbox()
        self.timeline = Timeline()
        self.sent_count = 0
        self.last_typing_sent = 0
        self.visitor_writing = False  # for chaport.client's visitor_typing (started/stopped)
        self.user = None
        self.unread = 0
        self.interacted = False  # sounds only after the visitor used the page (autoplay rules)
        self.title_timer = None
        self.page_title = None
        self.chat_open = False
        self.sending_text = None  # the visitor's message while assignment rules run
        self.server_operators = []
        self.server_rules = None  # the app's default assignment rules
        self.last_page_url = None
        self.view = ChatView(self)
        self.scroll_restored = False  # the last page's scroll position is applied once
        self.scroll_timer = None
        self.client = None  # chaport.client, built when the page first reads it
        self.chats = {}  # chat id -> CHAT, as welcome, events and history described them
        self.resumed_from = None  # the stored visitor id this session started with (restore)
        self.api = HostApi(host, {
            "close": self.close,
            "compare": self.compare,
            "disableTriggers": self.triggers.disable,
            "enableTriggers": self.triggers.enable,
            "getActiveTrigger": self.triggers.get_active,
            "getParameterValue": self.get_parameter_value,
            "getTriggerById": self.triggers.get_by_id,
            "getWidgetState": self.get_widget_state,
            "hideLauncher": self.hide_launcher,
            "isOnline": self.is_online,
            "newPageView": self.new_page_view,
            "on": self.on,
            "open": self.open,
            "openIn": self.open_in,
            "setActiveTrigger": self.set_active_trigger,
            "setAssignmentRules": self.set_assignment_rules,
            "setVisitorData": self.set_visitor_data,
            "showLauncher": self.show_launcher,
            "startSession": self.start_session,
            "stopSession": self.stop_session,
            "toggle": self.toggle,
            "updatePosition": self.update_position,
        })
        self.api.client_factory = self._client_object

    # -- start-up ---------------------------------------------------------
    def start(self):
        navigator = self.host.navigator
        self.device = device_from_user_agent(navigator.userAgent, navigator.maxTouchPoints)
        self.raw_config = to_py(self.host.chaportConfig)
        self.config, warnings = normalize_config(self.raw_config, self.device)
        for warning in warnings:
            console.warn("chaportConfig: " + warning)
        self.triggers = TriggerState(self.config["triggers"])
        self.api.handlers["disableTriggers"] = self.triggers.disable
        self.api.handlers["enableTriggers"] = self.triggers.enable
        self.api.handlers["getActiveTrigger"] = self.triggers.get_active
        self.api.handlers["getTriggerById"] = self.triggers.get_by_id
        self.assignments = self.config["assignments"]
        self.headless = self.config["parley"]["ui"] is False
        self.widget_allowed = not self.headless
        self.launcher_visible = self.config["launcher"]["show"]
        self._take_site_look()
        self._use_language(self._language())
        self.analytics = Analytics(self.host, self.config["analytics"]["google"])
        queued, listeners = self.api.install(self.host.chaport)
        mark("api")
        for name in listeners:
            for listener in listeners[name] if isinstance(listeners[name], list) else ():
                self.on(name, listener)
        app_id = self.config["appId"]
        if not isinstance(app_id, str) or not app_id:
            console.error("chaportConfig.appId is missing: copy it from your installation snippet.")
            return
        self.store = BrowserStorage(self.host, app_id, self.config["session"])
        self.queued = queued
        if self._take_handover():
            return  # start-up goes on once the handed-over visitor is known (_continue_start)
        self._continue_start()
        mark("started")

    def _continue_start(self):
        queued, self.queued = self.queued, None
        self.host.addEventListener("pointerdown", self._interaction, True)
        self.host.addEventListener("keydown", self._interaction, True)
        # Read receipts wait until the visitor can actually see the tab.
        self.host.document.addEventListener("visibilitychange", lambda _event: self.view.report_seen())
        # Window state and draft come back on the next page (like restoreChat).
        self.restored_ui = self.store.load("ui") or {}
        self.outbox.restore(self.store.load("outbox"))
        self.last_page_url = self.host.location.href
        parley_js.watchNavigation(self.host, self._navigated)
        visitor = self.config["visitor"]
        if any(visitor[key] is not None for key in visitor):
            # A device's `visitor` override is what this device sends, as written (its
            # JSON is what that device's visitorIntegrityHash signs).
            sent = self.host.chaportConfig
            for key in device_visitor(self.raw_config, self.device) or ("visitor",):
                sent = parley_js.get(sent, key)
            self._queue_visitor_data(sent, self.config["visitorIntegrityHash"])
        self.api.replay(queued)
        if self.config["session"]["autoStart"]:
            self.start_session()

    def _chat_page_url(self):
        return js.URL.new("../chat/" + self.config["appId"], self.base_url).href + self._chat_page_query()

    def _chat_page_query(self):
        """The site's language and window colour for Parley's own chat page (openIn to a
        window), which otherwise knows only the app's defaults. Not the texts (team name,
        welcome): a link could then make Parley's own page say anything."""
        query = "?lang=" + js.encodeURIComponent(self.translator.lang)
        color = self.config["appearance"]["windowColor"]
        if color:
            query += "&color=" + js.encodeURIComponent(color)
        return query

    def _take_site_look(self):
        """On Parley's own chat page: the opening site's language and colour (_chat_page_query)."""
        location = self.host.location
        if location.origin != js.URL.new(self.base_url).origin or not location.search:
            return
        params = js.URLSearchParams.new(location.search)
        lang = params.get("lang")
        if lang in LANGUAGES:
            self.config["language"]["use"] = lang
        color = resolve_window_color(params.get("color"))
        if color is not None:
            self.config["appearance"]["windowColor"] = color

    def _take_handover(self):
        """On Parley's own chat page: take over the chat a widget handed to this tab
        (widget.core.handover). True while the handed-over visitor is still to come."""
        location = self.host.location
        if location.origin != js.URL.new(self.base_url).origin:
            return False
        kind, token = read_fragment(location.hash)
        if kind is None:
            return False
        # Out of the address bar (and history) at once: a token is a secret, and a reload
        # must not present a used one again.
        self.host.history.replaceState(None, "", location.pathname + location.search)
        if kind == "pending":
            # The opening widget is fetching the token: it moves this tab to it.
            self.handover_waiting = True
            self.host.addEventListener("hashchange", self._handover_arrived)
            later(self._handover_timed_out, HANDOVER_WAIT_MS)
            return True
        if kind == "token":
            self._redeem_handover(token)
            return True
        self._handover_failed(kind)
        return False

    def _handover_arrived(self, _event):
        location = self.host.location
        kind, token = read_fragment(location.hash)
        if kind is None:
            return
        # A token that comes too late is not used, but it leaves the address bar all the same.
        self.host.history.replaceState(None, "", location.pathname + location.search)
        if not self.handover_waiting or kind == "pending":
            return
        self.handover_waiting = False
        if kind == "token":
            self._redeem_handover(token)
            return
        self._handover_failed(kind)
        self._continue_start()

    def _handover_timed_out(self):
        if not self.handover_waiting:
            return
        self.handover_waiting = False
        self._handover_failed("timeout")
        self._continue_start()

    def _redeem_handover(self, token):
        def redeemed(credentials, status):
            if credentials is None:
                self._handover_failed("refused" if status == 403 else "http %s" % status)
            else:
                self._adopt_visitor(credentials[0], credentials[1])
            self._continue_start()
        redeem_token(self.base_url, self.config["appId"], token, redeemed)

    def _adopt_visitor(self, visitor_id, token):
        """The handed-over visitor becomes this page's (start_session reads it from storage)."""
        if self.store.load_credentials().get("visitorId") != visitor_id:
            # What this page kept belongs to another visitor: never send it as this one.
            self.store.save("outbox", None)
            self.store.save("ui", None)
        self.store.save_credentials(visitor_id, token)

    def _handover_failed(self, why):
        """No visitor from the link: a new conversation, never the one this page had."""
        reasons = {
            "refused": "the chat handover is unknown, expired, already used or not accepted",
            "failed": "the site's widget could not get a chat handover",
            "timeout": "no chat handover arrived from the site's widget",
        }
        reason = reasons.get(why) or "the chat handover failed (%s)" % why
        console.error(reason + ": a new conversation starts")
        self.store.forget_credentials()
        self.store.save("outbox", None)
        self.store.save("ui", None)

    def _window_name(self):
        """The window `openIn` names: '_blank' (a new tab each time) or a named window, which
        the browser opens once and reuses. '_self', '_top' and '_parent' would replace the
        site's page (and this widget with it), so they open a new tab as '_blank' does."""
        target = self.config["openIn"]
        if isinstance(target, str) and target and not target.startswith("_"):
            return target
        return "_blank"

    def _open_in_new_window(self):
        url = self._chat_page_url()
        handing_over = bool(self.visitor_id and self.visitor_token)
        # Opened inside the click, which is all pop-up blockers allow; the token (never the
        # credentials) follows as soon as the server issued it.
        opened = self.host.open(url + PENDING if handing_over else url, self._window_name())
        if opened is None:
            console.error("the chat window was blocked by the browser; allow pop-ups for this site")
            return
        if not handing_over:
            return

        def issued(token, status):
            if token is None:
                console.error("could not hand the chat over to the new tab (HTTP %s): it starts a new one"
                              % status)
            if not parley_js.navigate(opened, url + handover_fragment(token)):
                console.error("the chat tab was closed before the chat could be handed over")
        proof = visitor_headers(self.config["appId"], self.visitor_id, self.visitor_token)
        request_token(self.base_url, proof, issued)

    def _language(self, offered=None):
        """The widget's language; `offered` is the app's list (welcome.languages), if any."""
        option = self.config["language"]
        html_lang = self.host.document.documentElement.getAttribute("lang")
        languages = to_py(self.host.navigator.languages) or [self.host.navigator.language]
        supported = LANGUAGES
        if isinstance(offered, list):
            # In the app's order: when nothing matches, its first language is used.
            supported = tuple(code for code in offered if code in LANGUAGES) or LANGUAGES
        return choose_language(option["use"], option["source"], html_lang, languages, supported)

    def _use_app_languages(self, offered):
        # Before anything is drawn: the app may offer fewer languages than the widget has.
        lang = self._language(offered)
        if lang != self.translator.lang and self.launcher is None:
            self._use_language(lang)

    def set_language(self, code):
        """chaport.client.setLanguage: the widget's texts in `code` (a supported language)
        from now on. Returns the language now in use."""
        if self.translator.lang != code:
            self._use_language(code)
            if self.launcher is not None:
                self._redraw()
        return self.translator.lang

    def _use_language(self, lang):
        # The widget's texts, and every widget document's lang and dir from now on.
        self.translator = Translator(lang)
        ui.LANGUAGE[0] = self.translator.lang
        ui.LANGUAGE[1] = self.translator.direction

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

    def _socket_url(self):
        url = js.URL.new("../ws/visitor", self.base_url)
        url.protocol = "wss:" if url.protocol == "https:" else "ws:"
        return url.href

    def _send_hello(self):
        hello = {
            "type": "hello",
            "appId": self.config["appId"],
            "visitorId": self.visitor_id,
            "visitorToken": self.visitor_token,
            "page": self._page(),
        }
        if self.timeline.last_seq:
            # Reconnecting: the server replays exactly what this tab missed.
            hello["lastSeq"] = self.timeline.last_seq
        if self.user is not None:
            hello["user"] = self.user
        self.socket.send(hello)
        mark("connect")

    def _page(self):
        document = self.host.document
        return {"url": self.host.location.href, "title": document.title, "referrer": document.referrer}

    def _frame(self, frame):
        kind = frame.get("type")
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "error" and frame.get("request") == "transcript.request":
            # The visitor's own request was refused (address, once per chat, limits): the
            # panel says so; nothing is wrong with the page.
            self.view.transcript_refused(frame)
        elif kind == "error":
            code = frame.get("code")
            message = frame.get("message") or code
            console.error_once("frame-" + str(code), "%s (%s)" % (message, code))
            if code == "PARLEY_E_UNKNOWN_APP":
                self.socket.stop()
        elif kind == "event":
            if self.timeline.saw_seq(frame.get("seq")):
                self._event(frame.get("event") or {})
        elif kind == "ack":
            self._acknowledged(frame.get("clientId"), frame.get("message"))
        elif kind == "history":
            for message in frame.get("messages") or ():
                self._show(message)
            self.view.chat_changed(frame.get("chat"))
            self._restore_chat(frame.get("chat"))
            self.history_loaded = True
            if not self.scroll_restored and self.window is not None:
                # The conversation is back: so is where the visitor was reading.
                self.window.restore_scroll(self.restored_ui.get("scroll"))
                self.scroll_restored = True
        elif kind == "typing":
            self.view.typing_frame(frame)
        elif kind == "queue":
            self.view.queue_frame(frame)
        elif kind == "transcript":
            self.view.transcript_answer(frame)
        elif kind == "online":
            # Operator presence changes come live, outside the event log.
            self._set_online(bool(frame.get("online")))
        elif kind == "reset":
            # Too much was missed to replay: reload the conversation instead.
            self.timeline.last_seq = frame.get("seq") or 0
            self.socket.send({"type": "history", "limit": 100})

    def _socket_frame(self, frame):
        """Every frame: chaport.client's answers go to it, the rest to the widget, then to it."""
        client = self.client
        if client is not None and client.claims(frame):
            return
        self._note_chats(frame)
        self._frame(frame)
        if client is not None:
            client.frame(frame)

    def _note_chats(self, frame):
        kind = frame.get("type")
        chat = None
        if kind in ("welcome", "history"):
            chat = frame.get("chat")
        elif kind == "event":
            chat = (frame.get("event") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), str):
            self.chats[chat["id"]] = chat

    def _client_object(self, give):
        # give(the object), not `return`: see parley_js.answering in boot.mjs.
        try:
            if self.client is None:
                from widget.browser.client import Client  # loaded only when the page uses it

                self.client = Client(self)
            give(self.client.object)
        except Exception as error:
            console.error("chaport.client could not be built: %s" % error)
            give(None)

    def _event(self, event):
        kind = event.get("type")
        if kind == "message":
            message = event.get("message") or {}
            fresh = not self.timeline.has_id(message.get("id"))
            self._show(message)
            # Words from the team count as unread; system lines ("Ann joined") do not.
            if (fresh and message.get("authorKind") in ("operator", "bot") and self.state.value != EXPANDED
                    and not self.headless):  # headless: the page's own UI tells the visitor
                self._unread_message(message)
            # A bot's message shown for the first time (a live event, never a history reload).
            bot_sent = self.triggers.bot_message_event(message) if fresh else None
            if bot_sent is not None:
                self.emitter.emit(bot_sent[0], to_host(bot_sent[1]))
                self.analytics.track(bot_sent[0])
        elif kind == "chat.started":
            self.chat_open = True
            self.view.chat_started()
            if self.window is not None:
                self.window.ask_email(False)
            self.triggers.chat_started()
            if self.invitation is not None:
                self.invitation.show(False)
            # The spec: "fires when the visitor starts a chat"; an operator's proactive chat
            # is a chat all the same (no invitations, no assignment) but not the visitor's start.
            if event.get("startedBy") != "operator":
                self.emitter.emit("chat.started", to_host({"visitorId": self.visitor_id}))
                self.analytics.track("chat.started")

        elif kind == "chat.closed":
            self.chat_open = False
            self.view.chat_changed(event.get("chat"))
        elif kind == "chat.reopened":
            # An operator reopened the chat: it is open again, so the rating panel goes.
            self.chat_open = True
            self.view.chat_changed(event.get("chat"))
        elif kind == "chat.rated":
            self.view.chat_changed(event.get("chat"))
        elif kind == "seen":
            self.view.seen_event(event)

    def _restore_chat(self, chat):
        """The chat as the server has it (welcome: the open chat; history: the newest one).
        Only a live `chat.started` told this page before: a new page of an ongoing chat then
        showed invitations again and ran the assignment rules for its first message."""
        self.chat_open = isinstance(chat, dict) and chat.get("status") == "open"
        if not self.chat_open:
            return
        # No trigger during a chat (getActiveTrigger answers null), on this page too.
        self.triggers.chat_started()
        if self.invitation is not None:
            self.invitation.show(False)
        self._offer_offline_form()

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

    # -- unread messages while collapsed ----------------------------------------
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

    # -- triggers (auto-invitations and chatbots) ----------------------------
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

    # -- messages -----------------------------------------------------------
    def _show(self, message):
        if not isinstance(message, dict) or not self.timeline.add(message):
            return
        # The server has it (seen in history or an event even if its ack was lost).
        if message.get("clientId"):
            self._out_of_outbox(message["clientId"])
        if self.launcher is None and self.widget_allowed:
            self._render()
        if self.launcher is None:
            return
        # Drawn now if the window exists; otherwise the window draws the timeline when built.
        self._offer_offline_form()
        self.view.show(message)

    def send_message(self, text):
        """The visitor wrote `text`: queue it with a client id, show it, send it.
        Returns False when the message was not taken (the offline form needs a fix)."""
        self._writing(False)  # the composer empties as the message goes
        email = self.window.email_value() if self.window is not None else ""
        if email:
            if not looks_like_email(email):
                self.window.email_problem(self.translator.t("email_invalid"))
                return False
            self.window.email_problem(None)
            self._queue_visitor_data(to_host({"email": email}), None)
            self.window.ask_email(False)
            self.window.show_message({"author": "system", "text": self.translator.t("offline_thanks"),
                                      "clientId": "offline-thanks"}, "")
        self._queue_message(text)
        self._save_ui()  # the draft is gone

    def send_file(self, file):
        """An upload finished: send it as a message, queued like text (nothing lost offline)."""
        self._queue_message("", file)

    def _queue_message(self, text, file=None):
        """Gives the message a client id, keeps it in the outbox until acknowledged, shows it
        and sends it (when offline it stays queued and goes on reconnect)."""
        self.sent_count += 1
        client_id = new_client_id(int(js.Math.random() * 1099511627776), self.sent_count)
        frame = self.outbox.add(client_id, text, file)
        if not self.chat_open:
            assignees = self._assignees(text)
            if assignees is not None:
                frame["assignees"] = assignees
            answer = self._message_trigger(text)
            if answer is not None:
                frame["triggerId"] = answer
        self.store.save("outbox", self.outbox.pending())
        self.view.show_pending(frame)
        if self.socket is not None:
            self.socket.send(frame)
        return client_id

    def _message_trigger(self, text):
        """The id of the first enabled trigger with a `message_text` condition that the chat's
        opening message matches (the server answers with its message as the bot), or None.
        Triggers without one were for the page, before any message."""
        if self.triggers.started or not text:
            return None
        for trigger in self.triggers.matching(self.parameters(text)):
            if not message_conditioned(trigger):
                continue
            if self.triggers.mark_shown(trigger["id"]):
                self.store.save("shown", self.triggers.shown_ids())
                shown = self.triggers.event_for(trigger)
                self.emitter.emit(shown[0], to_host(shown[1]))
                self.analytics.track(shown[0])
            return trigger["id"]
        return None

    def _assignees(self, message_text):
        """Who a new chat should go to: assignment rules first, then the `operators` option."""
        # getParameterValue('message_text') inside `resolve` and function rules answers the
        # message being sent (the spec's resolve reads it), and only while they run.
        self.sending_text = message_text
        try:
            chosen, warnings = resolve_assignment(
                self._host_assignments(), self.parameters(message_text), self.api.object, self.server_rules)
        finally:
            self.sending_text = None
        for warning in warnings:
            console.warn(warning)
        if chosen is None and self.config["operators"]:
            chosen = list(self.config["operators"])
        return chosen[:20] if chosen is not None else None

    def _host_assignments(self):
        # Host functions in the rules are called through JS so that their own
        # exceptions are caught and null (stop) and undefined (go on) differ.
        assignments = self.assignments or {}
        wrapped = dict(assignments)
        if parley_js.kind(assignments.get("resolve")) == "function":
            wrapped["resolve"] = self._host_function(assignments["resolve"])
        if assignments.get("rules"):
            wrapped["rules"] = [
                (rule[0], self._host_function(rule[1]) if parley_js.kind(rule[1]) == "function" else rule[1])
                for rule in assignments["rules"]
            ]
        return wrapped

    def _host_function(self, fn):
        def call(cp):
            outcome = parley_js.call(fn, cp)
            kind = outcome.kind
            if kind == "error":
                raise RuntimeError(outcome.value)
            if kind == "null":
                return JS_NULL
            if kind == "undefined":
                return None
            return to_py(outcome.value)
        return call

    def _status(self, key):
        """A message status as text (appearance.textStatuses true) or as an icon with a label."""
        text = self.translator.t(key)
        if self.config["appearance"]["textStatuses"]:
            return text
        icon = {"message_unread": "\u2713", "message_read": "\u2713\u2713"}.get(key, "\u25f7")
        return (icon, text)

    def drop_unsent(self, client_id):
        """A message the server refused for good (chaport.client's sendEvent of an unknown
        file): out of the outbox and the window's pending bubbles."""
        self._out_of_outbox(client_id)
        if self.window is not None:
            self.window.drop_pending(client_id)

    def _out_of_outbox(self, client_id):
        if self.outbox.acknowledge(client_id):
            self.store.save("outbox", self.outbox.pending())

    def _acknowledged(self, client_id, message):
        self._out_of_outbox(client_id)
        if isinstance(message, dict):
            self._show(message)

    def _visitor_typing(self, text):
        self._save_ui()
        self._writing(bool(text.strip()))
        # Sneak peek for the operator, at most once a second.
        now = js.Date.now()
        if now - self.last_typing_sent < 1000 or self.socket is None:
            return
        self.last_typing_sent = now
        self.socket.send({"type": "typing", "text": text[:1000]})

    def _writing(self, writing):
        # The page hears when the visitor starts and stops writing (onWebChat's onStartWriting).
        if writing == self.visitor_writing:
            return
        self.visitor_writing = writing
        if self.client is not None:
            self.client.visitor_typing(writing)

    def _set_online(self, online):
        if online == self.online:
            return
        self.online = online
        if self.window is not None:
            self.window.set_status(self._texts())
            self._offer_offline_form()
        self.emitter.emit("chat.onlineChange", online)

    # -- the connection ---------------------------------------------------------
    def _down(self):
        """The socket closed and will be retried: after `parley.reconnectingAfter` ms still
        down, the window says so (a quick reconnect shows nothing). The composer stays usable:
        messages wait in the outbox."""
        if self.connection_down:
            return  # another failed retry of the same outage: its clock already runs
        self.connection_down = True
        if self.client is not None:
            self.client.down(self.socket.close_code if self.socket is not None else None)
        self.reconnecting_timer = self.host.setTimeout(self._show_reconnecting,
                                                       self.config["parley"]["reconnectingAfter"])

    def _show_reconnecting(self):
        self.reconnecting_timer = None
        if not self.connection_down:
            return
        self.reconnecting_shown = True
        if self.window is not None:
            self.window.set_connection(self.translator.t("reconnecting"))

    def _clear_reconnecting(self):
        """Connected again, or nothing is being retried any more: the line goes."""
        self.connection_down = False
        if self.reconnecting_timer is not None:
            self.host.clearTimeout(self.reconnecting_timer)
            self.reconnecting_timer = None
        if self.reconnecting_shown:
            self.reconnecting_shown = False
            if self.window is not None:
                self.window.set_connection(None)

    def _refused(self, _code):
        """The server refused this session for good (wrong session.user token, origin, app) and
        said why in an error frame. Retrying can't help: the session is over until the page
        calls startSession again, and whoever waits for it to start is never called."""
        self.socket = None
        self.session_running = False
        self.ready_waiters = []
        self._clear_reconnecting()
        if self.client is not None:
            self.client.down(_code)

    def _welcome(self, frame):
        mark("welcome")
        self._clear_reconnecting()
        self.visitor_id = frame.get("visitorId")
        self.visitor_token = frame.get("visitorToken")
        online = bool(frame.get("online"))
        if self.online_known:
            # Operators may have come or gone while the socket was down: a change all the same.
            self._set_online(online)
        else:
            self.online = online
            self.online_known = True
        self.country = frame.get("country")
        self.store.save_credentials(self.visitor_id, self.visitor_token)
        for warning in self.triggers.set_triggers(frame.get("triggers") or []) or ():
            console.warn("trigger from the server ignored: " + warning)
        self.server_operators = frame.get("operators") or []
        self.server_rules = frame.get("assignmentRules") or None
        self._restore_chat(frame.get("chat"))
        # The app's appearance defaults fill what the page's chaportConfig left unset.
        merge_account_appearance(self.config["appearance"], frame.get("appearance"))
        if frame.get("languages"):
            self._use_app_languages(frame["languages"])
        if isinstance(frame.get("maxUploadBytes"), int):
            self.view.max_upload = frame["maxUploadBytes"]
        pending, self.pending_frames = self.pending_frames, []
        for queued_frame in pending:
            self.socket.send(queued_frame)
        # Messages written while offline (or before a reload) go now, in order.
        for message_frame in self.outbox.pending():
            self.socket.send(message_frame)
        if self.started:
            return
        self.timeline.last_seq = frame.get("seq") or 0
        self.socket.send({"type": "history", "limit": 50})
        self.started = True
        # The site may hide the widget here (devices/countries): then API only, nothing drawn.
        self.widget_allowed = not self.headless and widget_visible_for(self.config, self.device, self.country)
        self.emitter.emit("ready", to_host({"visitorId": self.visitor_id}))
        mark("ready")
        # startSession callbacks: the session has started (unless a ready listener stopped it,
        # which dropped them).
        waiters, self.ready_waiters = self.ready_waiters, []
        for action in waiters:
            action()
        if not self.session_running:
            return  # a ready listener stopped the session (the spec's stopSession example)
        if self.widget_allowed:
            self._render()
            if self.restored_ui.get("state") == EXPANDED:
                self.open()
        self.api.set_ready()
        self.triggers.restore_shown(self.store.load("shown"))
        self._schedule_triggers()
        mark("done")

    # -- drawing ----------------------------------------------------------
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

    # -- the chat window: built when first needed, or in idle time ----------------
    def _prepare_window(self):
        """Builds the chat window in idle time after the launcher, a slice per idle
        callback, unless the visitor opens it first (_ensure_window finishes it then)."""
        if self.window is not None or self.window_steps is not None or self.launcher is None:
            return
        if not self.window_code:
            # Its code downloads in idle time too; the build starts when it is here.
            idle(lambda _deadline=None: self._with_window_code(self._prepare_window))
            return
        self.window_steps = self._window_steps()
        idle(self._window_slice)

    def _with_window_code(self, then):
        """Runs `then()` when the chat window's code (build.later_modules) is in the
        runtime's files: now if it is, else once its bundle has downloaded."""
        if self.window_code:
            then()
            return
        self.window_code_waiting.append(then)
        if len(self.window_code_waiting) == 1:
            parley_js.loadLater(self._window_code_arrived)

    def _window_code_arrived(self, problem):
        waiting, self.window_code_waiting = self.window_code_waiting, []
        if problem is not None:  # the next open or idle build asks again
            console.error("the chat window could not load: %s" % problem)
            return
        self.window_code = True
        for then in waiting:
            try:
                then()
            except Exception as error:
                console.error("the chat window: %s" % error)

    def _window_slice(self, _deadline=None):
        steps = self.window_steps
        if steps is None:
            return  # built already (the visitor opened the chat) or the session stopped
        began = js.performance.now()
        try:
            while js.performance.now() - began < WINDOW_SLICE_MS:
                next(steps)
        except StopIteration:
            self.window_steps = None
            return
        except Exception as error:  # opening the chat builds it anew
            self._cancel_window_build()
            console.error("could not build the chat window: %s" % error)
            return
        idle(self._window_slice)

    def _ensure_window(self):
        """The chat window, finished now if idle time hasn't built it yet; None while its
        code is still downloading (the state is drawn again when it arrives)."""
        if self.window is None and self.launcher is not None and not self.window_code:
            self._with_window_code(self._draw_state)
            return None
        if self.window is None and self.launcher is not None:
            steps, self.window_steps = self.window_steps, None
            for _ in steps or self._window_steps():
                pass
        return self.window

    def _cancel_window_build(self):
        self.window_steps = None
        if self.window_draft is not None:
            ui.remove(self.window_draft)
            self.window_draft = None

    def _make_window(self):
        for _ in self._window_steps():
            pass
        return self.window

    def _window_steps(self):
        """Builds the window a piece per step and then connects it (sets self.window)."""
        from widget.browser import window as chat_window  # its code loads only when needed

        yield
        window = chat_window.ChatWindow(
            self.host, self._texts(), self._color(), self.config["appearance"]["position"],
            self._close_by_visitor, self.translator.direction, self._close_button_shown(),
            self._container(self.config["openIn"]), self._full_screen(), staged=True,
        )
        self.window_draft = window
        while not window.build_step():
            yield
        self.window_draft = None
        self._connect_window(window)

    def _connect_window(self, window):
        # What may have changed while the window was being built in idle time.
        window.set_status(self._texts())
        window.set_close_button(self._close_button_shown())
        window.place(self.config["appearance"]["position"])
        window.on_send = self.send_message
        window.on_typing = self._visitor_typing
        window.on_scroll = self._scrolled
        window.set_draft(self.restored_ui.get("draft") or "")
        if self.reconnecting_shown:
            window.set_connection(self.translator.t("reconnecting"))
        self.window = window
        self._offer_offline_form()
        window.set_operators(self._shown_operators())
        self.view.connect(window)
        for message in self.timeline.messages():
            self.view.show(message)
        for frame in self.outbox.pending():
            self.view.show_pending(frame)
        if self.history_loaded and not self.scroll_restored:
            window.restore_scroll(self.restored_ui.get("scroll"))
            self.scroll_restored = True
        mark("window")

    def _container(self, open_in):
        """The host element `openIn: {selector}` names, or None for the floating window."""
        if not isinstance(open_in, dict):
            return None
        selector = open_in["selector"]
        try:
            element = self.host.document.querySelector(selector)
        except Exception:
            element = None
        if element is None:
            console.error("openIn: no element matches '%s'; the chat opens as a popup" % selector)
        return element

    def open_in(self, target):
        """openIn(target): where the chat opens from now on, then open it there."""
        self.config["openIn"] = target
        if isinstance(target, str):
            self._open_in_new_window()
            return
        self._cancel_window_build()  # one under way would draw into the old place
        if self.window is not None:
            # A moved iframe reloads blank (RUNTIME-NOTES): draw the window anew there.
            ui.remove(self.window)
            self.window = None
            self._make_window()
            self._draw_state()
        self.open()

    def _full_screen(self):
        # `responsive` on mobile: false, the site is not responsive (floating window); true,
        # the site says it is (full-screen chat, no detection); unset, detect: a responsive
        # site (viewport meta) is laid out at the phone's width, a fixed-width one at ~980 px.
        responsive = self.config["responsive"]
        if responsive is False or self.device not in ("ios", "android"):
            return False
        return responsive is True or self.host.innerWidth <= 600

    def _launcher_shown(self):
        return self.launcher_visible and self.widget_allowed

    def _close_button_shown(self):
        # The spec: shown when the launcher is hidden and on mobile, unless closeButton says.
        explicit = self.config["closeButton"]
        if explicit is not None:
            return bool(explicit)
        return not self._launcher_shown() or self.device in ("ios", "android") or self._full_screen()

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

    # -- SPA navigation and the mobile Back button --------------------------
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

    # -- API handlers -----------------------------------------------------
    def open(self):
        if isinstance(self.config["openIn"], str):
            # openIn '_blank': the chat lives on Parley's own page in a new tab.
            self._open_in_new_window()
            return
        self._changed(self.state.open())

    def close(self):
        self._changed(self.state.close())

    def toggle(self):
        if isinstance(self.config["openIn"], str):
            self._open_in_new_window()
            return
        self._changed(self.state.toggle())

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

    def get_widget_state(self):
        return self.state.value

    def on(self, name, listener):
        listener = host_callable(listener)
        problem = self.emitter.on(name, listener)
        if problem:
            console.error("chaport.on: " + problem)
        elif name == "ready" and self.started:
            # A listener added after `ready` still hears it once, like jQuery's ready.
            later(lambda: listener(to_host({"visitorId": self.visitor_id})), 0)

    def compare(self, value=None, matcher=None, expected=None):
        try:
            return compare(value, matcher, expected)
        except ValueError as error:
            console.error("chaport.compare: %s" % error)
            return False

    def parameters(self, message_text=None):
        location = self.host.location.href
        # The visitor's language is the browser's, whatever the widget shows: the spec's rule
        # "Spanish support if visitor language is Spanish" runs on a page forcing English.
        return parameters_for(location, self.host.document.referrer, self.host.navigator.language,
                              self.country, message_text)

    def get_parameter_value(self, key):
        problem = unknown_key_error(key)
        if problem:
            console.error("chaport.getParameterValue: " + problem)
            return None
        return self.parameters(self.sending_text)[key]

    def hide_launcher(self):
        self.launcher_visible = False
        if self.launcher is not None:
            self.launcher.show(False)
        if self.window is not None:
            self.window.set_close_button(self._close_button_shown())

    def show_launcher(self):
        self.launcher_visible = True
        if not self.widget_allowed:
            return
        self._render()
        self.launcher.show(self._launcher_shown())
        if self.window is not None:
            self.window.set_close_button(self._close_button_shown())

    def update_position(self, position, callback=None):
        parsed, problem = parse_position(position, "position")
        if problem:
            console.error("chaport.updatePosition: " + problem)
            return
        self.config["appearance"]["position"] = parsed
        if self.launcher is not None:
            self.launcher.place(parsed)
        if self.window is not None:
            self.window.place(parsed)
        if self.invitation is not None:
            self.invitation.place(parsed)
        if callback is not None:
            # No animation to wait for: the move is applied within this frame.
            later(lambda: self._call_back("updatePosition", callback), 0)

    def is_online(self, callback):
        self._call_back("isOnline", callback, self.online)

    def new_page_view(self, details=None):
        page = self._page()
        if isinstance(details, dict):
            for key in ("url", "title", "referrer"):
                if isinstance(details.get(key), str):
                    page[key] = details[key]
        frame = {"type": "page.view"}
        frame.update(page)
        self._send(frame)

    def set_active_trigger(self, trigger):
        problem = self.triggers.set_active(trigger)
        if problem:
            console.error("chaport.setActiveTrigger: " + problem)
            return
        active = self.triggers.active
        self._show_invitation(active["message"])
        if active.get("id") is None or self.triggers.mark_shown(active["id"]):
            name, payload = self.triggers.event_for(active)
            self.emitter.emit(name, to_host(payload))
            self.analytics.track(name)

    def set_assignment_rules(self, assignments):
        normalised, warnings = normalize_assignments(assignments, "setAssignmentRules")
        for warning in warnings:
            console.error("chaport." + warning)
        self.assignments = normalised

    def set_visitor_data(self, data, integrity_hash=None):
        # The server checks the hash against the exact JSON the page signed, so
        # send the host's own JSON text of the object, not a Python re-encoding.
        raw = self.api.raw_args[0] if self.api.raw_args else None
        self._queue_visitor_data(raw if raw is not None else to_host(data), integrity_hash)

    def _queue_visitor_data(self, host_value, integrity_hash):
        frame = {"type": "visitor.update", "dataJson": parley_js.json(host_value)}
        if integrity_hash:
            frame["hash"] = integrity_hash
        self._send(frame)

    def _send(self, frame):
        if self.socket is None or not self.socket.send(frame):
            self.pending_frames.append(frame)

    def start_session(self, credentials=None, callback=None):
        """startSession(visitorCredentials?, callback?): `callback()` (no argument) runs once
        the session asked for has started (after its `ready`), never when it does not start."""
        user = None
        if credentials is not None:
            user = _user_credentials(credentials)
            if user is None:
                console.error("chaport.startSession: visitorCredentials must be {id, token} strings; "
                              "no session was started")
                return
        if self.session_running:
            if user is None or user == self.user:
                # The running session is the one asked for.
                if callback is not None:
                    self._when_ready(lambda: self._call_back("startSession", callback))
                return
            # Another logged-in user (Chaport's behaviour): this session ends, theirs starts.
            self.stop_session()
        self.session_running = True
        if user is None:
            user = _user_credentials(self.config["session"]["user"])
        self.user = user
        stored = self.store.load_credentials()
        if user is not None and stored.get("visitorId") != user["id"]:
            # What this device kept is another person's (or an anonymous visitor's): never
            # show it or send it as this user.
            self._forget_visitor()
            stored = {}
        self.visitor_id = stored.get("visitorId")
        self.visitor_token = stored.get("visitorToken")
        self.resumed_from = self.visitor_id if self.visitor_token else None
        self.socket = VisitorSocket(self._socket_url(), self._send_hello, self._socket_frame, self._down,
                                    self._refused)
        self.socket.connect()
        if callback is not None:
            self._when_ready(lambda: self._call_back("startSession", callback))

    def stop_session(self, clear_credentials=False, callback=None):
        if self.socket is not None:
            self.socket.stop()
            self.socket = None
            if self.client is not None:
                self.client.down(1000, manual=True)
        self.session_running = False
        self.ready_waiters = []  # stopped before `ready`: that session never started
        self._clear_reconnecting()
        self.close()
        self._cancel_window_build()
        for part in (self.launcher, self.window, self.invitation):
            if part is not None:
                ui.remove(part)
        self.launcher = self.window = self.invitation = None
        self.started = False
        self.api.ready = False
        self._read_all()  # no blinking title for a chat that is gone
        if clear_credentials:
            # After close(), which saved the window state: that goes too.
            self._forget_visitor()
            self.pending_frames = []  # queued for the forgotten visitor
        if callback is not None:
            later(lambda: self._call_back("stopSession", callback), 0)

    def _forget_visitor(self):
        """Nothing of the last visitor stays on this device or in this page: credentials,
        conversation, unsent messages, window state and draft, triggers already shown."""
        self.store.forget_credentials()
        for name in ("outbox", "ui", "shown"):
            self.store.save(name, None)
        self.visitor_id = self.visitor_token = None
        self.timeline.clear()
        self.outbox = Outbox()
        self.chat_open = False
        self.restored_ui = {}
        self.scroll_restored = False
        if self.scroll_timer is not None:
            self.host.clearTimeout(self.scroll_timer)
            self.scroll_timer = None
        self.view.cancel_upload()
        self.view = ChatView(self)  # receipts, typing, end-of-chat panel of that chat
        self.triggers.forget_visitor()

    def _when_ready(self, action):
        if self.started:
            later(action, 0)
        else:
            # Once, and for the session starting now only.
            self.ready_waiters.append(action)

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

    def _call_back(self, method, callback, *args):
        try:
            host_callable(callback)(*args)
        except Exception as error:
            console.error("the callback passed to chaport.%s threw: %s" % (method, error))

    def _listener_failed(self, name, error):
        console.error("a '%s' listener threw: %s" % (name, error))


def _user_credentials(value):
    """{id, token} of a logged-in user (startSession's or session.user), or None."""
    if isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("token"), str):
        return {"id": value["id"], "token": value["token"]}
    return None


def start(host, runtime_window, base_url, build_id):
    console.bind(host)
    try:
        Widget(host, base_url).start()
    except Exception as error:
        console.error("the widget failed to start: %s" % error)
