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
