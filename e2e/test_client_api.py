"""`chaport.client` (issue 15, the browser half) and the headless mode, in Chromium against
the real server: every call and event of docs/client.md's Browser section.

Pages are the spec's snippet with `parley: {ui: false}` (headless) unless a test needs the
widget too. Tests wait for facts: promises the page awaits, events it recorded.
"""

from __future__ import annotations

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
