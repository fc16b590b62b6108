"""A real `parley serve` in a process of its own: the one launcher of the tests that need
real sockets, restarts, signals or several processes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from parley.storage.db import Database
from tests.helpers.ports import free_port, lost_the_port

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://shop.example"


def cli(env, *args) -> dict:
    """`parley ARGS` with this environment; its JSON output."""
    done = subprocess.run([sys.executable, "-m", "parley", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def server_env(folder: Path, db_url: str | None, **settings: str) -> dict:
    """The environment of real servers and CLI calls: this test run's, with data in `folder`,
    the database $PARLEY_DB = `db_url` (None: SQLite in the data folder, whatever the test
    run's own $PARLEY_DB) and these extra settings (PARLEY_LIMITS="...")."""
    env = {**os.environ, "PARLEY_DATA": str(folder), **settings}
    env.pop("PARLEY_DB", None)
    if db_url is not None:
        env["PARLEY_DB"] = db_url
    return env


def database_of(env: dict) -> Database:
    """The `Database` that `parley serve` with this environment (`server_env`) uses."""
    return Database(env.get("PARLEY_DB") or f"sqlite+aiosqlite:///{Path(env['PARLEY_DATA']) / 'parley.db'}")


class Server:
    """`parley serve --port PORT FLAGS` (FLAGS default to `--log-level warning`), its output
    appended to `log`. start() returns once /readyz answers 200; stop() sends SIGTERM and
    fails the test if the server ignores it."""

    def __init__(self, env: dict, port: int | None, log: Path, *flags: str, start_within: float = 60) -> None:
        self.env, self.log = env, log
        self.port = port or free_port()
        self.flags = flags or ("--log-level", "warning")
        self.start_within = start_within  # the first start may build dist/
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 3) -> None:
        """Starts it and waits until it is ready. A port from free_port() can be taken by
        another process meanwhile: then the server exits saying so, and starts on another."""
        for attempt in range(attempts):
            offset = self.log.stat().st_size if self.log.exists() else 0
            with self.log.open("a") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "parley", "serve", "--port", str(self.port), *self.flags],
                    env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return
            said = self.log.read_text(errors="replace")[offset:]
            if attempt + 1 < attempts and lost_the_port(said):
                self.port = free_port()
                continue
            self.kill()
            raise AssertionError("server did not start:\n" + said)

    def _wait_ready(self) -> bool:
        """True once /readyz says 200; False when the process exited first."""
        deadline = time.monotonic() + self.start_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # the poll interval of a condition with a deadline
        self.kill()
        raise AssertionError(f"server not ready within {self.start_within}s:\n" + self.log.read_text())

    def stop(self, within: float = 20) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=within)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"server ignored SIGTERM for {within}s") from None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_demo(env: dict, log: Path, *flags: str, within: float = 60) -> tuple[subprocess.Popen, str, int]:
    """`parley serve --demo` on free ports, its output written to `log`; returns the process,
    the banner it prints once every server listens (URLs, app id, login) and its port.
    Starts again on other ports when another process took one."""
    for attempt in range(3):
        port, demo_port = free_port(), free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "parley", "serve", "--demo", "--port", str(port), "--demo-port",
                 str(demo_port), "--log-level", "warning", *flags],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + within
        while "App id:" not in (text := log.read_text(errors="replace")):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                if attempt < 2 and lost_the_port(text):
                    break
                raise AssertionError("the demo server did not start:\n" + text)
            time.sleep(0.05)  # polling for the banner, with a deadline
        else:
            return process, text, port
    raise AssertionError("the demo server lost its ports three times")


def banner_value(banner: str, label: str) -> str:
    """The value after `label:` in the demo banner (a regex label, e.g. r"App id")."""
    return re.search(rf"{label}:\s+(\S+)", banner).group(1)


@contextlib.contextmanager
def two_servers_on(folder: Path, db_url: str, redis_url: str, password: str) -> Iterator[tuple]:
    """Servers A and B (`parley serve`, configured by $PARLEY_DB and $PARLEY_REDIS_URL)
    sharing one PostgreSQL database and one Redis; an app with operator Ann: (a, b, app)."""
    env = {**os.environ, "PARLEY_DATA": str(folder), "PARLEY_DB": db_url, "PARLEY_REDIS_URL": redis_url}
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", password)
    a = Server(env, None, folder / "a.log")
    b = Server(env, None, folder / "b.log")
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        yield a, b, app
    finally:
        for server in (a, b):
            if server.process and server.process.poll() is None:
                server.stop()
