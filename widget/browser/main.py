"""The widget's entry point in the browser: its state, start-up and language.

boot.mjs calls `start(host_window, runtime_window, base_url, build_id)` once
the runtime is up. Decisions live in widget.core; widget.browser does the I/O.
Widget is made of one part per job, each a mixin in its own module reading the
state made here (Widget.__init__):

- widget.browser.frames: the socket and what each frame from the server changes;
- widget.browser.messages: the visitor's messages (outbox, assignment, typing);
- widget.browser.api_handlers: the handlers of `chaport.*` (widget.browser.api binds them);
- widget.browser.drawing: the launcher, the window's state, invitations, unread count;
- widget.browser.window_build: the chat window's code download and idle-time build.
"""


import js
import parley_js

from widget.browser import console, ui
from widget.browser.analytics import Analytics
from widget.browser.api import HostApi
from widget.browser.api_handlers import ApiHandlers
from widget.browser.chat_view import ChatView
from widget.browser.drawing import Drawing
from widget.browser.frames import Frames
from widget.browser.handover import redeem_token, request_token
from widget.browser.hostjs import later, to_py
from widget.browser.messages import Messages
from widget.browser.storage import BrowserStorage
from widget.browser.timing import mark
from widget.browser.uploads import visitor_headers
from widget.browser.window_build import WindowBuild
from widget.core.config import device_visitor, normalize_config, resolve_window_color
from widget.core.delivery import Outbox, Timeline
from widget.core.device import device_from_user_agent
from widget.core.events import EventEmitter
from widget.core.handover import PENDING, handover_fragment, read_fragment
from widget.core.i18n import LANGUAGES, Translator, choose_language
from widget.core.state import WidgetState
from widget.core.triggers import TriggerState

# How long the chat page waits for the opening widget's handover token (that widget's
# request gives up after widget.browser.handover.TIMEOUT_MS and then sends none).
HANDOVER_WAIT_MS = 15000


class Widget(Frames, Messages, ApiHandlers, Drawing, WindowBuild):
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

    # -- start-up ----------------------------------------------------------------
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

    # -- Parley's own chat page (openIn to a window) and the handover ------------
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

    # -- the widget's language ---------------------------------------------------
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


def start(host, runtime_window, base_url, build_id):
    console.bind(host)
    try:
        Widget(host, base_url).start()
    except Exception as error:
        console.error("the widget failed to start: %s" % error)
