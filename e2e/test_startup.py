"""Start-up draws only what the visitor can see (issue 16): the launcher at `ready`,
the chat window when the visitor opens it or in idle time after that."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import snippet_with_config, wait_ready

WINDOW = "iframe[data-parley=window]"
# A host page that is never idle: requestIdleCallback never calls back.
NEVER_IDLE = "<script>window.requestIdleCallback = function () { return 1; };</script>"


def launcher_painted(page) -> None:
    page.wait_for_function("""() => {
      const f = document.querySelector('iframe[data-parley=launcher]');
      return !!f && f.getBoundingClientRect().width > 0 && !!f.contentDocument.querySelector('button');
    }""")


def test_before_the_visitor_opens_the_chat_its_window_does_not_exist(page, host_site, app, parley):
    snippet = snippet_with_config(f"appId: '{app['appId']}', init: {{delayAfterEvent: 0}}", parley.loader)
    page.goto(host_site.page("startup-never-idle", f"{NEVER_IDLE}<script>{snippet}</script>"))
    wait_ready(page)
    launcher_painted(page)
    # A socket round trip later (the welcome came, ready fired, the launcher is drawn):
    # still no window, its styles or DOM.
    page.evaluate("() => new Promise((resolve) => chaport.on('ready', resolve))")
    assert page.evaluate(f"document.querySelectorAll('{WINDOW}').length") == 0
    assert page.evaluate("chaport.getWidgetState()") == "collapsed"

    page.frame_locator("iframe[data-parley=launcher]").locator("button").click()
    window = page.locator(WINDOW)
    expect(window).to_be_visible()
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    expect(composer).to_be_focused()
    expect(page.frame_locator(WINDOW).locator("header h1")).not_to_be_empty()
    assert page.evaluate(f"document.querySelectorAll('{WINDOW}').length") == 1
    assert page.evaluate("chaport.getWidgetState()") == "expanded"


def test_the_window_is_built_in_idle_time_after_ready_and_opens_as_it_is(page, host_site, app, parley):
    snippet = snippet_with_config(f"appId: '{app['appId']}'", parley.loader)
    page.goto(host_site.page("startup-idle", f"<script>{snippet}</script>"))
    wait_ready(page)
    # Built while collapsed: complete (the composer is the last part drawn) and hidden.
    page.wait_for_function(f"""() => {{
      const f = document.querySelector('{WINDOW}');
      return !!f && !!f.contentDocument.querySelector('form.composer textarea')
        && getComputedStyle(f).display === 'none';
    }}""")
    page.evaluate(f"document.querySelector('{WINDOW}').dataset.probe = 'idle-built'")
    page.evaluate("chaport.open()")
    expect(page.locator(WINDOW)).to_be_visible()
    # The same element opened: nothing was built twice.
    assert page.evaluate(f"[...document.querySelectorAll('{WINDOW}')].map((f) => f.dataset.probe)") == [
        "idle-built"]
