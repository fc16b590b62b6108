"""Parley's own chat page (/chat/<appId>, `openIn: '_blank'`) takes a chat over only with a
one-time handover token the server issued (issue 13, finding 9: visitor session fixation).

A link carrying a visitor's raw credentials (`#parley=<visitorId>.<token>`, what the page
adopted before) must not put whoever opens it into that visitor: the attacker holding the
other socket would read everything the victim writes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import API_READY, load, wait_for_js
from e2e.operator import ScriptedOperator

WINDOW = "#parley-chat iframe[data-parley=window]"
_emails = itertools.count()


@pytest.fixture
def operator(parley, app) -> Iterator[ScriptedOperator]:
    """An operator's feed: shows which visitor each message was stored for."""
    email = f"handover{next(_emails)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", "correct horse")
    scripted = ScriptedOperator(parley.url, app["appId"], email, "correct horse")
    yield scripted
    scripted.close()


def open_chat_page(browser, url: str) -> tuple[Page, list[str]]:
    """A fresh browser on `url`, with what its console said under [parley]."""
    page = browser.new_context().new_page()
    said: list[str] = []
    page.on("console", lambda m: said.append(m.text) if m.text.startswith("[parley]") else None)
    page.goto(url)
    return page, said


def chat_visitor(chat: Page) -> str:
    """The visitor the chat page ended up as (its `ready` event); waits for the open window.
    The page's strict CSP (no eval) rules out wait_for_function: wait_for_js() evaluates."""
    wait_for_js(chat, f"() => !!({API_READY} && chaport.getWidgetState() === 'expanded')")
    chat.evaluate("window.chaport.on('ready', function (d) { window.readyId = d.visitorId; })")
    wait_for_js(chat, "() => !!window.readyId")
    return chat.evaluate("window.readyId")


def say(chat: Page, text: str) -> None:
    composer = chat.frame_locator(WINDOW).locator("form.composer textarea")
    composer.fill(text)
    composer.press("Enter")


def test_a_link_with_another_visitors_credentials_does_not_open_their_chat(browser, parley, app, raw_visitor,
                                                                          operator):
    welcome = raw_visitor.wait_for(lambda f: f["type"] == "welcome")
    other_id, other_token = welcome["visitorId"], welcome["visitorToken"]
    raw_visitor.say("my order 4711 goes to Storgata 1")  # the other visitor's history
    chat, said = open_chat_page(browser, f"{parley.url}/chat/{app['appId']}#parley={other_id}.{other_token}")
    try:
        assert chat_visitor(chat) != other_id
        assert "#" not in chat.url  # somebody's secret left the address bar all the same
        window = chat.frame_locator(WINDOW)
        say(chat, "here is my card number")
        expect(window.locator(".msg.visitor .bubble", has_text="here is my card number")).to_be_visible()
        # Stored for another visitor than the link's, as the operators see it.
        stored = operator.wait_for(lambda f: f["type"] == "message"
                                   and f["message"]["text"] == "here is my card number")
        assert stored["visitorId"] not in (other_id, None)
        # The link's visitor got nothing: its events come in log order, so its own next
        # message arriving means nothing was logged for it before.
        mine = raw_visitor.say("still just me")
        raw_visitor.event("message", lambda e: e["message"]["id"] == mine["id"])
        assert "here is my card number" not in json.dumps(raw_visitor.seen)
        # Its history is not shown: the page loaded its own (empty) one before the ack above.
        expect(window.locator(".msg", has_text="Storgata")).to_have_count(0)
        assert len([t for t in said if "handover" in t]) == 1, said
    finally:
        chat.context.close()


def test_open_in_blank_hands_over_with_history_and_the_token_works_once(browser, page, page_log, host_site,
                                                                       parley, app):
    load(page, host_site, parley, app, "handover-history", before="window.ids = [];",
         after="chaport.on('ready', function (d) { window.ids.push(d.visitorId); });")
    page.wait_for_function("window.ids.length === 1")
    visitor_id = page.evaluate("window.ids[0]")
    page.evaluate("chaport.open()")
    composer = page.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")
    composer.fill("a blue teapot, please")
    composer.press("Enter")
    sent = page.frame_locator("iframe[data-parley=window]").locator(".msg.visitor .bubble")
    expect(sent).to_have_text("a blue teapot, please")
    with page.expect_response(lambda r: r.url.endswith("/api/visitor/handover")
                              and r.request.method == "POST") as issued, \
            page.context.expect_page() as opened:
        page.evaluate("window.chaport.openIn('_blank')")
    handover = issued.value.json()["handover"]
    assert visitor_id not in handover
    chat = opened.value
    try:
        assert chat_visitor(chat) == visitor_id  # the same visitor, so the same chat
        assert "#" not in chat.url
        history = chat.frame_locator(WINDOW).locator(".msg.visitor .bubble")
        expect(history).to_have_text("a blue teapot, please")
    finally:
        chat.close()
    assert page_log.parley() == []  # the site's page handed over without a complaint
    # The same link again (history, a shared screenshot): the token is used up.
    again, said = open_chat_page(browser, f"{parley.url}/chat/{app['appId']}#parley-handover={handover}")
    try:
        assert chat_visitor(again) != visitor_id
        assert "#" not in again.url
        say(again, "who am I")
        window = again.frame_locator(WINDOW)
        expect(window.locator(".msg.visitor .bubble")).to_have_text("who am I")
        expect(window.locator(".msg", has_text="teapot")).to_have_count(0)
        assert len([t for t in said if "handover" in t]) == 1, said
    finally:
        again.context.close()
