"""The Chaport API in a real browser: options, methods and events beyond the skeleton.

Each page is the spec's minimal installation code with a config and the spec's
own example calls; only appId and the script URL differ.
"""

from __future__ import annotations

import json

from e2e.helpers import (
    API_READY,
    RECORD_EVENTS,
    console_caught_up,
    host_timers_ran,
    load,
    snippet_with_config,
    wait_for_js,
    wait_ready,
    wait_until,
)


def test_config_mistakes_warn_once_each_and_fall_back(page, host_site, parley, app, page_log):
    config = ("apperance: {}, appearance: { position: ['middle', 5, 5], windowColor: 42 }, "
              "launcher: { show: 'no' }")
    load(page, host_site, parley, app, "bad-config", config)
    warnings = page_log.parley("warning")
    assert any("unknown option 'apperance'" in w for w in warnings), warnings
    assert any("appearance.position[0] must be 'left' or 'right'" in w for w in warnings), warnings
    assert any("appearance.windowColor" in w for w in warnings), warnings
    assert any("launcher.show" in w for w in warnings), warnings
    assert len(warnings) == len(set(warnings))
    # Defaults apply: launcher visible in the bottom-right corner.
    box = page.locator("iframe[data-parley=launcher]").bounding_box()
    assert box["x"] > page.viewport_size["width"] / 2


def test_appearance_options(page, host_site, parley, app):
    config = """appearance: { windowColor: '#a077bc', teamName: 'My test team',
      onlineWelcome: 'Hello, we are online!', offlineWelcome: 'We are not online.',
      position: ['left', 20, 20], textStatuses: true },"""
    load(page, host_site, parley, app, "appearance", config, after="chaport.q('open');")
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    launcher = page.locator("iframe[data-parley=launcher]").bounding_box()
    assert (launcher["x"], launcher["y"] + 60) == (20, page.viewport_size["height"] - 20)
    window = page.frame_locator("iframe[data-parley=window]")
    assert window.locator("h1").text_content() == "My test team"
    assert window.locator(".bubble").text_content() == "We are not online."
    color = window.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(160, 119, 188)"


def test_named_window_color_and_readable_text(page, host_site, parley, app):
    load(page, host_site, parley, app, "named-color", "appearance: { windowColor: 'orange' },",
         after="chaport.q('open');")
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    header = page.frame_locator("iframe[data-parley=window]").locator("header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 140, 0)"
    assert header.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"  # black reads better on orange


def test_launcher_show_false_hide_show_launcher_and_close_button(page, host_site, parley, app):
    load(page, host_site, parley, app, "launcher-hidden", "launcher: { show: false },")
    launcher = page.locator("iframe[data-parley=launcher]")
    assert not launcher.is_visible()
    page.evaluate("chaport.open()")
    close = page.frame_locator("iframe[data-parley=window]").get_by_role("button", name="Close chat")
    assert close.is_visible()  # the spec: shown when the launcher is hidden
    close.click()
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    page.evaluate("chaport.showLauncher()")
    assert launcher.is_visible()
    page.evaluate("chaport.hideLauncher()")
    assert not launcher.is_visible()


def test_close_button_false(page, host_site, parley, app):
    load(page, host_site, parley, app, "no-close", "launcher: { show: false }, closeButton: false,")
    page.evaluate("chaport.open()")
    close = page.frame_locator("iframe[data-parley=window]").get_by_role("button", name="Close chat")
    assert not close.is_visible()


def test_update_position_with_callback(page, host_site, parley, app, page_log):
    load(page, host_site, parley, app, "position")
    page.evaluate("""window.moved = 0; window.chaport.updatePosition(['right', 0, 100], function() {
        console.log('position changed'); window.moved += 1; })""")
    page.wait_for_function("window.moved === 1")
    box = page.locator("iframe[data-parley=launcher]").bounding_box()
    assert box["x"] + box["width"] == page.viewport_size["width"]
    assert box["y"] + box["height"] == page.viewport_size["height"] - 100
    page.evaluate("window.chaport.q('updatePosition', [['left', 10, 10]])")
    page.wait_for_function("document.querySelector('iframe[data-parley=launcher]')"
                           ".getBoundingClientRect().x === 10")
    page.evaluate("chaport.updatePosition(['up'])")
    console_caught_up(page, page_log)
    assert any("position[0] must be 'left' or 'right'" in e for e in page_log.parley("error"))


def test_compare_both_interfaces(page, host_site, parley, app, page_log):
    load(page, host_site, parley, app, "compare")
    results = page.evaluate("""[
        chaport.compare('Hello', '=', 'hello'), chaport.compare('a', '!=', 'A'),
        chaport.compare('https://example.com/x', 'contains', 'example.com'),
        chaport.compare('abc', '!contains', 'z'), chaport.compare(10, 'gt', 9),
        chaport.compare('10', '>', 9), chaport.compare(3, 'lt', 4), chaport.compare(4, '<=', 4),
        chaport.compare(5, 'gte', 6), chaport.q('compare', ['x', '=', 'X']),
    ]""")
    assert results == [True, False, True, True, True, True, True, True, False, True]
    assert page.evaluate("chaport.compare(1, '~', 2)") is False
    assert any("unknown matcher" in e for e in page_log.parley("error"))


def test_get_parameter_value(page, host_site, parley, app, page_log):
    load(page, host_site, parley, app, "params",
         query="?utm_source=news&utm_medium=email&utm_term=bikes&utm_campaign=fall%20sale&utm_content=a+b")
    values = page.evaluate("""['page_url','referrer_url','language','utm_source','utm_medium','utm_term',
        'utm_campaign','utm_content','message_text'].map(k => chaport.getParameterValue(k))""")
    assert values[0].endswith("/params.html?utm_source=news&utm_medium=email&utm_term=bikes"
                              "&utm_campaign=fall%20sale&utm_content=a+b")
    assert values[2] == "en"
    assert values[3:8] == ["news", "email", "bikes", "fall sale", "a b"]
    assert values[8] is None
    assert page.evaluate("chaport.q('getParameterValue', ['utm_source'])") == "news"
    assert page.evaluate("chaport.getParameterValue('nope')") is None
    assert any("unknown parameter" in e for e in page_log.parley("error"))


def test_is_online_both_interfaces(page, host_site, parley, app):
    load(page, host_site, parley, app, "online", before="window.answers = [];",
         after="""window.chaport.q('isOnline', [function (isOnline) {
             window.answers.push(['q', isOnline]); }]);""")
    page.evaluate("window.chaport.isOnline(function (isOnline) { window.answers.push(['t', isOnline]); })")
    page.wait_for_function("window.answers.length === 2")
    assert sorted(page.evaluate("window.answers")) == [["q", False], ["t", False]]


def test_results_survive_the_runtimes_garbage_collection(page, host_site, parley, app):
    """MicroPython 1.27 collects garbage when a call from the page returns, before it turns
    the result into a JS value: an object built for the answer could be freed first, and
    getActiveTrigger() then answered undefined now and then (seen in CI)."""
    load(page, host_site, parley, app, "gc-results")
    page.evaluate("""window.chaport.setActiveTrigger({ message: "Still here?" })""")
    page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p").wait_for()
    missing = page.evaluate("""() => {
        let missing = 0;
        for (let i = 0; i < 3000; i++) {
            const trigger = chaport.getActiveTrigger();
            const queued = chaport.q('getActiveTrigger');
            if (!trigger || trigger.message !== "Still here?") missing++;
            if (!queued || queued.message !== "Still here?") missing++;
        }
        return missing;
    }""")
    assert missing == 0


def test_set_active_trigger_shows_custom_invitation_and_fires_event(page, host_site, parley, app):
    load(page, host_site, parley, app, "invite", before="window.invites = [];",
         after="window.chaport.on('chat.autoInvitation', function (d) { window.invites.push(d); });")
    page.evaluate("""window.chaport.setActiveTrigger({ message: "Custom message" })""")
    bubble = page.frame_locator("iframe[data-parley=invitation]").locator(".bubble p")
    assert bubble.text_content() == "Custom message"
    assert page.evaluate("chaport.getActiveTrigger().message") == "Custom message"
    assert page.evaluate("window.invites.length") == 1
    assert page.evaluate("window.invites[0].message") == "Custom message"
    # Clicking the invitation opens the chat.
    page.frame_locator("iframe[data-parley=invitation]").locator(".bubble").click()
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    assert not page.locator("iframe[data-parley=invitation]").is_visible()


def test_trigger_switches_and_unknown_trigger(page, host_site, parley, app):
    load(page, host_site, parley, app, "trigger-switches", "triggers: { disabled: ['t1'] },")
    assert page.evaluate("chaport.getTriggerById('5820a1375ddf087b2e54921d')") is None
    page.evaluate("chaport.disableTriggers(); chaport.enableTriggers(['t1']); "
                  "chaport.q('disableTriggers', ['a', 'b'])")
    assert page.evaluate("chaport.getActiveTrigger()") is None


def test_listener_that_throws_does_not_stop_others(page, host_site, parley, app, page_log):
    load(page, host_site, parley, app, "throwing-listener", before="window.calls = [];", after="""
        window.chaport.on('widget.stateChange', function () { throw new Error('host bug'); });
        window.chaport.on('widget.stateChange', function (s) { window.calls.push(s); });""")
    page.evaluate("chaport.open()")
    assert page.evaluate("window.calls") == ["expanded"]
    assert any("listener threw" in e and "host bug" in e for e in page_log.parley("error"))


def test_language_use_and_source(page, host_site, parley, app):
    load(page, host_site, parley, app, "lang-use", "language: { use: 'de' },", after="chaport.q('open');")
    label = page.frame_locator("iframe[data-parley=launcher]").locator("button").get_attribute("aria-label")
    assert label == "Chat schließen"
    # The widget speaks German; the visitor's language stays the browser's (en-US here).
    assert page.evaluate("chaport.getParameterValue('language')") == "en"
    page.evaluate("chaport.close()")  # else the next page restores it open
    snippet = snippet_with_config(f"appId: '{app['appId']}', language: {{ source: 'html' }}", parley.loader)
    url = host_site.page("lang-html", f"<script>{snippet}</script>")
    (host_site.folder / "lang-html.html").write_text(
        (host_site.folder / "lang-html.html").read_text().replace("lang='en'", "lang='fr'"))
    page.goto(url)
    wait_ready(page)
    label = page.frame_locator("iframe[data-parley=launcher]").locator("button").get_attribute("aria-label")
    assert label == "Ouvrir le chat"


def test_devices_exclude_desktop_hides_the_widget_but_keeps_the_api(page, host_site, parley, app):
    config = f"appId: '{app['appId']}', devices: {{ exclude: ['desktop'] }}"
    snippet = snippet_with_config(config, parley.loader)
    page.goto(host_site.page("no-desktop", f"<script>{snippet}</script><script>{RECORD_EVENTS}</script>"))
    # `ready` fires in the task that decides whether the widget is drawn, before it draws it.
    page.wait_for_function("window.events.some(e => e[0] === 'ready')")
    assert page.locator("iframe[data-parley=launcher]").count() == 0
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"


def test_mobile_device_config_from_the_spec_example(browser, host_site, parley, app):
    # The spec's "More complete example": devices.mobile shifts the launcher up.
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    page = context.new_page()
    config = (f"appId: '{app['appId']}', language: {{ use: 'en' }}, "
              "devices: { mobile: { appearance: { position: ['right', 0, 50] } } }")
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    snippet = snippet_with_config(config, parley.loader)
    page.goto(host_site.page("mobile", f"<script>{snippet}</script>", viewport))
    wait_ready(page)
    box = page.locator("iframe[data-parley=launcher]").bounding_box()
    assert box["x"] + box["width"] == 390
    assert box["y"] + box["height"] == 844 - 50
    context.close()


def test_start_session_with_auto_start_off(page, host_site, parley, app):
    load_args = dict(config="session: { autoStart: false },", before="window.started = 0;")
    snippet = snippet_with_config(f"appId: '{app['appId']}', {load_args['config']}", parley.loader)
    page.goto(host_site.page("manual-session", f"<script>{snippet}</script>"))
    # The API is installed in the task that decides, from autoStart, not to start a session.
    page.wait_for_function(API_READY)
    assert page.locator("iframe[data-parley=launcher]").count() == 0  # no session, no widget
    page.evaluate("window.chaport.startSession(undefined, function () { window.started = 1; })")
    wait_ready(page)
    page.wait_for_function("window.started === 1")


def test_stop_session_with_clear_credentials_forgets_the_visitor(page, host_site, parley, app):
    load(page, host_site, parley, app, "stop-session", before="window.ids = [];",
         after="window.chaport.on('ready', function (d) { window.ids.push(d.visitorId); });")
    page.wait_for_function("window.ids.length === 1")
    page.evaluate("window.stopped = 0; chaport.stopSession(true, function () { window.stopped = 1; })")
    page.wait_for_function("window.stopped === 1")
    assert page.locator("iframe[data-parley=launcher]").count() == 0
    page.evaluate("chaport.startSession()")
    page.wait_for_function("window.ids.length === 2")
    ids = page.evaluate("window.ids")
    assert ids[0] != ids[1]


def test_analytics_gtag_detected_and_events_sent(page, host_site, parley, app):
    before = "window.gaCalls = []; window.gtag = function () { window.gaCalls.push(Array.from(arguments)); };"
    load(page, host_site, parley, app, "ga-gtag", "analytics: { google: { id: 'G-TEST' } },", before=before)
    page.evaluate("chaport.open(); chaport.close()")
    calls = page.evaluate("window.gaCalls")
    assert [c[1] for c in calls] == ["chaport_widget_expanded", "chaport_widget_collapsed"]
    assert calls[0][0] == "event" and calls[0][2]["send_to"] == "G-TEST"


def test_analytics_custom_gtm_data_layer_and_disabled(page, host_site, parley, app):
    before = "window.myLayer = [];"
    config = "analytics: { google: { id: 'G-1', api: 'gtm', apiObject: window.myLayer } },"
    load(page, host_site, parley, app, "ga-gtm", config, before=before)
    page.evaluate("chaport.open()")
    assert page.evaluate("window.myLayer.map(e => e.event)") == ["chaport_widget_expanded"]
    before = "window.gaCalls = []; window.gtag = function () { window.gaCalls.push(1); };"
    load(page, host_site, parley, app, "ga-off", "analytics: { google: { enabled: false } },", before=before)
    page.evaluate("chaport.open()")
    assert page.evaluate("window.gaCalls.length") == 0


def test_spa_route_changes_and_new_page_view_send_page_views(page, host_site, parley, app):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    load(page, host_site, parley, app, "spa")
    page.evaluate("history.pushState({}, '', '/spa/step-2'); history.replaceState({}, '', '/spa/step-2')")
    page.evaluate("location.hash = 'details'")
    page.evaluate("window.chaport.newPageView({ url: 'http://example.com/page2', title: 'My test page' })")
    page.evaluate("window.chaport.q('newPageView')")

    def views_sent() -> list[dict]:
        return [json.loads(f) for f in sent if '"page.view"' in f]

    def titles() -> list:
        return [v.get("title") for v in views_sent()]

    # Frames go in order: once the view after the API's titled one came, a view the
    # replaceState had made would be among them.
    wait_until(page, lambda: "My test page" in titles()[:-1], what="the view after 'My test page'")
    views = views_sent()
    views = [{k: v[k] for k in ("url", "title", "referrer")} for v in views]
    urls = [v["url"] for v in views]
    assert urls[0].endswith("/spa/step-2")
    assert urls[1].endswith("/spa/step-2#details")
    assert views[2] == {"url": "http://example.com/page2", "title": "My test page", "referrer": ""}
    assert urls[3].endswith("/spa/step-2#details")
    assert len(views) == 4  # replaceState to the same URL is not a new page


def test_mobile_back_button_collapses_the_window(browser, host_site, parley, app):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0 Mobile Safari/537.36")
    page = context.new_page()
    load(page, host_site, parley, app, "mobile-back")
    url = page.url
    page.evaluate("chaport.open()")
    page.go_back()
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    assert page.url == url  # still on the page: Back only collapsed the chat
    # Closed by the API: our history entry is dropped again.
    length = page.evaluate("history.length")
    page.evaluate("chaport.open()")
    page.evaluate("chaport.close()")
    page.wait_for_function("!(history.state && history.state.parleyChat)")  # its history.back() is done
    page.go_back()  # returns once the navigation (if any) is done
    assert page.evaluate("history.length") >= length
    context.close()


def test_history_false_keeps_back_for_the_site(browser, host_site, parley, app):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0 Mobile Safari/537.36")
    page = context.new_page()
    load(page, host_site, parley, app, "mobile-no-history", "history: false,")
    length = page.evaluate("history.length")
    page.evaluate("chaport.open()")
    assert page.evaluate("history.length") == length
    context.close()


def test_open_in_selector_renders_inside_the_element(page, host_site, parley, app):
    snippet = snippet_with_config(f"appId: '{app['appId']}', openIn: {{ selector: '#chat-container' }}",
                                  parley.loader)
    body = f"<div id='chat-container' style='width:500px;height:450px'></div><script>{snippet}</script>"
    page.goto(host_site.page("open-in", body))
    wait_ready(page)
    page.evaluate("chaport.open()")
    inside = page.locator("#chat-container iframe[data-parley=window]")
    assert inside.is_visible()
    box = inside.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (500, 450)
    # openIn() with another element moves it there.
    page.evaluate("""document.body.insertAdjacentHTML('beforeend',
        "<div id='other' style='width:300px;height:420px'></div>");
        window.chaport.openIn({ selector: '#other' })""")
    moved = page.locator("#other iframe[data-parley=window]")
    assert moved.is_visible()
    assert page.frame_locator("#other iframe[data-parley=window]").locator("h1").is_visible()


def test_session_persist_false_and_cookie_domain(page, host_site, parley, app):
    load(page, host_site, parley, app, "no-persist", "session: { persist: false },")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('parley'))") == []
    assert page.evaluate("document.cookie") == ""
    load(page, host_site, parley, app, "cookie-domain", "session: { cookieDomain: '127.0.0.1' },",
         before="window.ids = [];",
         after="chaport.on('ready', function (d) { window.ids.push(d.visitorId); });")
    page.wait_for_function("window.ids.length === 1")
    cookie = page.evaluate("document.cookie")
    assert cookie.startswith("parley_") and page.evaluate("window.ids[0]") in cookie
    page.reload()
    wait_ready(page)
    page.wait_for_function("window.ids.length === 1")
    assert page.evaluate("window.ids[0]") in cookie  # same visitor, from the cookie


def test_no_cookie_and_only_local_storage_by_default(page, host_site, parley, app):
    load(page, host_site, parley, app, "default-storage")
    # The credentials are stored when the server welcomes the visitor, before the launcher is drawn.
    page.wait_for_function("Object.keys(localStorage).length > 0")
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("Object.keys(localStorage)") == [f"parley:{app['appId']}"]


def test_open_in_blank_continues_the_chat_on_parleys_own_page(page, host_site, parley, app):
    load(page, host_site, parley, app, "open-in-blank", "openIn: '_blank',", before="window.ids = [];",
         after="chaport.on('ready', function (d) { window.ids.push(d.visitorId); });")
    page.wait_for_function("window.ids.length === 1")
    visitor_id = page.evaluate("window.ids[0]")
    with page.context.expect_page() as opened:
        page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    chat = opened.value
    chat.wait_for_load_state()
    assert chat.url.startswith(f"{parley.url}/chat/{app['appId']}")
    # Our chat page has a strict CSP (no eval), so poll with evaluate, not wait_for_function.
    wait_for_js(chat, f"() => !!({API_READY} && chaport.getWidgetState() === 'expanded')")
    assert "#" not in chat.url  # the handed-over token left the address bar at once
    ids = []
    chat.evaluate("window.chaport.on('ready', function (d) { window.readyId = d.visitorId; })")
    wait_for_js(chat, "() => !!window.readyId")
    ids.append(chat.evaluate("window.readyId"))
    assert ids == [visitor_id]  # the same visitor, so the same chat
    inside = chat.locator("#parley-chat iframe[data-parley=window]")
    box = inside.bounding_box()
    assert box["width"] == chat.viewport_size["width"]
    # The original page stays collapsed; openIn('_blank') opens it again.
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"
    chat.close()
    with page.context.expect_page() as again:
        page.evaluate("window.chaport.openIn('_blank')")
    # Closed once the handover is over: a tab closed while the opener moves it to its
    # token (location.replace) left Playwright's close() waiting forever (2 runs in 5).
    wait_for_js(again.value, f"() => !!({API_READY} && chaport.getWidgetState() === 'expanded')")
    again.value.close()


def test_init_event_target_and_delay_after_event(page, host_site, parley, app):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/widget/boot." in r.url else None)
    config = (f"appId: '{app['appId']}', init: {{ event: 'consent', eventTarget: document.documentElement, "
              "maxDelay: 60000, delayAfterEvent: 300 }")
    snippet = snippet_with_config(config, parley.loader)
    page.goto(host_site.page("event-target", f"<script>{snippet}</script>"))
    page.wait_for_load_state("load")
    page.evaluate("window.dispatchEvent(new Event('consent'))")  # the wrong target: ignored
    host_timers_ran(page, 300)  # had it counted, the loader's delayAfterEvent timer would have run
    assert page.locator("iframe[data-parley=runtime]").count() == 0
    assert requests == []
    # delayAfterEvent: the runtime frame comes 300 ms after the event, measured in the page.
    page.evaluate("""() => {
        new MutationObserver((_, observer) => {
            if (document.querySelector('iframe[data-parley=runtime]')) {
                window.startedAt = performance.now();
                observer.disconnect();
            }
        }).observe(document.documentElement, {childList: true});
        window.consentAt = performance.now();
        document.documentElement.dispatchEvent(new Event('consent'));
    }""")
    wait_ready(page)
    assert page.evaluate("window.startedAt - window.consentAt") >= 299
    assert len(requests) == 1


def test_listeners_added_after_ready_in_both_interfaces(page, host_site, parley, app):
    load(page, host_site, parley, app, "late-listeners")
    page.evaluate("""window.late = [];
        window.chaport.on('ready', function (d) { window.late.push(['on', d.visitorId]); });
        window.chaport.q('on', ['widget.stateChange', function (s) { window.late.push(['q', s]); }]);""")
    page.wait_for_function("window.late.length === 1")
    page.evaluate("chaport.open()")
    late = page.evaluate("window.late")
    assert late[0][0] == "on" and len(late[0][1]) == 24
    assert late[1] == ["q", "expanded"]
