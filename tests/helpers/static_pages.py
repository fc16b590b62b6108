"""The operator pages' own Python (static/), whose pure parts run under CPython too."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"


def load_static(page: str, name: str):
    """static/<page>/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"{page}_{name}", STATIC / page / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_inbox_strings(*sources: Path) -> None:
    """Every string key the inbox page and these sources use is in static/inbox/strings.py
    (keys built at run time, "tab." + status, at least have a family there)."""
    strings = load_static("inbox", "strings")
    html = (STATIC.parent / "templates" / "inbox.html").read_text()
    used = set(re.findall(r'data-t(?:-label|-placeholder|-title)?="([^"]+)"', html))
    for source in sources:
        used |= set(re.findall(r'\bt\("([^"]+)"', source.read_text()))
    prefixes = {key for key in used if key.endswith(".")}
    assert all(any(k.startswith(p) for k in strings.STRINGS) for p in prefixes), prefixes
    assert used - prefixes <= set(strings.STRINGS), used - prefixes - set(strings.STRINGS)
