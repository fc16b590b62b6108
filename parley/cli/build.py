"""`parley build`, and building dist/ before serving when its sources changed."""

from __future__ import annotations

import importlib.util
import json

from parley.cli.errors import CommandError, UsageError
from parley.settings import DIST, IN_CHECKOUT, PROJECT_ROOT


def _load_build_module():
    if not IN_CHECKOUT:
        # An installed wheel carries dist/ already built (setup.py); its sources are not installed.
        raise UsageError(f"`parley build` works in a source checkout (build.py, widget/, static/); "
                         f"this installation serves the assets built into the package, {DIST}")
    spec = importlib.util.spec_from_file_location("parley_build", PROJECT_ROOT / "build.py")
    if spec is None or spec.loader is None:
        raise UsageError("build.py not found next to the parley package")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_build() -> dict:
    return _load_build_module().build()


def ensure_built() -> None:
    """Builds dist/ when it is missing or was built from other sources (e.g. after a pull).
    An installed wheel serves the dist/ built into it and never builds."""
    if not IN_CHECKOUT:
        if not (DIST / "manifest.json").is_file():
            raise CommandError(f"this installation of parley has no built assets in {DIST}; "
                               "reinstall it from a wheel built with `pip wheel .` in a checkout")
        return
    if not _load_build_module().is_current(DIST):
        print("building dist/ ...", flush=True)
        run_build()


def cmd_build(_args) -> int:
    manifest = run_build()
    sizes = _load_build_module().widget_download_sizes(manifest)
    print(json.dumps({"buildId": manifest["build_id"], "widgetBytes": sizes}))
    return 0
