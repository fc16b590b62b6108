"""The visitor's chat window: unread state, focus, keyboard, mobile, two tabs, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from e2e.helpers import (
    axe_every_frame,
    bubbles,
    open_page,
    snippet_with_config,
    type_message,
    wait_ready,
    wait_until,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
IPHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2,
              user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
COUNT_SOUNDS = """(() => {
  const Real = window.AudioContext;
  window.AudioContext = function () {
    window.top.soundCount = (window.top.soundCount || 0) + 1;
    return new Real();
  };
  // Each tab decides whether to play under a Web Lock: count the decisions made.
  if (window === window.top && navigator.locks) {
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (name, options, callback) => request(name, options, (lock) => {
      window.soundDecisions = (window.soundDecisions || 0) + 1;
      return callback(lock);
    });
  }
})();"""


def screenshot(page, name):
    target = DOCS / name
    if os.environ.get("PARLEY_SCREENSHOTS") == "1" or not target.exists():
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(target))


def start_chat(page, operator, text):
    page.evaluate("chaport.open()")
    type_message(page, text)
    return operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == text)


def test_unread_badge_title_blink_and_one_sound_across_tabs(browser, host_site, parley, app, operator):
    context = browser.new_context()
    context.add_init_script(COUNT_SOUNDS)
    first, second = context.new_page(), context.new_page()
    open_page(first, host_site, parley, app, "unread-tabs")
    incoming = start_chat(first, operator, "hello from two tabs")
    first.evaluate("chaport.close()")
    open_page(second, host_site, parley, app, "unread-tabs")
    for page in (first, second):
        page.mouse.click(5, 5)  # the visitor has interacted: sounds are allowed
    title = first.title()
    operator.reply(incoming["chatId"], "one")
    operator.reply(incoming["chatId"], "two")
    for page in (first, second):
        page.wait_for_function("chaport.getWidgetState() === 'unreadMessage'")
        badge = page.frame_locator("iframe[data-parley=launcher]").locator(".badge")
        page.wait_for_function("""() => document.querySelector('iframe[data-parley=launcher]')
            .contentDocument.querySelector('.badge').textContent === '2'""")
        assert badge.is_visible()
        button = page.frame_locator("iframe[data-parley=launcher]").locator("button")
        label = button.get_attribute("aria-label")
        assert label == "Open chat (2 new messages)"
    first.wait_for_function("(title) => document.title !== title", arg=title)  # blinking
    # Every tab has decided, for each message, whether it plays the sound.
    wait_until(first, lambda: sum(p.evaluate("window.soundDecisions || 0") for p in (first, second)) >= 4,
               what="four sound decisions")
    # Two messages, two tabs: two sounds in all (one per message), never one per tab.
    assert first.evaluate("window.soundCount || 0") + second.evaluate("window.soundCount || 0") == 2
    first.evaluate("chaport.open()")
    assert first.title() == title
    assert not first.frame_locator("iframe[data-parley=launcher]").locator(".badge").is_visible()
    # The second tab shows the same conversation live.
    second.evaluate("chaport.open()")
    assert bubbles(second, "operator").all_text_contents() == ["one", "two"]
    assert bubbles(second, "visitor").all_text_contents() == ["hello from two tabs"]
    context.close()


def test_keyboard_focus_and_escape(page, host_site, parley, app):
    snippet = snippet_with_config(f"appId: '{app['appId']}'", parley.loader)
    page.goto(host_site.page("focus", f"<input id=search autofocus><script>{snippet}</script>"))
    page.focus("#search")
    wait_ready(page)
    # The launcher's document is loaded and drawn: the time it could have taken the focus.
    expect(page.frame_locator("iframe[data-parley=launcher]").locator("button")).to_be_visible()
    # Loading the widget never steals focus from the page.
    assert page.evaluate("document.activeElement.id") == "search"
    page.frame_locator("iframe[data-parley=launcher]").locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    composer = page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")
    assert composer.evaluate("e => e === document.activeElement")
    page.keyboard.press("Escape")
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    launcher_button = page.frame_locator("iframe[data-parley=launcher]").locator("button")
    assert launcher_button.evaluate("e => e === document.activeElement")
    assert page.evaluate("document.activeElement.dataset.parley") == "launcher"


def test_mobile_full_screen_and_screenshots(browser, host_site, parley, app, operator):
    context = browser.new_context(**IPHONE)
    page = context.new_page()
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    snippet = snippet_with_config(
        f"appId: '{app['appId']}', appearance: {{ teamName: 'Acme Bikes support' }}", parley.loader)
    page.goto(host_site.page("mobile-window", f"<h1>Acme Bikes</h1><script>{snippet}</script>", viewport))
    wait_ready(page)
    incoming = start_chat(page, operator, "Do you have size M in stock?")
    operator.reply(incoming["chatId"], "Yes, we have 3 left. Want me to reserve one?")
    bubbles(page, "operator").first.wait_for()
    window = page.locator("iframe[data-parley=window]").bounding_box()
    assert (window["x"], window["y"], window["width"], window["height"]) == (0, 0, 390, 844)
    assert not page.locator("iframe[data-parley=launcher]").is_visible()
    font_size = page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert font_size >= 16  # no iOS zoom on focus
    close = page.frame_locator("iframe[data-parley=window]").get_by_role("button", name="Close chat")
    assert close.is_visible()
    screenshot(page, "widget-mobile.png")
    close.click()
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    assert page.locator("iframe[data-parley=launcher]").is_visible()
    context.close()


def test_desktop_screenshot(page, host_site, parley, app, operator):
    snippet = snippet_with_config(
        f"appId: '{app['appId']}', appearance: {{ teamName: 'Acme Bikes support', windowColor: '#1d3557' }}",
        parley.loader)
    page.set_viewport_size({"width": 1100, "height": 720})
    page.goto(host_site.page("desktop-window", f"<h1 style='font-family:Georgia'>Acme Bikes</h1>"
                             f"<script>{snippet}</script>"))
    wait_ready(page)
    incoming = start_chat(page, operator, "Hi! Is the Trailblazer 29 still on sale?")
    operator.reply(incoming["chatId"], "It is, until Sunday: https://acme.example/sale")
    bubbles(page, "operator").first.wait_for()
    screenshot(page, "widget-desktop.png")


def test_text_statuses_true_shows_words(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "text-statuses", "appearance: { textStatuses: true },")
    start_chat(page, operator, "status please")
    meta = page.frame_locator("iframe[data-parley=window]").locator(".msg.visitor .meta .status")
    page.wait_for_function("""() => document.querySelector('iframe[data-parley=window]').contentDocument
        .querySelector('.msg.visitor .meta .status').textContent === 'Unread'""")
    assert meta.get_attribute("aria-label") is None


def test_window_state_and_draft_survive_navigation(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "restore-a")
    start_chat(page, operator, "first page")
    composer = page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")
    composer.fill("half-written quest")
    composer.press("n")
    open_page(page, host_site, parley, app, "restore-b")  # the visitor goes to another page
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    assert composer.input_value() == "half-written questn"
    assert bubbles(page, "visitor").all_text_contents() == ["first page"]
    page.evaluate("chaport.close()")
    open_page(page, host_site, parley, app, "restore-c")
    # A restored window opens in the task that draws the launcher, which wait_ready waited for.
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"


def test_accessibility_axe_has_no_serious_violations(page, host_site, parley, app, operator):
    for color in ("#ffeb3b", "#1d3557", "orange"):
        open_page(page, host_site, parley, app, "axe", f"appearance: {{ windowColor: '{color}' }},")
        if color == "#ffeb3b":
            incoming = start_chat(page, operator, "accessibility check")
            operator.reply(incoming["chatId"], "answer with a link https://example.com")
            bubbles(page, "operator").first.wait_for()
        else:
            page.evaluate("chaport.open()")
        assert axe_every_frame(page) == [], color


def test_offline_form_asks_for_email_and_sends_it(page, host_site, parley):
    import json as _json

    offline_app = parley.cli("app", "create", "--name", "Nobody online", "--origin", host_site.origin)
    received = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(payload)))
    snippet = snippet_with_config(f"appId: '{offline_app['appId']}'", parley.loader)
    page.goto(host_site.page("offline-form", f"<script>{snippet}</script>"))
    wait_ready(page)
    page.evaluate("chaport.open()")
    window = page.frame_locator("iframe[data-parley=window]")
    assert window.locator("header p").text_content() == "We're away"
    email = window.get_by_label("Leave your email and we'll get back to you")
    assert email.is_visible()
    email.fill("not-an-email")
    type_message(page, "Do you deliver on Sundays?")
    assert window.locator(".offline .error").text_content() == "Please enter a valid email address"
    # Nothing lost:
    assert window.locator("form.composer textarea").input_value() == "Do you deliver on Sundays?"
    assert bubbles(page, "visitor").count() == 0
    email.fill("ann@shop.example")
    window.locator("form.composer textarea").press("Enter")
    bubbles(page, "visitor").first.wait_for()
    assert not email.is_visible()
    assert "Thanks! We'll get back to you soon." in window.locator(".msg.system").text_content()
    visitors = wait_until(page, lambda: [_json.loads(f)["visitor"] for f in received
                                         if '"type":"visitor"' in f.replace(" ", "")], what="a visitor frame")
    assert visitors[-1]["email"] == "ann@shop.example"
