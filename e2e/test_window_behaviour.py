"""More of the chat window's promises: the app's appearance defaults, right-to-left
languages, two tabs of one visitor live, emoji round trips, no layout shift on the host."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.helpers import WINDOW, open_page, rendered, snippet_with_config, type_message, wait_ready
from widget.core.lang.ar import TABLE as AR


@pytest.fixture(scope="module")
def styled_app(parley, host_site) -> dict:
    created = parley.cli("app", "create", "--name", "Styled", "--origin", host_site.origin)
    parley.cli("app", "set", "--app", created["appId"], "--window-color", "#0b6e4f",
               "--team-name", "Green Grocers", "--online-welcome", "Hello from the inbox settings")
    return created


def test_app_appearance_defaults_apply_and_the_page_wins(page, host_site, parley, styled_app):
    open_page(page, host_site, parley, styled_app, "styled-defaults")
    page.evaluate("chaport.open()")
    window = page.frame_locator(WINDOW)
    expect(window.locator("header h1")).to_have_text("Green Grocers")
    accent = window.locator("header").evaluate("h => getComputedStyle(h).backgroundColor")
    assert accent == "rgb(11, 110, 79)"
    # The page's own chaportConfig.appearance beats the app's defaults.
    open_page(page, host_site, parley, styled_app, "styled-page-wins",
              "appearance: { teamName: 'Page title', windowColor: '#000000' },")
    page.evaluate("chaport.open()")
    expect(window.locator("header h1")).to_have_text("Page title")
    assert window.locator("header").evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(0, 0, 0)"


def test_arabic_is_right_to_left(page, host_site, parley, app):
    open_page(page, host_site, parley, app, "arabic", "language: { use: 'ar' },")
    page.evaluate("chaport.open()")
    window = page.frame_locator(WINDOW)
    assert window.locator("html").get_attribute("dir") == "rtl"
    assert window.locator("html").get_attribute("lang") == "ar"
    composer = window.locator("form.composer textarea")
    expect(composer).to_have_attribute("placeholder", AR["composer_placeholder"])
    assert window.locator(".window").evaluate("w => getComputedStyle(w).direction") == "rtl"


def test_two_tabs_of_one_visitor_show_the_same_chat_live(browser, host_site, parley, app, ann):
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    for tab, name in ((first, "tabs-one"), (second, "tabs-two")):
        open_page(tab, host_site, parley, app, name)
        tab.evaluate("chaport.open()")
    type_message(first, "Written in the first tab")
    sent = ann.wait_for(lambda f: f["type"] == "message"
                        and f["message"]["text"] == "Written in the first tab")
    ann.reply(sent["message"]["chatId"], "Seen in both")
    for tab in (first, second):
        bubbles = tab.frame_locator(WINDOW).locator(".msg .bubble")
        expect(bubbles.filter(has_text="Written in the first tab")).to_have_count(1)
        expect(bubbles.filter(has_text="Seen in both")).to_have_count(1)
    context.close()


def test_emoji_and_scripts_round_trip_exactly(page, host_site, parley, app, ann):
    text = "👋🏽 Grüße — 你好 — مرحبا — 👨‍👩‍👧 e\u0301"
    open_page(page, host_site, parley, app, "emoji")
    page.evaluate("chaport.open()")
    type_message(page, text)
    sent = ann.wait_for(lambda f: f["type"] == "message" and f["message"]["authorKind"] == "visitor"
                        and "Grüße" in f["message"]["text"])
    assert sent["message"]["text"] == text
    reply = "ok 🎉 你好 👨‍👩‍👧"
    ann.reply(sent["message"]["chatId"], reply)
    expect(page.frame_locator(WINDOW).locator(".msg.operator .bubble").last).to_have_text(reply)


def test_the_widget_causes_no_layout_shift_on_the_host_page(page, host_site, parley, app):
    snippet = snippet_with_config(f"appId: '{app['appId']}'", parley.loader)
    observer = """<script>window.shifts = [];
    window.shiftObserver = new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { window.shifts.push(e.value); });
    });
    window.shiftObserver.observe({type: 'layout-shift', buffered: true});
    // Shifts delivered, and those of a rendered frame still waiting for the observer's callback.
    window.allShifts = function () {
      return window.shifts.concat(window.shiftObserver.takeRecords().map(function (e) { return e.value; }));
    };</script>"""
    body = "<h1>Shop</h1><p>" + "Content. " * 200 + "</p>"
    page.goto(host_site.page("no-shift", f"{observer}{body}<script>{snippet}</script>"))
    wait_ready(page)
    page.evaluate("chaport.open()")
    expect(page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")).to_be_visible()
    rendered(page)
    page.evaluate("chaport.close()")
    rendered(page)
    assert page.evaluate("window.allShifts()") == []


@pytest.fixture(scope="module")
def busy_app(parley, host_site) -> dict:
    created = parley.cli("app", "create", "--name", "Busy", "--origin", host_site.origin)
    parley.cli("app", "set", "--app", created["appId"], "--max-chats", "1")
    parley.cli("operator", "create", "--app", created["appId"], "--email", "solo@shop.example",
               "--password", "correct horse", "--name", "Solo")
    return created


def test_waiting_visitors_see_their_place_in_line(browser, host_site, parley, busy_app):
    from e2e.operator import ScriptedOperator
    from widget.core.i18n import EN

    solo = ScriptedOperator(parley.url, busy_app["appId"], "solo@shop.example", "correct horse")
    first_context, second_context = browser.new_context(), browser.new_context()
    try:
        first, second = first_context.new_page(), second_context.new_page()
        open_page(first, host_site, parley, busy_app, "busy-first")
        first.evaluate("chaport.open()")
        type_message(first, "I came first")
        taken = solo.wait_for(lambda f: f["type"] == "chat.started")["chat"]
        assert taken["operatorIds"]  # Solo's only slot
        open_page(second, host_site, parley, busy_app, "busy-second")
        second.evaluate("chaport.open()")
        type_message(second, "Me too, please")
        queue = second.frame_locator(WINDOW).locator(".queue")
        expect(queue).to_have_text(EN["queue_position"].replace("{position}", "1"), timeout=15_000)
        solo.send(type="chat.close", chatId=taken["id"])
        expect(queue).to_be_hidden(timeout=15_000)
        expect(second.frame_locator(WINDOW).locator(".msg.system .bubble")).to_have_text(
            ["Solo joined the chat"])
    finally:
        first_context.close()
        second_context.close()
        solo.close()


def test_invitation_accept_and_cancel_reach_the_operator(page, host_site, parley, app, ann):
    open_page(page, host_site, parley, app, "greetings")
    page.evaluate("chaport.setActiveTrigger({message: 'Need a hand?'})")
    page.frame_locator("iframe[data-parley=invitation]").locator("button.dismiss").click()
    cancelled = ann.wait_for(lambda f: f["type"] == "greeting")
    assert cancelled["action"] == "cancel"
    page.evaluate("chaport.setActiveTrigger({message: 'Still here'})")
    page.frame_locator("iframe[data-parley=invitation]").locator(".bubble").click()
    ann.wait_for(lambda f: f["type"] == "greeting" and f["action"] == "accept")
    assert page.evaluate("chaport.getWidgetState()") == "expanded"


def test_launcher_is_drawn_within_one_frame_of_ready(page, host_site, parley, app):
    snippet = snippet_with_config(f"appId: '{app['appId']}'", parley.loader)
    probe = """<script>window.chaport.on('ready', function () {
      requestAnimationFrame(function () {
        var frame = document.querySelector('iframe[data-parley=launcher]');
        window.launcherAtNextFrame = !!frame && getComputedStyle(frame).display !== 'none'
          && frame.getBoundingClientRect().width > 0;
      });
    });</script>"""
    page.goto(host_site.page("one-frame", f"<script>{snippet}</script>{probe}"))
    wait_ready(page)
    page.wait_for_function("window.launcherAtNextFrame !== undefined")
    assert page.evaluate("window.launcherAtNextFrame") is True


def test_the_apps_languages_limit_the_widgets(page, host_site, parley):
    from widget.core.lang.de import TABLE as DE
    from widget.core.lang.fr import TABLE as FR

    shop = parley.cli("app", "create", "--name", "Lingua", "--origin", host_site.origin)
    parley.cli("app", "set", "--app", shop["appId"], "--languages", "fr,de")
    # The visitor's browser asks for Japanese, which the app does not offer: its first language.
    open_page(page, host_site, parley, shop, "lingua-first", "language: { use: 'ja' },")
    page.evaluate("chaport.open()")
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    expect(composer).to_have_attribute("placeholder", FR["composer_placeholder"])
    # The `language` parameter stays the visitor's (the browser's), whatever the widget shows.
    browser_language = page.evaluate("navigator.language.split('-')[0].toLowerCase()")
    assert page.evaluate("chaport.getParameterValue('language')") == browser_language
    open_page(page, host_site, parley, shop, "lingua-match", "language: { use: 'de' },")
    page.evaluate("chaport.open()")
    expect(composer).to_have_attribute("placeholder", DE["composer_placeholder"])
