"""Start-up draws only what the visitor can see (issue 16): the launcher at `ready`,
the chat window when the visitor opens it or in idle time after that. The window's code
is a second bundle (build.later_modules), downloaded then too, never before `ready`."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import snippet_with_config, wait_ready

WINDOW = "iframe[data-parley=window]"
# A host page that is never idle: requestIdleCallback never calls back.
NEVER_IDLE = "<script>window.requestIdleCallback = function () { return 1; };</script>"
LATER_BUNDLE = re.compile(r"/widget/later\.[0-9a-f]{12}\.bin$")
# When `ready` fired, on the clock every frame shares (timeOrigin + now).
READY_AT = ("<script>chaport.on('ready', () => "
            "{ window.readyAt = performance.timeOrigin + performance.now(); });</script>")
# The start of the second bundle's download, from the frame that fetched it (the runtime's).
LATER_FETCHED_AT = r"""() => {
  for (const frame of document.querySelectorAll('iframe')) {
    let entry;
    try {
      entry = frame.contentWindow.performance.getEntriesByType('resource')
        .find((e) => /\/widget\/later\.[0-9a-f]{12}\.bin$/.test(e.name));
    } catch (error) { continue; }
    if (entry) return frame.contentWindow.performance.timeOrigin + entry.startTime;
  }
  return null;
}"""


def launcher_painted(page) -> None:
    page.wait_for_function("""() => {
      const f = document.querySelector('iframe[data-parley=launcher]');
      return !!f && f.getBoundingClientRect().width > 0 && !!f.contentDocument.querySelector('button');
    }""")


def test_before_the_visitor_opens_the_chat_its_window_does_not_exist(page, host_site, app, parley):
    snippet = snippet_with_config(f"appId: '{app['appId']}', init: {{delayAfterEvent: 0}}", parley.loader)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(host_site.page("startup-never-idle", f"{NEVER_IDLE}<script>{snippet}</script>"))
    wait_ready(page)
    launcher_painted(page)
    # A socket round trip later (the welcome came, ready fired, the launcher is drawn):
    # still no window, its styles or DOM.
    page.evaluate("() => new Promise((resolve) => chaport.on('ready', resolve))")
    assert page.evaluate(f"document.querySelectorAll('{WINDOW}').length") == 0
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"
    # Nor its code: the second bundle waits for idle time, which never comes here.
    assert [url for url in requested if LATER_BUNDLE.search(url)] == []

    # Opening before the window's code is here fetches it, waits, then draws.
    page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    window = page.locator(WINDOW)
    expect(window).to_be_visible()
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    expect(composer).to_be_focused()
    expect(page.frame_locator(WINDOW).locator("header h1")).not_to_be_empty()
    assert page.evaluate(f"document.querySelectorAll('{WINDOW}').length") == 1
    assert page.evaluate("chaport.getWidgetState()") == "expanded"
    assert len([url for url in requested if LATER_BUNDLE.search(url)]) == 1


def test_opening_from_the_api_before_ready_waits_for_the_window_code(page, host_site, app, parley):
    # chaport.q('open') queued before the widget starts: the window opens with `ready`,
    # its code fetched at once (not in idle time, which never comes on this page).
    snippet = snippet_with_config(f"appId: '{app['appId']}', init: {{delayAfterEvent: 0}}", parley.loader)
    page.goto(host_site.page("startup-open-early",
                             f"{NEVER_IDLE}<script>{snippet}</script><script>chaport.q('open');</script>"))
    wait_ready(page)
    expect(page.locator(WINDOW)).to_be_visible()
    expect(page.frame_locator(WINDOW).locator("form.composer textarea")).to_be_visible()
    assert page.evaluate("chaport.getWidgetState()") == "expanded"


def test_the_window_is_built_in_idle_time_after_ready_and_opens_as_it_is(page, host_site, app, parley):
    snippet = snippet_with_config(f"appId: '{app['appId']}'", parley.loader)
    page.goto(host_site.page("startup-idle", f"<script>{snippet}</script>{READY_AT}"))
    wait_ready(page)
    # Built while collapsed: complete (the composer is the last part drawn) and hidden.
    page.wait_for_function(f"""() => {{
      const f = document.querySelector('{WINDOW}');
      return !!f && !!f.contentDocument.querySelector('form.composer textarea')
        && getComputedStyle(f).display === 'none';
    }}""")
    # Its code came in the second bundle, fetched after `ready` (an order, not a duration).
    assert page.evaluate(LATER_FETCHED_AT) >= page.evaluate("window.readyAt")
    page.evaluate(f"document.querySelector('{WINDOW}').dataset.probe = 'idle-built'")
    page.evaluate("chaport.open()")
    expect(page.locator(WINDOW)).to_be_visible()
    # The same element opened: nothing was built twice.
    assert page.evaluate(f"[...document.querySelectorAll('{WINDOW}')].map((f) => f.dataset.probe)") == [
        "idle-built"]
