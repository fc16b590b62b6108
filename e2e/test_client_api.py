"""`chaport.client` (issue 15, the browser half) and the headless mode, in Chromium against
the real server: every call and event of docs/client.md's Browser section.

Pages are the spec's snippet with `parley: {ui: false}` (headless) unless a test needs the
widget too. Tests wait for facts: promises the page awaits, events it recorded.
"""

from __future__ import annotations

import itertools

from e2e.helpers import console_caught_up, snippet_with_config, wait_for_js

# The real API replaced the stub (the stub has no getWidgetState) and `ready` fired.
READY = "window.ready === true"
RECORD_READY = "window.ready = false; window.chaport.on('ready', function () { window.ready = true; });"


def headless_page(page, host_site, parley, app, name, config="parley: { ui: false },", after=""):
    snippet = snippet_with_config(f"appId: '{app['appId']}',{config}", parley.loader)
    page.goto(host_site.page(name, f"<script>{snippet}</script><script>{RECORD_READY}{after}</script>"))
    wait_for_js(page, READY)


def test_headless_mode_draws_nothing_and_the_api_works(page, host_site, parley, app, page_log):
    headless_page(page, host_site, parley, app, "headless")
    assert page.evaluate("typeof chaport.getWidgetState") == "function"
    page.evaluate("chaport.open()")
    assert page.evaluate("chaport.getWidgetState()") == "expanded"
    page.evaluate("chaport.showLauncher()")
    console_caught_up(page, page_log)
    # Nothing of the widget's is drawn: only the hidden runtime frame is on the page.
    assert page.locator("iframe[data-parley=launcher]").count() == 0
    assert page.locator("iframe[data-parley=window]").count() == 0
    assert page.locator("iframe[data-parley=invitation]").count() == 0
    assert page_log.parley() == []


def test_headless_option_with_a_bad_value_warns_once_and_draws_the_widget(page, host_site, parley, app,
                                                                          page_log):
    headless_page(page, host_site, parley, app, "headless-bad", "parley: { ui: 'no' },")
    page.wait_for_selector("iframe[data-parley=launcher]", state="attached")
    console_caught_up(page, page_log)
    assert page_log.parley() == ["[parley] chaportConfig: parley.ui must be true or false"]


# Records every chaport.client event into window.cevents as [name, payload].
RECORD_CLIENT = """window.cevents = [];
['connected', 'disconnected', 'customer_id', 'incoming_event', 'incoming_chat', 'chat_deactivated',
 'chat_transferred', 'user_added_to_chat', 'chat_rated', 'incoming_typing_indicator',
 'events_marked_as_seen', 'customer_updated',
 'availability_updated', 'queue_position_updated', 'chat_properties_updated',
 'incoming_greeting'].forEach(function (name) {
  chaport.client.on(name, function (payload) { window.cevents.push([name, payload]); });
});"""


def settled(page, call: str):
    """Runs a chaport.client call in the page: {'ok': value} or {'error': {code, message, …}}."""
    return page.evaluate(f"Promise.resolve().then(() => {call})"
                         ".then(v => ({ok: v === undefined ? null : v}), e => ({error: e}))")


def code(page, call: str) -> str | None:
    """The code a chaport.client call rejects with (None when it resolves)."""
    return settled(page, call).get("error", {}).get("code")


def events(page, name: str) -> list:
    return [payload for event, payload in page.evaluate("window.cevents") if event == name]


def wait_event(page, name: str, predicate: str = "true", seconds: float = 20) -> None:
    wait_for_js(page, f"window.cevents.some(([n, p]) => n === {name!r} && ({predicate}))", seconds)


def client_page(page, host_site, parley, app, name, config="parley: { ui: false },"):
    headless_page(page, host_site, parley, app, name, config)
    page.evaluate(RECORD_CLIENT)


def test_a_conversation_on_chaport_client(page, host_site, parley, app, ann, page_log):
    client_page(page, host_site, parley, app, "client-chat")
    started = settled(page, "chaport.client.startChat({chat: {thread: {events: [{type: 'message', "
                            "text: 'Hello from my own UI'}]}}})")["ok"]
    chat_id = started["chat"]["id"]
    assert started["message"]["text"] == "Hello from my own UI"
    assert started["message"]["chatId"] == chat_id and started["chat"]["status"] == "open"
    wait_event(page, "incoming_chat", f"p.chat.id === {chat_id!r} && p.startedBy === 'visitor'")
    wait_event(page, "incoming_event", "p.event.text === 'Hello from my own UI'")
    assert code(page, "chaport.client.startChat({text: 'again'})") == "CHAT_ALREADY_ACTIVE"

    # The operator sees it, types, answers; the client hears all of it.
    ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "Hello from my own UI")
    ann.send(type="typing", chatId=chat_id, typing=True)
    wait_event(page, "incoming_typing_indicator", f"p.chatId === {chat_id!r} && p.typingIndicator.isTyping")
    reply = ann.reply(chat_id, "Hi, Ann here")["message"]
    wait_event(page, "incoming_event", "p.event.text === 'Hi, Ann here' && p.event.authorKind === 'operator'")

    # Seen both ways.
    assert settled(page, f"chaport.client.markEventsAsSeen({{seenUpTo: {reply['id']}}})") == {"ok": None}
    ann.wait_for(lambda f: f["type"] == "seen" and f.get("by") == "visitor" and f["upTo"] >= reply["id"])
    sent = settled(page, "chaport.client.sendEvent({type: 'message', text: 'Thanks!'})")["ok"]
    assert sent["chatId"] == chat_id and sent["authorKind"] == "visitor" and isinstance(sent["id"], int)
    ann.send(type="seen", chatId=chat_id, upTo=sent["id"])
    wait_event(page, "events_marked_as_seen", f"p.by === 'operator' && p.seenUpTo >= {sent['id']}")

    # Chats and history.
    assert settled(page, f"chaport.client.getChat({chat_id!r})")["ok"]["id"] == chat_id
    assert code(page, "chaport.client.getChat('nope')") == "MISSING_CHAT"
    assert [c["id"] for c in settled(page, "chaport.client.listChats()")["ok"]] == [chat_id]
    pages = page.evaluate(f"""(async () => {{
        const pages = [];
        const history = chaport.client.getChatHistory({chat_id!r}, {{pageSize: 2}});
        for await (const page of history) pages.push(page);
        return pages;
    }})()""")
    texts = [m["text"] for page_ in reversed(pages) for m in page_ if m["authorKind"] != "system"]
    assert texts == ["Hello from my own UI", "Hi, Ann here", "Thanks!"]
    assert all(len(p) <= 2 for p in pages)
    first = page.evaluate("chaport.client.getChatHistory().next()")
    assert first["done"] is False and first["value"][-1]["text"] == "Thanks!"

    # Things Parley has no concept of, and bad arguments.
    assert code(page, f"chaport.client.resumeChat({{chatId: {chat_id!r}}})") == "CHAT_ALREADY_ACTIVE"
    assert code(page, "chaport.client.cancelRate()") == "NOT_SUPPORTED"
    assert code(page, "chaport.client.sendEvent({type: 'rich_message'})") == "NOT_SUPPORTED"
    assert code(page, "chaport.client.sendEvent({type: 'message', text: ''})") == "VALIDATION"
    assert code(page, "chaport.client.sendEvent({type: 'message', text: 'x'}, 'other')") == "MISSING_CHAT"

    # The visitor ends the chat and rates it.
    closed = settled(page, "chaport.client.deactivateChat()")["ok"]
    assert closed["id"] == chat_id and closed["status"] == "closed"
    wait_event(page, "chat_deactivated", f"p.chatId === {chat_id!r}")
    assert code(page, "chaport.client.deactivateChat()") == "MISSING_CHAT"
    assert code(page, f"chaport.client.resumeChat({{chatId: {chat_id!r}}})") == "NOT_SUPPORTED"
    rated = settled(page, f"chaport.client.rateChat({{chatId: {chat_id!r}, rating: {{score: 1, "
                          "comment: 'quick'}})")["ok"]
    assert (rated["rating"], rated["ratingComment"]) == ("good", "quick")
    wait_event(page, "chat_rated", f"p.chatId === {chat_id!r}")
    assert code(page, "chaport.client.rateChat({rating: {score: 3}})") == "VALIDATION"
    assert page_log.parley("error") == []


def test_customer_data_page_views_sneak_peek_and_predictions(page, host_site, parley, app, ann, page_log):
    client_page(page, host_site, parley, app, "client-customer")
    customer = settled(page, "chaport.client.getCustomer()")["ok"]
    visitor_id = customer["id"]
    assert customer["name"] is None and customer["verified"] is False
    updated = settled(page, "chaport.client.updateCustomer({name: 'Kari', email: 'kari@example.org', "
                            "sessionFields: {plan: 'pro'}})")["ok"]
    assert (updated["name"], updated["email"]) == ("Kari", "kari@example.org")
    assert updated["custom"] == {"plan": "pro"}
    wait_event(page, "customer_updated", "p.name === 'Kari'")
    ann.wait_for(lambda f: f["type"] == "visitor.updated" and f["visitor"]["id"] == visitor_id)
    fields = settled(page, "chaport.client.setCustomerSessionFields({sessionFields: {cart: '3'}})")["ok"]
    assert fields["custom"] == {"plan": "pro", "cart": "3"}
    assert settled(page, "chaport.client.getCustomer()")["ok"]["custom"] == {"plan": "pro", "cart": "3"}
    assert code(page, "chaport.client.updateCustomer({name: 7})") == "VALIDATION"
    assert code(page, "chaport.client.updateCustomer({nickname: 'Kari'})") == "VALIDATION"

    assert settled(page, "chaport.client.updateCustomerPage({url: location.href + '?step=2', "
                         "title: 'Step 2'})") == {"ok": None}
    ann.wait_for(lambda f: f["type"] == "page.view" and "step=2" in f["url"] and f["title"] == "Step 2")

    predicted = settled(page, "chaport.client.getPredictedAgent()")["ok"]
    assert set(predicted) == {"agent", "queue"}

    started = settled(page, "chaport.client.startChat('Looking at plans')")["ok"]
    chat_id = started["chat"]["id"]
    assert settled(page, "chaport.client.setSneakPeek({sneakPeekText: 'I would like'})") == {"ok": None}
    ann.wait_for(lambda f: f["type"] == "typing" and f.get("text") == "I would like")

    props = settled(page, "chaport.client.updateChatProperties({properties: {source: 'ads', step: 2}})")["ok"]
    assert props == {"source": "ads", "step": 2}
    wait_event(page, "chat_properties_updated", f"p.chatId === {chat_id!r} && p.properties.source === 'ads'")
    left = settled(page, "chaport.client.deleteChatProperties({properties: ['step']})")["ok"]
    assert left == {"source": "ads"}
    ann.wait_for(lambda f: f["type"] == "chat.properties")

    assert settled(page, "chaport.client.acceptGreeting({greetingId: 'trigger-1'})") == {"ok": None}
    accepted = ann.wait_for(lambda f: f["type"] == "greeting" and f["action"] == "accept")
    assert accepted["triggerId"] == "trigger-1"
    assert settled(page, "chaport.client.cancelGreeting({greetingId: 'trigger-1'})") == {"ok": None}
    ann.wait_for(lambda f: f["type"] == "greeting" and f["action"] == "cancel")
    assert code(page, "chaport.client.acceptGreeting({})") == "VALIDATION"
    assert page_log.parley("error") == []


def test_connect_disconnect_and_listeners(page, host_site, parley, app, page_log):
    client_page(page, host_site, parley, app, "client-connection")
    page.evaluate("""window.counts = {once: 0, on: 0, off: 0};
      window.offListener = () => { window.counts.off += 1; };
      chaport.client.once('connected', () => { window.counts.once += 1; });
      chaport.client.on('connected', () => { window.counts.on += 1; });
      chaport.client.on('connected', window.offListener);
      chaport.client.off('connected', window.offListener);""")
    assert settled(page, "chaport.client.disconnect()") == {"ok": None}
    wait_event(page, "disconnected", "p.reason === 'manual' && p.willReconnect === false")
    assert code(page, "chaport.client.getCustomer()") == "CONNECTION_LOST"
    assert code(page, "chaport.client.sendEvent({type: 'message', text: 'offline'})") == "CONNECTION_LOST"
    session = settled(page, "chaport.client.connect()")["ok"]
    assert session["availability"] in ("online", "offline") and session["chat"] is None
    wait_event(page, "connected", f"p.customerId === {session['customerId']!r}")
    assert settled(page, "chaport.client.connect()")["ok"]["customerId"] == session["customerId"]
    settled(page, "chaport.client.disconnect()")
    settled(page, "chaport.client.connect()")
    assert page.evaluate("window.counts") == {"once": 1, "on": 2, "off": 0}
    page.evaluate("chaport.client.on('no_such_event', () => {})")
    console_caught_up(page, page_log)
    assert any("unknown event 'no_such_event'" in line for line in page_log.parley("error"))


def test_availability_updated_when_an_operator_comes(page, host_site, parley, app, page_log):
    fresh = parley.cli("app", "create", "--name", "Availability", "--origin", host_site.origin)
    client_page(page, host_site, parley, fresh, "client-availability")
    assert settled(page, "chaport.client.connect()")["ok"]["availability"] == "offline"
    from e2e.operator import ScriptedOperator
    parley.cli("operator", "create", "--app", fresh["appId"], "--email", "avail@shop.example",
               "--password", "correct horse")
    operator = ScriptedOperator(parley.url, fresh["appId"], "avail@shop.example", "correct horse")
    try:
        wait_event(page, "availability_updated", "p.availability === 'online'")
    finally:
        operator.close()
    wait_event(page, "availability_updated", "p.availability === 'offline'")


def test_client_beside_the_widget_sees_the_same_conversation(page, host_site, parley, app, ann, page_log):
    from e2e.helpers import WINDOW, bubbles, type_message, wait_ready
    snippet = snippet_with_config(f"appId: '{app['appId']}',", parley.loader)
    page.goto(host_site.page("client-beside", f"<script>{snippet}</script>"))
    wait_ready(page)
    page.evaluate(RECORD_CLIENT)
    page.evaluate("chaport.open()")
    page.frame_locator(WINDOW).locator("form.composer textarea").wait_for()
    type_message(page, "Typed in the window")
    wait_event(page, "incoming_event", "p.event.text === 'Typed in the window'")
    sent = settled(page, "chaport.client.sendEvent({type: 'message', text: 'Sent by chaport.client'})")["ok"]
    assert sent["text"] == "Sent by chaport.client"
    bubbles(page, "visitor").filter(has_text="Sent by chaport.client").wait_for()
    ann.reply(sent["chatId"], "Both of you see me")
    wait_event(page, "incoming_event", "p.event.text === 'Both of you see me'")
    bubbles(page, "operator").filter(has_text="Both of you see me").wait_for()
    assert page_log.parley("error") == []


def test_upload_a_file_and_send_it(page, host_site, parley, app, ann, page_log):
    from e2e.helpers import png_bytes
    client_page(page, host_site, parley, app, "client-upload")
    data = list(png_bytes())
    file = page.evaluate("""async (bytes) => {
        window.progress = [];
        const blob = new File([new Uint8Array(bytes)], 'photo.png', {type: 'image/png'});
        return chaport.client.uploadFile(blob, {onProgress: p => window.progress.push(p)});
    }""", data)
    assert file["name"] == "photo.png" and file["contentType"] == "image/png"
    assert page.evaluate("window.progress.length > 0 && window.progress.every(p => p >= 0 && p <= 1)")
    sent = page.evaluate("file => chaport.client.sendEvent({type: 'file', file, text: 'my photo'})", file)
    assert sent["file"]["id"] == file["id"] and sent["text"] == "my photo"
    ann.wait_for(lambda f: f["type"] == "message" and (f["message"]["file"] or {}).get("id") == file["id"])
    assert code(page, "chaport.client.uploadFile('not a file')") == "VALIDATION"
    assert code(page, "chaport.client.sendEvent({type: 'file', file: {id: 'nope'}})") == "VALIDATION"
    unknown = "{type: 'file', file: {id: '%s'}}" % ("0123456789abcdef" * 2)
    assert code(page, f"chaport.client.sendEvent({unknown})") == "MISSING_FILE"
    # A message that can never be stored leaves the outbox: it is not resent on every reconnect.
    outbox = page.evaluate(f"localStorage.getItem('parley:{app['appId']}:outbox')") or "[]"
    assert "0123456789abcdef" not in outbox


# -- restore (Genesys' restoreChat semantics) ---------------------------------------------------

def test_restore_without_a_stored_session_resolves_none(page, host_site, parley, app):
    client_page(page, host_site, parley, app, "restore-none")
    assert settled(page, "chaport.client.restore()") == {"ok": "none"}


def test_restore_after_a_reload_resolves_with_the_session(page, host_site, parley, app, ann):
    client_page(page, host_site, parley, app, "restore-session")
    started = settled(page, "chaport.client.startChat('Before the reload')")["ok"]
    customer_id = started["chat"]["visitorId"]
    # The next page starts no session by itself: restore() starts it.
    snippet = snippet_with_config(f"appId: '{app['appId']}', parley: {{ ui: false }}, "
                                  "session: { autoStart: false },", parley.loader)
    page.goto(host_site.page("restore-session-2", f"<script>{snippet}</script>"))
    wait_for_js(page, "window.chaport && typeof window.chaport.getWidgetState === 'function'")
    page.evaluate(RECORD_CLIENT)
    session = settled(page, "chaport.client.restore()")["ok"]
    assert session["customerId"] == customer_id
    assert session["chat"]["id"] == started["chat"]["id"] and session["chat"]["status"] == "open"
    assert events(page, "customer_id") == []  # the same visitor, not a new one
    history = page.evaluate("chaport.client.getChatHistory().next()")
    assert [m["text"] for m in history["value"] if m["authorKind"] == "visitor"] == ["Before the reload"]


def test_restore_of_a_session_the_server_does_not_know_rejects(page, host_site, parley, app):
    stored = '{"visitorId": "0123456789abcdef01234567", "visitorToken": "not-the-token"}'
    page.add_init_script(f"localStorage.setItem('parley:{app['appId']}', {stored!r});")
    client_page(page, host_site, parley, app, "restore-failed")
    failed = settled(page, "chaport.client.restore()")["error"]
    assert failed["code"] == "SESSION_NOT_RESTORED"
    assert failed["details"]["customerId"] not in (None, "0123456789abcdef01234567")
    # The page goes on as a new visitor.
    assert settled(page, "chaport.client.getCustomer()")["ok"]["id"] == failed["details"]["customerId"]


# -- examples/custom-ui: a chat UI of the site's own, with the real inbox ------------------------

def serve_custom_ui(host_site, parley, app) -> str:
    """examples/custom-ui on the host site, with this server and app put in its snippet."""
    from e2e.helpers import ROOT
    folder = host_site.folder / "custom-ui"
    folder.mkdir(exist_ok=True)
    for source in (ROOT / "examples" / "custom-ui").iterdir():
        text = source.read_text().replace("PARLEY_SERVER", parley.url).replace("APP_ID", app["appId"])
        (folder / source.name).write_text(text)
    return f"{host_site.origin}/custom-ui/index.html"


def test_the_custom_ui_example_holds_a_conversation_with_the_inbox(browser, page, host_site, parley, app,
                                                                   inbox, operator_email, page_log):
    import re

    from playwright.sync_api import expect

    from e2e.helpers import png_bytes
    from e2e.inbox_helpers import open_chat_of

    inbox.log_in(operator_email)
    url = serve_custom_ui(host_site, parley, app)
    page.goto(url)
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=20_000)
    expect(page.locator("#availability")).to_have_text("We are online")

    # The visitor writes; the operator opens the chat (which reads it: "Seen").
    page.get_by_label("Message").fill("Hello from a custom UI")
    page.get_by_role("button", name="Send").click()
    mine = page.locator("#log .msg.visitor").filter(has_text="Hello from a custom UI")
    expect(mine.locator(".status")).to_have_text("Sent")
    open_chat_of(inbox, "Hello from a custom UI")
    expect(mine.locator(".status")).to_have_text("Seen")

    # The operator types and answers; the custom UI reports it read.
    reply = inbox.page.get_by_label("Reply")
    reply.press_sequentially("Hi")
    expect(page.locator("#typing")).to_have_text("Olivia is typing…")
    reply.fill("Hi! How can I help?")
    reply.press("Enter")
    expect(page.locator("#log .msg.operator")).to_have_text(["Hi! How can I help?"])
    expect(page.locator("#typing")).to_have_text("")
    log = inbox.page.locator("#log")
    expect(log.locator(".msg.operator .meta").last).to_have_text(re.compile(r" · Seen$"))

    # A file, then the history after a reload.
    page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": png_bytes()}])
    expect(page.locator("#log .msg.visitor a.file")).to_have_text("receipt.png")
    expect(log.get_by_role("img", name="receipt.png")).to_be_visible()
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=20_000)
    expect(page.locator("#log .msg.visitor .text")).to_have_text(["Hello from a custom UI", ""])
    expect(page.locator("#log .msg.operator")).to_have_text(["Hi! How can I help?"])
    expect(page.locator("#log .msg.visitor a.file")).to_have_text("receipt.png")

    # The visitor ends the chat and rates it; the inbox shows both.
    page.get_by_role("button", name="End chat").click()
    expect(page.locator("#ended")).to_be_visible()
    page.get_by_role("button", name="Good").click()
    expect(page.locator("#rated")).to_have_text("Thanks for rating us: good")
    expect(inbox.page.locator("#conv-feedback .rating")).to_have_text("👍 Rated good")
    assert page.locator("iframe[data-parley=launcher]").count() == 0
    assert page_log.parley("error") == []


def test_operators_added_and_transfers(page, host_site, parley, app, ann):
    client_page(page, host_site, parley, app, "client-transfer")
    chat_id = settled(page, "chaport.client.startChat('Who will answer?')")["ok"]["chat"]["id"]
    wait_event(page, "user_added_to_chat", f"p.chatId === {chat_id!r} && p.user.type === 'agent'")
    first = events(page, "user_added_to_chat")[0]["user"]["id"]
    import uuid
    email = f"{uuid.uuid4().hex}@shop.example"
    other = parley.cli("operator", "create", "--app", app["appId"], "--email", email,
                       "--password", "correct horse", "--name", "Ola")["operatorId"]
    assert other != first
    ann.send(type="chat.assign", chatId=chat_id, operatorId=other)
    wait_event(page, "chat_transferred", f"p.transferredTo.agentIds[0] === {other!r}")
    transferred = events(page, "chat_transferred")[0]
    assert transferred["requesterId"] and transferred["transferredTo"]["groupIds"] == []
    wait_event(page, "user_added_to_chat", f"p.user.id === {other!r}")
    assert settled(page, f"chaport.client.getChat({chat_id!r})")["ok"]["status"] == "open"


def test_incoming_greeting_in_headless_mode(page, host_site, parley, app):
    client_page(page, host_site, parley, app, "client-greeting")
    page.evaluate("chaport.setActiveTrigger({message: 'Need a hand with sizes?'})")
    wait_event(page, "incoming_greeting", "p.text === 'Need a hand with sizes?' && p.kind === 'invitation'")
    assert events(page, "incoming_greeting")[0]["id"] is None  # the page's own invitation has no id
    assert page.locator("iframe[data-parley=invitation]").count() == 0  # headless: nothing drawn


def test_a_message_sent_while_the_network_is_down_goes_once_on_reconnect(page, host_site, parley, app, ann):
    from e2e.helpers import SocketSwitch
    switch = SocketSwitch(page)
    client_page(page, host_site, parley, app, "client-outage")
    chat_id = settled(page, "chaport.client.startChat('Before the outage')")["ok"]["chat"]["id"]
    switch.cut()
    wait_event(page, "disconnected", "p.willReconnect === true && p.code === 1011")  # the test's close
    page.evaluate("() => { chaport.client.sendEvent({type: 'message', text: 'Written offline'})"
                  ".then(m => { window.delivered = m; }); }")
    switch.restore()
    wait_event(page, "connected", "true")
    wait_for_js(page, "window.delivered && window.delivered.text === 'Written offline'")
    assert page.evaluate("window.delivered.chatId") == chat_id
    ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "Written offline")
    ann.drain()
    stored = [f for f in ann.seen if f["type"] == "message" and f["message"]["text"] == "Written offline"]
    assert len(stored) == 1
    assert settled(page, "chaport.client.getCustomer()")["ok"]["id"]


def test_queue_position_updated(page, host_site, parley):
    from e2e.inbox_helpers import RawVisitor
    from e2e.operator import ScriptedOperator
    fresh = parley.cli("app", "create", "--name", "Queue", "--origin", host_site.origin)
    parley.cli("app", "set", "--app", fresh["appId"], "--max-chats", "1")
    parley.cli("operator", "create", "--app", fresh["appId"], "--email", "queue@shop.example",
               "--password", "correct horse")
    operator = ScriptedOperator(parley.url, fresh["appId"], "queue@shop.example", "correct horse")
    first = RawVisitor(parley.url, fresh["appId"], host_site.origin)
    try:
        first_chat = first.say("I came first")["chatId"]
        client_page(page, host_site, parley, fresh, "client-queue")
        chat_id = settled(page, "chaport.client.startChat('Am I in line?')")["ok"]["chat"]["id"]
        wait_event(page, "queue_position_updated", f"p.chatId === {chat_id!r} && p.queue.position === 1")
        operator.send(type="chat.close", chatId=first_chat)
        wait_event(page, "queue_position_updated", f"p.chatId === {chat_id!r} && p.queue.position === null")
        wait_event(page, "user_added_to_chat", f"p.chatId === {chat_id!r}")
    finally:
        first.close()
        operator.close()


def test_set_language_redraws_the_widget_and_keeps_what_the_visitor_had(page, host_site, parley, app,
                                                                        page_log):
    """onWebChat's runtime language switch (l1): chaport.client.setLanguage."""
    from e2e.helpers import WINDOW, goto
    from widget.core.lang.ar import TABLE as AR
    from widget.core.lang.de import TABLE as DE
    goto(page, host_site, parley, app, "client-language", "language: { use: 'en' },")
    page.evaluate("chaport.open()")
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.fill("Halb geschrieben")
    assert settled(page, "chaport.client.setLanguage('de-AT')") == {"ok": {"language": "de"}}
    # Drawn again in German: the window stays open with the visitor's draft.
    composer = page.frame_locator(WINDOW).locator(f"textarea[placeholder='{DE['composer_placeholder']}']")
    composer.wait_for()
    assert composer.input_value() == "Halb geschrieben"
    assert page.evaluate("chaport.getWidgetState()") == "expanded"
    launcher = page.frame_locator("iframe[data-parley=launcher]").locator("button")
    assert launcher.get_attribute("aria-label") == DE["launcher_close"]
    assert page.locator("iframe[data-parley=window]").count() == 1
    assert page.locator("iframe[data-parley=launcher]").count() == 1
    # A right-to-left language turns the window around.
    assert settled(page, "chaport.client.setLanguage({language: 'ar'})") == {"ok": {"language": "ar"}}
    page.frame_locator(WINDOW).locator(f"textarea[placeholder='{AR['composer_placeholder']}']").wait_for()
    assert page.frame_locator(WINDOW).locator("[dir=rtl]").count() >= 1
    # A language the widget does not have: refused, nothing redrawn.
    rejected = settled(page, "chaport.client.setLanguage('xx')")["error"]
    assert rejected["code"] == "VALIDATION" and "de" in rejected["message"]
    assert code(page, "chaport.client.setLanguage(42)") == "VALIDATION"
    assert launcher.get_attribute("aria-label") == AR["launcher_close"]
    assert page_log.parley("error") == []


def test_set_language_in_headless_mode_and_with_an_invitation(page, host_site, parley, app):
    client_page(page, host_site, parley, app, "client-language-headless")
    assert settled(page, "chaport.client.setLanguage('fr')") == {"ok": {"language": "fr"}}
    # With the widget: an invitation on show stays, in the new language's frame.
    from e2e.helpers import goto
    from widget.core.lang.es import TABLE as ES
    goto(page, host_site, parley, app, "client-language-invite")
    page.evaluate("chaport.setActiveTrigger({message: 'Hola?'})")
    bubble = page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
    bubble.wait_for()
    assert settled(page, "chaport.client.setLanguage('es')")["ok"] == {"language": "es"}
    dismiss = page.frame_locator("iframe[data-parley=invitation]").locator(
        f"button.dismiss[aria-label='{ES['invitation_close']}']")
    dismiss.wait_for()
    assert bubble.text_content() == "Hola?"
    assert page.locator("iframe[data-parley=invitation]").count() == 1
    assert page.evaluate("chaport.getActiveTrigger().message") == "Hola?"


def test_launcher_clicked_and_visitor_typing_events(page, host_site, parley, app, ann):
    """onWebChat's onClick and onStartWriting, as chaport.client events."""
    from e2e.helpers import WINDOW, goto, type_message
    goto(page, host_site, parley, app, "client-clicks")
    page.evaluate("""window.cevents = [];
      ['launcher_clicked', 'visitor_typing', 'incoming_event'].forEach(function (name) {
        chaport.client.on(name, function (p) { window.cevents.push([name, p]); });
      });""")
    launcher = page.frame_locator("iframe[data-parley=launcher]").locator("button")
    launcher.click()
    wait_event(page, "launcher_clicked", "p.state === 'expanded'")
    # The API's open/close are no click.
    page.evaluate("chaport.close(); chaport.open()")
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.press_sequentially("Hel")
    wait_event(page, "visitor_typing", "p.isTyping === true")
    composer.fill("")
    composer.press("Backspace")  # an input event with the empty draft
    wait_event(page, "visitor_typing", "p.isTyping === false")
    type_message(page, "Hello there")
    wait_event(page, "incoming_event", "p.event.text === 'Hello there'")
    typing = [p["isTyping"] for p in events(page, "visitor_typing")]
    # Started and stopped each time, never twice in a row the same.
    assert typing[:2] == [True, False] and typing[-1] is False
    assert all(a != b for a, b in itertools.pairwise(typing))
    chat_id = events(page, "incoming_event")[0]["chatId"]
    composer.press_sequentially("Again")
    wait_event(page, "visitor_typing", f"p.isTyping === true && p.chatId === {chat_id!r}")
    launcher.click()
    wait_event(page, "launcher_clicked", "p.state === 'collapsed'")
    assert [p["state"] for p in events(page, "launcher_clicked")] == ["expanded", "collapsed"]


def test_connection_unstable_and_recovered(page, host_site, parley, app):
    """A heartbeat `sync` whose `synced` is late: connection_unstable, then connection_recovered
    when it comes. The test holds the server's answers back in a routed WebSocket."""
    import re
    routed = {"hold": False, "held": [], "page": None}

    def route(ws):
        server = ws.connect_to_server()
        routed["page"] = ws

        def from_server(message):
            if routed["hold"] and '"synced"' in str(message) and "pc-ping" in str(message):
                routed["held"].append(message)
                return
            ws.send(message)
        server.on_message(from_server)
    page.route_web_socket(re.compile(r"/ws/visitor"), route)
    headless_page(page, host_site, parley, app, "client-heartbeat")
    page.evaluate("""window.cevents = [];
      ['connection_unstable', 'connection_recovered', 'disconnected'].forEach(function (name) {
        chaport.client.on(name, function (p) { window.cevents.push([name, p]); });
      });""")
    routed["hold"] = True
    wait_event(page, "connection_unstable", seconds=30)
    assert events(page, "connection_recovered") == [] and events(page, "disconnected") == []
    routed["hold"] = False
    for message in routed["held"]:
        routed["page"].send(message)
    wait_event(page, "connection_recovered", seconds=10)
    # Still one working connection: a call goes through.
    assert settled(page, "chaport.client.getCustomer()")["ok"]["id"]
    assert [name for name, _ in page.evaluate("window.cevents")] == [
        "connection_unstable", "connection_recovered"]
