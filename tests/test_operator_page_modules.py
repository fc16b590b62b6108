"""The operator pages load each of their modules by name (PyScript's `files` in the
page's config): a module added to static/<page>/ but not listed there breaks the page
only in the browser. This finds it first."""

from __future__ import annotations

import re

import pytest

from tests.helpers.static_pages import STATIC

TEMPLATES = STATIC.parent / "templates"


@pytest.mark.parametrize("page", ["inbox", "admin"])
def test_the_page_lists_every_module_of_its_folder(page):
    html = (TEMPLATES / f"{page}.html").read_text(encoding="utf-8")
    listed = set(re.findall(rf'"/static/{page}/(\w+)\.py\?v=\{{\{{ build_id \}}\}}": "\./\1\.py"', html))
    on_disk = {path.stem for path in (STATIC / page).glob("*.py")} - {"main"}
    assert on_disk - listed == set(), f"templates/{page}.html does not list {sorted(on_disk - listed)}"
    assert listed - on_disk == set(), f"templates/{page}.html lists missing {sorted(listed - on_disk)}"
    assert f'src="/static/{page}/main.py?v={{{{ build_id }}}}"' in html
