"""End-to-end fixtures: a real Parley server, a host website on another origin,
and a real Chromium driven by Playwright.

The host site is a separate HTTP server (another port = another origin), as a
customer's website would be. Any uncaught error on a page fails the test.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from e2e.inbox_helpers import Inbox, RawVisitor, create_operator, open_tab

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# The spec's "Minimal installation code", with only appId and the script URL changed.
MINIMAL_INSTALL = """(function(w,d,v3){
w.chaportConfig = {
appId : '%(app_id)s',
// Put your configuration options here
};
if(w.chaport)return;v3=w.chaport={};v3._q=[];v3._l={};v3.q=function(){v3._q.push(arguments)};v3.on=function(e,fn){if(!v3._l[e])v3._l[e]=[];v3._l[e].push(fn)};var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='%(loader)s';var ss=d.getElementsByTagName('script')[0];ss.parentNode.insertBefore(s,ss)})(window, document);"""  # noqa: E501 - verbatim spec


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


class HostSite:
    """A customer's website: pages written by the test, served from its own origin."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.origin = f"http://127.0.0.1:{port}"
        handler = partial(_QuietHandler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
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


class ParleyServer:
    def __init__(self, data: Path, port: int) -> None:
        self.data = data
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        # Loopback has no country; the tests' visitors come from Norway. Every browser of the
        # run is a new visitor from 127.0.0.1: far more than the default limits per address.
        self.env = {**os.environ, "PARLEY_DATA": str(data), "PARLEY_GEO_OVERRIDE": "127.0.0.1=NO,::1=NO",
                    "PARLEY_LIMITS": "new_visitors_per_ip=10000,visitor_sockets_per_ip=10000,"
                                     "upload_bytes_per_ip=1000000000,transcripts_per_ip=1000"}
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "parley", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=True)
        return json.loads(done.stdout)

    def start(self) -> None:
        log = open(self.data / "server.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--port", str(self.port), "--log-level", "warning"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_http(self.url + "/healthz", 60)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    @property
    def loader(self) -> str:
        return self.url + "/widget/loader.js"


@pytest.fixture(scope="session")
def host_site(tmp_path_factory) -> HostSite:
    return HostSite(tmp_path_factory.mktemp("site"), free_port())


@pytest.fixture(scope="session")
def parley(tmp_path_factory, host_site, built_dist) -> Iterator[ParleyServer]:
    server = ParleyServer(tmp_path_factory.mktemp("parley"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(parley, host_site) -> dict:
    created = parley.cli("app", "create", "--name", "E2E site", "--origin", host_site.origin)
    # The tests' visitors ask for transcripts to addresses no site signed.
    parley.cli("app", "set", "--app", created["appId"], "--transcripts-to-any-email")
    return created


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail("no Chromium found: run scripts/test (installs Debian's chromium) or set CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageLog:
    """What a page said: console messages and uncaught errors."""

    def __init__(self) -> None:
        self.console: list[ConsoleMessage] = []
        self.errors: list[str] = []

    def messages(self, kind: str | None = None) -> list[str]:
        return [m.text for m in self.console if kind is None or m.type == kind]

    def parley(self, kind: str | None = None) -> list[str]:
        return [t for t in self.messages(kind) if t.startswith("[parley]")]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda message: page_log.console.append(message))
    page.on("pageerror", lambda error: page_log.errors.append(str(error)))
    yield page
    context.close()
    assert not page_log.errors, f"uncaught errors on the page: {page_log.errors}"


@pytest.fixture
def install(app, parley):
    """Returns the minimal installation code for this test's app and server."""
    def render(app_id: str | None = None, loader: str | None = None) -> str:
        return MINIMAL_INSTALL % {"app_id": app_id or app["appId"], "loader": loader or parley.loader}
    return render


# The real API is on window.chaport (the stub has no getWidgetState).
API_READY = "window.chaport && typeof window.chaport.getWidgetState === 'function'"


def wait_ready(page: Page, timeout: float = 20_000) -> None:
    """Waits until the real API replaced the stub and the launcher is drawn."""
    page.wait_for_function(
        API_READY + " && document.querySelector('iframe[data-parley=launcher]')",
        timeout=timeout)


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


# -- Parley's own pages: an operator's inbox tab, operators, a raw visitor (e2e/inbox_helpers.py)

_operators = itertools.count()


@pytest.fixture
def inbox(browser, parley) -> Iterator[Inbox]:
    """An operator's inbox tab at 1280x800; no uncaught errors, no request off its origin."""
    with open_tab(browser, parley.url) as tab:
        yield tab


@pytest.fixture
def operator_email(parley, app) -> str:
    """A new operator named Olivia (password inbox_helpers.PASSWORD); her email."""
    email = f"inbox{next(_operators)}@shop.example"
    create_operator(parley, app["appId"], email, "Olivia")
    return email


@pytest.fixture
def raw_visitor(parley, app, host_site) -> Iterator[RawVisitor]:
    visitor = RawVisitor(parley.url, app["appId"], host_site.origin)
    yield visitor
    visitor.close()
