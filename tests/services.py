"""Throwaway PostgreSQL and Redis servers for the tests, on 127.0.0.1 only.

Each is started from the machine's own binaries, installed with Debian's
apt-get when missing (as root, or with sudo), on a free port, with its data in
a temporary folder that is deleted afterwards. Nothing is persisted: PostgreSQL
runs without fsync, Redis without snapshots or an append-only file.
PostgreSQL refuses to run as root, so as root it runs as `nobody`.

`Unavailable` says why a service can't be had; the fixtures turn it into a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.helpers.ports import free_port

HOST = "127.0.0.1"
USER = "parley"  # PostgreSQL's superuser in the throwaway cluster (trust auth, loopback only)


class Unavailable(Exception):
    """The service can't be installed or started here; the message says why."""


def run_async(make_coroutine):
    """Runs a coroutine to completion in a thread of its own (safe inside a running event loop)."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(make_coroutine())
        except BaseException as error:  # handed to the caller
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


# -- installing ----------------------------------------------------------------------

_apt_lock = threading.Lock()
_apt_updated = False


def apt_install(package: str) -> None:
    """Installs a Debian package, as root or with sudo; raises Unavailable when it can't."""
    global _apt_updated
    if not shutil.which("apt-get"):
        raise Unavailable(f"{package} is not installed and there is no apt-get to install it")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo") or subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode:
            raise Unavailable(f"{package} is not installed; installing it needs root (or passwordless sudo)")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _apt_lock:
        if not _apt_updated:
            subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
            _apt_updated = True
        done = subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", package], env=env,
                              capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise Unavailable(f"apt-get install {package} failed: {(done.stderr or done.stdout).strip()[-500:]}")


# -- PostgreSQL --------------------------------------------------------------------------

def postgres_bindir() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: $PATH first, then Debian's newest."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                    key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    return Path(debian[-1]).parent if debian else None


def ensure_postgres() -> Path:
    bindir = postgres_bindir()
    if bindir is None:
        apt_install("postgresql")
        bindir = postgres_bindir()
    if bindir is None:
        raise Unavailable("PostgreSQL's initdb/pg_ctl are not on $PATH nor in /usr/lib/postgresql/*/bin")
    return bindir


def _unprivileged() -> dict:
    """subprocess arguments that drop root to `nobody` (PostgreSQL won't run as root)."""
    if os.geteuid() != 0:
        return {}
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise Unavailable("running as root and there is no `nobody` user to run PostgreSQL as") from None
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


class PostgresServer:
    """One throwaway cluster; `create_database()` gives each test a fresh, migrated database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="parley-pg-"))
        self.data = self.folder / "data"
        self._names = itertools.count(1)
        self._template: str | None = None
        self._as = _unprivileged()

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=timeout, cwd=self.folder, **self._as)

    def start(self) -> PostgresServer:
        if self._as:
            os.chown(self.folder, self._as["user"], self._as["group"])
        self.folder.chmod(0o700)
        done = self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                         "--no-locale", "--no-sync")
        if done.returncode:
            raise Unavailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
        self._options = " ".join([
            f"-p {self.port}", f"-k {self.folder}", f"-c listen_addresses={HOST}",
            "-F", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=200",
        ])
        self.resume()
        return self

    def resume(self) -> None:
        """Starts the cluster (again, after halt()) on the same port and data."""
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                         "-t", "60", "-o", self._options, "start", timeout=90)
        if done.returncode:
            log = (self.folder / "server.log")
            detail = log.read_text()[-1000:] if log.exists() else done.stderr
            raise Unavailable(f"pg_ctl start failed: {detail.strip()}")

    def halt(self) -> None:
        """Stops the cluster as a crash would (open connections cut), keeping its data."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{USER}@{HOST}:{self.port}/{database}"

    def execute(self, *statements: str) -> None:
        """Runs statements (CREATE/DROP DATABASE ...) outside any transaction, as the superuser."""
        import asyncpg

        async def go():
            connection = await asyncpg.connect(self.url("postgres", "postgresql"))
            try:
                for statement in statements:
                    await connection.execute(statement)
            finally:
                await connection.close()
        run_async(go)

    def template(self) -> str:
        """A database migrated to the newest schema, copied for every test (much faster than migrating)."""
        if self._template is None:
            from parley.storage.db import Database

            self.execute("DROP DATABASE IF EXISTS parley_template", "CREATE DATABASE parley_template")

            async def migrate():
                database = Database(self.url("parley_template"))
                try:
                    await database.upgrade()
                finally:
                    await database.close()
            run_async(migrate)
            self._template = "parley_template"
        return self._template

    def create_database(self, migrated: bool = True) -> str:
        """A fresh database's name (empty, or at the newest schema)."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE {self.template() if migrated else "template0"}')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _started(server, clean_up):
    """`server.start()`; when that fails, `clean_up()` (what the server left) and the error."""
    try:
        return server.start()
    except BaseException:
        clean_up()
        raise


def start_postgres() -> PostgresServer:
    server = PostgresServer(ensure_postgres())
    return _started(server, server.stop)


# -- Redis -----------------------------------------------------------------------------------

def ensure_redis() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        apt_install("redis-server")
        binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not on $PATH")
    return binary


class RedisServer:
    """A throwaway redis-server; `stop()` and `start()` again keep its port (for outage tests)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="parley-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> RedisServer:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Unavailable("redis-server exited: " + (self.folder / "redis.log").read_text()[-500:])
            if self.ping():
                return self
            time.sleep(0.05)
        raise Unavailable("redis-server did not answer PING within 20s")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kills it at once (like a crash); the port stays this server's for `start()`."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child: ends it when the test run that started it dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_redis() -> RedisServer:
    server = RedisServer(ensure_redis())
    return _started(server, server.close)


def started(start, needs: str):
    """`start()`'s server, or the test is skipped when the service can't be had here."""
    import pytest

    try:
        return start()
    except Unavailable as error:
        pytest.skip(f"needs {needs}, which can't be installed or started here: {error}")
