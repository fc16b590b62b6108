"""Two browsers, the real UIs on both sides: a visitor with the widget on a host page of
another origin and an operator in /inbox hold a whole conversation — both directions,
typing both ways, read receipts, attachments both ways, close, rating, and the
operator's status turning the widget offline."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from e2e.helpers import open_page, type_message
from widget.core.i18n import EN

WINDOW = "iframe[data-parley=window]"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_whole_conversation_between_the_widget_and_the_inbox(page, host_site, parley, app, inbox,
                                                                 operator_email):
    inbox.log_in(operator_email)
    op = inbox.page
    widget = page.frame_locator(WINDOW)

    open_page(page, host_site, parley, app, "two-browsers")
    page.evaluate("chaport.open()")
    type_message(page, "Hello from the shop page")
    row = inbox.chat_row("Hello from the shop page")
    expect(row).to_be_visible(timeout=15_000)
    row.click()
    log = op.locator("#log")
    expect(log.locator(".msg.visitor .bubble").last).to_have_text("Hello from the shop page")

    # The operator has the chat open: the visitor's message shows "Read" in the widget.
    status = widget.locator(".msg.visitor .meta .status").first
    expect(status).to_have_attribute("aria-label", EN["message_read"], timeout=15_000)

    # Typing both ways: sneak peek in the inbox, "Olivia is typing…" in the widget.
    # Kept on purpose: the widget sends typing at most once a second and drops what comes
    # sooner, so the sneak peek below needs a second since the message's own typing.
    page.wait_for_timeout(1100)
    widget.locator("form.composer textarea").fill("Do you have it in blue")
    expect(op.locator("#typing")).to_contain_text("Do you have it in blue", timeout=10_000)
    widget.locator("form.composer textarea").fill("")
    op.get_by_label("Reply").fill("Let me check")
    expect(widget.locator(".typing")).to_have_text("Olivia is typing…", timeout=10_000)
    op.get_by_label("Reply").press("Enter")
    expect(widget.locator(".msg.operator .bubble").last).to_have_text("Let me check", timeout=15_000)
    expect(widget.locator(".typing")).to_have_text("")

    # Attachments both ways, through the paperclips.
    widget.locator("input[type=file]").set_input_files(
        files=[{"name": "blue-mug.png", "mimeType": "image/png", "buffer": png()}])
    expect(log.locator(".msg.visitor img")).to_have_count(1, timeout=15_000)
    op.locator("#file-input").set_input_files(
        files=[{"name": "price-list.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(widget.locator(".msg.operator a.file-link")).to_contain_text("price-list.pdf", timeout=15_000)

    # Close: the widget asks for a rating, and the operator sees it.
    op.get_by_role("button", name="Close chat").click()
    panel = widget.locator("section.end")
    expect(panel).to_be_visible(timeout=15_000)
    panel.get_by_role("button", name=EN["rate_good"]).click()
    panel.get_by_placeholder(EN["rate_comment_placeholder"]).fill("Quick answer, thanks")
    panel.locator(".choices + textarea + button").click()
    expect(op.get_by_text("Rated good")).to_be_visible(timeout=15_000)
    expect(op.get_by_text("Quick answer, thanks")).to_be_visible()

    # The operator goes away: nobody else is online, so the widget turns offline live.
    op.get_by_label("Status").select_option("away")
    expect(widget.locator("header p")).to_have_text(EN["status_offline"], timeout=15_000)
    op.get_by_label("Status").select_option("online")
    expect(widget.locator("header p")).to_have_text(EN["status_online"], timeout=15_000)
