"""The operator pages load each of their modules by name (PyScript's `files` in the
page's config): a module the page imports but its config doesn't list breaks the page
only in the browser. build.py derives the list from the imports; this checks the page
as served against the code, independently of that derivation."""

from __future__ import annotations

import ast
import json
import re

import pytest

from tests.helpers.static_pages import STATIC

# What the browser's MicroPython (with PyScript) provides itself.
RUNTIME_MODULES = {"asyncio", "io", "js", "json", "math", "pyscript", "pyscript.ffi", "re", "sys", "time"}
# admin/model.py's fallback when run under CPython (tests): never imported in the browser.
CPYTHON_ONLY = ("widget.",)
PAGE_PATHS = {"inbox": "/inbox", "admin": "/inbox/admin"}


def _config(html: str, page: str) -> dict:
    found = re.search(rf'<script type="mpy" src="/static/{page}/main\.py\?v=\w+" config=\'(.*?)\'></script>',
                      html, re.S)
    assert found, f"the {page} page has no PyScript script for static/{page}/main.py"
    return json.loads(found.group(1))


def _imports(text: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return {name for name in names if name not in RUNTIME_MODULES and not name.startswith(CPYTHON_ONLY)}


def _source(page: str, name: str) -> str:
    """The source of the page's module `name` (the page gets bytecode): its folder's,
    the common one's, or a widget rule shared with the pages."""
    for folder in (STATIC / page, STATIC / "common", STATIC.parent / "widget" / "core"):
        if (folder / f"{name}.py").is_file():
            return (folder / f"{name}.py").read_text(encoding="utf-8")
    raise AssertionError(f"{page}: no source for the module {name}")


@pytest.mark.parametrize("page", ["inbox", "admin"])
def test_the_served_page_provides_every_module_its_code_imports(client, page):
    html = client.get(PAGE_PATHS[page]).text  # the admin page is a refusal here: same script
    files = _config(html, page)["files"]
    provided = set()
    for url, target in files.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content[:1] == b"M", url  # MicroPython bytecode (.mpy), as the widget's
        assert "immutable" in response.headers["cache-control"], url  # the name carries its digest
        assert target.startswith("./") and target.endswith(".mpy"), target
        provided.add(target[len("./"): -len(".mpy")])
    modules = {"main": (STATIC / page / "main.py").read_text(encoding="utf-8")}
    modules |= {name: _source(page, name) for name in provided}
    for name, text in modules.items():
        missing = _imports(text) - provided
        assert not missing, f"{page}: {name} imports {sorted(missing)}, not in the page's files"


@pytest.mark.parametrize("page", ["inbox", "admin"])
def test_every_module_of_the_folder_is_used(page):
    import build

    listed = set(build.page_modules(page))
    on_disk = {path.stem for path in (STATIC / page).glob("*.py")} - {"main"}
    # A file nothing imports is dead code (or a forgotten import): either way, not shipped unseen.
    assert on_disk - listed == set(), f"static/{page}/ has modules main.py doesn't import: {on_disk - listed}"



def test_the_map_follows_imports_anywhere_in_a_module(tmp_path, monkeypatch):
    """Imports in functions and in try blocks count (the page needs the file when they
    run); the runtime's modules and files nothing imports don't."""
    import build

    (tmp_path / "static" / "page").mkdir(parents=True)
    (tmp_path / "static" / "common").mkdir()
    files = {
        "page/main.py": "import asyncio\nfrom first import f\n",
        "page/first.py": "def f():\n    import second\n",
        "page/second.py": "try:\n    from colors import c\n"
                          "except ImportError:\n    from widget.core.colors import c\n",
        "page/unused.py": "",
        "common/dom.py": "",
        "../widget/core/colors.py": "c = 1\n",
    }
    (tmp_path / "widget" / "core").mkdir(parents=True)
    for path, text in files.items():
        (tmp_path / "static" / path).write_text(text)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "PAGES", {"page": ("page", "common")})
    monkeypatch.setattr(build, "SHARED_WITH_PAGES", ("colors",))
    assert build.page_modules("page") == ["colors", "first", "second"]
    assert build.page_module_files("page")["colors"] == tmp_path / "widget" / "core" / "colors.py"
