"""Issue 18: axe-core finds nothing serious or critical in any frame of any screen.

Every widget screen (collapsed, open, an invitation, the offline form, the rating panel, an
attachment shown in the chat) is checked on a desktop, on a phone and in a right-to-left
language, and so are Parley's own pages (the standalone chat page, the inbox, the admin
screens). `axe_every_frame` runs axe in each frame by itself, so the widget's iframes are
read as a screen reader reads them: as documents of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import API_READY, axe_every_frame, png_bytes, snippet_with_config, wait_ready
from e2e.operator import ScriptedOperator

WINDOW = "iframe[data-parley=window]"
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2,
             user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
# Where each screen is checked: (browser context options, extra chaportConfig). The window
# colours differ, light and dark, named and hex: the header's text and the operators'
# initials must read on each.
VARIANTS = {
    "desktop": ({"viewport": {"width": 1280, "height": 800}}, "appearance: { windowColor: 'blue-gray' },"),
    "phone": (PHONE, ""),  # Parley's default colour
    "rtl": ({"viewport": {"width": 1280, "height": 800}},
            "appearance: { windowColor: '#1d3557' }, language: { use: 'ar' },"),
}
_emails = itertools.count()
PAGE_LEVEL = ("landmark-one-main", "page-has-heading-one", "region")


@pytest.fixture
def visitor_page(browser) -> Iterator:
    """A function opening a fresh browser context for a variant; every uncaught error fails."""
    contexts, errors = [], []

    def open_variant(variant: str) -> Page:
        context = browser.new_context(**VARIANTS[variant][0])
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_variant
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors on the page: {errors}"


@pytest.fixture
def ann(parley, app) -> Iterator[ScriptedOperator]:
    email = f"a11y{next(_emails)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", "correct horse",
               "--name", "Ann Lee")
    scripted = ScriptedOperator(parley.url, app["appId"], email, "correct horse")
    yield scripted
    scripted.close()


@pytest.fixture(scope="module")
def offline_app(parley, host_site) -> dict:
    """An app nobody answers: its window shows the offline form."""
    return parley.cli("app", "create", "--name", "A11y offline", "--origin", host_site.origin)


def open_widget(page: Page, host_site, parley, app_id: str, variant: str, name: str) -> None:
    config = f"appId: '{app_id}', {VARIANTS[variant][1]}"
    snippet = snippet_with_config(config, parley.loader)
    page.goto(host_site.page(f"a11y-{name}-{variant}", f"<main><h1>Shop</h1><p>Welcome.</p></main>"
                                                       f"<script>{snippet}</script>"))
    wait_ready(page)


def say(page: Page, ann: ScriptedOperator, text: str) -> dict:
    page.evaluate("chaport.open()")
    composer = page.frame_locator(WINDOW).locator("form.composer textarea")
    composer.fill(text)
    composer.press("Enter")
    return ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == text)["message"]


def show(screen: str, variant: str, page: Page, host_site, parley, app, offline_app, ann) -> None:
    """Brings the widget to `screen` and waits until it is drawn."""
    window = page.frame_locator(WINDOW)
    if screen == "offline":
        open_widget(page, host_site, parley, offline_app["appId"], variant, screen)
        page.evaluate("chaport.open()")
        expect(window.locator(".offline")).to_be_visible()
        return
    open_widget(page, host_site, parley, app["appId"], variant, screen)
    if screen == "collapsed":
        return
    if screen == "invitation":
        page.evaluate("chaport.setActiveTrigger({message: 'Need a hand?'})")
        expect(page.frame_locator("iframe[data-parley=invitation]").locator(".bubble")).to_be_visible()
        return
    sent = say(page, ann, f"accessibility check {screen}")
    ann.reply(sent["chatId"], "Here to help: https://example.com")
    expect(window.locator(".msg.operator .bubble")).to_have_count(1)
    expect(window.locator(".avatars span").first).to_be_visible()  # the initials are checked too
    # The window's header is a landmark with a name of its own, apart from the host's header.
    expect(window.get_by_role("banner", name=window.locator("h1").text_content())).to_be_visible()
    if screen == "rating":
        ann.send(type="chat.close", chatId=sent["chatId"])
        expect(window.locator("section.end")).to_be_visible()
    elif screen == "attachment":
        window.locator("input[type=file]").set_input_files(
            files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes()}])
        page.wait_for_function("""() => {
            const img = document.querySelector('iframe[data-parley=window]').contentDocument
                .querySelector('.msg.visitor img');
            return img && img.complete && img.naturalWidth > 0;
        }""")


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("screen", ["collapsed", "open", "invitation", "offline", "rating", "attachment"])
def test_widget_screens_have_no_serious_axe_findings(visitor_page, host_site, parley, app, offline_app, ann,
                                                    screen, variant):
    page = visitor_page(variant)
    show(screen, variant, page, host_site, parley, app, offline_app, ann)
    assert axe_every_frame(page) == []
    # Moderate findings too, in the widget's frames (the host page is the test's). Rules about
    # a whole page (one main, one h1, all content in landmarks) are left out: a widget frame
    # is a part of the host's page, and axe run from the top skips them in frames too.
    moderate = [f for f in axe_every_frame(page, ("minor", "moderate"))
                if f[0] != page.url and f[1] not in PAGE_LEVEL]
    assert moderate == []
    # Every widget frame a person can reach speaks the chosen language and has a title.
    # Their titles differ, so they can be told apart (axe unique-frame-title).
    lang = "ar" if variant == "rtl" else "en"
    titles = []
    for frame in page.frames[1:]:
        element = frame.frame_element()
        if element.get_attribute("aria-hidden") == "true":
            continue
        assert frame.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
            lang, "rtl" if lang == "ar" else "ltr"]
        assert frame.title() and element.get_attribute("title") == frame.title()
        titles.append(frame.title())
    assert len(set(titles)) == len(titles), titles
    if screen == "invitation":
        invitation = page.locator("iframe[data-parley=invitation]").get_attribute("title")
        assert invitation == ("دعوة إلى الدردشة" if lang == "ar" else "Chat invitation")


def test_standalone_chat_page_has_no_serious_axe_findings(browser, parley, app):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{parley.url}/chat/{app['appId']}")
        expect(page.locator(WINDOW)).to_be_attached(timeout=20_000)
        page.wait_for_function(API_READY + " && chaport.getWidgetState() === 'expanded'")
        expect(page.frame_locator(WINDOW).locator("form.composer textarea")).to_be_visible()
        assert axe_every_frame(page) == []
    finally:
        context.close()


# -- keyboard only: no mouse, no clicks -------------------------------------------------------

def is_focused(locator) -> bool:
    return locator.evaluate("e => e.ownerDocument.activeElement === e && e.ownerDocument.hasFocus()")


def tab_to(page: Page, locator, backwards: bool = False, most: int = 40) -> None:
    """Presses Tab (Shift+Tab) until `locator` has the keyboard focus, as a keyboard user
    would; fails when it is not reachable within `most` presses."""
    for _ in range(most):
        if locator.count() and is_focused(locator):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{locator} not reachable with the keyboard")


def test_widget_with_the_keyboard_only(visitor_page, host_site, parley, app, ann):
    page = visitor_page("desktop")
    # Playwright turns on file-chooser interception without waiting for it (fire and forget)
    # when the first listener comes: a listener added only by expect_file_chooser, right before
    # the key press, sometimes lost the race, and Chromium then showed its own (headless,
    # invisible) dialog instead of reporting the chooser. Listen from the start instead.
    page.on("filechooser", lambda _chooser: None)
    open_widget(page, host_site, parley, app["appId"], "desktop", "keyboard")
    launcher = page.frame_locator("iframe[data-parley=launcher]").locator("button")
    window = page.frame_locator(WINDOW)
    composer = window.locator("form.composer textarea")

    tab_to(page, launcher)
    page.keyboard.press("Enter")
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")
    expect(composer).to_be_focused()
    page.keyboard.type("typed without a mouse")
    page.keyboard.press("Enter")
    sent = ann.wait_for(lambda f: f["type"] == "message" and f["message"]["text"] == "typed without a mouse")
    chat_id = sent["message"]["chatId"]

    # The paperclip is a button before the composer; its chooser gets the file.
    attach = window.locator("button.attach")
    tab_to(page, attach, backwards=True)
    # Enter must reach the paperclip itself: wait until the focus has settled on it.
    expect(attach).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes()}])
    ann.wait_for(lambda f: f["type"] == "message" and (f["message"]["file"] or {}).get("name") == "photo.png")

    ann.send(type="chat.close", chatId=chat_id)
    good = window.locator("section.end").get_by_role("button", name="Good")
    expect(good).to_be_visible()
    tab_to(page, good)
    page.keyboard.press("Enter")
    expect(good).to_have_attribute("aria-pressed", "true")
    tab_to(page, window.get_by_placeholder("Add a comment (optional)"))
    page.keyboard.type("all by keyboard")
    tab_to(page, window.locator("section.end .choices + textarea + button"))
    page.keyboard.press("Enter")
    rated = ann.wait_for(lambda f: f["type"] == "chat.rated")["chat"]
    assert (rated["rating"], rated["ratingComment"]) == ("good", "all by keyboard")

    page.keyboard.press("Escape")
    page.wait_for_function("chaport.getWidgetState() === 'collapsed'")
    expect(launcher).to_be_focused()


# -- reduced motion and forced colours --------------------------------------------------------

# Counts the host page's setInterval calls by delay: the title blink is the widget's only one.
COUNT_INTERVALS = """(() => {
  const real = window.setInterval;
  window.intervalDelays = [];
  window.setInterval = function (fn, delay) {
    window.intervalDelays.push(delay);
    return real.apply(this, arguments);
  };
})();"""


def border_of(locator) -> list:
    return locator.evaluate("""e => { const s = getComputedStyle(e);
        const width = parseFloat(s.borderTopWidth);
        return [s.borderTopStyle, width >= 2, e.getBoundingClientRect().width > 0]; }""")


def test_reduced_motion_keeps_the_title_still(visitor_page, host_site, parley, app, ann):
    page = visitor_page("desktop")
    page.emulate_media(reduced_motion="reduce")
    page.add_init_script(COUNT_INTERVALS)
    open_widget(page, host_site, parley, app["appId"], "desktop", "still")
    title = page.title()
    sent = say(page, ann, "no blinking please")
    page.evaluate("chaport.close()")
    ann.reply(sent["chatId"], "one")
    page.wait_for_function("t => document.title === '(1) ' + t", arg=title)
    ann.reply(sent["chatId"], "two")
    page.wait_for_function("t => document.title === '(2) ' + t", arg=title)
    assert page.evaluate("window.intervalDelays") == []  # no blink timer
    page.evaluate("chaport.open()")
    page.wait_for_function("t => document.title === t", arg=title)  # read: the page's own title


def test_forced_colors_keep_the_launcher_and_buttons_visible(visitor_page, host_site, parley, app, ann):
    page = visitor_page("desktop")
    page.emulate_media(forced_colors="active")
    open_widget(page, host_site, parley, app["appId"], "desktop", "forced")
    launcher = page.frame_locator("iframe[data-parley=launcher]").locator("button")
    assert border_of(launcher) == ["solid", True, True]
    page.evaluate("chaport.open()")
    window = page.frame_locator(WINDOW)
    expect(window.locator("form.composer textarea")).to_be_visible()
    for button in window.locator("button:visible").all():
        assert border_of(button) == ["solid", True, True], button.evaluate("e => e.outerHTML")
    # Without forced colours the design is unchanged (no border on the launcher).
    page.emulate_media(forced_colors="none")
    assert border_of(launcher)[0] == "none"
