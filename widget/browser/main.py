"""The widget's entry point in the browser: wires config, API, transport and UI.

boot.mjs calls `start(host_window, runtime_window, base_url, build_id)` once
the runtime is up. Decisions live in widget.core; this module does the I/O.
"""

import json

import js

from widget.browser import console, ui
from widget.browser.api import HostApi
from widget.browser.hostjs import to_host, to_py
from widget.browser.transport import VisitorSocket
from widget.core.device import device_from_user_agent
from widget.core.events import EventEmitter
from widget.core.state import EXPANDED, WidgetState

STORAGE_PREFIX = "parley:"


def _read_config(raw):
    """The few options the walking skeleton uses, with the spec's defaults."""
    config = raw if isinstance(raw, dict) else {}
    appearance = config.get("appearance") if isinstance(config.get("appearance"), dict) else {}
    position = appearance.get("position")
    if not (isinstance(position, list) and position and position[0] in ("left", "right")):
        position = ["right"]
    position = [*position, 20, 20][:3]
    launcher = config.get("launcher") if isinstance(config.get("launcher"), dict) else {}
    session = config.get("session") if isinstance(config.get("session"), dict) else {}
    return {
        "appId": config.get("appId"),
        "windowColor": appearance.get("windowColor") or "#4a6cf7",
        "teamName": appearance.get("teamName") or "Chat with us",
        "onlineWelcome": appearance.get("onlineWelcome") or "Hi! How can we help?",
        "offlineWelcome": appearance.get("offlineWelcome") or "Leave us a message.",
        "position": position,
        "launcherShow": launcher.get("show") is not False,
        "persist": session.get("persist") is not False,
    }


class Widget:
    def __init__(self, host, base_url):
        self.host = host
        self.base_url = base_url
        self.emitter = EventEmitter(self._listener_failed)
        self.state = WidgetState()
        self.visitor_id = None
        self.visitor_token = None
        self.online = False
        self.launcher = None
        self.window = None
        self.launcher_visible = True
        self.started = False
        self.api = HostApi(host, {
            "open": self.open,
            "close": self.close,
            "toggle": self.toggle,
            "getWidgetState": self.get_widget_state,
            "on": self.on,
        })
        self.config = None
        self.socket = None

    # -- start-up ---------------------------------------------------------
    def start(self):
        raw = to_py(self.host.chaportConfig)
        self.config = _read_config(raw)
        self.device = device_from_user_agent(
            self.host.navigator.userAgent, self.host.navigator.maxTouchPoints
        )
        queued, listeners = self.api.install(self.host.chaport)
        for name in listeners:
            for listener in listeners[name] if isinstance(listeners[name], list) else ():
                self.on(name, listener)
        app_id = self.config["appId"]
        if not isinstance(app_id, str) or not app_id:
            console.error("chaportConfig.appId is missing: copy it from your installation snippet.")
            return
        self.api.replay(queued)
        self.credentials_key = STORAGE_PREFIX + app_id
        stored = self._load_credentials()
        self.visitor_id = stored.get("visitorId")
        self.visitor_token = stored.get("visitorToken")
        self.socket = VisitorSocket(self._socket_url(), self._send_hello, self._frame, self._down)
        self.socket.connect()

    def _socket_url(self):
        url = js.URL.new("../ws/visitor", self.base_url)
        url.protocol = "wss:" if url.protocol == "https:" else "ws:"
        return url.href

    def _send_hello(self):
        location = self.host.location
        self.socket.send({
            "type": "hello",
            "appId": self.config["appId"],
            "visitorId": self.visitor_id,
            "visitorToken": self.visitor_token,
            "page": {
                "url": location.href,
                "title": self.host.document.title,
                "referrer": self.host.document.referrer,
            },
        })

    def _frame(self, frame):
        kind = frame.get("type")
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "error":
            code = frame.get("code")
            message = frame.get("message") or code
            console.error_once("frame-" + str(code), "%s (%s)" % (message, code))
            if code == "PARLEY_E_UNKNOWN_APP":
                self.socket.stop()

    def _down(self):
        pass

    def _welcome(self, frame):
        self.visitor_id = frame.get("visitorId")
        self.visitor_token = frame.get("visitorToken")
        self.online = bool(frame.get("online"))
        self._save_credentials()
        if self.started:
            return
        self.started = True
        self.emitter.emit("ready", to_host({"visitorId": self.visitor_id}))
        self._render()
        self.api.set_ready()

    # -- credentials (host origin's localStorage; no cookies unless asked) --
    def _load_credentials(self):
        if not self.config["persist"]:
            return {}
        try:
            text = self.host.localStorage.getItem(self.credentials_key)
            data = json.loads(text) if text else {}
            return data if isinstance(data, dict) else {}
        except Exception:
            return {}

    def _save_credentials(self):
        if not self.config["persist"]:
            return
        try:
            self.host.localStorage.setItem(self.credentials_key, json.dumps({
                "visitorId": self.visitor_id, "visitorToken": self.visitor_token,
            }))
        except Exception:
            console.error_once(
                "storage", "cannot store the visitor id (storage blocked); chat lasts this page only")

    # -- drawing ----------------------------------------------------------
    def _render(self):
        config = self.config
        self.launcher = ui.Launcher(
            self.host, self.toggle, config["windowColor"], config["position"], "Open chat"
        )
        self.launcher.show(config["launcherShow"] and self.launcher_visible)
        texts = {
            "title": config["teamName"],
            "status": "We're online" if self.online else "We're away",
            "close": "Close chat",
            "welcome": config["onlineWelcome"] if self.online else config["offlineWelcome"],
        }
        self.window = ui.ChatWindow(
            self.host, texts, config["windowColor"], config["position"], self.close
        )
        self._draw_state()

    def _draw_state(self):
        if self.window is None:
            return
        expanded = self.state.value == EXPANDED
        self.window.show(expanded)
        self.launcher.set_expanded(expanded, "Close chat" if expanded else "Open chat")

    def _changed(self, new_state):
        if new_state is None:
            return
        self._draw_state()
        self.emitter.emit("widget.stateChange", new_state)

    # -- API handlers -----------------------------------------------------
    def open(self):
        self._changed(self.state.open())

    def close(self):
        self._changed(self.state.close())

    def toggle(self):
        self._changed(self.state.toggle())

    def get_widget_state(self):
        return self.state.value

    def on(self, name, listener):
        problem = self.emitter.on(name, listener)
        if problem:
            console.error("chaport.on: " + problem)
        elif name == "ready" and self.started:
            # A listener added after `ready` still hears it once, like jQuery's ready.
            self.host.setTimeout(lambda: listener(to_host({"visitorId": self.visitor_id})), 0)

    def _listener_failed(self, name, error):
        console.error("a '%s' listener threw: %s" % (name, error))


def start(host, runtime_window, base_url, build_id):
    console.bind(host)
    try:
        Widget(host, base_url).start()
    except Exception as error:
        console.error("the widget failed to start: %s" % error)
