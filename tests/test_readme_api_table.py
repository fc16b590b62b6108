"""The README's Chaport API tables name every option, method and event the widget knows,
each with a "differences from Chaport" cell (issue 14: every remaining difference is stated
there; "none" says there is none)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widget.core.commands import COMMANDS
from widget.core.config import OPTIONS
from widget.core.events import EVENT_NAMES

README = Path(__file__).resolve().parents[1] / "README.md"


def table_rows(heading: str) -> list[list[str]]:
    """The body rows of the first table after `heading`, as lists of cell texts."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    lines = section.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize(("heading", "names"), [
    ("### chaportConfig options", OPTIONS),
    ("### Methods", tuple(COMMANDS)),
    ("### Events", EVENT_NAMES),
])
def test_every_name_has_a_row_with_its_differences(heading, names):
    rows = table_rows(heading)
    assert rows, heading
    for row in rows:
        assert len(row) == 3 and row[2], f"{heading}: a row without its differences cell: {row[0]}"
    named = set()
    for row in rows:
        for name in re.findall(r"`([A-Za-z.]+)", row[0]):
            named.update((name, name.split(".")[0]))  # `analytics.google` names `analytics`
    missing = [name for name in names if name not in named]
    assert missing == [], f"{heading}: no row names {missing}"
