"""build.startup_modules: what boot.mjs imports before `ready`, in slices (issue 16)."""

import build


def test_startup_modules_come_dependencies_first_and_end_with_the_entry():
    modules = build.startup_modules(build.widget_sources())
    assert modules[-1] == build.WIDGET_ENTRY
    assert len(modules) == len(set(modules))
    position = {name: i for i, name in enumerate(modules)}
    # widget.browser.main imports ui, which imports colors: both come before it.
    assert position["widget.core.colors"] < position["widget.browser.ui"] < position["widget.browser.main"]


def test_the_chat_window_code_is_not_loaded_at_start_up():
    modules = build.startup_modules(build.widget_sources())
    assert "widget.browser.window" not in modules
    assert "widget.browser.window_setup" not in modules  # connects the window: comes with it
    assert "widget.browser.panels" not in modules
    assert "widget.browser.ui" in modules  # the launcher


def test_chaport_client_code_is_not_loaded_at_start_up():
    # Built when the page first reads chaport.client (issue 15).
    modules = build.startup_modules(build.widget_sources())
    assert "widget.browser.client" not in modules
    assert "widget.core.client" not in modules


def test_only_module_level_imports_count():
    sources = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n\ndef later():\n    from pkg import c\n",
        "pkg/b.py": "import json\n",
        "pkg/c.py": "",
    }
    assert build.startup_modules(sources, "pkg.a") == ["pkg", "pkg.b", "pkg.a"]


def test_only_english_strings_load_at_start_up():
    """Issue 16: widget.core.i18n imports English only; the visitor's language module is
    imported by name when the Translator is made, so it is in the bundle but not the list."""
    sources = build.widget_sources()
    modules = build.startup_modules(sources)
    assert "widget.core.i18n" in modules
    assert [m for m in modules if m.startswith("widget.core.lang.")] == ["widget.core.lang.en"]
    from widget.core.i18n import LANGUAGES

    assert {f"widget/core/lang/{code}.py" for code in LANGUAGES} <= set(sources)


def test_the_second_bundle_holds_the_window_code_and_nothing_start_up_needs():
    sources = build.widget_sources()
    later = build.later_modules(sources)
    assert later[-1] == build.LATER_ENTRY
    assert {"widget.browser.window", "widget.browser.window_setup", "widget.browser.panels",
            "widget.core.linkify"} <= set(later)
    assert not set(later) & set(build.startup_modules(sources))
    start, rest = build.split_bundle({"widget/browser/window.mpy": b"w", "widget/browser/main.mpy": b"m",
                                      "widget/core/lang/de.mpy": b"d"}, later)
    assert start == {"widget/browser/main.mpy": b"m", "widget/core/lang/de.mpy": b"d"}
    assert rest == {"widget/browser/window.mpy": b"w"}
