"""Issue 14 "Chaport conformance": chat state across pages, who starts a chat, message_text."""

from __future__ import annotations

import json
import time

import pytest

from e2e.helpers import (
    RECORD_EVENTS,
    bubbles,
    frames_received,
    fresh_app,
    goto,
    sha1,
    snippet_with_config,
    type_message,
    wait_until,
)
from e2e.operator import ScriptedOperator

# assignments.resolve that records each call (the message it saw) and routes nowhere.
RESOLVE_RECORDER = """assignments: { resolve: function (cp) {
    window.resolved = window.resolved || [];
    window.resolved.push(String(cp.getParameterValue('message_text')));
} },"""


def test_an_ongoing_chat_is_restored_on_the_next_page(page, host_site, parley):
    app = fresh_app(parley, host_site, "Restore chat")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Need help?", "--delay", "0")
    goto(page, host_site, parley, app, "restore-1", RESOLVE_RECORDER, RECORD_EVENTS)
    page.evaluate("chaport.open()")
    type_message(page, "First page question")
    page.wait_for_function("window.events.some(e => e[0] === 'chat.started')")
    assert page.evaluate("window.resolved") == ["First page question"]
    page.evaluate("chaport.close()")  # collapsed: an invitation could show on the next page
    # The next page of the site, mid-conversation.
    goto(page, host_site, parley, app, "restore-2", RESOLVE_RECORDER, RECORD_EVENTS)
    # History is back (the trigger's zero delay has long passed): the chat is known to go on.
    bubbles(page, "visitor").filter(has_text="First page question").wait_for(state="attached")
    assert page.evaluate("chaport.getActiveTrigger()") is None
    assert page.locator("iframe[data-parley=invitation]").count() == 0
    assert page.evaluate("chaport.setActiveTrigger({message: 'Custom'})") is None
    assert page.locator("iframe[data-parley=invitation]").count() == 0
    page.evaluate("chaport.open()")
    type_message(page, "Second page question")
    # Drawn right after the assignment would have run: it joins the open chat, none ran.
    bubbles(page, "visitor").filter(has_text="Second page question").wait_for()
    assert page.evaluate("window.resolved || []") == []


def test_chat_started_fires_only_for_chats_the_visitor_starts(page, host_site, parley):
    app = fresh_app(parley, host_site, "Proactive")
    parley.cli("operator", "create", "--app", app["appId"], "--email", "pro@shop.example",
               "--password", "correct horse", "--name", "Pia Pro")
    operator = ScriptedOperator(parley.url, app["appId"], "pro@shop.example", "correct horse")
    try:
        goto(page, host_site, parley, app, "proactive", "", RECORD_EVENTS)
        visitor_id = page.evaluate("window.events.find(e => e[0] === 'ready')[1].visitorId")
        operator.send(type="chat.start", visitorId=visitor_id, clientId="p1", text="Hello from Pia")
        acked = operator.wait_for(lambda f: f["type"] == "ack" and f.get("clientId") == "p1")
        # The operator's message reached the page: its chat is known, and no chat.started fired.
        bubbles(page, "operator").filter(has_text="Hello from Pia").wait_for(state="attached")
        assert page.evaluate("window.events.filter(e => e[0] === 'chat.started').length") == 0
        assert page.evaluate("chaport.getActiveTrigger()") is None
        # The visitor answers in the operator's chat: still not a chat the visitor started.
        page.evaluate("chaport.open()")
        type_message(page, "Hi Pia")
        operator.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "Hi Pia")
        assert page.evaluate("window.events.filter(e => e[0] === 'chat.started').length") == 0
        # Closed by the operator; the visitor's next message starts a chat: now it fires.
        operator.send(type="chat.close", chatId=acked["chat"]["id"])
        operator.wait_for(lambda f: f["type"] == "chat.closed")
        type_message(page, "One more question")
        page.wait_for_function("window.events.some(e => e[0] === 'chat.started')")
        assert page.evaluate("window.events.filter(e => e[0] === 'chat.started')[0][1]") == {
            "visitorId": visitor_id}
    finally:
        operator.close()


def test_bot_trigger_on_message_text_answers_the_visitors_message(page, host_site, parley):
    app = fresh_app(parley, host_site, "Message bot")
    bot = parley.cli("trigger", "add", "--app", app["appId"], "--message", "Our prices are on /pricing",
                     "--kind", "bot", "--delay", "0", "--when", "message_text contains price")
    bot_id = bot["id"] if "id" in bot else bot["triggerId"]
    goto(page, host_site, parley, app, "message-bot", "", RECORD_EVENTS)
    page.evaluate("chaport.open()")
    type_message(page, "What is the price?")
    # The bot answers in the chat, for the visitor (and stored: the operators see it too).
    bubbles(page, "bot").filter(has_text="Our prices are on /pricing").wait_for()
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.botSent').map(e => e[1])") == [
        {"id": bot_id, "message": "Our prices are on /pricing"}]
    # Already answered on the next page: history has it, no second event.
    goto(page, host_site, parley, app, "message-bot-2", "", RECORD_EVENTS)
    bubbles(page, "bot").filter(has_text="Our prices are on /pricing").wait_for(state="attached")
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.botSent').length") == 0


def test_trigger_on_message_text_does_not_match_other_messages(page, host_site, parley):
    app = fresh_app(parley, host_site, "Message bot quiet")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Our prices are on /pricing",
               "--kind", "bot", "--delay", "0", "--when", "message_text contains price")
    goto(page, host_site, parley, app, "message-bot-quiet", "", RECORD_EVENTS)
    page.evaluate("chaport.open()")
    type_message(page, "Do you ship to Norway?")
    page.wait_for_function("window.events.some(e => e[0] === 'chat.started')")
    type_message(page, "And what is the price?")  # the chat is open: triggers are over
    bubbles(page, "visitor").filter(has_text="And what is the price?").wait_for()
    assert bubbles(page, "bot").count() == 0
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.botSent').length") == 0


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def test_a_devices_init_override_is_what_the_loader_waits_for(browser, host_site, parley, app):
    # The page waits for an event that never fires (for a minute); phones start on load.
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, user_agent=IPHONE)
    page = context.new_page()
    try:
        config = ("init: { event: 'parley-never', maxDelay: 60000 }, "
                  "devices: { mobile: { init: { event: 'load', maxDelay: 3000, delayAfterEvent: 0 } } },")
        goto(page, host_site, parley, app, "device-init", config)
    finally:
        context.close()


def test_init_max_delay_forces_the_start_when_the_event_never_fires(page, host_site, parley, app):
    started = time.monotonic()
    goto(page, host_site, parley, app, "max-delay", "init: { event: 'parley-never', maxDelay: 1500 },")
    assert time.monotonic() - started >= 1.5


def test_a_devices_visitor_override_is_what_gets_sent(page, host_site, parley):
    app = fresh_app(parley, host_site, "Device visitor")
    frames = frames_received(page)
    desk = {"name": "Desk Doe"}
    signed = sha1(app["secret"] + json.dumps(desk, separators=(",", ":")))
    config = (f"visitor: {{ name: 'Page Doe' }}, devices: {{ desktop: {{ visitor: {json.dumps(desk)}, "
              f"visitorIntegrityHash: '{signed}' }} }},")
    goto(page, host_site, parley, app, "device-visitor", config)
    visitor = wait_until(page, lambda: next((f for f in frames if f["type"] == "visitor"), None))["visitor"]
    assert visitor["name"] == "Desk Doe" and visitor["verified"] is True


def test_responsive_true_trusts_the_site_unset_detects(browser, host_site, parley, app):
    # No viewport meta: a phone lays the page out ~980 px wide, so detection says "not
    # responsive" (floating window); `responsive: true` is the site saying it is.
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, user_agent=IPHONE)
    page = context.new_page()
    try:
        for name, config, full in (("responsive-unset", "", False),
                                   ("responsive-true", "responsive: true,", True)):
            goto(page, host_site, parley, app, name, config)
            page.evaluate("chaport.open()")
            window = page.locator("iframe[data-parley=window]")
            window.wait_for()
            width = page.evaluate("window.innerWidth")
            box = window.bounding_box()
            assert (box["width"] == width and box["y"] == 0) is full, (name, box, width)
    finally:
        context.close()


def test_operators_option_with_a_team_id_shows_its_members(page, host_site, parley):
    app = fresh_app(parley, host_site, "Operators team")
    ids = {}
    for email, name in (("a@shop.example", "Ann Lee"), ("b@shop.example", "Bo Berg"),
                        ("c@shop.example", "Cy Dahl")):
        ids[name] = parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password",
                               "correct horse", "--name", name)["operatorId"]
    team = parley.cli("team", "create", "--app", app["appId"], "--name", "Sales")["teamId"]
    for name in ("Ann Lee", "Cy Dahl"):
        parley.cli("team", "add-member", "--app", app["appId"], "--team", team, "--operator", ids[name])
    goto(page, host_site, parley, app, "operators-team", f"operators: ['{team}'],")
    page.evaluate("chaport.open()")
    avatars = page.frame_locator("iframe[data-parley=window]").locator(".avatars span")
    avatars.first.wait_for()
    assert sorted(avatars.all_inner_texts()) == ["AL", "CD"]


def test_open_in_a_named_window_opens_the_chat_there(page, host_site, parley, app):
    goto(page, host_site, parley, app, "open-in-named", "openIn: 'parley-support',")
    with page.context.expect_page() as opened:
        page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    chat = opened.value
    chat.wait_for_load_state()
    assert chat.url.startswith(f"{parley.url}/chat/{app['appId']}")
    assert chat.evaluate("window.name") == "parley-support"
    # The same name again: that window is reused (and navigated), no other one opens.
    pages = len(page.context.pages)
    with chat.expect_event("framenavigated"):
        page.evaluate("window.chaport.q('openIn', ['parley-support'])")
    assert len(page.context.pages) == pages
    chat.close()


def routed_to(page, host_site, parley, name, config, text):
    """The operator ids of the chat a visitor's first message `text` opens on a page of a fresh
    app with Sam (sales team) and Hana; returns (operatorIds, {name: operator id})."""
    app = fresh_app(parley, host_site, name)
    ids = {}
    for email, person in (("sales@shop.example", "Sam Sales"), ("help@shop.example", "Hana Help")):
        ids[person] = parley.cli("operator", "create", "--app", app["appId"], "--email", email,
                                 "--password", "correct horse", "--name", person)["operatorId"]
    team = parley.cli("team", "create", "--app", app["appId"], "--name", "Sales")["teamId"]
    parley.cli("team", "add-member", "--app", app["appId"], "--team", team, "--operator", ids["Sam Sales"])
    watcher = ScriptedOperator(parley.url, app["appId"], "help@shop.example", "correct horse")
    try:
        goto(page, host_site, parley, app, name, config.replace("SALES_TEAM", team))
        page.evaluate("chaport.open()")
        type_message(page, text)
        started = watcher.wait_for(lambda f: f["type"] == "chat.started")
        return started["chat"]["operatorIds"], ids
    finally:
        watcher.close()


def test_resolve_routes_the_new_chat_in_a_browser(page, host_site, parley):
    config = """assignments: { resolve: function (cp) {
        if (cp.compare(cp.getParameterValue('message_text'), 'contains', 'pricing')) return 'SALES_TEAM';
        return 'Hana Help';
    } },"""
    operator_ids, ids = routed_to(page, host_site, parley, "resolve-routes", config, "About pricing")
    assert operator_ids == [ids["Sam Sales"]]


def test_function_rule_routes_the_new_chat_in_a_browser(page, host_site, parley):
    # The function says no for this message: the next rule decides.
    config = """assignments: { rules: [
        { 'Hana Help': function (cp) {
            return cp.compare(cp.getParameterValue('message_text'), 'contains', 'help') } },
        { 'Sam Sales': true } ] },"""
    operator_ids, ids = routed_to(page, host_site, parley, "function-rule", config, "Hello there")
    assert operator_ids == [ids["Sam Sales"]]


def test_operators_option_is_where_a_chat_goes_without_rules(page, host_site, parley):
    operator_ids, ids = routed_to(page, host_site, parley, "operators-fallback",
                                  "operators: ['SALES_TEAM'],", "Hello")
    assert operator_ids == [ids["Sam Sales"]]


def test_triggers_enabled_ids_shows_only_those(page, host_site, parley):
    app = fresh_app(parley, host_site, "Triggers enabled ids")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Not this one", "--delay", "0")
    chosen = parley.cli("trigger", "add", "--app", app["appId"], "--message", "This one", "--delay", "0")
    chosen_id = chosen["id"] if "id" in chosen else chosen["triggerId"]
    goto(page, host_site, parley, app, "triggers-enabled-ids", f"triggers: {{ enabled: ['{chosen_id}'] }},",
         RECORD_EVENTS)
    bubble = page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
    bubble.wait_for()
    assert bubble.text_content() == "This one"
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.autoInvitation').map(e => e[1].id)") == [
        chosen_id]


def test_devices_include_shows_the_widget_only_there(browser, host_site, parley, app):
    # devices.include: ['mobile']: the desktop gets the API but nothing drawn; a phone the widget.
    config = "devices: { include: ['mobile'] },"
    desktop = browser.new_context()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                user_agent=IPHONE)
    try:
        page = desktop.new_page()
        snippet = snippet_with_config(f"appId: '{app['appId']}', " + config, parley.loader)
        listen = "chaport.on('ready', function () { window.ready = true; });"
        page.goto(host_site.page("include-desktop", f"<script>{snippet}</script><script>{listen}</script>"))
        page.wait_for_function("window.ready === true")
        assert page.evaluate("chaport.getWidgetState()") == "collapsed"
        assert page.locator("iframe[data-parley=launcher]").count() == 0
        goto(phone.new_page(), host_site, parley, app, "include-phone", config)  # the launcher is drawn
    finally:
        desktop.close()
        phone.close()


# The spec's "Modify and show an existing trigger", both interfaces, verbatim but for the id.
SPEC_TRIGGER_EXAMPLES = [
    """window.chaport.on('ready', function () {
var trigger = window.chaport.getTriggerById('5820a1375ddf087b2e54921d');
if (!trigger) {
throw new Error('trigger not found');
}
trigger.message = trigger.message.replace('%placeholder1%', 'some text');
window.chaport.setActiveTrigger(trigger);
});""",
    """window.chaport.on('ready', function () {
var trigger = window.chaport.q('getTriggerById', ['5820a1375ddf087b2e54921d']);
if (!trigger) {
throw new Error('trigger not found');
}
trigger.message = trigger.message.replace('%placeholder1%', 'some text');
window.chaport.q('setActiveTrigger', [trigger]);
});""",
]


def test_spec_get_trigger_by_id_then_set_active_trigger(page, host_site, parley):
    app = fresh_app(parley, host_site, "Spec trigger example")
    # Matching no page of the test: only the example shows it.
    trigger = parley.cli("trigger", "add", "--app", app["appId"], "--message",
                         "Need help with %placeholder1%?", "--delay", "0",
                         "--when", "page_url contains nowhere-at-all")
    trigger_id = trigger["id"] if "id" in trigger else trigger["triggerId"]
    for number, example in enumerate(SPEC_TRIGGER_EXAMPLES):
        goto(page, host_site, parley, app, f"spec-trigger-{number}", "",
             example.replace("5820a1375ddf087b2e54921d", trigger_id))
        bubble = page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
        bubble.wait_for()
        assert bubble.text_content() == "Need help with some text?"
        assert page.evaluate("chaport.getActiveTrigger()") == {"id": trigger_id,
                                                                "message": "Need help with some text?"}


@pytest.mark.parametrize("example", [
    "window.chaport.on('ready', function () {\nwindow.chaport.openIn('_blank');\n});",
    "window.chaport.q('openIn', [ '_blank' ]);",
])
def test_spec_open_in_blank_examples_open_the_chat_page(page, host_site, parley, app, example):
    with page.context.expect_page() as opened:
        goto(page, host_site, parley, app, "spec-open-in-blank", "", example)
    chat = opened.value
    chat.wait_for_load_state()
    assert chat.url.startswith(f"{parley.url}/chat/{app['appId']}")
    chat.close()


# The spec's listener examples for every event, in both forms (`listener` is the site's).
SPEC_LISTENERS = """window.heard = [];
function listenerFor(form) { return function (name) { return function (payload) {
  window.heard.push([name, form]); }; }; }
['ready', 'chat.autoInvitation', 'chat.botSent', 'chat.onlineChange', 'chat.started',
 'widget.stateChange'].forEach(function (name) {
  var listener = listenerFor('on')(name);
  window.chaport.on(name, listener);
  listener = listenerFor('q')(name);
  window.chaport.q('on', [name, listener]);
});"""


def heard(page, name):
    return sorted(page.evaluate(f"window.heard.filter(h => h[0] === '{name}').map(h => h[1])"))


def test_spec_listener_examples_of_every_event_in_both_forms(page, host_site, parley):
    app = fresh_app(parley, host_site, "Spec listeners")
    parley.cli("operator", "create", "--app", app["appId"], "--email", "l@shop.example",
               "--password", "correct horse", "--name", "Lea")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Hello!", "--delay", "0",
               "--when", "page_url contains listeners-invite")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Bot here", "--kind", "bot",
               "--delay", "0", "--when", "page_url contains listeners-bot")
    goto(page, host_site, parley, app, "listeners-invite", "", SPEC_LISTENERS)
    page.wait_for_function("window.heard.filter(h => h[0] === 'chat.autoInvitation').length === 2")
    assert heard(page, "ready") == ["on", "q"]
    operator = ScriptedOperator(parley.url, app["appId"], "l@shop.example", "correct horse")
    try:
        page.wait_for_function("window.heard.filter(h => h[0] === 'chat.onlineChange').length === 2")
    finally:
        operator.close()
    goto(page, host_site, parley, app, "listeners-bot", "", SPEC_LISTENERS)
    page.wait_for_function("window.heard.filter(h => h[0] === 'chat.botSent').length === 2")
    page.evaluate("chaport.open()")
    page.wait_for_function("window.heard.filter(h => h[0] === 'widget.stateChange').length === 2")
    type_message(page, "Hi")
    page.wait_for_function("window.heard.filter(h => h[0] === 'chat.started').length === 2")
    for name in ("ready", "chat.botSent", "widget.stateChange", "chat.started"):
        assert heard(page, name) == ["on", "q"], name


def test_open_in_blank_tab_keeps_the_sites_language_and_color(page, host_site, parley, app):
    goto(page, host_site, parley, app, "blank-look",
         "openIn: '_blank', language: { use: 'de' }, appearance: { windowColor: '#aa0000' },")
    with page.context.expect_page() as opened:
        page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    chat = opened.value
    chat.wait_for_load_state()
    inside = chat.frame_locator("#parley-chat iframe[data-parley=window]")
    composer = inside.locator("form.composer textarea")
    composer.wait_for()
    # The German placeholder and the site's colour, as on the site.
    assert composer.get_attribute("placeholder") == "Nachricht eingeben…"
    accent = inside.locator("body").evaluate("b => getComputedStyle(b).getPropertyValue('--accent')")
    assert accent.strip().lower() == "#aa0000"
    chat.close()
