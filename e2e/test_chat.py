"""A whole conversation through the real server: widget visitor <-> scripted operator."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import bubbles, open_page, type_message, wait_ready


def test_visitor_and_operator_hold_a_conversation(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "conversation")
    page.evaluate("chaport.open()")
    type_message(page, "Hello, do you ship to Norway?")
    incoming = operator.wait_for(lambda f: f["type"] == "message"
                                 and f["message"]["text"] == "Hello, do you ship to Norway?")
    page.wait_for_function("window.events.some(e => e[0] === 'chat.started')")
    # Shift+Enter makes a new line instead of sending.
    composer = page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")
    composer.fill("line one")
    composer.press("Shift+Enter")
    assert "\n" in composer.input_value()
    composer.fill("")
    operator.reply(incoming["chatId"], "Yes! Shipping takes 3 days. See https://shop.example/shipping")
    operator_bubble = bubbles(page, "operator").first
    operator_bubble.wait_for()
    assert operator_bubble.text_content() == "Yes! Shipping takes 3 days. See https://shop.example/shipping"
    link = operator_bubble.locator("a")
    assert link.get_attribute("href") == "https://shop.example/shipping"
    assert link.get_attribute("rel") == "noopener noreferrer"
    window = page.frame_locator("iframe[data-parley=window]")
    visitor_meta = window.locator(".msg.visitor .meta .status").first
    assert visitor_meta.get_attribute("aria-label") == "Unread"  # an icon by default (textStatuses)
    assert visitor_meta.text_content() == "\u2713"
    assert len(operator.visitor_messages("Hello, do you ship to Norway?")) == 1


def test_conversation_survives_reload_without_duplicates(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "reload-chat")
    page.evaluate("chaport.open()")
    type_message(page, "first question")
    incoming = operator.wait_for(
        lambda f: f["type"] == "message" and f["message"]["text"] == "first question")
    operator.reply(incoming["chatId"], "first answer")
    bubbles(page, "operator").first.wait_for()
    page.reload()
    wait_ready(page)
    page.evaluate("chaport.open()")
    bubbles(page, "operator").first.wait_for()
    # Shown from the history reply: the server's answer to the last frame the widget sends on
    # connecting, so anything a resend of the outbox could add is in already.
    assert bubbles(page, "visitor").all_text_contents() == ["first question"]
    assert bubbles(page, "operator").all_text_contents() == ["first answer"]


def test_operator_message_while_collapsed_is_unread(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "unread")
    page.evaluate("chaport.open()")
    type_message(page, "ping")
    incoming = operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "ping")
    page.evaluate("chaport.close()")
    operator.reply(incoming["chatId"], "pong")
    page.wait_for_function("chaport.getWidgetState() === 'unreadMessage'")
    assert ["widget.stateChange", "unreadMessage"] in page.evaluate("window.events")


def test_messages_typed_offline_are_sent_once_on_reconnect(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "offline")
    page.evaluate("chaport.open()")
    type_message(page, "online hello")
    operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "online hello")
    page.context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    type_message(page, "typed while offline")
    meta = page.frame_locator("iframe[data-parley=window]").locator(".msg.visitor .meta .status")
    expect(meta.nth(1)).to_have_attribute("aria-label", "Sending")  # kept in the outbox
    page.context.set_offline(False)
    operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "typed while offline",
                      timeout=45)
    page.wait_for_function("""() => {
        const doc = document.querySelector('iframe[data-parley=window]').contentDocument;
        const metas = [...doc.querySelectorAll('.msg.visitor .meta .status')];
        return metas.every(m => m.getAttribute('aria-label') === 'Unread');
    }""", timeout=45000)
    assert meta.count() == 2
    # The server handles a socket's frames in order: once a later message reached the operator,
    # a second copy of the offline one would have reached it before.
    type_message(page, "and one more")
    operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "and one more")
    assert len(operator.visitor_messages("typed while offline")) == 1


XSS = [
    "<img src=x onerror=\"window.pwned=1\">",
    "<script>window.pwned=1</script>",
    "javascript:window.pwned=1",
    "<a href=\"javascript:window.pwned=1\">click</a>",
    "\"><svg onload=window.pwned=1>",
]


def test_operator_html_is_rendered_as_text(page, host_site, parley, app, operator):
    open_page(page, host_site, parley, app, "xss")
    page.evaluate("chaport.open()")
    type_message(page, "hi")
    incoming = operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "hi")
    for payload in XSS:
        operator.reply(incoming["chatId"], payload)
    page.wait_for_function("""(count) => {
        const doc = document.querySelector('iframe[data-parley=window]').contentDocument;
        return doc.querySelectorAll('.msg.operator').length === count;
    }""", arg=len(XSS))
    assert bubbles(page, "operator").all_text_contents() == XSS
    frame = page.frame_locator("iframe[data-parley=window]")
    assert frame.locator(".msg.operator img, .msg.operator script, .msg.operator svg").count() == 0
    assert frame.locator(".msg.operator a").count() == 0  # javascript: is never a link
    assert page.evaluate("window.pwned") is None
