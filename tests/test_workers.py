"""`parley serve --workers 2` (issue 12): two worker processes on one port, one PostgreSQL, one Redis.

The kernel hands each connection to one worker; the test learns which from /proc (the worker
that holds the accepted socket), so it can check a visitor served by one worker chats live
with an operator served by the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.real_sockets import Endpoints, event_of, fed, send_frame
from tests.helpers.server import ROOT, SITE, cli
from tests.helpers.waiting import wait_until, wait_until_async

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")]


async def frames_until(ws, want, seen: list[dict], timeout: float = 10.0) -> dict:
    """The first frame `want` accepts, already in `seen` or read now (frames of two chats come in
    any order); every frame read is kept in `seen`, which a failure shows."""
    for frame in seen:
        if want(frame):
            return frame
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no such frame in time; got {seen}"
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            continue
        seen.append(frame)
        if want(frame):
            return frame


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def serving_pid(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which of `pids` holds the server side of the TCP connection from `client_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)) == (server_port,
                                                                                            client_port):
                    inodes.add(f"socket:[{inode}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


class Workers:
    """`parley serve --workers 2` as a user starts it; `pids` are the workers it printed."""

    def __init__(self, env: dict, port: int, log: Path) -> None:
        self.port, self.log = port, log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parley", "serve", "--workers", "2", "--port", str(port),
                 "--log-level", "warning"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        banner = wait_until(lambda: self.process.poll() is not None
                            or re.search(r"with 2 worker processes: (\d+), (\d+)", log.read_text()),
                            60, "the workers' banner")
        assert self.process.poll() is None, log.read_text()
        self.pids = [int(pid) for pid in banner.groups()]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"serve --workers ignored SIGTERM:\n{self.log.read_text()}") from None
        return self.process.returncode


@pytest.fixture
def workers(tmp_path, built_dist, pg_url, redis_server):
    env = {**os.environ, "PARLEY_DATA": str(tmp_path), "PARLEY_DB": pg_url,
           "PARLEY_REDIS_URL": redis_server.url}
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    server = Workers(env, free_port(), tmp_path / "serve.log")
    try:
        yield server, app
    finally:
        server.stop()


async def test_two_workers_on_one_port_chat_across_processes(workers):
    server, app = workers
    assert len(set(server.pids)) == 2
    assert all(alive(pid) and parent_of(pid) == server.process.pid for pid in server.pids)
    endpoints = Endpoints(server, app)
    cookie = endpoints.login()

    async def served_by(ws) -> int:
        client_port = ws.local_address[1]
        return await wait_until_async(lambda: serving_pid(server.pids, server.port, client_port), 20,
                                      "its worker")

    feed: list[dict] = []  # every frame the operator's socket got
    async with contextlib.AsyncExitStack() as sockets:
        op = await sockets.enter_async_context(endpoints.operator(cookie))
        await send_frame(op, "subscribe")
        await frames_until(op, lambda f: f["type"] == "subscribed", feed)
        op_worker = await served_by(op)
        # Visitors until one is served by the other worker than the operator's (the kernel
        # chooses; a handful of connections is plenty, 40 bounds it) and a second one is open.
        visitors: list = []
        across = None
        for _ in range(40):
            guest = await sockets.enter_async_context(endpoints.visitor())
            await endpoints.hello(guest)
            if across is None and await served_by(guest) != op_worker:
                across = guest
            else:
                visitors.append(guest)
            if across is not None and visitors:
                break
        assert across is not None, f"every visitor socket went to worker {op_worker}"
        guests = [across, visitors[-1]]

        # Each visitor writes; the operator (on one worker) gets both live and answers each.
        for n, guest in enumerate(guests):
            await send_frame(guest, "message.send", clientId=f"v-{n}", text=f"hello {n}")
        for n, guest in enumerate(guests):
            chat_id = (await frames_until(op, fed(f"v-{n}"), feed))["chatId"]
            await send_frame(op, "message.send", chatId=chat_id, clientId=f"o-{n}", text=f"answer {n}")
            reply = await frames_until(guest, event_of(f"o-{n}"), [])
            assert reply["event"]["message"]["text"] == f"answer {n}"

        # A worker that dies is replaced; the port keeps serving meanwhile.
        killed = await served_by(across)
        os.kill(killed, signal.SIGKILL)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(across.recv(), 20)
        replacement = rf"worker process {killed} exited .* started (\d+) in its place"
        replaced = await wait_until_async(lambda: re.search(replacement, server.log.read_text()), 20,
                                          "a new worker")
        pids = [op_worker, int(replaced.group(1))]
        assert alive(pids[1]) and parent_of(pids[1]) == server.process.pid
        late = await sockets.enter_async_context(endpoints.visitor())
        await endpoints.hello(late)
        await send_frame(late, "message.send", clientId="v-late", text="after the crash")
        chat_id = (await frames_until(op, fed("v-late"), feed))["chatId"]
        await send_frame(op, "message.send", chatId=chat_id, clientId="o-late", text="still here")
        await frames_until(late, event_of("o-late"), [])

        # SIGTERM to the parent: every worker closes its sockets with 1001, as one server does.
        server.process.send_signal(signal.SIGTERM)
        for ws in (op, late):
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 20)
            assert ws.close_code == 1001, ws.close_code
    assert server.stop() == 0, server.log.read_text()
    assert not any(alive(pid) for pid in [*server.pids, *pids])
    assert "Traceback" not in server.log.read_text(), server.log.read_text()
