"""The walking skeleton, end to end: snippet -> Python widget -> Parley server."""

from __future__ import annotations

from e2e.helpers import (
    API_READY,
    ParleyServer,
    console_caught_up,
    frames_received,
    host_timers_ran,
    snippet_with_config,
    wait_ready,
    wait_until,
)

RECORD_READY = """<script>
window.readyCalls = [];
window.chaport.on('ready', function (data) { window.readyCalls.push(data); });
</script>"""


def history_answered(page, frames: list[dict]) -> None:
    """Until the server answered the widget's history request: the last frame it sends after
    its welcome, so a second welcome (or a second runtime's) would have come before."""
    wait_until(page, lambda: any(f["type"] == "history" for f in frames), what="the history reply")


def test_ready_fires_once_with_a_visitor_id(page, host_site, install, page_log):
    frames = frames_received(page)
    url = host_site.page("ready", f"<p>shop</p><script>{install()}</script>{RECORD_READY}")
    page.goto(url)
    wait_ready(page)
    page.wait_for_function("window.readyCalls.length > 0")
    history_answered(page, frames)
    calls = page.evaluate("window.readyCalls")
    assert len(calls) == 1
    assert isinstance(calls[0]["visitorId"], str) and len(calls[0]["visitorId"]) == 24
    # The payload is a host-realm object: plain JS works on it.
    keys = page.evaluate("window.readyCalls[0] instanceof Object && Object.keys(window.readyCalls[0])")
    assert keys == ["visitorId"]
    assert not page_log.parley("error")


def test_same_visitor_after_reload(page, host_site, install):
    url = host_site.page("reload", f"<script>{install()}</script>{RECORD_READY}")
    page.goto(url)
    wait_ready(page)
    page.wait_for_function("window.readyCalls.length > 0")
    first = page.evaluate("window.readyCalls[0].visitorId")
    page.reload()
    wait_ready(page)
    page.wait_for_function("window.readyCalls.length > 0")
    assert page.evaluate("window.readyCalls[0].visitorId") == first


def test_queued_open_before_load_opens_after_load(page, host_site, install):
    body = f"<script>{install()}\nwindow.chaport.q('open');</script>"
    page.goto(host_site.page("queued-open", body))
    wait_ready(page)
    page.wait_for_function("window.chaport.getWidgetState() === 'expanded'")
    window = page.locator("iframe[data-parley=window]")
    assert window.is_visible()
    box = window.bounding_box()
    assert box["width"] > 300 and box["height"] > 400
    # The window is drawn by Python inside the iframe.
    frame = page.frame_locator("iframe[data-parley=window]")
    assert frame.locator("[role=dialog]").is_visible()


def test_open_close_toggle_and_state_events(page, host_site, install):
    body = f"""<script>{install()}
window.states = [];
window.chaport.on('widget.stateChange', function (s) {{ window.states.push(s); }});
</script>"""
    page.goto(host_site.page("toggle", body))
    wait_ready(page)
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"
    page.evaluate("chaport.open()")
    assert page.evaluate("chaport.getWidgetState()") == "expanded"
    page.evaluate("chaport.open()")  # no change, no event
    page.evaluate("chaport.toggle()")
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"
    page.evaluate("chaport.toggle()")
    page.evaluate("chaport.close()")
    assert page.evaluate("window.states") == ["expanded", "collapsed", "expanded", "collapsed"]
    # The launcher opens the window for a person too.
    page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    # The spec's default: no close button on desktop while the launcher shows.
    window = page.frame_locator("iframe[data-parley=window]")
    assert not window.get_by_role("button", name="Close chat").is_visible()
    page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    assert not page.locator("iframe[data-parley=window]").is_visible()


def test_only_chaport_globals_are_added(page, host_site, install):
    page.goto(host_site.page("globals", f"<script>{install()}</script>"))
    wait_ready(page)
    added = page.evaluate("""() => {
        const probe = document.createElement('iframe');
        document.body.appendChild(probe);
        const pristine = new Set(Object.getOwnPropertyNames(probe.contentWindow));
        probe.remove();
        return Object.getOwnPropertyNames(window)
            .filter((k) => !pristine.has(k) && !/^[0-9]+$/.test(k)).sort();
    }""")
    assert added == ["chaport", "chaportConfig"]


def test_host_css_reset_cannot_hide_or_restyle_the_widget(page, host_site, install):
    head = ("<style>* { all: unset !important; } "
            "iframe { display: none !important; width: 0 !important; }</style>")
    page.goto(host_site.page("css-reset", f"<script>{install()}</script>", head))
    wait_ready(page)
    launcher = page.locator("iframe[data-parley=launcher]")
    assert launcher.is_visible()
    box = launcher.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (60, 60)
    viewport = page.viewport_size
    assert box["x"] + box["width"] == viewport["width"] - 20
    assert box["y"] + box["height"] == viewport["height"] - 20


def test_snippet_pasted_twice_loads_once(page, host_site, install):
    frames = frames_received(page)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    body = f"<script>{install()}</script><script>{install()}</script>{RECORD_READY}"
    page.goto(host_site.page("twice", body))
    wait_ready(page)
    page.wait_for_function("window.readyCalls.length > 0")
    history_answered(page, frames)
    assert len(sockets) == 1
    assert page.locator("iframe[data-parley=runtime]").count() == 1
    assert page.locator("iframe[data-parley=launcher]").count() == 1
    assert page.evaluate("window.readyCalls.length") == 1


def test_no_network_to_parley_before_init_event(page, host_site, app, parley):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.url.startswith(parley.url) else None)
    config = f"appId: '{app['appId']}', init: {{ event: 'shop-ready', maxDelay: 60000, delayAfterEvent: 0 }}"
    snippet = snippet_with_config(config, parley.loader)
    page.goto(host_site.page("init-event", f"<script>{snippet}</script>"))
    page.wait_for_load_state("load")  # the loader ran (an async script delays `load`)
    host_timers_ran(page, 0)  # delayAfterEvent is 0: a start on any event so far would be done
    # Only the loader itself has been fetched; nothing starts before the event.
    assert [u for u in requests if not u.endswith("/widget/loader.js")] == []
    assert page.locator("iframe[data-parley]").count() == 0
    page.evaluate("window.dispatchEvent(new Event('shop-ready'))")
    wait_ready(page)


def test_unknown_app_id_gives_one_clear_console_error(page, host_site, install, page_log):
    page.goto(host_site.page("unknown-app", f"<script>{install(app_id='000000000000000000000000')}</script>"))
    page.wait_for_function(API_READY)
    wait_until(page, lambda: page_log.parley("error"), 10, "a console error")
    errors = page_log.parley("error")
    assert len(errors) == 1 and "unknown appId" in errors[0], errors
    # The API keeps answering without throwing into the page.
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"
    page.evaluate("chaport.open(); chaport.q('toggle')")


def test_missing_chaport_config_gives_a_clear_console_error(page, host_site, parley, page_log):
    stub = ("window.chaport={_q:[],_l:{},q:function(){this._q.push(arguments)},"
            "on:function(){}};")
    body = f"<script>{stub}</script><script src='{parley.loader}'></script>"
    page.goto(host_site.page("no-config", body))
    page.wait_for_load_state("load")  # the loader ran (an async script delays `load`)
    console_caught_up(page, page_log)
    errors = page_log.parley("error")
    assert len(errors) == 1 and "chaportConfig is missing" in errors[0]


def test_server_down_after_loader_gives_a_clear_console_error(
        page, host_site, app, parley, page_log, tmp_path):
    # A second server for this app, stopped after the loader came but before init fires.
    doomed = ParleyServer(tmp_path)
    doomed.env = {**parley.env}  # same database, same app
    doomed.start()
    config = f"appId: '{app['appId']}', init: {{ event: 'go', maxDelay: 60000, delayAfterEvent: 0 }}"
    body = f"<script>{snippet_with_config(config, doomed.loader)}</script><p id=ok>ok</p>"
    page.goto(host_site.page("server-down", body))
    page.wait_for_load_state("load")
    doomed.stop()
    page.evaluate("window.dispatchEvent(new Event('go'))")
    wait_until(page, lambda: page_log.parley("error"), 10, "a console error")
    errors = page_log.parley("error")
    assert len(errors) == 1 and "could not load the widget" in errors[0], errors
    assert page.locator("#ok").is_visible()
    page.evaluate("chaport.q('open')")  # the stub still takes calls without throwing


def test_bad_api_calls_are_reported_not_thrown(page, host_site, install, page_log):
    page.goto(host_site.page("bad-calls", f"<script>{install()}</script>"))
    wait_ready(page)
    page.evaluate("chaport.q('noSuchMethod'); chaport.q(42); "
                  "chaport.on('ready', 'not a function'); chaport.open('extra')")
    errors = wait_until(page, lambda: len(page_log.parley("error")) >= 4 and page_log.parley("error"),
                        what="four console errors")
    assert any("unknown method 'noSuchMethod'" in e for e in errors), errors
    assert any("chaport.q needs a method name" in e for e in errors), errors
    assert any("must be a function" in e for e in errors), errors
    assert any("chaport.open takes at most 0" in e for e in errors), errors
