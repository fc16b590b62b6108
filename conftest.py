"""Fixtures shared by tests/ and e2e/."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def built_dist() -> dict:
    """Builds dist/ once per test run, from the current sources; returns the manifest."""
    import build

    return build.build()
