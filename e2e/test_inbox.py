"""The operator inbox (PyScript on Parley's own origin) against a real widget visitor.

Two browser contexts: the visitor on a host page of another origin (the `page`
fixture) and the operator in /inbox (the `inbox` fixture, with the same checks:
no uncaught page error, and no request leaving the Parley server's origin).
"""

from __future__ import annotations

import re

import httpx
from PIL import Image
from playwright.sync_api import expect

from e2e.frames import nth_frame
from e2e.helpers import ROOT, ParleyServer, open_page, save_screenshot, type_message
from e2e.inbox_helpers import Inbox, RawVisitor, open_chat_of, open_tab


def test_operator_answers_a_visitor_live(page, host_site, parley, app, inbox, operator_email):
    inbox.log_in(operator_email)
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
    expect(op.get_by_role("tab", name=re.compile(r"^All open, \d+ unread$"))).to_have_attribute(
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
    # Kept on purpose: the widget sends typing at most once a second and drops what comes
    # sooner, so the sneak peek below needs a second since the message's own typing.
    page.wait_for_timeout(1100)
    page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea").fill("And gift wrap")
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
    save_screenshot(op, ROOT / "docs" / "inbox.png")

    # Close the chat: it moves to the Closed tab and the composer goes away.
    op.get_by_role("button", name="Close chat").click()
    expect(op.locator("#conv-closed")).to_be_visible()
    expect(op.get_by_label("Reply")).to_be_hidden()
    closed_tab = op.get_by_role("tab", name=re.compile(r"^Closed"))
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
    second = ParleyServer(tmp_path)
    second.env = {**parley.env}
    second.start()
    try:
        with open_tab(browser, second.url) as inbox:
            inbox.log_in(operator_email)
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
        second.stop()


# -- read receipts, typing, system lines, ratings, attachments ---------------------------------

def test_receipts_typing_system_lines_rating_and_transcript(inbox, operator_email, raw_visitor):
    inbox.log_in(operator_email)
    op, visitor = inbox.page, raw_visitor
    # Addressed to this operator (the app is shared), so the chat's "assigned" line names her.
    question = visitor.say("Can I pay by invoice?", assignees=[operator_email])
    row = open_chat_of(inbox, "Can I pay by invoice?")
    log = op.locator("#log")
    expect(log.locator(".msg.system")).to_have_text(["Olivia joined the chat"])

    # Opening the chat in a visible tab reads the message: the visitor is told, once.
    seen = visitor.event("seen", lambda e: e["by"] == "operator")
    assert (seen["chatId"], seen["upTo"]) == (question["chatId"], question["id"])
    expect(row.locator(".badge")).to_have_count(0)

    # Typing reaches the visitor with the operator's name, and stops when the box is emptied.
    reply = op.get_by_label("Reply")
    reply.press_sequentially("Yes")
    typing = visitor.wait_for(lambda f: f["type"] == "typing" and f["typing"] is True)
    assert typing["chatId"] == question["chatId"] and typing["operator"]["name"] == "Olivia"
    assert len([f for f in visitor.seen if f["type"] == "typing"]) == 1  # at most one per 2 s
    reply.fill("")
    visitor.wait_for(lambda f: f["type"] == "typing" and f["typing"] is False)

    # The reply is "Sent", and "Seen" once the visitor's `seen` arrives.
    reply.fill("Yes, invoices are fine.")
    reply.press("Enter")
    answer = visitor.event("message", lambda e: e["message"]["text"] == "Yes, invoices are fine.")["message"]
    meta = log.locator(f'.msg.operator[data-id="{answer["id"]}"] .meta')
    expect(meta).to_have_text(re.compile(r"^You · \d\d:\d\d · Sent$"))
    visitor.send(type="seen", upTo=answer["id"])
    expect(meta).to_have_text(re.compile(r" · Seen$"))

    # A second visitor message is reported seen too, but nothing is reported twice.
    visitor.say("Great, thanks")
    expect(log.locator(".msg.visitor .bubble").last).to_have_text("Great, thanks")
    second = visitor.event("seen", lambda e: e["by"] == "operator" and e["upTo"] > question["id"])
    # The inbox's frames reach the visitor in order: once its next `typing` came, a second
    # `seen` sent before it would have come too.
    visitor.drain()
    typed = sum(f["type"] == "typing" and f["typing"] is True for f in visitor.seen)
    reply.press_sequentially("x")
    visitor.wait_for(nth_frame(typed + 1, lambda f: f["type"] == "typing" and f["typing"] is True))
    reply.fill("")
    assert [e["event"]["upTo"] for e in visitor.seen if e["type"] == "event"
            and e["event"]["type"] == "seen" and e["event"]["by"] == "operator"] == [question["id"],
                                                                                       second["upTo"]]

    # The visitor's rating and transcript request show live in the chat's header.
    feedback = op.locator("#conv-feedback")
    expect(feedback).to_be_hidden()
    visitor.send(type="chat.rate", rating="good", comment="Fast <b>answer</b>")
    expect(feedback.locator(".rating")).to_have_text("👍 Rated good")
    expect(feedback.locator(".rating-comment")).to_have_text("“Fast <b>answer</b>”")
    visitor.send(type="transcript.request", email="me@example.org")
    expect(feedback.locator(".transcript")).to_have_text("Transcript requested to me@example.org")

    # Closing from the widget: a system line worded from its code (never its JSON text).
    visitor.send(type="chat.close")
    expect(log.locator(".msg.system")).to_have_text(["Olivia joined the chat", "Chat closed by the visitor"])
    expect(op.locator("#conv-closed")).to_be_visible()
    assert "{" not in log.inner_text() and feedback.locator("b").count() == 0
    # The Closed tab still previews the last real message, and all survives a reload.
    op.get_by_role("tab", name=re.compile(r"^Closed")).click()
    expect(op.locator(".chat-item[aria-current=true] .preview")).to_have_text("Great, thanks")
    op.reload()
    inbox.wait_live()
    op.get_by_role("tab", name=re.compile(r"^Closed")).click()
    open_chat_of(inbox, "Great, thanks")
    expect(log.locator(".msg.system")).to_have_text(["Olivia joined the chat", "Chat closed by the visitor"])
    expect(feedback.locator(".rating")).to_have_text("👍 Rated good")
    expect(feedback.locator(".transcript")).to_have_text("Transcript requested to me@example.org")
    expect(log.locator(f'.msg.operator[data-id="{answer["id"]}"] .meta')).to_have_text(re.compile(" · Seen$"))


def test_operator_sends_an_image_and_gets_clear_upload_errors(inbox, operator_email, raw_visitor, tmp_path):
    inbox.log_in(operator_email)
    op, visitor = inbox.page, raw_visitor
    visitor.say("Can you send me a photo of the mug?")
    open_chat_of(inbox, "Can you send me a photo of the mug?")
    log = op.locator("#log")

    picture = tmp_path / "mug.png"
    Image.new("RGB", (48, 32), "teal").save(picture, "PNG")
    expect(op.get_by_role("button", name="Attach a file")).to_be_enabled()
    op.locator("#file-input").set_input_files(str(picture))
    sent = visitor.event("message", lambda e: e["message"]["authorKind"] == "operator")["message"]
    assert sent["file"]["contentType"] == "image/png" and sent["file"]["name"] == "mug.png"
    assert sent["text"] == "" and (sent["file"]["width"], sent["file"]["height"]) == (48, 32)
    link = log.locator(f'.msg.operator[data-id="{sent["id"]}"] a.file-image')
    expect(link).to_have_attribute("href", sent["file"]["url"])
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    image = link.locator("img")
    expect(image).to_have_attribute("alt", "mug.png")
    op.wait_for_function("img => img.complete && img.naturalWidth === 48", arg=image.element_handle())
    expect(op.locator("#upload")).to_be_hidden()
    expect(op.locator(".chat-item[aria-current=true] .preview")).to_have_text("You: 📎 mug.png")

    # A visitor's document shows as a download link with its name and size.
    document = visitor_upload(inbox, visitor, "notes.txt", b"Order 1234: two mugs\n")
    visitor.say("", fileId=document["id"])
    download = log.locator(".msg.visitor a.file-download")
    expect(download.locator(".file-name")).to_have_text("notes.txt")
    expect(download.locator(".file-size")).to_have_text("21 B")
    expect(download).to_have_attribute("href", document["url"])

    # A type the server refuses: a clear message, and nothing is sent.
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    op.locator("#file-input").set_input_files(str(program))
    expect(op.locator("#upload-error")).to_have_text(re.compile(r"^This type of file cannot be sent\."))
    expect(op.get_by_role("button", name="Attach a file")).to_be_enabled()

    # A slow upload shows its progress and can be cancelled: nothing reaches the visitor.
    cdp = op.context.new_cdp_session(op)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": 20_000})
    big = tmp_path / "big.txt"
    big.write_bytes(b"all work and no play\n" * 50_000)  # ~1 MB: ~50 s at this speed
    op.locator("#file-input").set_input_files(str(big))
    expect(op.locator("#upload-text")).to_have_text(re.compile(r"^Uploading big\.txt… \d+%$"))
    expect(op.locator("#upload-error")).to_be_hidden()
    expect(op.get_by_role("button", name="Attach a file")).to_be_disabled()
    op.get_by_role("button", name="Cancel").click()
    expect(op.locator("#upload")).to_be_hidden()
    expect(op.get_by_role("button", name="Attach a file")).to_be_enabled()
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})
    # The inbox's frames reach the visitor in order: once a later message came, a message
    # with the cancelled file, sent before it, would have come too.
    reply = op.get_by_label("Reply")
    reply.fill("That was all")
    reply.press("Enter")
    visitor.event("message", lambda e: e["message"]["text"] == "That was all")
    visitor.drain()
    names = [(f["event"]["message"].get("file") or {}).get("name") for f in visitor.seen
             if f["type"] == "event" and f["event"]["type"] == "message"]
    assert "big.txt" not in names and names.count("mug.png") == 1
    expect(log.locator(".msg.pending")).to_have_count(0)


def visitor_upload(inbox: Inbox, visitor: RawVisitor, name: str, data: bytes) -> dict:
    """Uploads as the visitor does (POST /api/visitor/files with its credentials)."""
    welcome = visitor.wait_for(lambda f: f["type"] == "welcome")
    response = httpx.post(f"{inbox.url}/api/visitor/files", params={"name": name}, content=data,
                          headers={"Origin": visitor.origin, "X-Parley-App": visitor.app_id,
                                   "X-Parley-Visitor": welcome["visitorId"],
                                   "X-Parley-Visitor-Token": welcome["visitorToken"]})
    assert response.status_code == 201, response.text
    return response.json()["file"]

