"""Processes the widget benchmark needs: a real Parley server, a host website on
another loopback origin, and the Chromium to drive.

Standalone on purpose (no imports from e2e/): the benchmark must keep working
whatever the test fixtures become. Everything binds to 127.0.0.1 only, every
wait is bounded, and `stop()` ends exactly the processes started here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


class _HostHandler(SimpleHTTPRequestHandler):
    # HTML is revalidated like a real site's page; other files get a short cache,
    # as a site's own scripts would (the warm pass then serves them from cache).
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript", ".js": "text/javascript"}

    def end_headers(self) -> None:
        cache = "no-cache" if self.path.split("?")[0].endswith((".html", "/")) else "public, max-age=300"
        self.send_header("Cache-Control", cache)
        super().end_headers()

    def send_head(self):
        # A file with a precompressed `<name>.br` next to it (brython.js) is served
        # brotli-encoded to clients that accept it, as a real site's CDN would.
        path = Path(self.translate_path(self.path))
        brotli_path = path.with_name(path.name + ".br")
        if (path.is_file() and brotli_path.is_file()
                and "br" in self.headers.get("Accept-Encoding", "")):
            body = brotli_path.open("rb")
            try:
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(str(path)))
                self.send_header("Content-Encoding", "br")
                self.send_header("Vary", "Accept-Encoding")
                self.send_header("Content-Length", str(brotli_path.stat().st_size))
                self.end_headers()
            except Exception:
                body.close()
                raise
            return body
        return super().send_head()

    def log_message(self, *args) -> None:
        pass


class HostSite:
    """A customer's website on its own origin, serving the pages the benchmark writes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        port = free_port()
        self.origin = f"http://127.0.0.1:{port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(_HostHandler, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def write(self, name: str, text: str) -> str:
        (self.folder / name).write_text(text, encoding="utf-8")
        return f"{self.origin}/{name}"

    def page(self, name: str, body: str, title: str = "") -> str:
        html = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{title or name}</title><link rel='icon' href='data:,'></head>"
                f"<body>{body}</body></html>")
        return self.write(f"{name}.html", html)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# Messages a minute the bench's server allows each visitor and each operator (the
# defaults are 30 and 120); the load client keeps a little under them.
BENCH_BUDGETS = {"visitor": 120, "operator": 3000}


class ParleyServer:
    """`python -m parley serve` on a free loopback port, with its own data folder."""

    def __init__(self, data: Path, db_url: str | None = None, redis_url: str | None = None,
                 log_name: str = "server.log") -> None:
        self.data = data
        self.port = free_port()
        self.redis_url = redis_url
        self.log_name = log_name
        self.url = f"http://127.0.0.1:{self.port}"
        # The load client is one address opening thousands of visitors: lift the limits
        # per address and app (issue 13) that would otherwise refuse most of them.
        # The same goes for messages per address, and the bench lifts the per-visitor and
        # per-operator message budgets to the numbers in BENCH_BUDGETS, so that a step at
        # 600 round trips/s needs neither 1,300 visitors nor 300 operator logins.
        self.env = {**os.environ, "PARLEY_DATA": str(data),
                    "PARLEY_LIMITS": "new_visitors_per_ip=10000000,new_visitors_per_app=10000000,"
                                     "visitor_sockets_per_ip=10000000,messages_per_ip=10000000,"
                                     f"visitor_messages={BENCH_BUDGETS['visitor']},"
                                     f"operator_messages={BENCH_BUDGETS['operator']}"}
        self.env.pop("PARLEY_DB", None)
        if db_url:  # several processes share one PostgreSQL (bench/scaleout.py)
            self.env["PARLEY_DB"] = db_url
        self.process: subprocess.Popen | None = None
        self._log = None

    def cli(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "parley", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"parley {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout)

    def start(self) -> None:
        self._log = open(self.data / self.log_name, "ab")  # noqa: SIM115 - closed in stop()
        redis = ["--redis", self.redis_url] if self.redis_url else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning", *redis],
            env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: stop() ends it and its children only
        try:
            wait_http(self.url + "/healthz", 60, self.process)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n--- server log ---\n{self.log_tail()}") from None

    def log_tail(self, chars: int = 3000) -> str:
        path = self.data / self.log_name
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        stop_group(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None


def brython_data(install: bool = True) -> tuple[Path, str]:
    """The folder holding brython.js / brython_stdlib.js from the PyPI `brython`
    package (pip-installed into this interpreter's environment when missing), and
    the package's version."""
    import importlib
    import importlib.metadata
    import importlib.util

    def locate() -> tuple[Path, str] | None:
        importlib.invalidate_caches()
        try:
            spec = importlib.util.find_spec("brython")
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            return None
        data = Path(spec.origin).parent / "data"
        if not (data / "brython.js").is_file():
            return None
        return data, importlib.metadata.version("brython")

    found = locate()
    if found is None and install:
        print("bench: installing brython from PyPI (pip) ...", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "brython"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"pip install brython failed: {done.stderr.strip()[-1500:]}")
        found = locate()
    if found is None:
        raise RuntimeError("the brython package has no data/brython.js")
    return found


def publish_brython(site: HostSite) -> dict:
    """Copies brython.js onto the host site with a brotli (quality 11) sibling; sizes."""
    import brotli

    data, version = brython_data()
    raw = (data / "brython.js").read_bytes()
    packed = brotli.compress(raw, quality=11)
    (site.folder / "brython.js").write_bytes(raw)
    (site.folder / "brython.js.br").write_bytes(packed)
    stdlib = (data / "brython_stdlib.js").read_bytes() if (data / "brython_stdlib.js").is_file() else b""
    return {
        "version": version,
        "url": f"{site.origin}/brython.js",
        "brython_js": {"raw": len(raw), "brotli": len(packed)},
        # Not loaded by the page (its Python imports nothing from the stdlib), but
        # any `import json` would need it: reported so the reader can add it up.
        # (brotli quality 9 for this estimate: 11 takes ~7 s on 5 MB).
        "brython_stdlib_js": {"raw": len(stdlib), "brotli_q9": len(brotli.compress(stdlib, quality=9))
                              if stdlib else 0},
    }


def stop_group(process: subprocess.Popen | None) -> None:
    """SIGTERM to the process group we started, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
