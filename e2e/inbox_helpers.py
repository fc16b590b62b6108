"""What the e2e tests of Parley's own pages share: a browser tab on /inbox or /inbox/admin
that collects uncaught errors and requests leaving the server's origin (`open_tab` checks
both when the tab closes), the operator's inbox tab, and a visitor on the raw socket.

The fixtures built from these (`inbox`, `raw_visitor`, `operator_email`) are in conftest.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from e2e.frames import FrameSocket
from e2e.helpers import ROOT

PASSWORD = "correct horse battery"


class BrowserTab:
    """A page on the Parley server, and what it requested."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.sockets: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda socket: self.sockets.append(socket.url))

    def foreign_requests(self) -> list[str]:
        ws_origin = "ws" + self.url.removeprefix("http")
        return ([u for u in self.requests if not u.startswith(self.url + "/") and not u.startswith("data:")]
                + [u for u in self.sockets if not u.startswith(ws_origin + "/")])


class Inbox(BrowserTab):
    """An operator's browser tab on /inbox."""

    def open(self) -> None:
        self.page.goto(self.url + "/inbox")
        expect(self.page.get_by_label("Email")).to_be_visible(timeout=20_000)

    def login(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_label("Password").press("Enter")

    def wait_live(self) -> None:
        expect(self.page.locator("#conn")).to_have_text("Live", timeout=15_000)

    def log_in(self, email: str) -> None:
        """Opens the inbox, logs in and waits until its socket is live."""
        self.open()
        self.login(email)
        self.wait_live()

    def chat_row(self, text: str):
        return self.page.locator(".chat-item", has_text=text)


@contextmanager
def open_tab(browser: Browser, url: str, kind: type[BrowserTab] = Inbox, what: str = "the inbox",
             **options) -> Iterator:
    """A tab of `kind` (Inbox) in its own 1280x800 browser context; when it closes, the page
    must have had no uncaught error and made no request off the server's origin."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **options)
    tab = kind(context.new_page(), url)
    try:
        yield tab
    finally:
        context.close()
    assert not tab.errors, f"uncaught errors in {what}: {tab.errors}"
    assert not tab.foreign_requests(), f"{what} left its origin: {tab.foreign_requests()}"


def open_chat_of(inbox: Inbox, first_message: str):
    row = inbox.chat_row(first_message)
    expect(row).to_be_visible(timeout=15_000)
    row.click()
    return row


def create_operator(parley, app_id: str, email: str, name: str) -> dict:
    return parley.cli("operator", "create", "--app", app_id, "--email", email, "--password", PASSWORD,
                      "--name", name)


class RawVisitor(FrameSocket):
    """A visitor on the raw /ws/visitor socket (as the widget speaks it), so a test can
    see exactly which frames the inbox's actions produce for the visitor."""

    who = "visitor"

    def __init__(self, server_url: str, app_id: str, origin: str) -> None:
        self.app_id = app_id
        self.origin = origin
        super().__init__(connect(server_url.replace("http://", "ws://") + "/ws/visitor", origin=origin))
        self._sent = 0
        self.send(type="hello", appId=app_id)
        self.wait_for(lambda f: f["type"] == "welcome")

    def send(self, **frame) -> None:
        self.socket.send(json.dumps({"v": 1, **frame}))

    def event(self, kind: str, match=lambda event: True) -> dict:
        frame = self.wait_for(lambda f: f["type"] == "event" and f["event"]["type"] == kind
                              and match(f["event"]))
        return frame["event"]

    def say(self, text: str, **extra) -> dict:
        self._sent += 1
        client_id = f"v-{time.monotonic_ns()}-{self._sent}"
        self.send(type="message.send", clientId=client_id, text=text, **extra)
        return self.wait_for(lambda f: f["type"] == "ack" and f["clientId"] == client_id)["message"]


# -- the admin screens (/inbox/admin) ---------------------------------------------------------

# `parley operator create` makes operators; an admin is made the way `parley serve --demo` does it.
MAKE_ADMIN = """
import asyncio, sys
from parley.settings import database_url
from parley.storage import operator_queries
from parley.storage.db import Database

async def main(app_id, email, password, name):
    database = Database(database_url(None))
    try:
        async with database.session() as session:
            await operator_queries.create_operator(session, app_id, email, password, name, "admin")
            await session.commit()
    finally:
        await database.close()

asyncio.run(main(*sys.argv[1:]))
"""


def make_admin(parley, app_id: str, email: str, name: str = "Ada") -> None:
    subprocess.run([sys.executable, "-c", MAKE_ADMIN, app_id, email, PASSWORD, name], env=parley.env,
                   cwd=ROOT, check=True, timeout=120)


class AdminTab(BrowserTab):
    """A browser tab logged in as someone, on /inbox/admin; uncaught errors and requests to
    other origins are collected for the fixture's checks."""

    def login(self, app_id: str, email: str, password: str = PASSWORD) -> None:
        body = {"appId": app_id, "email": email, "password": password}
        headers = {"Content-Type": "application/json", "Origin": self.url}
        response = self.page.context.request.post(self.url + "/api/operator/login", data=json.dumps(body),
                                                  headers=headers)
        assert response.status == 200, response.text()

    def open(self, section: str | None = None):
        return self.page.goto(f"{self.url}/inbox/admin" + (f"#{section}" if section else ""))

    def wait_loaded(self) -> None:
        expect(self.page.locator("#app-name")).not_to_have_value("", timeout=30_000)
        expect(self.page.locator("#snippet")).not_to_have_value("", timeout=10_000)

    def section(self, name: str) -> None:
        self.page.get_by_role("tab", name=name, exact=True).click()
        expect(self.page.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")

    def api(self, path: str) -> dict:
        response = self.page.context.request.get(self.url + path)
        assert response.status == 200, response.text()
        return response.json()


def app_elsewhere(parley, name: str) -> dict:
    """A new app whose only origin is another website's."""
    # Starts with another website's origin: the host site only works once the admin adds it.
    return parley.cli("app", "create", "--name", name, "--origin", "https://elsewhere.example")
