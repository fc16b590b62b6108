"""The inbox's visitor features against a real server and a real widget visitor:
live visitors (current page follows pushState and new pages), a proactive chat the
widget shows, search, the details pane with notes, the operator's profile, and
notifications once across tabs.
"""

from __future__ import annotations

import re

from PIL import Image
from playwright.sync_api import expect

from e2e.helpers import ROOT, axe_every_frame, open_page, save_screenshot, wait_until
from e2e.inbox_helpers import Inbox, RawVisitor, open_chat_of


def visitor_row(inbox: Inbox, text: str):
    return inbox.page.locator("#visitors-rows tr", has_text=text)


def test_live_visitors_proactive_chat_search_and_notes(page, host_site, parley, app, inbox, operator_email):
    inbox.log_in(operator_email)
    op = inbox.page
    console_errors = []
    op.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    # A visitor browses the host site (another origin) with the widget.
    open_page(page, host_site, parley, app, "visitors-home")
    visitors = op.get_by_role("button", name=re.compile(r"^Visitors online"))
    visitors.click()
    expect(visitors).to_have_attribute("aria-pressed", "true")
    expect(op.get_by_role("heading", name="Visitors on the site now")).to_be_focused()
    row = visitor_row(inbox, "visitors-home")
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator(".meta.url")).to_have_text("/visitors-home.html")
    expect(row.locator("td.num")).to_have_text("1")
    expect(row.locator("td.who .meta").first).to_contain_text("NO")
    expect(row.locator("td.who .meta").first).to_contain_text("Desktop")
    expect(row.locator("td.source")).to_have_text("Direct")

    assert axe_every_frame(op) == []

    # A single-page app navigates (pushState): the current page follows live.
    page.evaluate("history.pushState({}, '', '/visitors-pricing.html?utm_source=news')")
    expect(row.locator(".meta.url")).to_have_text("/visitors-pricing.html?utm_source=news", timeout=5_000)
    expect(row.locator("td.num")).to_have_text("2")

    # A new page of the site: the same visitor, its row moves to the new page.
    open_page(page, host_site, parley, app, "visitors-cart")
    row = visitor_row(inbox, "visitors-cart")
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("td.num")).to_have_text("3")
    expect(row.locator("td.source")).to_have_text("Campaign: news")
    expect(visitor_row(inbox, "visitors-home")).to_have_count(0)

    # Start a chat from the row (keyboard: the button is focusable, Enter sends).
    row.get_by_role("button", name=re.compile(r"^Start chat with")).click()
    dialog = op.locator("#start-dialog")
    expect(dialog).to_be_visible()
    expect(op.get_by_label("Your first message")).to_be_focused()
    op.get_by_label("Your first message").fill("Hello! Can I help you with the blue mugs?")
    op.get_by_label("Your first message").press("Enter")
    expect(dialog).to_be_hidden()
    log = op.locator("#log")
    expect(log.locator(".msg.operator .bubble")).to_have_text(["Hello! Can I help you with the blue mugs?"])
    expect(op.locator("#visitors")).to_be_hidden()

    # The widget shows it, counted unread while collapsed.
    launcher = page.frame_locator("iframe[data-parley=launcher]")
    expect(launcher.locator(".badge")).to_have_text("1", timeout=15_000)
    assert page.evaluate("chaport.getWidgetState()") == "unreadMessage"
    page.evaluate("chaport.open()")
    widget = page.frame_locator("iframe[data-parley=window]")
    expect(widget.locator(".msg.operator .bubble")).to_have_text(
        ["Hello! Can I help you with the blue mugs?"])
    composer = widget.locator("form.composer textarea")
    composer.fill("Yes, do you have them in teal?")
    composer.press("Enter")
    expect(log.locator(".msg.visitor .bubble")).to_have_text(["Yes, do you have them in teal?"])
    # The row now offers the open chat instead of a new one.
    visitors.click()
    expect(visitor_row(inbox, "visitors-cart").get_by_role("button", name=re.compile("^Open chat with"))) \
        .to_be_visible()
    visitor_row(inbox, "visitors-cart").get_by_role("button", name=re.compile("^Open chat with")).click()
    expect(op.locator("#conversation")).to_be_visible()

    # The details pane: pages viewed, the chat, and notes that are saved.
    details = op.locator("#details")
    expect(details).to_be_visible()
    expect(details.locator("#details-pages li .title").first).to_have_text("visitors-cart")
    expect(details.locator("#details-pages li")).to_have_count(3)
    expect(details.locator("#details-chats .mini-chat")).to_have_count(1)
    expect(details.locator("#details-fields")).to_contain_text("On the site now")
    notes = op.get_by_label("Notes")
    notes.fill("Wants teal mugs; call back Friday.")
    op.get_by_role("button", name="Save notes").click()
    expect(op.locator("#details-saved")).to_have_text("Saved.", timeout=15_000)
    stored = op.request.get(f"{parley.url}/api/operator/visitors/online").json()["visitors"]
    [mine] = [v for v in stored if v["page"] and v["page"]["title"] == "visitors-cart"]
    saved = op.request.get(f"{parley.url}/api/operator/visitors/{mine['id']}").json()["visitor"]
    assert saved["notes"] == "Wants teal mugs; call back Friday."
    save_screenshot(op, ROOT / "docs" / "inbox.png")
    assert axe_every_frame(op) == []

    # Search: by a word of a message, from the keyboard.
    search = op.get_by_role("combobox", name="Search chats")
    search.click()
    search.fill("teal")
    option = op.get_by_role("option").filter(has_text="do you have them in teal?")
    expect(option).to_be_visible()
    expect(option.locator("mark")).to_have_text("teal")
    expect(search).to_have_attribute("aria-expanded", "true")
    search.press("Escape")
    expect(search).to_have_attribute("aria-expanded", "false")
    op.get_by_role("button", name="Visitors online", exact=False).click()  # leave the conversation
    search.focus()
    search.press("ArrowDown")
    search.press("Enter")
    expect(op.locator("#visitors")).to_be_hidden()
    expect(log.locator(".msg.visitor .bubble")).to_have_text(["Yes, do you have them in teal?"])
    search.fill("%")
    expect(op.locator("#search-status")).to_have_text("Type at least 2 characters.")
    assert not [e for e in console_errors if e.startswith("[inbox]")], console_errors

    # The visitor leaves: gone from the list within the grace period.
    visitors.click()
    row = visitor_row(inbox, "visitors-cart")
    expect(row).to_be_visible()
    page.goto("about:blank")
    expect(row).to_have_count(0, timeout=15_000)


def test_profile_name_avatar_and_password(inbox, operator_email, tmp_path):
    inbox.log_in(operator_email)
    op = inbox.page
    profile = op.get_by_role("button", name=re.compile(r"Your profile"))
    expect(profile.locator(".avatar")).to_have_text("O")  # initials: no picture yet
    profile.click()
    dialog = op.locator("#profile-dialog")
    expect(dialog).to_be_visible()
    assert axe_every_frame(op) == []
    op.get_by_label("Name", exact=True).fill("Olivia Stone")
    op.get_by_role("button", name="Save", exact=True).click()
    expect(op.locator("#profile-status")).to_have_text("Saved.", timeout=15_000)
    expect(op.locator("#me")).to_have_text("Signed in as Olivia Stone")
    expect(profile.locator(".avatar")).to_have_text("OS")

    picture = tmp_path / "me.png"
    Image.new("RGB", (40, 40), "orange").save(picture, "PNG")
    op.locator("#avatar-input").set_input_files(str(picture))
    expect(op.locator("#profile-status")).to_have_text("Picture saved.", timeout=15_000)
    expect(profile.locator(".avatar img")).to_have_attribute(
        "src", re.compile(r"^/files/[0-9a-f]{32}/me\.png$"))

    # A new password needs the current one.
    op.get_by_label("New password (at least 8 characters)").fill("a brand new passphrase")
    op.get_by_role("button", name="Save", exact=True).click()
    expect(op.locator("#profile-error")).to_have_text("Enter your current password to set a new one.")
    op.get_by_label("Current password").fill("not my password")
    op.get_by_role("button", name="Save", exact=True).click()
    expect(op.locator("#profile-error")).to_have_text("The current password is wrong.")
    op.get_by_label("Current password").fill("correct horse battery")
    op.get_by_role("button", name="Save", exact=True).click()
    expect(op.locator("#profile-status")).to_have_text("Saved.", timeout=15_000)
    op.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(profile).to_be_focused()
    # This login goes on; a new login needs the new password.
    op.get_by_role("button", name="Log out").click()
    inbox.login(operator_email)
    expect(op.get_by_role("alert").filter(has_text="Wrong email or password.")).to_be_visible()
    inbox.login(operator_email, "a brand new passphrase")
    inbox.wait_live()


NOTIFICATION_STUB = """
window.shown = [];
window.Notification = class {
  constructor(title, options) { window.shown.push([title, options.body]); }
  static get permission() { return localStorage.getItem('stub-permission') || 'default'; }
  static requestPermission() {
    localStorage.setItem('stub-permission', 'granted');
    return Promise.resolve('granted');
  }
  close() {}
};
// notify.js rings or stays quiet under a Web Lock, once per message in every tab: count them.
window.notifyDecisions = 0;
if (navigator.locks) {
  const request = navigator.locks.request.bind(navigator.locks);
  navigator.locks.request = (name, ...rest) => {
    const callback = rest.pop();
    return request(name, ...rest, (lock) => {
      const result = callback(lock);
      if (name.startsWith('parley.inbox.notified.')) window.notifyDecisions += 1;
      return result;
    });
  };
}
"""


def test_notifications_ring_once_across_tabs_and_not_for_the_open_chat(browser, parley, app, operator_email):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(NOTIFICATION_STUB)
    try:
        first = Inbox(context.new_page(), parley.url)
        first.log_in(operator_email)
        second = Inbox(context.new_page(), parley.url)
        second.page.goto(parley.url + "/inbox")  # the same browser: already logged in
        second.wait_live()
        assert first.page.evaluate("window.shown") == []  # nothing asked or shown on load
        enable = first.page.get_by_role("button", name="Enable notifications")
        enable.click()
        expect(first.page.get_by_role("button", name="Notifications on")).to_be_visible()
        expect(second.page.get_by_role("button", name="Notifications on")).to_be_visible()  # same browser

        visitor = RawVisitor(parley.url, app["appId"], parley.url)
        try:
            visitor.say("Is anyone there?")
            shown = lambda tab: tab.page.evaluate("window.shown")  # noqa: E731

            def decided(count: int) -> None:
                """Until both tabs together made `count` ring-or-quiet decisions (one per
                message each, RING_DELAY_S after it came unless the tab shows its chat)."""
                wait_until(first.page, lambda: sum(tab.page.evaluate("window.notifyDecisions")
                                                   for tab in (first, second)) >= count,
                           what=f"{count} notification decisions")

            expect(first.chat_row("Is anyone there?")).to_be_visible(timeout=15_000)
            decided(2)
            rung = shown(first) + shown(second)
            assert [title for title, _body in rung] == [rung[0][0]] and rung[0][1] == "Is anyone there?"
            assert rung[0][0].startswith("New chat from")
            # The chat open in a visible tab: nobody rings for its next message.
            first.page.bring_to_front()
            first.chat_row("Is anyone there?").click()
            expect(first.page.locator("#log .msg.visitor")).to_have_count(1)
            visitor.say("Hello?")
            expect(first.page.locator("#log .msg.visitor")).to_have_count(2)
            decided(4)
            assert len(shown(first) + shown(second)) == 1
        finally:
            visitor.close()
    finally:
        context.close()


def test_the_details_pane_shows_chat_properties_and_greetings(inbox, operator_email, raw_visitor):
    # issue 15: the inbox ignored `chat.properties` and `greeting` frames.
    inbox.log_in(operator_email)
    raw_visitor.say("I have a question about my plan")
    open_chat_of(inbox, "I have a question about my plan")
    op = inbox.page
    details = op.locator("#details")
    expect(details).to_be_visible()
    expect(details.locator("#details-props-section")).to_be_hidden()

    raw_visitor.send(type="chat.properties", properties={"plan": "pro", "seats": 3})
    raw_visitor.wait_for(lambda f: f["type"] == "chat.properties")
    props = details.locator("#details-props")
    expect(props.locator("dt")).to_have_text(["plan", "seats"])
    expect(props.locator("dd")).to_have_text(["pro", "3"])
    raw_visitor.send(type="chat.properties", properties={"seats": None, "coupon": "<b>SPRING</b>"})
    expect(props.locator("dt")).to_have_text(["coupon", "plan"])
    expect(props.locator("dd")).to_have_text(["<b>SPRING</b>", "pro"])  # text, never markup

    raw_visitor.send(type="greeting", action="accept", triggerId="spring-sale")
    raw_visitor.send(type="greeting", action="cancel")
    greetings = details.locator("#details-greetings li")
    expect(greetings).to_have_count(2)
    expect(greetings.nth(0)).to_contain_text("dismissed invitation (from the page)")
    expect(greetings.nth(1)).to_contain_text("opened invitation spring-sale")
