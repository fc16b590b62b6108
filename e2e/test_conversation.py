"""The chat window's conversation features against the real server: the operator's
typing, read receipts both ways, system lines, the end-of-chat rating and transcript,
and attachments with progress, cancel and clear errors."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import WINDOW, host_timers_ran, open_page, png_bytes, rendered, type_message, wait_ready


def start(page, host_site, parley, app, ann, name: str, text: str) -> dict:
    """Opens the page, opens the window, sends `text`; returns the operator's message frame."""
    open_page(page, host_site, parley, app, name)
    page.evaluate("chaport.open()")
    type_message(page, text)
    return ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == text)["message"]


def test_typing_receipts_and_system_lines(page, host_site, parley, app, ann):
    window = page.frame_locator(WINDOW)
    sent = start(page, host_site, parley, app, ann, "receipts", "Is anyone there?")
    # The chat went to Ann, who is online: the widget says so in a system line.
    expect(window.locator(".msg.system .bubble")).to_have_text(["Ann Lee joined the chat"])
    status = window.locator(".msg.visitor .meta .status").first
    expect(status).to_have_attribute("aria-label", "Unread")
    assert window.locator(".msg.visitor .meta .time").first.text_content()  # a time is shown

    ann.send(type="typing", chatId=sent["chatId"], typing=True)
    expect(window.locator(".typing")).to_have_text("Ann Lee is typing…")
    ann.send(type="seen", chatId=sent["chatId"], upTo=sent["id"])
    expect(status).to_have_attribute("aria-label", "Read")
    assert status.text_content() == "\u2713\u2713"
    reply = ann.reply(sent["chatId"], "Yes, I am here.")["message"]
    expect(window.locator(".typing")).to_have_text("")  # her message ends her typing
    expect(window.locator(".msg.operator .who")).to_have_text(["Ann Lee"])
    # The window is open and the tab visible: the visitor's receipt reaches the operator.
    ann.wait_for(lambda f: f["type"] == "seen" and f["by"] == "visitor" and f["upTo"] >= reply["id"])

    # Read state survives a reload (seenAt in history).
    page.reload()
    wait_ready(page)
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    expect(window.locator(".msg.visitor .meta .status").first).to_have_attribute("aria-label", "Read")
    expect(window.locator(".msg.system .bubble")).to_have_count(1)


def test_typing_indicator_times_out(page, host_site, parley, app, ann):
    window = page.frame_locator(WINDOW)
    sent = start(page, host_site, parley, app, ann, "typing-timeout", "hello?")
    ann.send(type="typing", chatId=sent["chatId"], typing=True)
    expect(window.locator(".typing")).to_have_text("Ann Lee is typing…")
    expect(window.locator(".typing")).to_have_text("", timeout=10_000)  # no news for 6 s


def test_closed_chat_is_rated_and_transcript_requested(page, host_site, parley, app, ann):
    window = page.frame_locator(WINDOW)
    sent = start(page, host_site, parley, app, ann, "rating", "Thanks for the help")
    panel = window.locator("section.end")
    expect(panel).to_be_hidden()
    ann.send(type="chat.close", chatId=sent["chatId"])
    expect(window.locator(".msg.system .bubble").last).to_have_text("Chat ended")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text("How was this chat?")
    panel.get_by_role("button", name="Good").click()
    expect(panel.get_by_role("button", name="Good")).to_have_attribute("aria-pressed", "true")
    panel.get_by_placeholder("Add a comment (optional)").fill("Very quick, thank you")
    panel.locator(".choices + textarea + button").click()
    rated = ann.wait_for(lambda f: f["type"] == "chat.rated")["chat"]
    assert (rated["rating"], rated["ratingComment"]) == ("good", "Very quick, thank you")
    expect(panel.get_by_text("Thanks for your feedback!")).to_be_visible()

    panel.locator("#parley-transcript").fill("not-an-email")
    panel.locator(".row button").click()
    expect(panel.get_by_text("Please enter a valid email address")).to_be_visible()
    panel.locator("#parley-transcript").fill("me@example.org")
    panel.locator(".row button").click()
    requested = ann.wait_for(lambda f: f["type"] == "transcript.requested")
    assert requested["email"] == "me@example.org" and requested["chat"]["id"] == sent["chatId"]
    expect(panel.get_by_text("We'll send the transcript to me@example.org")).to_be_visible()
    # One transcript per chat: a second request is refused, and the panel says why.
    panel.locator(".row button").click()
    expect(panel.get_by_text("The transcript of this chat has already been requested")).to_be_visible()

    # After a reload the panel remembers the rating; a new message starts a new chat.
    page.reload()
    wait_ready(page)
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    expect(panel.get_by_text("Thanks for your feedback!")).to_be_visible()
    type_message(page, "One more question")
    ann.wait_for(lambda f: f["type"] == "chat.started" and f["chat"]["id"] != sent["chatId"])
    expect(panel).to_be_hidden()


def test_visitor_sends_an_image_and_receives_a_file(page, host_site, parley, app, ann):
    window = page.frame_locator(WINDOW)
    sent = start(page, host_site, parley, app, ann, "attach", "I'll send a photo")
    window.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes()}])
    message = ann.wait_for(lambda f: f["type"] == "message" and f["message"]["file"] is not None)["message"]
    assert message["file"]["contentType"] == "image/png" and message["file"]["name"] == "photo.png"
    assert message["chatId"] == sent["chatId"]
    image = window.locator(".msg.visitor img")
    expect(image).to_have_attribute("alt", "photo.png")
    page.wait_for_function("""() => {
        const img = document.querySelector('iframe[data-parley=window]').contentDocument
            .querySelector('.msg.visitor img');
        return img && img.complete && img.naturalWidth === 40;
    }""")
    assert image.evaluate("i => i.closest('a').rel") == "noopener noreferrer"
    expect(window.locator(".upload")).to_be_hidden()

    # A file the operator attached: a download link with its name and size, not a picture.
    upload = ann_upload(parley, ann, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "terms.pdf")
    ann.send(type="message.send", chatId=sent["chatId"], clientId="op-file-1", text="Our terms",
             fileId=upload["id"])
    link = window.locator(".msg.operator a.file-link")
    expect(link).to_contain_text("terms.pdf")
    expect(window.locator(".msg.operator .caption")).to_have_text("Our terms")
    href = link.get_attribute("href")
    assert href.startswith(parley.url + "/files/")


def ann_upload(parley, ann, body: bytes, name: str) -> dict:
    import httpx
    response = httpx.post(f"{parley.url}/api/operator/files", params={"name": name}, content=body,
                          headers={"Origin": parley.url, "Cookie": f"parley_session={ann.cookie}"})
    assert response.status_code == 201, response.text
    return response.json()["file"]


def test_upload_can_be_cancelled_and_errors_are_clear(page, host_site, parley, app, ann):
    window = page.frame_locator(WINDOW)
    start(page, host_site, parley, app, ann, "attach-errors", "files coming")
    picker = window.locator("input[type=file]")
    alert = window.locator(".upload-error")

    # Not a type the server accepts: refused by content (415) with a clear message.
    picker.set_input_files(files=[{"name": "tool.exe", "mimeType": "application/octet-stream",
                                   "buffer": b"MZ\x90\x00" + bytes(200)}])
    expect(alert).to_have_text("This file type isn't allowed")
    # Over the server's limit: refused before uploading anything.
    picker.set_input_files(files=[{"name": "huge.png", "mimeType": "image/png",
                                   "buffer": bytes(11 * 1024 * 1024)}])
    expect(alert).to_contain_text("The file is too large (maximum 10.5 MB)")

    # A slow upload shows its progress and can be cancelled: nothing is sent.
    page.route("**/api/visitor/files**", lambda route: None)  # never answered
    picker.set_input_files(files=[{"name": "slow.png", "mimeType": "image/png", "buffer": png_bytes()}])
    bar = window.locator(".upload")
    expect(bar).to_be_visible()
    expect(bar.locator("span")).to_contain_text("slow.png")
    bar.get_by_role("button", name="Cancel").click()
    expect(bar).to_be_hidden()
    expect(alert).to_be_hidden()
    page.unroute("**/api/visitor/files**")
    # The widget's frames reach Ann in order: once a later message came, a message with the
    # cancelled file, sent before it, would have come too.
    type_message(page, "Never mind the photo")
    ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "Never mind the photo")
    ann.drain()
    assert not [f for f in ann.seen if f["type"] == "message" and f["message"]["file"]]


def test_scroll_position_comes_back_after_a_reload(page, host_site, parley, app, ann):
    sent = start(page, host_site, parley, app, ann, "scroll", "Tell me everything")
    for n in range(25):
        ann.reply(sent["chatId"], f"Line {n} of a long answer")
    window = page.frame_locator(WINDOW)
    expect(window.locator(".msg.operator")).to_have_count(25)
    body = window.locator("main")
    assert body.evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight") < 24  # followed
    body.evaluate("b => { b.scrollTop = 200; }")
    # Saved once scrolling settles: the scroll event comes with the next rendering, and the
    # widget saves 250 ms after the last one, on a host page timer.
    rendered(page)
    host_timers_ran(page, 250)
    page.reload()
    wait_ready(page)
    expect(window.locator(".msg.operator")).to_have_count(25)
    page.wait_for_function("""() => Math.abs(document.querySelector('iframe[data-parley=window]')
        .contentDocument.querySelector('main').scrollTop - 200) <= 2""")


def test_pasting_an_image_sends_it(page, host_site, parley, app, ann):
    start(page, host_site, parley, app, ann, "paste", "pasting a screenshot")
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.evaluate("""(area, bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'screenshot.png', {type: 'image/png'}));
        area.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                        cancelable: true}));
    }""", list(png_bytes((12, 8))))
    message = ann.wait_for(lambda f: f["type"] == "message" and f["message"]["file"] is not None)["message"]
    assert message["file"]["name"] == "screenshot.png" and message["file"]["width"] == 12
    assert composer.input_value() == ""


def test_a_whole_conversation_in_german(page, host_site, parley, app, ann):
    from widget.core.lang.de import TABLE as DE

    window = page.frame_locator(WINDOW)
    open_page(page, host_site, parley, app, "german", "language: { use: 'de' },")
    page.evaluate("chaport.open()")
    composer = window.locator("form.composer textarea")
    expect(composer).to_have_attribute("placeholder", DE["composer_placeholder"])
    type_message(page, "Hallo, liefern Sie nach Wien?")
    sent = ann.wait_for(lambda f: f["type"] == "message"
                        and f["message"]["text"].startswith("Hallo"))["message"]
    expect(window.locator(".msg.system .bubble").first).to_have_text(
        DE["operator_joined"].replace("{name}", "Ann Lee"))
    ann.reply(sent["chatId"], "Ja, in drei Tagen.")
    expect(window.locator(".msg.operator .bubble")).to_have_text(["Ja, in drei Tagen."])
    status = window.locator(".msg.visitor .meta .status").first
    expect(status).to_have_attribute("aria-label", DE["message_unread"])
    ann.send(type="chat.close", chatId=sent["chatId"])
    expect(window.locator("section.end h2")).to_have_text(DE["rate_title"])
    window.get_by_role("button", name=DE["rate_bad"]).click()
    window.locator(".choices + textarea + button").click()
    assert ann.wait_for(lambda f: f["type"] == "chat.rated")["chat"]["rating"] == "bad"
    expect(window.get_by_text(DE["rate_thanks"])).to_be_visible()
