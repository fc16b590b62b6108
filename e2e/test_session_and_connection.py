"""The widget's session and socket over time (issue 14): a refused user token, forgetting
the visitor, switching users, presence missed while the socket was down, and what the
visitor sees while it is down.

The socket is cut and restored with Playwright's WebSocket routing (`SocketSwitch`), so no
server is stopped and every wait is for a fact the page or a socket reports.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from e2e.helpers import WINDOW, SocketSwitch, bubbles, fresh_app, page_url, sha1, type_message, wait_ready
from e2e.inbox_helpers import RawVisitor
from e2e.operator import ScriptedOperator

RECORD = """window.log = [];
['ready', 'chat.onlineChange'].forEach(function (name) {
  window.chaport.on(name, function (payload) { window.log.push([name, payload]); });
});"""


# -- 1: a wrong session.user token is final ------------------------------------------------

def test_wrong_user_token_gives_one_error_and_no_reconnects(page, host_site, parley, page_log):
    app = fresh_app(parley, host_site, "Wrong token")
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws) if "/ws/visitor" in ws.url else None)
    url = page_url(host_site, parley, app, "wrong-token",
                   "session: { user: { id: 'user-1', token: 'forged' } },", RECORD)
    with page.expect_console_message(lambda m: m.type == "error" and "PARLEY_E_BAD_TOKEN" in m.text,
                                     timeout=20_000):
        page.goto(url)
    # The server closed with 4401: a retry would open a new socket within the backoff's
    # first steps (0.5 s, 1 s, 2 s). None may come.
    with pytest.raises(PlaywrightError):
        page.wait_for_event("websocket", timeout=3500)
    assert len(sockets) == 1
    assert page.evaluate("window.log") == []  # no `ready`: the session never started
    assert page_log.parley("error") == [e for e in page_log.parley("error") if "PARLEY_E_BAD_TOKEN" in e]
    assert len(page_log.parley("error")) == 1, page_log.parley()


# -- 3: stopSession(true) forgets everything of the visitor on this device -----------------

def test_stop_session_true_forgets_the_visitors_chat_outbox_and_draft(page, host_site, parley, app):
    switch = SocketSwitch(page)
    switch.drop_sent("never reached the server")
    page.goto(page_url(host_site, parley, app, "forget-visitor", "", RECORD))
    wait_ready(page)
    prefix = f"parley:{app['appId']}"
    page.evaluate("chaport.open()")
    type_message(page, "kept by the server")
    # Acknowledged: the outbox is empty again.
    page.wait_for_function("""([prefix, text]) => !localStorage.getItem(prefix + ':outbox')
        && [...document.querySelector('iframe[data-parley=window]').contentDocument
               .querySelectorAll('.msg.visitor .bubble')].some(b => b.textContent === text)""",
                           arg=[prefix, "kept by the server"])
    type_message(page, "never reached the server")
    page.wait_for_function("prefix => (localStorage.getItem(prefix + ':outbox') || '').includes('never')",
                           arg=prefix)
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.fill("a half-typed draft")
    page.wait_for_function("prefix => (localStorage.getItem(prefix + ':ui') || '').includes('half-typed')",
                           arg=prefix)

    page.evaluate("window.stopped = 0; chaport.stopSession(true, function () { window.stopped += 1; })")
    page.wait_for_function("window.stopped === 1")
    assert page.evaluate("prefix => Object.keys(localStorage).filter(k => k.startsWith(prefix))",
                         prefix) == []

    sent_before = len(switch.sent)
    page.evaluate("chaport.startSession()")
    page.wait_for_function("window.log.filter(e => e[0] === 'ready').length === 2")
    first, second = page.evaluate("window.log.filter(e => e[0] === 'ready').map(e => e[1].visitorId)")
    assert first != second
    page.evaluate("chaport.open()")
    expect(composer).to_have_value("")
    expect(page.frame_locator(WINDOW).locator(".msg.visitor")).to_have_count(0)
    # The new visitor's socket never carried the old visitor's unsent message.
    assert switch.welcomes == 2
    assert not [f for f in switch.sent[sent_before:] if f.get("text") == "never reached the server"]

    page.reload()
    wait_ready(page)
    page.evaluate("chaport.open()")
    expect(composer).to_have_value("")
    expect(page.frame_locator(WINDOW).locator(".msg.visitor")).to_have_count(0)


# -- 4: chat.onlineChange that happened while the socket was down ----------------------------

def test_online_change_missed_while_disconnected_fires_on_reconnect(page, host_site, parley):
    app = fresh_app(parley, host_site, "Presence across reconnect")
    parley.cli("operator", "create", "--app", app["appId"], "--email", "away@shop.example",
               "--password", "correct horse", "--name", "Pia")
    operator = ScriptedOperator(parley.url, app["appId"], "away@shop.example", "correct horse")
    switch = SocketSwitch(page)
    page.goto(page_url(host_site, parley, app, "presence-reconnect", "", RECORD))
    wait_ready(page)
    page.evaluate("chaport.open()")
    status = page.frame_locator(WINDOW).locator("header p")
    expect(status).to_have_text("We're online")
    assert page.evaluate("window.log.filter(e => e[0] === 'chat.onlineChange')") == []

    switch.cut()
    # Another visitor of the app hears the operator leave: the server knows it now.
    watcher = RawVisitor(parley.url, app["appId"], host_site.origin)
    try:
        operator.close()
        watcher.wait_for(lambda f: f["type"] == "online" and f["online"] is False)
    finally:
        watcher.close()
    opened = switch.opened
    switch.restore()
    page.wait_for_function("window.log.filter(e => e[0] === 'chat.onlineChange').length === 1",
                           timeout=20_000)
    assert switch.opened > opened  # it came back through a new socket
    assert page.evaluate("window.log.filter(e => e[0] === 'chat.onlineChange')") == [
        ["chat.onlineChange", False]]
    expect(status).to_have_text("We're away")
    page.evaluate("window.answer = null; chaport.isOnline(function (v) { window.answer = v; })")
    page.wait_for_function("window.answer === false")


# -- 5: startSession(credentials) while a session runs switches the user --------------------

def test_start_session_with_other_credentials_switches_the_user(page, host_site, parley, page_log):
    app = fresh_app(parley, host_site, "Switch users")
    first = {"id": "user-ann", "token": sha1(app["secret"] + "user-ann")}
    second = {"id": "user-bob", "token": sha1(app["secret"] + "user-bob")}
    page.goto(page_url(host_site, parley, app, "switch-user", f"session: {{ user: {json.dumps(first)} }},",
                       RECORD))
    wait_ready(page)
    page.wait_for_function("window.log.filter(e => e[0] === 'ready').length === 1")
    page.evaluate("chaport.open()")
    type_message(page, "Ann's question")
    expect(bubbles(page, "visitor")).to_have_text(["Ann's question"])
    page.wait_for_function("!localStorage.getItem('parley:' + chaportConfig.appId + ':outbox')")

    page.evaluate("""credentials => { window.calls = [];
        chaport.startSession(credentials, function () {
            window.calls.push(['callback', arguments.length]);
            window.log.push(['callback']);
        }); }""", second)
    page.wait_for_function("window.calls.length === 1", timeout=20_000)
    assert page.evaluate("window.calls") == [["callback", 0]]
    names = page.evaluate("window.log.map(e => e[0])")
    assert names[-2:] == ["ready", "callback"]  # called back only once the new session started
    assert page.evaluate("window.log.filter(e => e[0] === 'ready').map(e => e[1].visitorId)") == [
        "user-ann", "user-bob"]
    page.evaluate("chaport.open()")
    expect(page.frame_locator(WINDOW).locator("form.composer textarea")).to_be_visible()
    expect(bubbles(page, "visitor")).to_have_count(0)  # Ann's chat is not Bob's

    # The same user again: nothing to switch, the running session is reported.
    page.evaluate("c => chaport.startSession(c, function () { window.calls.push('same'); })", second)
    page.wait_for_function("window.calls.length === 2")
    assert page.evaluate("window.log.filter(e => e[0] === 'ready').length") == 2

    # A refused token: one clear error, and no callback for a session that never started.
    with page.expect_console_message(lambda m: m.type == "error" and "PARLEY_E_BAD_TOKEN" in m.text,
                                     timeout=20_000):
        page.evaluate("""chaport.startSession({ id: 'user-eve', token: 'forged' },
            function () { window.calls.push('forged'); })""")
    assert page.evaluate("window.calls") == [["callback", 0], "same"]
    assert page.evaluate("window.log.filter(e => e[0] === 'ready').length") == 2


# -- the connection line: "Reconnecting…" after a few seconds down --------------------------

def test_reconnecting_line_shows_after_a_while_down_and_goes_on_reconnect(page, host_site, parley, app):
    switch = SocketSwitch(page)
    page.goto(page_url(host_site, parley, app, "reconnecting",
                       "parley: { reconnectingAfter: 300 },", RECORD))
    wait_ready(page)
    page.evaluate("chaport.open()")
    window = page.frame_locator(WINDOW)
    line = window.locator(".connection")
    expect(line).to_be_hidden()
    type_message(page, "before the cut")
    expect(bubbles(page, "visitor")).to_have_text(["before the cut"])

    switch.cut()
    expect(line).to_have_text("Reconnecting…")
    expect(line).to_have_attribute("role", "status")
    # The composer stays usable: the message is queued and shown as sending.
    type_message(page, "written while down")
    expect(bubbles(page, "visitor")).to_have_text(["before the cut", "written while down"])
    status = window.locator(".msg.visitor .meta .status").last
    expect(status).to_have_attribute("aria-label", "Sending")

    switch.restore()
    expect(line).to_be_hidden(timeout=20_000)
    expect(status).to_have_attribute("aria-label", "Unread", timeout=20_000)


def test_reconnecting_line_never_flashes_on_a_quick_reconnect(page, host_site, parley, app):
    switch = SocketSwitch(page)
    page.goto(page_url(host_site, parley, app, "reconnect-quick", "parley: { reconnectingAfter: 1500 },"))
    wait_ready(page)
    switch.wait_for_welcomes(1)
    page.evaluate("chaport.open()")
    # The window's code may still be downloading (a second bundle, issue 16): wait for it.
    page.wait_for_function("""() => {
        const f = document.querySelector('iframe[data-parley=window]');
        return !!f && !!f.contentDocument.querySelector('form.composer textarea');
    }""")
    page.evaluate("""window.shownAt = [];
        const doc = document.querySelector('iframe[data-parley=window]').contentDocument;
        new MutationObserver(() => {
            const line = doc.querySelector('.connection');
            const shown = !!line && !line.hidden;
            if (shown !== window.lineShown) {
                window.lineShown = shown;
                if (shown) window.shownAt.push(performance.now());
            }
        }).observe(doc.body, { subtree: true, childList: true, attributes: true });""")
    # Down for about one retry (0.5 s): far less than the 1.5 s the line waits for.
    switch.cut()
    switch.restore()
    switch.wait_for_welcomes(2)
    # Down again, for good: the line comes 1.5 s after this cut, not after the first one.
    cut_at = page.evaluate("performance.now()")
    switch.cut()
    page.wait_for_function("window.shownAt.length === 1", timeout=20_000)
    shown_at = page.evaluate("window.shownAt[0]")
    assert shown_at - cut_at >= 1500, shown_at - cut_at
    switch.restore()
    expect(page.frame_locator(WINDOW).locator(".connection")).to_be_hidden(timeout=20_000)
    assert page.evaluate("window.shownAt.length") == 1
