"""The admin screens (/inbox/admin, PyScript on Parley's own origin) against a real server.

An admin sets the app up in the browser (appearance, origins, an operator, a team,
a trigger) and the result is checked where it matters: the new operator logs in,
and the trigger fires on a host page (another origin) that uses the installation
code copied from the page. A non-admin is refused; axe finds nothing serious.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from e2e.helpers import axe_every_frame, wait_ready
from e2e.inbox_helpers import (
    PASSWORD,
    AdminTab,
    app_elsewhere,
    create_operator,
    make_admin,
    open_tab,
)

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "admin.png"
_numbers = itertools.count()

@pytest.fixture
def admin_tab(browser, parley) -> Iterator[AdminTab]:
    with open_tab(browser, parley.url, AdminTab, "the admin page",
                  permissions=["clipboard-read", "clipboard-write"]) as tab:
        yield tab


def test_an_admin_sets_up_the_app_and_it_works(admin_tab, parley, host_site, browser):
    app = app_elsewhere(parley, "Admin e2e")
    email = f"ada{next(_numbers)}@shop.example"
    make_admin(parley, app["appId"], email)
    admin_tab.login(app["appId"], email)
    response = admin_tab.open()
    assert response.status == 200
    admin_tab.wait_loaded()
    page = admin_tab.page
    expect(page.get_by_text("Signed in as Ada")).to_be_visible()

    # -- appearance: the preview follows the typing, before anything is saved ------------
    page.get_by_label("Team name (the chat window's title)").fill("Acme help")
    expect(page.locator("#preview-team")).to_have_text("Acme help")
    page.get_by_label("Window colour", exact=True).fill("#e53935")
    head = page.locator("#preview-head")
    expect(head).to_have_css("background-color", "rgb(229, 57, 53)")
    expect(page.get_by_label("Pick the window colour")).to_have_value("#e53935")
    page.get_by_label("Welcome message while you are online").fill("Hello from Acme!")
    expect(page.locator("#preview-welcome")).to_have_text("Hello from Acme!")
    page.get_by_role("button", name="Save appearance").click()
    saved = "Appearance saved. Pages load it the next time they open."
    expect(page.locator("#appearance-msg")).to_have_text(saved)
    assert admin_tab.api("/api/admin/app")["appearance"] == {
        "windowColor": "#e53935", "teamName": "Acme help", "onlineWelcome": "Hello from Acme!"}

    # A wrong colour is refused with a message, and the field says so.
    page.get_by_label("Window colour", exact=True).fill("blurple")
    page.get_by_role("button", name="Save appearance").click()
    expect(page.locator("#appearance-msg")).to_contain_text("“blurple” is not a colour")
    expect(page.get_by_label("Window colour", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Window colour", exact=True)).to_be_focused()
    page.get_by_label("Window colour", exact=True).fill("teal")
    expect(head).to_have_css("background-color", "rgb(0, 137, 123)")
    page.get_by_role("button", name="Save appearance").click()
    expect(page.locator("#appearance-msg")).to_have_text(saved)
    assert admin_tab.api("/api/admin/app")["appearance"]["windowColor"] == "teal"

    # -- origins: a bad one is refused, the host site is added with the keyboard -----------
    field = page.get_by_label("Add a website origin")
    field.fill(host_site.origin + "/shop")
    field.press("Enter")
    expect(page.locator("#origins-msg")).to_contain_text("is not an origin")
    field.fill(host_site.origin)
    field.press("Enter")
    expect(page.locator("#origins-msg")).to_have_text(f"{host_site.origin} added.")
    expect(page.locator("#origins-list li")).to_have_count(2)
    assert admin_tab.api("/api/admin/app")["origins"] == ["https://elsewhere.example", host_site.origin]
    page.get_by_role("button", name="Remove https://elsewhere.example").click()
    expect(page.locator("#origins-list li")).to_have_count(1)
    assert axe_every_frame(page) == []

    # -- installation: the code, copyable --------------------------------------------------
    admin_tab.section("Installation")
    snippet = page.get_by_label("Installation code for Admin e2e").input_value()
    assert app["appId"] in snippet and parley.url + "/widget/loader.js" in snippet
    page.get_by_role("button", name="Copy the code").click()
    expect(page.locator("#install-msg")).to_have_text("Copied to the clipboard.")
    assert axe_every_frame(page) == []

    # -- operators: Bob is created and can log in ----------------------------------------------
    admin_tab.section("Operators")
    bob = f"bob{next(_numbers)}@shop.example"
    page.get_by_label("Email", exact=True).fill(bob)
    page.get_by_label("Name", exact=True).fill("Bob")
    page.get_by_label("Password", exact=True).fill("bobs password")
    page.get_by_role("button", name="Add operator").click()
    expect(page.locator("#operator-form-msg")).to_have_text(f"{bob} can now log in to the inbox.")
    expect(page.locator("#operator-rows tr")).to_have_count(2)
    expect(page.get_by_label("Role of Bob")).to_have_value("operator")
    login = httpx.post(parley.url + "/api/operator/login", headers={"Origin": parley.url},
                       json={"appId": app["appId"], "email": bob, "password": "bobs password"})
    assert login.status_code == 200 and login.json()["name"] == "Bob"
    # The same email twice: the server's refusal is shown.
    page.get_by_label("Email", exact=True).fill(bob)
    page.get_by_label("Password", exact=True).fill("bobs password")
    page.get_by_role("button", name="Add operator").click()
    expect(page.locator("#operator-form-msg")).to_contain_text("Not saved: email is taken")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    assert axe_every_frame(page) == []

    # -- teams: Sales, with Bob ------------------------------------------------------------------
    admin_tab.section("Teams")
    page.get_by_label("Team name", exact=True).fill("Sales")
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("#team-form-msg")).to_have_text("The team Sales was created.")
    card = page.locator(".team", has_text="Sales")
    card.get_by_label("Add a member to Sales").select_option(label=f"Bob · {bob}")
    card.get_by_role("button", name="Add", exact=True).click()
    expect(card.locator(".members li")).to_have_count(1)
    expect(card.locator(".members li")).to_contain_text("Bob")
    teams = admin_tab.api("/api/admin/teams")["teams"]
    assert [(t["name"], len(t["memberIds"])) for t in teams] == [("Sales", 1)]
    assert axe_every_frame(page) == []

    # -- triggers: 'page_url contains pricing', built in the editor ----------------------------
    admin_tab.section("Triggers")
    page.get_by_label("Name (for you; visitors don't see it)").fill("Pricing help")
    page.get_by_label("Message", exact=True).fill("Questions about our pricing?")
    page.get_by_label("Delay in seconds").fill("1")
    page.get_by_role("button", name="Add a condition").click()
    expect(page.get_by_label("Parameter of condition 1")).to_be_focused()
    page.get_by_label("Parameter of condition 1").select_option("page_url")
    page.get_by_label("Comparison of condition 1").select_option("contains")
    page.get_by_role("button", name="Create trigger").click()
    # No value yet: the editor says which condition needs one.
    expect(page.locator("#trigger-form-msg")).to_have_text("Condition 1 needs a value to compare with.")
    expect(page.get_by_label("Value of condition 1")).to_be_focused()
    page.get_by_label("Value of condition 1").fill("pricing")
    page.get_by_role("button", name="Create trigger").click()
    expect(page.locator("#trigger-form-msg")).to_have_text("The trigger was created.")
    row = page.locator("#trigger-rows tr", has_text="Pricing help")
    expect(row).to_contain_text("Page URL contains “pricing”")
    expect(row.get_by_label("Trigger “Pricing help” is on")).to_be_checked()
    triggers = admin_tab.api("/api/admin/triggers")["triggers"]
    assert [(t["message"], t["delay"], t["conditions"]) for t in triggers] == [
        ("Questions about our pricing?", 1, [["page_url", "contains", "pricing"]])]
    assert axe_every_frame(page) == []

    # The host site, with the copied installation code: the invitation shows on a pricing page.
    visitor = browser.new_context().new_page()
    try:
        visitor.goto(host_site.page("admin-pricing", snippet))
        wait_ready(visitor)
        bubble = visitor.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
        bubble.wait_for(timeout=10_000)
        assert bubble.text_content() == "Questions about our pricing?"
    finally:
        visitor.context.close()

    # A screenshot for the docs: the appearance settings with their preview, at 1280x800.
    if os.environ.get("PARLEY_SCREENSHOTS") == "1":
        admin_tab.section("App")
        page.locator("#appearance-form").evaluate("form => form.scrollIntoView()")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))


def test_keyboard_tablet_width_secret_and_deleting(admin_tab, parley):
    app = app_elsewhere(parley, "Admin keys")
    email = f"ada{next(_numbers)}@shop.example"
    make_admin(parley, app["appId"], email)
    create_operator(parley, app["appId"], f"x{email}", "Xena")
    admin_tab.login(app["appId"], email)
    page = admin_tab.page
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet, upright
    admin_tab.open("operators")
    admin_tab.wait_loaded()
    expect(page.get_by_role("tab", name="Operators")).to_have_attribute("aria-selected", "true")

    # The tabs move with the arrow keys; the hash follows.
    page.get_by_role("tab", name="Operators").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Teams")).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Teams")).to_be_visible()
    assert page.evaluate("location.hash") == "#teams"
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="App")).to_be_focused()
    # Nothing is wider than a tablet.
    for section in ("App", "Installation", "Operators", "Teams", "Triggers"):
        admin_tab.section(section)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), section

    # Rotating the secret asks first, then shows the new one once.
    admin_tab.section("App")
    page.get_by_role("button", name="Rotate the secret…").click()
    expect(page.get_by_text("Every integrity hash and user token signed with the old secret")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.get_by_role("button", name="Rotate now").click()
    secret = page.get_by_label("New secret (shown only this once: store it now)")
    expect(secret).not_to_have_value("")
    assert secret.input_value() != app["secret"]

    # Deleting asks in a dialog; Escape keeps Xena, confirming deletes her.
    admin_tab.section("Operators")
    page.get_by_role("button", name="Delete Xena").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete Xena")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#operator-rows tr")).to_have_count(2)
    page.get_by_role("button", name="Delete Xena").click()
    dialog.get_by_role("button", name="Delete operator").click()
    expect(page.locator("#operators-msg")).to_have_text("Xena was deleted.")
    expect(page.locator("#operator-rows tr")).to_have_count(1)
    # Oneself: no delete button, and the role can't be changed.
    expect(page.get_by_role("button", name="Delete Ada")).to_have_count(0)
    expect(page.get_by_label("Role of Ada")).to_be_disabled()
    assert axe_every_frame(page) == []


def test_an_operator_who_is_not_an_admin_is_refused(admin_tab, parley):
    app = app_elsewhere(parley, "Admin refused")
    email = f"olivia{next(_numbers)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", PASSWORD)
    response = admin_tab.open()
    assert response.status == 401  # not logged in
    expect(admin_tab.page.get_by_role("heading", name="Log in first")).to_be_visible(timeout=30_000)
    admin_tab.login(app["appId"], email)
    response = admin_tab.page.reload()
    assert response.status == 403
    page = admin_tab.page
    expect(page.get_by_role("heading", name="Only admins can open this page")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Go to the inbox")).to_have_attribute("href", "/inbox")
    assert page.locator("#admin").count() == 0 and page.get_by_role("tab").count() == 0
    # The API refuses too, whatever the page does.
    status = page.evaluate("fetch('/api/admin/app').then(r => r.status)")
    assert status == 403
    status = page.evaluate("""fetch('/api/admin/app', {method: 'PATCH', headers: {'Content-Type':
        'application/json'}, body: JSON.stringify({name: 'mine now'})}).then(r => r.json())""")
    assert status["code"] == "PARLEY_E_FORBIDDEN"
    assert axe_every_frame(page) == []


def test_working_hours_and_a_password_reset(admin_tab, parley):
    """The app screen's working hours and the operators screen's reset, each in one module
    of the page (static/admin/app_screen.py, operators_screen.py): saved, shown, undone."""
    app = app_elsewhere(parley, "Admin hours")
    email = f"ada{next(_numbers)}@shop.example"
    make_admin(parley, app["appId"], email)
    xena = f"x{email}"
    create_operator(parley, app["appId"], xena, "Xena")
    admin_tab.login(app["appId"], email)
    page = admin_tab.page
    admin_tab.open("app")
    admin_tab.wait_loaded()

    # Hours without a time zone are refused with the field marked; with one they are saved.
    page.locator("#hours-spec").fill("mon-fri 09:00-17:30")
    page.locator("#hours-zone").fill("")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.locator("#hours-msg")).to_have_text(
        "Enter the hours and a time zone, or choose “Always open”.")
    expect(page.locator("#hours-zone")).to_have_attribute("aria-invalid", "true")
    page.locator("#hours-zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.locator("#hours-msg")).to_have_text("Working hours saved.")
    expect(page.locator("#hours-current")).to_contain_text("Europe/Berlin")
    page.get_by_role("button", name="Always open").click()
    expect(page.locator("#hours-msg")).to_contain_text("Working hours removed")
    expect(page.locator("#hours-current")).to_have_text("Now: always open whenever an operator is online.")

    # A reset with a password of the admin's choosing: Xena logs in with it, not the old one.
    admin_tab.section("Operators")
    page.get_by_role("button", name="Reset password for Xena").click()
    expect(page.locator("#reset-heading")).to_have_text("Reset the password of Xena")
    page.get_by_label("New password", exact=True).fill("a brand new secret")
    page.get_by_role("button", name="Reset and log out").click()
    expect(page.locator("#reset-msg")).to_contain_text("Xena's password was changed")
    with httpx.Client(base_url=parley.url) as client:
        login = {"appId": app["appId"], "email": xena}
        headers = {"Origin": parley.url}
        assert client.post("/api/operator/login", json={**login, "password": PASSWORD},
                           headers=headers).status_code == 401
        assert client.post("/api/operator/login", json={**login, "password": "a brand new secret"},
                           headers=headers).status_code == 200
