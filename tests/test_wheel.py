"""A wheel works outside the checkout (issue 12): built with pip, installed into a fresh venv,
`parley serve --demo` from another folder serves the widget, the demo website and the inbox.

The wheel is built as a user builds it (`pip wheel .`, with build isolation: that proves
pyproject's build requirements are complete, and needs the package index). It is installed
without its dependencies into a venv that borrows them from this interpreter's site-packages
through a .pth file: offline and quick, while `parley` itself comes from the wheel (checked).
"""

from __future__ import annotations

import os
import re
import signal
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=outside_env(cwd), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def outside_env(folder: Path) -> dict:
    """The environment of someone who installed the wheel: nothing points at the checkout."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PARLEY_DB", "PARLEY_REDIS_URL", "PARLEY_DEBUG")}
    env["PARLEY_DATA"] = str(folder / "data")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Path]:
    """A fresh venv with the wheel built from this checkout installed in it; yields its bin/."""
    folder = tmp_path_factory.mktemp("wheel")
    wheels = folder / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, ROOT,
        cwd=folder, timeout=300)
    (wheel,) = wheels.glob("parley-*.whl")

    venv = folder / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=folder, timeout=120)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
        wheel, cwd=folder, timeout=120)
    # The dependencies: this interpreter's, appended after the venv's own site-packages, so
    # `parley` and `widget` resolve to the wheel's copies (a plain path in a .pth file does not
    # run the .pth files inside it, so an editable install of the checkout stays inactive).
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=folder, timeout=30).stdout.strip())
    borrowed = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"],
                              sysconfig.get_paths()["platlib"]])
    (purelib / "zz_parley_test_dependencies.pth").write_text("".join(f"{path}\n" for path in borrowed))
    yield venv / "bin"


def test_the_installed_package_is_the_wheels(installed, tmp_path):
    where = run(installed / "python", "-c",
                "import parley, widget, parley.settings as s; "
                "print(parley.__file__, widget.__file__, s.IN_CHECKOUT, s.DIST, sep='\\n')",
                cwd=tmp_path, timeout=30).stdout.split("\n")
    venv = installed.parent.resolve()
    assert Path(where[0]).resolve().is_relative_to(venv), where
    assert Path(where[1]).resolve().is_relative_to(venv), where
    assert where[2] == "False"
    assert (Path(where[3]) / "manifest.json").is_file()
    # No build in an installation: one clear line, not a traceback.
    done = subprocess.run([str(installed / "parley"), "build"], cwd=tmp_path, env=outside_env(tmp_path),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("parley: error: `parley build` works in a source checkout")


def test_serve_demo_from_another_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"  # no templates/, dist/ or build.py here
    elsewhere.mkdir()
    port, demo_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(installed / "parley"), "serve", "--demo", "--port", str(port), "--demo-port", str(demo_port),
             "--log-level", "warning"],
            cwd=elsewhere, env=outside_env(elsewhere), stdout=out, stderr=subprocess.STDOUT)
    try:
        # The banner is printed once both servers listen.
        wait_until(lambda: server.poll() is not None or "Press Ctrl+C" in log.read_text(), 30,
                   "the demo banner")
        assert server.poll() is None, log.read_text()
        text = log.read_text()
        assert "building dist/" not in text and "Traceback" not in text, text
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=10) as http:
            loader = http.get(f"{base}/widget/loader.js")
            assert loader.status_code == 200 and "javascript" in loader.headers["content-type"]
            (boot_name,) = set(re.findall(r"boot\.[0-9a-f]{12}\.mjs", loader.text))
            boot = http.get(f"{base}/widget/{boot_name}")
            assert boot.status_code == 200 and "loadMicroPython" in boot.text
            runtime_js, runtime_wasm, bundle = (
                re.search(pattern, boot.text).group(0)
                for pattern in (r"micropython\.[0-9a-f]{12}\.mjs", r"micropython\.[0-9a-f]{12}\.wasm",
                                r"widget\.[0-9a-f]{12}\.bin"))
            assert http.get(f"{base}/widget/{runtime_js}").status_code == 200
            wasm = http.get(f"{base}/widget/{runtime_wasm}")
            assert wasm.status_code == 200 and wasm.content.startswith(b"\0asm")
            assert wasm.headers["content-type"] == "application/wasm"
            widget = http.get(f"{base}/widget/{bundle}")
            assert widget.status_code == 200 and b"widget/browser/main.mpy" in widget.content

            demo = http.get(f"http://127.0.0.1:{demo_port}/")
            assert demo.status_code == 200 and "chaportConfig" in demo.text
            assert f"{base}/widget/loader.js" in demo.text

            inbox = http.get(f"{base}/inbox")
            assert inbox.status_code == 200 and "/inbox/pyscript/core.js" in inbox.text
            assert http.get(f"{base}/inbox/pyscript/core.js").status_code == 200
            css = re.search(r'href="(/static/inbox/inbox\.css)', inbox.text).group(1)
            assert http.get(f"{base}{css}").status_code == 200
            # The page's modules: the build's bytecode, carried by the wheel like the widget's.
            modules = re.findall(r'"(/inbox/py/\w+\.[0-9a-f]{12}\.mpy)"', inbox.text)
            assert len(modules) > 5 and "./dom.mpy" in inbox.text, inbox.text[-2000:]
            for url in modules:
                module = http.get(f"{base}{url}")
                assert module.status_code == 200 and module.content[:1] == b"M", url
            # The demo operator (an admin) logs in; the admin page is a template of its own.
            email, password = re.search(r"Operator login: +(\S+) / (\S+)", text).groups()
            app_id = re.search(r"App id: +(\S+)", text).group(1)
            login = http.post(f"{base}/api/operator/login",
                              json={"appId": app_id, "email": email, "password": password})
            assert login.status_code == 200, login.text
            admin = http.get(f"{base}/inbox/admin")
            assert admin.status_code == 200 and "<html" in admin.text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log.read_text()
