"""Packaging hook: a wheel carries what the server serves, built, inside the package.

Everything else about the package is in pyproject.toml. In a checkout the server reads
templates/ and dist/ next to the package (and rebuilds dist/ when its sources change);
an installed wheel has neither, nor widget/, static/ or node_modules to build from. So
building a wheel runs build.py into `parley/_bundled/dist` and copies templates/ to
`parley/_bundled/templates`, where parley.settings looks when it is not in a checkout.

Build a wheel with `pip wheel --no-deps -w wheels .` (`python -m build` works from
another folder only: in this one `build` is the project's build.py). Editable installs
(`pip install -e .`) skip the hook: they serve the checkout's own files.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _load_build_module():
    # Loaded by path: during a build, `import build` may be PyPA's `build` frontend.
    spec = importlib.util.spec_from_file_location("parley_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithAssets(build_py):
    """build_py, then the built widget/inbox assets and the templates as package data."""

    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        if not editable and not self.dry_run:
            # build/lib outlives a build (pip builds in the tree), and build_py only adds to it:
            # without this, a module deleted from the sources would still ship in the next wheel.
            for package in ("parley", "widget"):
                shutil.rmtree(Path(self.build_lib) / package, ignore_errors=True)
        super().run()
        if editable or self.dry_run:
            return
        bundled = Path(self.build_lib) / "parley" / "_bundled"
        shutil.rmtree(bundled, ignore_errors=True)  # nothing stale from an earlier build
        shutil.copytree(ROOT / "templates", bundled / "templates")
        _load_build_module().build(bundled / "dist")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        bundled = Path(self.build_lib) / "parley" / "_bundled"
        if bundled.is_dir():
            outputs += [str(path) for path in sorted(bundled.rglob("*")) if path.is_file()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithAssets})
