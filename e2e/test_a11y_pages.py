"""Issue 18 on Parley's own pages: axe-core finds nothing serious or critical, in any frame,
on the inbox's login page and every inbox screen, and on every admin screen. The inbox's
landmarks and headings are checked too (moderate findings the audit named)."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from e2e.helpers import axe_every_frame
from e2e.inbox_helpers import PASSWORD, AdminTab, app_elsewhere, create_operator, make_admin, open_chat_of

_numbers = itertools.count()
# The moderate/minor rules the audit named for the inbox: every page has a main landmark,
# content sits in landmarks, one level-one heading, landmarks of one kind have distinct names,
# roles fit their elements.
STRUCTURE = ("landmark-one-main", "region", "page-has-heading-one", "landmark-unique", "aria-allowed-role",
             "landmark-no-duplicate-banner")


def structure_findings(page) -> list:
    return [f for f in axe_every_frame(page, ("minor", "moderate", "serious", "critical"))
            if f[1] in STRUCTURE]


def test_inbox_login_page(inbox):
    inbox.open()
    assert axe_every_frame(inbox.page) == []
    assert structure_findings(inbox.page) == []


INBOX_SCREENS = ["empty", "unread", "chat", "details", "visitors", "canned", "profile", "search"]


@pytest.mark.parametrize("screen", INBOX_SCREENS)
def test_inbox_screens(inbox, operator_email, raw_visitor, screen):
    inbox.log_in(operator_email)
    page = inbox.page
    if screen == "unread":  # a tab with a badge: "All open" and a number
        first = f"unread in the inbox {next(_numbers)}"
        raw_visitor.say(first)
        expect(inbox.chat_row(first)).to_be_visible(timeout=15_000)
        expect(page.locator("#tab-open .tab-badge")).to_be_visible()
    elif screen != "empty":
        first = f"accessible inbox {next(_numbers)}"
        raw_visitor.say(first)
        open_chat_of(inbox, first)
        expect(page.locator("#log .msg.visitor .bubble")).to_have_text([first])
    if screen == "details":  # beside the chat on a wide screen; its content loaded
        expect(page.locator("#details")).to_be_visible()
        expect(page.locator("#details-status")).to_have_text("")
    elif screen == "visitors":
        page.locator("#visitors-toggle").click()
        expect(page.locator("#visitors")).to_be_visible()
    elif screen == "canned":
        page.locator("#canned-open").click()
        expect(page.locator("#canned-dialog")).to_be_visible()
    elif screen == "profile":
        page.locator("#profile-button").click()
        expect(page.locator("#profile-dialog")).to_be_visible()
    elif screen == "search":
        page.locator("#search-input").fill("accessible")
        expect(page.locator("#search-results [role=option]").first).to_be_visible(timeout=10_000)
    assert axe_every_frame(page) == []
    assert structure_findings(page) == []


ADMIN_SECTIONS = ["App", "Installation", "Operators", "Teams", "Triggers"]


@pytest.fixture
def admin_tab(browser, parley):
    from e2e.inbox_helpers import open_tab

    with open_tab(browser, parley.url, AdminTab, "the admin page") as tab:
        yield tab


@pytest.mark.parametrize("section", ADMIN_SECTIONS)
def test_admin_screens(admin_tab, parley, section):
    app = app_elsewhere(parley, f"A11y admin {next(_numbers)}")
    email = f"a11y-admin{next(_numbers)}@shop.example"
    make_admin(parley, app["appId"], email)
    admin_tab.login(app["appId"], email)
    admin_tab.open()
    admin_tab.wait_loaded()
    admin_tab.section(section)
    assert axe_every_frame(admin_tab.page) == []


def press_until_focused(page, locator, key: str = "Tab", most: int = 60) -> None:
    """Presses `key` until `locator` has the focus, as a keyboard user would."""
    for _ in range(most):
        if locator.count() and locator.evaluate("e => document.activeElement === e"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{locator} not reachable with the keyboard")


def test_inbox_with_the_keyboard_only(inbox, parley, app, raw_visitor):
    n = next(_numbers)
    email = f"keys{n}@shop.example"
    create_operator(parley, app["appId"], email, f"Keya {n}")
    other = f"Quincy {n}"
    create_operator(parley, app["appId"], f"quincy{n}@shop.example", other)
    page = inbox.page
    inbox.open()
    press_until_focused(page, page.get_by_label("Email"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    inbox.wait_live()

    first = f"keyboard visitor {n}"
    raw_visitor.say(first)
    row = inbox.chat_row(first)
    expect(row).to_be_visible(timeout=15_000)
    press_until_focused(page, row)
    page.keyboard.press("Enter")
    reply = page.get_by_label("Reply")
    expect(reply).to_be_focused()
    page.keyboard.type("Answered without a mouse")
    page.keyboard.press("Enter")
    raw_visitor.event("message", lambda e: e["message"]["text"] == "Answered without a mouse")

    # Assign: the select picks by typing the name (typeahead), the button by Enter.
    press_until_focused(page, page.get_by_label("Assign to"), "Shift+Tab")
    page.keyboard.type("Quincy")
    expect(page.get_by_label("Assign to").locator("option:checked")).to_contain_text(other)
    page.keyboard.press("Tab")
    expect(page.locator("#assign-submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#conv-assignee")).to_have_text(f"Assigned to {other}")

    press_until_focused(page, page.locator("#conv-close"))
    page.keyboard.press("Enter")
    expect(page.locator("#conv-closed")).to_be_visible()
    raw_visitor.event("chat.closed")
