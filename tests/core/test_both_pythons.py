"""Run every behaviour script in cases/ under CPython and under MicroPython.

Each script imports `widget.core` modules, asserts, and prints. The test passes
only when both interpreters finish cleanly and print exactly the same lines, so
the code the browser runs (MicroPython) is held to what CPython tests prove.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))
RUNTIME = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


def _run_cpython(script: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"CPython failed on {script.name}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _run_micropython(script: Path) -> str:
    node = shutil.which("node")
    if node is None or not RUNTIME.exists():
        pytest.fail("node and the pinned MicroPython package are required (run scripts/test)")
    done = subprocess.run(
        [node, str(ROOT / "tests" / "mpy_run.mjs"), str(ROOT), str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"MicroPython failed on {script.name}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_cases_exist() -> None:
    assert CASES, "no behaviour scripts found in tests/core/cases"


@pytest.mark.parametrize("script", CASES, ids=[c.stem for c in CASES])
def test_same_output_on_both_pythons(script: Path) -> None:
    cpython = _run_cpython(script)
    micropython = _run_micropython(script)
    assert cpython.strip(), f"{script.name} printed nothing: a case must print what it checked"
    assert micropython == cpython


def test_every_widget_and_operator_page_file_compiles_under_micropython() -> None:
    # Browser-only modules import `js`, so they can't run here, but they must parse.
    output = _run_micropython(Path(__file__).parent / "compile_all.py")
    expected = len([p for folder in ("widget", "static") for p in (ROOT / folder).rglob("*.py")
                    if "__pycache__" not in p.parts])
    assert output.strip() == f"compiled {expected}"
