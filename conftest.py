"""Fixtures, markers and settings shared by tests/ and e2e/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent

# CI: the same examples on every run (a failure there reproduces here), no example database
# to carry between runs, and no per-example deadline (a shared runner's pauses are not bugs).
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

# A test that needs one of these fixtures needs a PostgreSQL or Redis server (tests/services.py).
SERVICE_FIXTURES = {"postgres_server", "redis_server", "pg_url", "pg_database"}


def pytest_collection_modifyitems(config, items) -> None:
    """Every test under e2e/ is an `e2e` test; every test that needs PostgreSQL or Redis is
    a `service` test, so `-m "not e2e and not service"` runs only the fast ones."""
    e2e = ROOT / "e2e"
    for item in items:
        if e2e in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())) or _on_postgresql(item):
            item.add_marker(pytest.mark.service)


def _on_postgresql(item) -> bool:
    """A parametrized test whose case is the PostgreSQL one (it asks for the server at run time)."""
    callspec = getattr(item, "callspec", None)
    values = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value in ("postgresql", "pg_database") for value in values)


@pytest.fixture(scope="session")
def built_dist() -> dict:
    """Builds dist/ once per test run, from the current sources; returns the manifest."""
    import build

    return build.build()
