"""Server CPU per returning visitor's hello (hello -> welcome -> replay after lastSeq).

    .venv/bin/python bench/hello_cpu.py                       # 400 visitors, 3 rounds
    .venv/bin/python bench/hello_cpu.py --visitors 1000 --profile

Starts a real `parley serve` (SQLite, its own PARLEY_DATA) as bench/server.py does,
creates an app with two operators, a team and a few triggers (what every welcome
carries), then registers N visitors, each of which opens a chat with one message.
Each round reconnects all N with `lastSeq` just before their chat began (so every
hello replays the chat's events), `--concurrency` at a time, and closes them again.
Reported per round: server CPU (utime+stime of the server process from /proc) per
hello, and hellos per second of wall time. `--profile` records the last round with
py-spy and prints where the busy samples went (bench/profile_server.summarize).

The CPU includes everything a returning socket costs the server: the handshake, the
hello's reads, the welcome and replay frames, presence (touch, page view) and the
close (visitor.left).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)

import harness  # noqa: E402
import server as server_bench  # noqa: E402
from loadclient import cpu_seconds  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402


async def _setup_app(db_url: str, app_id: str) -> None:
    """A team and three triggers: the per-app part of every welcome."""
    from parley.storage import app_queries, operator_queries, trigger_queries
    from parley.storage.db import Database

    database = Database(db_url)
    try:
        async with database.session() as session:
            app = await app_queries.get_app(session, app_id)
            team = await operator_queries.create_team(session, app_id, "Support")
            for operator in await operator_queries.list_operators(session, app_id):
                await operator_queries.add_team_member(session, team, operator)
            for n in range(3):
                await trigger_queries.create_trigger(session, app_id, f"Can we help? ({n})", name=f"t{n}",
                                             delay_seconds=5 * n, conditions=[["url", "contains", "/p"]])
            await app_queries.update_app(session, app, {"appearance": {"accentColor": "#336699"}})
            await session.commit()
    finally:
        await database.close()


class Tab:
    def __init__(self, url: str, app_id: str, origin: str) -> None:
        self.url, self.app_id, self.origin = url, app_id, origin
        self.id: str | None = None
        self.token: str | None = None
        self.before_chat = 0  # lastSeq to resume from: every event of the chat is replayed

    async def hello(self, last_seq: int | None, then_message: bool = False) -> int:
        """One socket: hello, the welcome, events up to welcome.seq; returns events received."""
        url = self.url.replace("http", "ws", 1) + "/ws/visitor"
        async with connect(url, origin=self.origin, ping_interval=None, close_timeout=5) as ws:
            hello = {"v": 1, "type": "hello", "appId": self.app_id,
                     "page": {"url": "https://site.example/p", "title": "P", "referrer": ""}}
            if self.id:
                hello.update(visitorId=self.id, visitorToken=self.token)
            if last_seq is not None:
                hello["lastSeq"] = last_seq
            await ws.send(json.dumps(hello))
            events, newest, seq = 0, None, last_seq or 0
            async with asyncio.timeout(60):
                while newest is None or seq < newest:
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "welcome":
                        self.id, self.token, newest = frame["visitorId"], frame["visitorToken"], frame["seq"]
                        seq = max(seq, newest) if last_seq is None else seq
                    elif frame["type"] == "event":
                        seq, events = frame["seq"], events + 1
                    elif frame["type"] in ("error", "reset"):
                        raise RuntimeError(f"hello answered with {frame}")
                if then_message:
                    self.before_chat = seq
                    await ws.send(json.dumps({"v": 1, "type": "message.send", "clientId": "first",
                                              "text": "hello"}))
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "ack":
                            break
                        if frame["type"] == "error":
                            raise RuntimeError(f"message refused: {frame}")
            return events


async def bounded(tabs: list[Tab], work, concurrency: int) -> list:
    gate = asyncio.Semaphore(concurrency)

    async def one(tab: Tab):
        async with gate:
            return await work(tab)

    return await asyncio.gather(*(one(tab) for tab in tabs))


async def drive(url: str, app_id: str, origin: str, pid: int, args, profile_out: Path | None) -> list[dict]:
    tabs = [Tab(url, app_id, origin) for _ in range(args.visitors)]
    t = time.monotonic()
    await bounded(tabs, lambda tab: tab.hello(None, then_message=True), args.concurrency)
    print(f"hello-bench: {len(tabs)} visitors with a chat ({time.monotonic() - t:.1f} s)", flush=True)
    rounds = []
    for n in range(args.rounds):
        recorder = None
        if profile_out is not None and n == args.rounds - 1:
            py_spy = (os.environ.get("PY_SPY") or shutil.which("py-spy")
                      or str(Path(sys.executable).parent / "py-spy"))
            recorder = subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", "200", "--format",
                                         "raw", "--output", str(profile_out), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)  # py-spy attached
        await asyncio.sleep(0.5)  # the previous round's closes are done
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        events = await bounded(tabs, lambda tab: tab.hello(tab.before_chat), args.concurrency)
        wall = time.monotonic() - t0
        await asyncio.sleep(0.5)  # the closes' work (visitor.left) belongs to the round
        cpu = cpu_seconds(pid) - cpu0
        if recorder is not None:
            recorder.send_signal(2)  # SIGINT: py-spy writes what it has
            recorder.wait(timeout=60)
        rounds.append({"hellos": len(tabs), "events_replayed": sum(events),
                       "cpu_ms_per_hello": round(1000 * cpu / len(tabs), 3),
                       "hellos_per_s": round(len(tabs) / wall, 1), "wall_s": round(wall, 2)})
        print(f"hello-bench: round {n + 1}: {rounds[-1]}", flush=True)
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="py-spy the last round")
    args = parser.parse_args(argv)
    server_bench.raise_nofile()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    profile_out = BENCH / "results" / f"profile-hello-{stamp}.txt" if args.profile else None
    if profile_out is not None:
        profile_out.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parley-hello-bench-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        server = harness.ParleyServer(data)
        try:
            server.start()
            origin = f"http://127.0.0.1:{harness.free_port()}"
            app = server.cli("app", "create", "--name", "Hello bench", "--origin", origin)
            server_bench.create_operators(server, app["appId"], 2)
            asyncio.run(_setup_app(f"sqlite+aiosqlite:///{data / 'parley.db'}", app["appId"]))
            rounds = asyncio.run(drive(server.url, app["appId"], origin, server.process.pid, args,
                                       profile_out))
        finally:
            server.stop()
    cpu = sorted(r["cpu_ms_per_hello"] for r in rounds)
    print(f"hello-bench: CPU per returning hello, median of {len(cpu)} rounds: {cpu[len(cpu) // 2]} ms "
          f"(load average {os.getloadavg()[0]:.2f})")
    if profile_out is not None and profile_out.exists():
        from profile_server import summarize
        print(summarize(profile_out))
        print(f"\ncollapsed stacks: {profile_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
