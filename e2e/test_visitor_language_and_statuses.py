"""Issue 14: the visitor's language (the `language` parameter) and the spec's message
statuses (`appearance.textStatuses`: Unread / Read / Sending)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from e2e.helpers import SocketSwitch, page_url, type_message, wait_ready

WINDOW = "iframe[data-parley=window]"

# The spec's assignment rule for Spanish speakers, and its resolve() check, on a page that
# forces the widget's own texts to English (the spec's "More complete example").
SPANISH_RULES = """language: { use: 'en' },
assignments: {
rules: [
// Assign to Spanish support if visitor language is Spanish
{ 'es-support-team-id': ['language', '=', 'es'] },
],
},"""


@pytest.mark.parametrize(("locale", "expected"), [("es-ES", "es"), ("sv-SE", "sv")])
def test_language_parameter_is_the_visitors_not_the_widgets(browser, host_site, parley, app, locale,
                                                            expected):
    # sv: a language the widget has no translation for still is the visitor's language.
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        switch = SocketSwitch(page)
        page.goto(page_url(host_site, parley, app, f"visitor-language-{expected}", SPANISH_RULES))
        wait_ready(page)
        label = page.frame_locator("iframe[data-parley=launcher]").locator("button")
        expect(label).to_have_attribute("aria-label", "Open chat")  # the UI stays English
        assert page.evaluate("navigator.language") == locale
        assert page.evaluate("chaport.getParameterValue('language')") == expected
        assert page.evaluate("chaport.q('getParameterValue', ['language'])") == expected
        page.evaluate("chaport.open()")
        type_message(page, "Hola")
        expect(page.frame_locator(WINDOW).locator(".msg.visitor .bubble")).to_have_text(["Hola"])
        sent = [f for f in switch.sent if f.get("type") == "message.send"]
        assert sent and json.dumps(sent[0].get("assignees")) == (
            '["es-support-team-id"]' if expected == "es" else "null")
    finally:
        context.close()


def test_text_statuses_are_the_specs_sending_unread_read(page, host_site, parley, app, operator):
    switch = SocketSwitch(page)
    switch.drop_sent("held back")
    page.goto(page_url(host_site, parley, app, "text-statuses", "appearance: { textStatuses: true },"))
    wait_ready(page)
    page.evaluate("chaport.open()")
    window = page.frame_locator(WINDOW)
    statuses = window.locator(".msg.visitor .meta .status")
    type_message(page, "Do you ship to Oslo?")
    incoming = operator.wait_for(lambda f: f["type"] == "message"
                                 and f["message"]["text"] == "Do you ship to Oslo?")
    expect(statuses).to_have_text(["Unread"])  # stored, not read by an operator yet
    type_message(page, "held back")
    expect(statuses).to_have_text(["Unread", "Sending"])  # not acknowledged by the server
    operator.send(type="seen", chatId=incoming["chatId"], upTo=incoming["message"]["id"])
    expect(statuses).to_have_text(["Read", "Sending"])
