"""The Chaport API features that need the server: users, hashes, triggers, assignment, countries."""

from __future__ import annotations

import json

from e2e.helpers import (
    RECORD_EVENTS,
    bubbles,
    frames_received,
    fresh_app,
    goto,
    host_timers_ran,
    page_url,
    sha1,
    snippet_with_config,
    type_message,
    wait_ready,
    wait_until,
)
from e2e.operator import ScriptedOperator


def test_logged_in_user_sees_the_same_chat_on_two_browsers(browser, host_site, parley):
    app = fresh_app(parley, host_site, "Users")
    user = {"id": "user-42", "token": sha1(app["secret"] + "user-42")}
    config = f"session: {{ user: {json.dumps(user)} }},"
    laptop, phone = browser.new_context(), browser.new_context()
    first = laptop.new_page()
    goto(first, host_site, parley, app, "user-laptop", config, RECORD_EVENTS)
    first.wait_for_function("window.events.some(e => e[0] === 'ready')")
    assert first.evaluate("window.events.find(e => e[0] === 'ready')[1].visitorId") == "user-42"
    first.evaluate("chaport.open()")
    type_message(first, "sent from my laptop")
    bubbles(first, "visitor").first.wait_for()
    second = phone.new_page()
    goto(second, host_site, parley, app, "user-phone", config)
    second.evaluate("chaport.open()")
    bubbles(second, "visitor").first.wait_for()
    assert bubbles(second, "visitor").all_text_contents() == ["sent from my laptop"]
    laptop.close()
    phone.close()


def test_bad_user_token_is_rejected_with_a_clear_error(page, host_site, parley, page_log):
    app = fresh_app(parley, host_site, "Bad token")
    config = "session: { user: { id: 'user-1', token: 'forged' } },"
    snippet = snippet_with_config(f"appId: '{app['appId']}',{config}", parley.loader)
    page.goto(host_site.page("bad-token", f"<script>{snippet}</script>"))
    wait_until(page, lambda: page_log.parley("error"), 15, "a console error")
    assert any("PARLEY_E_BAD_TOKEN" in e for e in page_log.parley("error")), page_log.parley()
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"


def test_start_session_with_credentials_via_command_queue(page, host_site, parley):
    app = fresh_app(parley, host_site, "startSession")
    credentials = {"id": "member-7", "token": sha1(app["secret"] + "member-7")}
    config = "session: { autoStart: false },"
    after = RECORD_EVENTS + f"window.chaport.q('startSession', {json.dumps(credentials)});"
    goto(page, host_site, parley, app, "start-session-user", config, after)
    page.wait_for_function("window.events.some(e => e[0] === 'ready')")
    assert page.evaluate("window.events.find(e => e[0] === 'ready')[1].visitorId") == "member-7"


def test_set_visitor_data_with_and_without_integrity_hash(page, host_site, parley):
    app = fresh_app(parley, host_site, "Hash")
    frames = frames_received(page)
    data = {"name": "John Doe", "email": "john@example.com",
            "custom": {"subscriptionPlan": "pro", "balance": 1000}}
    signed = sha1(app["secret"] + json.dumps(data, separators=(",", ":")))
    config = f"visitor: {json.dumps(data)}, visitorIntegrityHash: '{signed}',"
    goto(page, host_site, parley, app, "hash", config)

    def last_visitor(after: int = 0) -> dict | None:
        """The newest `visitor` frame, if more than `after` came."""
        found = [f["visitor"] for f in frames if f["type"] == "visitor"]
        return found[-1] if len(found) > after else None

    def visitor_frame_count() -> int:
        return sum(f["type"] == "visitor" for f in frames)

    visitor = wait_until(page, lambda: last_visitor(), what="the visitor frame")
    assert visitor["name"] == "John Doe" and visitor["verified"] is True
    assert visitor["custom"] == {"subscriptionPlan": "pro", "balance": 1000}
    # Unsigned: signed values stay (the name and custom fields alike); a new custom key is added.
    before = visitor_frame_count()
    page.evaluate("window.chaport.setVisitorData({ name: 'Mallory', custom: { balance: 5, theme: 'dark' } })")
    visitor = wait_until(page, lambda: last_visitor(before), what="the visitor frame after the update")
    assert visitor["name"] == "John Doe"
    assert visitor["custom"] == {"subscriptionPlan": "pro", "balance": 1000, "theme": "dark"}
    # A bad hash changes nothing and says so.
    page.evaluate("window.chaport.q('setVisitorData', [{ name: 'Eve' }, 'a1b2c3d4e5f6'])")
    wait_until(page, lambda: [f for f in frames if f.get("code") == "PARLEY_E_BAD_HASH"], what="BAD_HASH")
    # A correct hash over new data updates the name.
    renamed = {"name": "John Q. Doe"}
    good = sha1(app["secret"] + json.dumps(renamed, separators=(",", ":")))
    before = visitor_frame_count()
    page.evaluate(f"window.chaport.setVisitorData({json.dumps(renamed)}, '{good}')")
    assert wait_until(page, lambda: last_visitor(before), what="the renamed visitor")["name"] == "John Q. Doe"


def test_server_trigger_shows_invitation_once_per_visitor(page, host_site, parley):
    app = fresh_app(parley, host_site, "Triggers")
    trigger = parley.cli("trigger", "add", "--app", app["appId"], "--message", "Questions about pricing?",
                         "--delay", "1", "--when", "page_url contains pricing")
    trigger_id = trigger["id"] if "id" in trigger else trigger["triggerId"]
    goto(page, host_site, parley, app, "about", "", RECORD_EVENTS)
    host_timers_ran(page, 1000)  # the trigger's delay: had it matched, it would have shown by now
    assert page.locator("iframe[data-parley=invitation]").count() == 0  # condition does not match
    assert page.evaluate("id => chaport.getTriggerById(id)", trigger_id) == {
        "id": trigger_id, "message": "Questions about pricing?"}
    goto(page, host_site, parley, app, "pricing", "", RECORD_EVENTS)
    bubble = page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
    bubble.wait_for(timeout=5000)
    assert bubble.text_content() == "Questions about pricing?"
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.autoInvitation').map(e => e[1])") == [
        {"id": trigger_id, "message": "Questions about pricing?"}]
    assert page.evaluate("chaport.getActiveTrigger()")["id"] == trigger_id
    # Another pricing page: the invitation comes back, the event does not fire again.
    goto(page, host_site, parley, app, "pricing-2", "", RECORD_EVENTS)
    bubble.wait_for(timeout=5000)
    # The event would have fired in the same task that drew the invitation, before its text showed.
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.autoInvitation').length") == 0


def test_disabled_triggers_do_not_show(page, host_site, parley):
    app = fresh_app(parley, host_site, "Triggers off")
    parley.cli("trigger", "add", "--app", app["appId"], "--message", "Hi!", "--delay", "0")
    goto(page, host_site, parley, app, "triggers-off", "triggers: false,")
    host_timers_ran(page, 0)  # the trigger's delay: an enabled one would have shown by now
    assert page.locator("iframe[data-parley=invitation]").count() == 0
    goto(page, host_site, parley, app, "triggers-disabled-call", "", "window.chaport.q('disableTriggers');")
    host_timers_ran(page, 0)
    assert page.locator("iframe[data-parley=invitation]").count() == 0


def test_assignment_rules_route_the_new_chat(page, host_site, parley):
    app = fresh_app(parley, host_site, "Routing")
    sales = parley.cli("operator", "create", "--app", app["appId"], "--email", "sales@shop.example",
                       "--password", "correct horse", "--name", "Sam Sales")
    parley.cli("operator", "create", "--app", app["appId"], "--email", "help@shop.example",
               "--password", "correct horse", "--name", "Hana Help")
    watcher = ScriptedOperator(parley.url, app["appId"], "help@shop.example", "correct horse")
    seller = ScriptedOperator(parley.url, app["appId"], "sales@shop.example", "correct horse")
    try:
        config = """assignments: { rules: [
            { 'sales@shop.example': ['message_text', 'contains', 'pricing'] },
            { 'Hana Help': true } ] },"""
        goto(page, host_site, parley, app, "routing", config)
        page.evaluate("chaport.open()")
        avatars = page.frame_locator("iframe[data-parley=window]").locator(".avatars span")
        assert sorted(avatars.all_inner_texts()) == ["HH", "SS"]
        type_message(page, "A question about pricing")
        started = watcher.wait_for(lambda f: f["type"] == "chat.started")
        assert started["chat"]["operatorIds"] == [sales["operatorId"]]
    finally:
        watcher.close()
        seller.close()


def test_operators_option_limits_the_header(page, host_site, parley):
    app = fresh_app(parley, host_site, "Operators option")
    for email, name in (("a@shop.example", "Ann Lee"), ("b@shop.example", "Bo Berg")):
        parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password",
                   "correct horse", "--name", name)
    goto(page, host_site, parley, app, "operators-option", "operators: ['Bo Berg'],")
    page.evaluate("chaport.open()")
    avatars = page.frame_locator("iframe[data-parley=window]").locator(".avatars span")
    assert avatars.all_inner_texts() == ["BB"]
    assert avatars.first.get_attribute("aria-label") == "Bo Berg"


def test_countries_and_country_parameter(page, host_site, parley):
    app = fresh_app(parley, host_site, "Countries")
    goto(page, host_site, parley, app, "country", "countries: { include: ['NO', 'SE'] },")
    assert page.evaluate("chaport.getParameterValue('country')") == "NO"
    assert page.locator("iframe[data-parley=launcher]").is_visible()
    # `ready` fires in the task that decides whether the widget is drawn, before it draws it.
    page.goto(page_url(host_site, parley, app, "country-excluded", "countries: { exclude: ['NO'] },",
                       RECORD_EVENTS))
    page.wait_for_function("window.events && window.events.some(e => e[0] === 'ready')")
    assert page.locator("iframe[data-parley=launcher]").count() == 0
    page.goto(page_url(host_site, parley, app, "country-not-included", "countries: { include: ['US'] },",
                       RECORD_EVENTS))
    page.wait_for_function("window.events && window.events.some(e => e[0] === 'ready')")
    assert page.locator("iframe[data-parley=launcher]").count() == 0


def test_online_change_and_is_online_follow_operator_presence(page, host_site, parley):
    app = fresh_app(parley, host_site, "Presence")
    parley.cli("operator", "create", "--app", app["appId"], "--email", "p@shop.example",
               "--password", "correct horse", "--name", "Pia")
    after = ("window.online = []; "
             "window.chaport.on('chat.onlineChange', function (v) { window.online.push(v); });")
    goto(page, host_site, parley, app, "presence", "", after)
    page.evaluate("chaport.open()")
    status = page.frame_locator("iframe[data-parley=window]").locator("header p")
    assert status.text_content() == "We're away"
    operator = ScriptedOperator(parley.url, app["appId"], "p@shop.example", "correct horse")
    page.wait_for_function("window.online.length === 1")
    assert page.evaluate("window.online") == [True]
    assert status.text_content() == "We're online"
    page.evaluate("window.answer = null; chaport.isOnline(function (v) { window.answer = v; })")
    page.wait_for_function("window.answer === true")
    operator.close()
    page.wait_for_function("window.online.length === 2")
    assert page.evaluate("window.online") == [True, False]


def test_bot_trigger_fires_chat_bot_sent(page, host_site, parley):
    app = fresh_app(parley, host_site, "Bot")
    bot = parley.cli("trigger", "add", "--app", app["appId"], "--message", "I'm the shop bot. Ask me!",
                     "--kind", "bot", "--delay", "0")
    bot_id = bot["id"] if "id" in bot else bot["triggerId"]
    goto(page, host_site, parley, app, "bot", "", RECORD_EVENTS)
    page.wait_for_function("window.events.some(e => e[0] === 'chat.botSent')")
    assert page.evaluate("window.events.find(e => e[0] === 'chat.botSent')[1]") == {
        "id": bot_id, "message": "I'm the shop bot. Ask me!"}
    assert page.evaluate("window.events.filter(e => e[0] === 'chat.autoInvitation').length") == 0


def test_responsive_false_keeps_the_floating_window_on_mobile(browser, host_site, parley):
    app = fresh_app(parley, host_site, "Not responsive")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0 Mobile Safari/537.36")
    page = context.new_page()
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    snippet = snippet_with_config(f"appId: '{app['appId']}', responsive: false", parley.loader)
    page.goto(host_site.page("not-responsive", f"<script>{snippet}</script>", viewport))
    wait_ready(page)
    page.evaluate("chaport.open()")
    box = page.locator("iframe[data-parley=window]").bounding_box()
    assert box["width"] < 390 and box["y"] > 0
    context.close()


def test_app_default_rules_apply_unless_the_page_disables_them(page, host_site, parley):
    app = fresh_app(parley, host_site, "Default rules")
    ops = {}
    for email, name in (("vip@shop.example", "Vera Vip"), ("all@shop.example", "Al All")):
        ops[email] = parley.cli("operator", "create", "--app", app["appId"], "--email", email,
                                "--password", "correct horse", "--name", name)["operatorId"]
    parley.cli("app", "set", "--app", app["appId"],
               "--assignment-rules", '[{"vip@shop.example": ["message_text", "contains", "vip"]}]')
    watchers = [ScriptedOperator(parley.url, app["appId"], email, "correct horse") for email in ops]
    try:
        goto(page, host_site, parley, app, "default-rules")
        page.evaluate("chaport.open()")
        type_message(page, "I am a VIP customer")
        started = watchers[0].wait_for(lambda f: f["type"] == "chat.started")
        assert started["chat"]["operatorIds"] == [ops["vip@shop.example"]]
    finally:
        for watcher in watchers:
            watcher.close()


def test_default_rules_empty_disables_the_apps_rules(browser, host_site, parley):
    app = fresh_app(parley, host_site, "Default rules off")
    vip = parley.cli("operator", "create", "--app", app["appId"], "--email", "vip@shop.example",
                     "--password", "correct horse", "--name", "Vera Vip")["operatorId"]
    parley.cli("app", "set", "--app", app["appId"],
               "--assignment-rules", '[{"vip@shop.example": ["message_text", "contains", "vip"]}]')
    context = browser.new_context()
    page = context.new_page()
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(json.loads(p))))
    sent = []
    goto(page, host_site, parley, app, "default-rules-off", "assignments: { defaultRules: [] },")
    page.evaluate("chaport.open()")
    type_message(page, "I am a VIP customer")
    first = wait_until(page, lambda: next((f for f in sent if f["type"] == "message.send"), None),
                       what="the message.send frame")
    assert "assignees" not in first  # no rule chose anyone: the server's round robin decides
    assert vip  # the VIP rule exists on the app, but this page turned it off
    context.close()
