"""The operator inbox (PyScript on Parley's own origin) against a real widget visitor.

Two browser contexts: the visitor on a host page of another origin (the `page`
fixture) and the operator in /inbox (the `inbox` fixture, with the same checks:
no uncaught page error, and no request leaving the Parley server's origin).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ParleyServer, free_port
from e2e.test_chat import open_page, type_message

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "inbox.png"
PASSWORD = "correct horse battery"
_emails = itertools.count()


class Inbox:
    """An operator's browser tab on /inbox, and what it requested."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.sockets: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda socket: self.sockets.append(socket.url))

    def open(self) -> None:
        self.page.goto(self.url + "/inbox")
        expect(self.page.get_by_label("Email")).to_be_visible(timeout=20_000)

    def login(self, email: str, password: str = PASSWORD) -> None:
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_label("Password").press("Enter")

    def wait_live(self) -> None:
        expect(self.page.locator("#conn")).to_have_text("Live", timeout=15_000)

    def chat_row(self, text: str):
        return self.page.locator(".chat-item", has_text=text)

    def foreign_requests(self) -> list[str]:
        ws_origin = "ws" + self.url.removeprefix("http")
        return ([u for u in self.requests if not u.startswith(self.url + "/") and not u.startswith("data:")]
                + [u for u in self.sockets if not u.startswith(ws_origin + "/")])


@pytest.fixture
def inbox(browser, parley) -> Iterator[Inbox]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = Inbox(context.new_page(), parley.url)
    yield tab
    context.close()
    assert not tab.errors, f"uncaught errors in the inbox: {tab.errors}"
    assert not tab.foreign_requests(), f"the inbox left its origin: {tab.foreign_requests()}"


@pytest.fixture
def operator_email(parley, app) -> str:
    email = f"inbox{next(_emails)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", PASSWORD,
               "--name", "Olivia")
    return email


def save_screenshot(page: Page) -> None:
    if SCREENSHOT.exists() and os.environ.get("PARLEY_SCREENSHOTS") != "1":
        return
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_operator_answers_a_visitor_live(page, host_site, parley, app, inbox, operator_email):
    inbox.open()
    inbox.login(operator_email)
    inbox.wait_live()
    expect(inbox.page.get_by_text("Signed in as Olivia")).to_be_visible()
    op = inbox.page

    # The visitor writes from the host site (another origin).
    open_page(page, host_site, parley, app, "inbox-visitor")
    page.evaluate("chaport.open()")
    question = "Hi! Is the blue mug <b>in stock</b>?"
    type_message(page, question)

    # The chat arrives live (no reload), unread, in the Open tab.
    row = inbox.chat_row(question)
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator(".badge")).to_have_text("1")
    # (Other tests share the app, so counts are not checked exactly.)
    expect(op.get_by_role("tab", name=re.compile(r"^Open \(\d+\)$"))).to_have_attribute(
        "aria-selected", "true")
    assert op.title().startswith("(")

    # Open it: history shows the message as text, newest at the bottom; the badge goes.
    row.click()
    log = op.locator("#log")
    expect(log.locator(".msg.visitor .bubble")).to_have_text([question])
    assert log.locator("b").count() == 0
    expect(row.locator(".badge")).to_have_count(0)
    expect(op.get_by_label("Reply")).to_be_focused()

    # A second visitor message arrives live in the open conversation.
    type_message(page, "Also, do you ship to Norway?")
    expect(log.locator(".msg.visitor .bubble").last).to_have_text("Also, do you ship to Norway?")

    # Sneak peek: what the visitor is typing shows before it is sent.
    page.wait_for_timeout(1100)  # the widget sends typing at most once a second
    page.frame_locator("iframe[data-parley=window]").locator("textarea").fill("And gift wrap")
    expect(op.locator("#typing")).to_have_text("Visitor is typing: And gift wrap", timeout=10_000)

    # Reply with Enter; the visitor sees it in the widget.
    reply = op.get_by_label("Reply")
    reply.fill("Yes, 12 in stock, and we ship to Norway.")
    reply.press("Enter")
    expect(reply).to_have_value("")
    expect(log.locator(".msg.operator .bubble")).to_have_text(["Yes, 12 in stock, and we ship to Norway."])
    expect(log.locator(".msg.pending")).to_have_count(0)
    widget = page.frame_locator("iframe[data-parley=window]")
    expect(widget.locator(".msg.operator .bubble").first).to_have_text(
        "Yes, 12 in stock, and we ship to Norway.", timeout=15_000)
    current = op.locator(".chat-item[aria-current=true]")
    expect(current.locator(".preview")).to_have_text("You: Yes, 12 in stock, and we ship to Norway.")
    save_screenshot(op)

    # Close the chat: it moves to the Closed tab and the composer goes away.
    op.get_by_role("button", name="Close chat").click()
    expect(op.locator("#conv-closed")).to_be_visible()
    expect(op.get_by_label("Reply")).to_be_hidden()
    closed_tab = op.get_by_role("tab", name=re.compile(r"^Closed \(\d+\)$"))
    expect(closed_tab).to_be_visible()
    closed_tab.click()
    expect(closed_tab).to_have_attribute("aria-selected", "true")
    expect(inbox.chat_row("Yes, 12 in stock")).to_be_visible()

    # Log out: the login form is back, and a reload does not bring the session back.
    op.get_by_role("button", name="Log out").click()
    expect(op.get_by_label("Email")).to_be_visible()
    op.reload()
    expect(op.get_by_label("Email")).to_be_visible(timeout=20_000)
    expect(op.locator("#inbox")).to_be_hidden()


def test_login_failure_shows_an_error(inbox, operator_email):
    inbox.open()
    inbox.login(operator_email, "not the password")
    expect(inbox.page.get_by_role("alert").filter(has_text="Wrong email or password.")).to_be_visible()
    expect(inbox.page.locator("#inbox")).to_be_hidden()
    # The right password then works from the same form.
    inbox.login(operator_email)
    inbox.wait_live()
    assert inbox.sockets and all(u.endswith("/ws/operator") for u in inbox.sockets)


def test_inbox_reconnects_and_catches_up_after_a_server_restart(
        browser, page, host_site, parley, app, operator_email, tmp_path):
    # A second server on the same database, so it can be stopped without hurting other tests.
    second = ParleyServer(tmp_path, free_port())
    second.env = {**parley.env}
    second.start()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    inbox = Inbox(context.new_page(), second.url)
    try:
        inbox.open()
        inbox.login(operator_email)
        inbox.wait_live()
        second.stop()
        expect(inbox.page.locator("#conn")).to_have_text(re.compile(r"^Offline, reconnecting in \d+ s$"))
        # While the inbox is cut off, a visitor writes (through the main server).
        open_page(page, host_site, parley, app, "inbox-restart")
        page.evaluate("chaport.open()")
        type_message(page, "Anyone there? I wrote while you were away")
        second.start()  # the same port: the inbox's backoff finds it again
        inbox.wait_live()
        # Nothing lost: the chat list was reloaded on reconnect.
        row = inbox.chat_row("Anyone there? I wrote while you were away")
        expect(row).to_be_visible(timeout=15_000)
        row.click()
        expect(inbox.page.locator("#log .msg.visitor .bubble")).to_have_text(
            ["Anyone there? I wrote while you were away"])
    finally:
        context.close()
        second.stop()
    assert not inbox.errors, inbox.errors
    assert not inbox.foreign_requests(), inbox.foreign_requests()
