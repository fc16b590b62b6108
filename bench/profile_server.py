"""Profiles one `parley serve` process under a steady round-trip load with py-spy.

    .venv/bin/python bench/profile_server.py                  # 60 round trips/s for 20 s
    .venv/bin/python bench/profile_server.py --rate 200 --seconds 15 --native

Starts the server and the load client exactly as bench/server.py does (its own SQLite,
an app, operators echoing every visitor message), runs only the round-trip phase at
`--rate`, and records the server with `py-spy record` meanwhile. It prints the client's
numbers (p50/p99, server CPU per round trip) and where the server's samples went: by
own frame, and by layer (SQLAlchemy, aiosqlite/sqlite3, websockets, parley, ...).
The collapsed stacks are kept in bench/results/profile-<UTC>.txt for a flame graph.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)

import harness  # noqa: E402
import server as server_bench  # noqa: E402

# Which layer a frame belongs to, by the file it is in (first match wins).
LAYERS = [
    ("sqlalchemy", "sqlalchemy"), ("aiosqlite", "aiosqlite"), ("asyncpg", "asyncpg"),
    ("sqlite3", "sqlite3"), ("websockets", "websockets"), ("uvicorn", "uvicorn"),
    ("starlette", "starlette"), ("msgspec", "msgspec"), ("json", "json/"),
    ("parley", "parley/"), ("asyncio", "asyncio/"), ("anyio", "anyio"),
]


def layer_of(frame: str) -> str:
    for name, needle in LAYERS:
        if needle in frame:
            return name
    return "other"


# Leaves where a thread waits rather than works (py-spy's idle detection misses these
# with --nonblocking): the event loop's select, aiosqlite's idle queue read.
IDLE_LEAVES = ("EpollSelector.select", "aiosqlite/core.py:59)", "Condition.wait", "SimpleQueue.get",
               "concurrent/futures/thread.py:81)")


# A worker thread's root frame: "Thread._bootstrap" with py-spy's thread names, else the
# plain function ("_bootstrap (threading.py:…)").
WORKER_ROOTS = ("Thread._bootstrap", "_bootstrap (threading.py")


def summarize(collapsed: Path, top: int = 25) -> str:
    """Busy samples only: own time per frame and per layer, inclusive time per parley
    function, and the split between the event-loop thread and the others."""
    own: collections.Counter[str] = collections.Counter()
    layers: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        leaf = frames[-1]
        if any(mark in leaf for mark in IDLE_LEAVES):
            idle += n
            continue
        total += n
        own[leaf] += n
        layers[layer_of(leaf)] += n
        # Worker threads (aiosqlite's, the SQLite writer, argon2, GeoIP) start in threading;
        # everything else is the event loop's (greenlet stacks of SQLAlchemy included).
        threads["worker threads" if frames[0].startswith(WORKER_ROOTS) else "event loop"] += n
        for frame in set(frames):
            if "parley/" in frame:
                inclusive[frame] += n
    if not total:
        return "no busy samples"
    out = [f"{total} busy samples ({idle} idle left out)", "", "by thread:"]
    out += [f"  {100 * n / total:5.1f} %  {name}" for name, n in threads.most_common()]
    out += ["", "by layer (own time):"]
    out += [f"  {100 * n / total:5.1f} %  {name}" for name, n in layers.most_common()]
    out += ["", "top own frames:"]
    out += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    out += ["", "parley functions (inclusive):"]
    out += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=60.0, help="round trips per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    parser.add_argument("--no-profile", action="store_true", help="measure only")
    parser.add_argument("--gil", action="store_true",
                        help="py-spy --gil: only samples holding the GIL (what runs, not what waits for it)")
    parser.add_argument("--setup", action="store_true",
                        help="profile the setup instead (logins, visitors' hello -> welcome, first messages)")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    server_bench.raise_nofile()
    c = server_bench.config(False, None, None)
    c.update(idle_counts=[args.chats], visitors=args.chats, chats=args.chats, rtt_rate=args.rate,
             rtt_seconds=args.seconds, storm_visitors=0, budget_s=args.seconds + 120, reserve_s=10.0)
    operators = server_bench.operators_needed(c)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = BENCH / "results" / f"profile-{stamp}.txt"
    with tempfile.TemporaryDirectory(prefix="parley-profile-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "data").mkdir()
        server = harness.ParleyServer(tmp_path / "data")
        recorder = None
        try:
            server.start()
            site_origin = f"http://127.0.0.1:{harness.free_port()}"
            app = server.cli("app", "create", "--name", "Profile", "--origin", site_origin)
            accounts = server_bench.create_operators(server, app["appId"], operators)
            target = {"name": "parley", "url": server.url, "pid": server.process.pid, "app_id": app["appId"],
                      "origin": site_origin, "operators": accounts, "rate_limited": True, "phases": ["rtt"],
                      "budgets": harness.BENCH_BUDGETS}
            spec_path, out_path = tmp_path / "spec.json", tmp_path / "client-out.json"
            spec_path.write_text(json.dumps({**c, "targets": [target]}))
            client = subprocess.Popen([sys.executable, str(BENCH / "loadclient.py"), str(spec_path),
                                       str(out_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                      start_new_session=True)
            try:
                for line in client.stdout:
                    print(line, end="", flush=True)
                    trigger = "logged in and connected" if args.setup else "with a chat"
                    if trigger in line and not args.no_profile and recorder is None:
                        # Setup is over (logins, connects, first messages): record the
                        # steady round trips only.
                        command = [py_spy, "record", "--pid", str(server.process.pid), "--rate", "200",
                                   "--format", "raw", "--output", str(out), "--nonblocking", "--threads",
                                   "--duration", str(max(1, int(args.seconds) - 1) if not args.setup else 30)]
                        if args.native:
                            command.append("--native")
                        if args.gil:
                            command.append("--gil")
                        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL)
                client.wait(timeout=args.seconds + 150)
            finally:
                harness.stop_group(client)
            result = json.loads(out_path.read_text())["targets"][0]
        finally:
            if recorder is not None:
                try:
                    recorder.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    recorder.kill()
            server.stop()
    rtt = result.get("phases", {}).get("rtt", {})
    print(f"rate {args.rate}/s: completed {rtt.get('completed')}, missing {rtt.get('missing')}, "
          f"p50 {rtt.get('p50_ms')} ms, p99 {rtt.get('p99_ms')} ms, "
          f"server CPU {rtt.get('server_cpu_ms_per_round_trip')} ms per round trip; "
          f"counters {result.get('counters')} {result.get('error', '')}")
    if recorder is not None and out.exists():
        print(summarize(out))
        print(f"\ncollapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
