"""What the e2e tests share: the real Parley server and the host website they run against,
waiting for facts (never for a fixed time), and the widget pages the tests drive.

Fixtures built from these are in e2e/conftest.py; helpers for Parley's own pages (the inbox,
a raw visitor socket) are in e2e/inbox_helpers.py.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Page

from tests.helpers.server import Server

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

# -- the Parley server and the host website ---------------------------------------------------

class ParleyServer:
    """`parley serve` for the browser tests (tests/helpers/server.Server, the one launcher), with
    its data in `data`; `env` may be changed before start()."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        self.data = data
        # Loopback has no country; the tests' visitors come from Norway. Every browser of the
        # run is a new visitor from 127.0.0.1: far more than the default limits per address.
        self.env = {**os.environ, "PARLEY_DATA": str(data), "PARLEY_GEO_OVERRIDE": "127.0.0.1=NO,::1=NO",
                    "PARLEY_LIMITS": "new_visitors_per_ip=10000,visitor_sockets_per_ip=10000,"
                                     "upload_bytes_per_ip=1000000000,transcripts_per_ip=1000"}
        self.server = Server(self.env, port, data / "server.log")

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def process(self) -> subprocess.Popen | None:
        return self.server.process

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def loader(self) -> str:
        return self.url + "/widget/loader.js"

    def cli(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "parley", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=True)
        return json.loads(done.stdout)

    def start(self) -> None:
        self.server.env = self.env
        self.server.start()

    def stop(self) -> None:
        self.server.stop(within=15)


class HostSite:
    """A customer's website: pages written by the test, served from its own origin."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # the OS picks the port: no race
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page(self, name: str, body: str, head: str = "") -> str:
        """Writes an HTML page and returns its URL."""
        html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{name}</title>"
                f"{head}</head><body>{body}</body></html>")
        (self.folder / f"{name}.html").write_text(html)
        return f"{self.origin}/{name}.html"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# -- waiting for facts -------------------------------------------------------------------------

POLL_MS = 25


def wait_until(page: Page, predicate: Callable[[], T], timeout: float = 15, what: str = "") -> T:
    """Polls `predicate` until it returns something true, and returns that; fails after `timeout`
    seconds. Between polls Playwright runs (page.wait_for_timeout), which is when it delivers the
    page's events (console lines, socket frames) to this thread's handlers: a plain time.sleep
    would never see them arrive."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what or predicate}")
        page.wait_for_timeout(POLL_MS)  # the poll interval, not the sync point


def wait_for_js(page: Page, predicate: str, seconds: float = 20) -> None:
    """Waits for a JS predicate by evaluating it, not with wait_for_function: that needs eval,
    which a page with a strict CSP forbids."""
    wait_until(page, lambda: page.evaluate(predicate), seconds, predicate)


def host_timers_ran(page: Page, ms: int) -> None:
    """Returns once every host-page timer set before this call with a delay up to `ms` has run.

    The widget's timers (trigger delays, the typing throttle...) run on the host page's
    setTimeout (templates/boot.mjs.j2, `later`), and a window runs its timers in order of due
    time, those set earlier first on a tie (HTML: timer initialization steps). So a timer set
    now for `ms` (plus the 4 ms a nested timer may be clamped to) runs after them: when it
    has, anything they were going to do is done. This waits for that ordering, not a guess."""
    page.evaluate("ms => new Promise(resolve => setTimeout(resolve, ms))", ms + 5)


_marks = itertools.count()


def console_caught_up(page: Page, log) -> None:
    """Until every console line the page wrote so far has reached `log` (the page_log fixture):
    the page's console messages arrive in order, so once a line written now has come, every
    line written before it has too."""
    mark = f"[e2e] console mark {next(_marks)}"
    page.evaluate("mark => console.log(mark)", mark)
    wait_until(page, lambda: mark in log.messages(), what="the console mark")


def rendered(page: Page) -> None:
    """Returns once the page has run a rendering update (style, layout, paint) since the call:
    the second animation frame callback runs after the first frame was rendered."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def frames_received(page: Page) -> list[dict]:
    """The JSON frames the page's sockets receive from now on, kept in arrival order."""
    frames: list[dict] = []
    page.on("websocket",
            lambda ws: ws.on("framereceived", lambda payload: frames.append(json.loads(payload))))
    return frames


def frames_sent(page: Page) -> list[dict]:
    """The JSON frames the page's sockets send from now on, kept in order."""
    frames: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(json.loads(payload))))
    return frames


# -- the widget on a host page -----------------------------------------------------------------

WINDOW = "iframe[data-parley=window]"
# The real API is on window.chaport (the stub has no getWidgetState).
API_READY = "window.chaport && typeof window.chaport.getWidgetState === 'function'"
# Records the widget's events the tests look at into window.events.
RECORD_EVENTS = """window.events = [];
['ready', 'chat.autoInvitation', 'chat.botSent', 'chat.started'].forEach(function (name) {
  window.chaport.on(name, function (payload) { window.events.push([name, payload]); });
});"""


def wait_ready(page: Page, timeout: float = 20_000) -> None:
    """Waits until the real API replaced the stub and the launcher is drawn."""
    page.wait_for_function(
        API_READY + " && document.querySelector('iframe[data-parley=launcher]')",
        timeout=timeout)


def snippet_with_config(config: str, loader: str) -> str:
    """The spec's snippet with a config object literal's body and a loader URL."""
    return ("(function(w,d,v3){w.chaportConfig = {" + config + "};"
            "if(w.chaport)return;v3=w.chaport={};v3._q=[];v3._l={};"
            "v3.q=function(){v3._q.push(arguments)};"
            "v3.on=function(e,fn){if(!v3._l[e])v3._l[e]=[];v3._l[e].push(fn)};"
            "var s=d.createElement('script');"
            "s.type='text/javascript';s.async=true;s.src='" + loader + "';"
            "var ss=d.getElementsByTagName('script')[0];"
            "ss.parentNode.insertBefore(s,ss)})(window, document);")


def page_url(host_site, parley, app, name: str, config: str = "", after: str = "") -> str:
    """A host page with the snippet (config = extra option lines) and a script after it."""
    snippet = snippet_with_config(f"appId: '{app['appId']}',{config}", parley.loader)
    return host_site.page(name, f"<script>{snippet}</script><script>{after}</script>")


def goto(page: Page, host_site, parley, app, name, config="", after="") -> None:
    """Opens page_url(...) and waits until the widget is ready."""
    page.goto(page_url(host_site, parley, app, name, config, after))
    wait_ready(page)


def load(page: Page, host_site, parley, app, name, config="", after="", before="", query="") -> None:
    """Serves a page with the snippet (config = extra option lines) and scripts around it."""
    snippet = snippet_with_config(f"appId: '{app['appId']}',{config}", parley.loader)
    body = f"<script>{before}</script><script>{snippet}</script><script>{after}</script>"
    page.goto(host_site.page(name, body) + query)
    wait_ready(page)


def open_page(page: Page, host_site, parley, app, name, config="") -> None:
    """A host page with the widget that records chat.started, widget.stateChange and
    chat.onlineChange into window.events."""
    snippet = snippet_with_config(f"appId: '{app['appId']}',{config}", parley.loader)
    recorder = """<script>window.events = [];
    ['chat.started', 'widget.stateChange', 'chat.onlineChange'].forEach(function (name) {
      window.chaport.on(name, function (payload) { window.events.push([name, payload]); });
    });</script>"""
    page.goto(host_site.page(name, f"<script>{snippet}</script>{recorder}"))
    wait_ready(page)


def type_message(page: Page, text: str) -> None:
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.fill(text)
    composer.press("Enter")


def bubbles(page: Page, author: str):
    return page.frame_locator(WINDOW).locator(f".msg.{author} .bubble")


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def fresh_app(parley, host_site, name: str) -> dict:
    """A new app whose allowed origin is the host site."""
    return parley.cli("app", "create", "--name", name, "--origin", host_site.origin)


def png_bytes(size=(40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def save_screenshot(page: Page, path: Path) -> None:
    """A screenshot for the docs: written when missing, or always with PARLEY_SCREENSHOTS=1."""
    if path.exists() and os.environ.get("PARLEY_SCREENSHOTS") != "1":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


class SocketSwitch:
    """Routes the page's visitor sockets through Playwright: `cut()` drops the live ones
    and refuses new ones until `restore()`; `drop_sent(text)` keeps visitor messages with
    that text from reaching the server (they stay unacknowledged, "Sending"). `sent` and
    `received` are the frames each way, `welcomes` counts the server's welcome frames."""

    def __init__(self, page) -> None:
        self.page = page
        self.cut_off = False
        self.dropped_texts: set[str] = set()
        self.live: list = []
        self.opened = 0
        self.sent: list[dict] = []
        self.welcomes = 0
        page.route_web_socket("**/ws/visitor", self._route)

    def _route(self, ws) -> None:
        self.opened += 1
        if self.cut_off:
            ws.close(code=1011, reason="test: network down")
            return
        server = ws.connect_to_server()
        ws.on_message(lambda message: self._to_server(server, message))
        server.on_message(lambda message: self._to_page(ws, message))
        self.live.append((ws, server))

    def _to_server(self, server, message) -> None:
        if isinstance(message, str):
            frame = json.loads(message)
            self.sent.append(frame)
            if frame.get("type") == "message.send" and frame.get("text") in self.dropped_texts:
                return
        server.send(message)

    def _to_page(self, ws, message) -> None:
        if isinstance(message, str) and json.loads(message).get("type") == "welcome":
            self.welcomes += 1
        ws.send(message)

    def drop_sent(self, text: str) -> None:
        self.dropped_texts.add(text)

    def cut(self) -> None:
        self.cut_off = True
        live, self.live = self.live, []
        for ws, server in live:
            server.close()
            ws.close(code=1011, reason="test: network down")

    def restore(self) -> None:
        self.cut_off = False

    def wait_for_welcomes(self, count: int, seconds: float = 20) -> None:
        """Until `count` welcomes came (the routed frames arrive only inside Playwright calls)."""
        wait_until(self.page, lambda: self.welcomes >= count, seconds, f"{count} welcome frames")


def axe_every_frame(page: Page, impacts: tuple = ("serious", "critical")) -> list:
    """axe-core findings of these `impacts` (serious or critical unless told) in every frame
    of `page` (the page, the widget's frames, frames inside frames), each frame run on its
    own with no `include` filter:
    [(frame's data-parley or URL, rule, impact, [up to three nodes' HTML])].

    axe only looks into a frame when axe itself is loaded there, so it is injected into each
    one and run with `iframes: false` (one report per document, no cross-frame messaging).
    A frame hidden from assistive technology (aria-hidden on its element: the runtime frame
    that draws nothing) is not read by anyone, so it is not run, but it must also be out of
    the tab order, else a keyboard user lands in a document nobody can hear. The experimental
    label-content-name-mismatch rule is on: a visible label missing from the name fails
    speech-input users (WCAG 2.5.3)."""
    import axe_playwright_python

    source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    found = []
    for frame in page.frames:
        name = frame.url
        if frame.parent_frame is not None:
            element = frame.frame_element()
            name = element.get_attribute("data-parley") or frame.url
            if element.get_attribute("aria-hidden") == "true":
                if element.get_attribute("tabindex") != "-1":
                    found.append((name, "hidden-frame-focusable", "serious", []))  # ours
                continue
        frame.evaluate(source)
        result = frame.evaluate("axe.run(document, {iframes: false, resultTypes: ['violations'], "
                                "rules: {'label-content-name-mismatch': {enabled: true}}})")
        found.extend((name, v["id"], v["impact"], [n["html"] for n in v["nodes"]][:3])
                     for v in result["violations"] if v["impact"] in impacts)
    return found
