"""Several `parley serve` processes behind nginx, on PostgreSQL + Redis (issue 12).

    .venv/bin/python bench/scaleout.py                 # 1, 2 and 3 processes, then the kill test
    .venv/bin/python bench/scaleout.py --quick         # smoke-sized
    .venv/bin/python bench/scaleout.py --counts 1,2 --no-kill

What it starts, all on 127.0.0.1 and stopped in `finally` blocks: a throwaway
PostgreSQL and Redis (tests/services.py, the same ones the tests use), N `parley
serve --redis` processes sharing that database, and Debian's nginx running
docs/deploy/nginx.conf as shipped, with only its upstream `server` lines and its
`listen` line rewritten. Visitors and operators connect to nginx only; nothing is
sticky, so a visitor and the operator answering it are usually on different
processes and every round trip crosses Redis.

For each process count it measures, with bench/loadclient.py (the same client as
bench/server.py):
- round trips/s at rising rates until p99 > 50 ms; the last rate that held;
- server CPU per round trip, summed over the N processes;
- the cross-process fan-out: a visitor connected straight to process 1 and an
  operator straight to process 2 (same process when N = 1), p50/p99 of the visitor
  -> operator leg (stored, published on Redis, delivered) and of the round trip.
It also runs one SQLite process (no nginx, no Redis) with the same client, so
"one PostgreSQL process against one SQLite process" is measured in the same run.

Then the kill test (N = the largest count): visitors send through nginx while an
operator echoes each message; one process gets SIGKILL; its sockets reconnect
through nginx to the others (the visitors with `lastSeq`, resending what was not
acknowledged, as the widget does; the operator resubscribes and reads each chat's
history, as the inbox does). At the end the database and the client's records are
compared: every visitor message stored exactly once, every echo delivered to its
visitor exactly once, and the time from the kill until everyone was back.

The machine matters: on 2 cores, N processes + PostgreSQL + Redis + nginx + the
load client share two CPUs, so more processes cannot add capacity the way they do
on a bigger machine; the report prints the core count next to the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)

import harness  # noqa: E402
import server as server_bench  # noqa: E402
from loadclient import latency_stats  # noqa: E402

from tests import services  # noqa: E402

SITE_CONF = ROOT / "docs" / "deploy" / "nginx.conf"
RESULTS = BENCH / "results"
now = time.monotonic


def log(text: str) -> None:
    print(f"scaleout: {text}", flush=True)


# -- nginx ---------------------------------------------------------------------------

def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        services.apt_install("nginx")  # Debian's package, as docs/deploy/nginx.conf assumes
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


def site_config(upstream_ports: list[int], port: int) -> str:
    """docs/deploy/nginx.conf with our upstream servers and listen address, nothing else."""
    text = SITE_CONF.read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstream_ports)
    text, found = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+;\n", "", text)
    if not found:
        raise RuntimeError(f"{SITE_CONF}: no `server 127.0.0.1:PORT;` lines in its upstream")
    text = text.replace("    least_conn;\n", "    least_conn;\n" + servers, 1)
    text, listens = re.subn(r"(?m)^    listen 80;$", f"    listen 127.0.0.1:{port};", text)
    if listens != 1:
        raise RuntimeError(f"{SITE_CONF}: expected one `listen 80;` line")
    return text


class Nginx:
    def __init__(self, folder: Path, upstream_ports: list[int]) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (folder / "site.conf").write_text(site_config(upstream_ports, self.port))
        temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(exist_ok=True)
        # As root, nginx's workers would run as `nobody`, who can't read a private temp dir.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\nworker_rlimit_nofile 65536;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log warn;\n"
            "events { worker_connections 30000; }\n"
            "http {\n  access_log off;\n"
            f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
            f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
            f"  scgi_temp_path {temp['scgi']};\n"
            f"  include {folder}/site.conf;\n}}\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [nginx_binary(), "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "stderr.log", "ab"),  # noqa: SIM115
            start_new_session=True)
        try:
            harness.wait_http(self.url + "/healthz", 30, self.process)
        except RuntimeError as error:
            errors = (self.folder / "error.log").read_text(errors="replace")[-2000:] \
                if (self.folder / "error.log").exists() else ""
            raise RuntimeError(f"nginx did not start: {error}\n{errors}") from None

    def stop(self) -> None:
        harness.stop_group(self.process)


# -- a cluster -----------------------------------------------------------------------

class Cluster:
    """N `parley serve --redis` processes on one PostgreSQL database, behind nginx."""

    def __init__(self, folder: Path, count: int, db_url: str, redis_url: str) -> None:
        self.servers = [harness.ParleyServer(folder / "data", db_url=db_url, redis_url=redis_url,
                                             log_name=f"server-{count}-{i}.log") for i in range(count)]
        self.nginx = Nginx(folder / f"nginx-{count}", [s.port for s in self.servers])

    def start(self) -> None:
        # One after the other: the first creates what the data folder holds.
        for server in self.servers:
            server.start()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for server in self.servers:
            server.stop()

    @property
    def pids(self) -> list[int]:
        return [s.process.pid for s in self.servers if s.process is not None and s.process.poll() is None]


# Sizes: the full run, --quick (a few minutes), --smoke (the CI test, about a minute).
SIZES = {
    "full": {"steps": [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000], "budget_s": 150.0,
             "probe": 200, "kill": {"visitors": 300, "rate": 40, "seconds": 25, "kill_at": 8}},
    "quick": {"steps": [25, 50, 100, 150], "budget_s": 60.0,
              "probe": 60, "kill": {"visitors": 60, "rate": 20, "seconds": 12, "kill_at": 4}},
    "smoke": {"steps": [10, 20], "step_seconds": 2, "visitors": 30, "chats": 5, "rtt_rate": 5,
              "rtt_seconds": 2, "budget_s": 25.0, "reserve_s": 5.0,
              "probe": 20, "kill": {"visitors": 20, "rate": 10, "seconds": 6, "kill_at": 2}},
}


def client_config(size: str) -> dict:
    c = server_bench.config(size != "full", None, None)
    c |= {k: v for k, v in SIZES[size].items() if k not in ("probe", "kill")}
    c |= {"idle_counts": [c["visitors"]], "storm_visitors": c["visitors"]}
    return c


def throughput(name: str, url: str, pids: list[int], app_id: str, origin: str, accounts: list[dict],
               c: dict, folder: Path) -> dict:
    target = {"name": name, "url": url, "pid": pids[0], "pids": pids, "app_id": app_id, "origin": origin,
              "operators": accounts, "rate_limited": True, "budgets": harness.BENCH_BUDGETS,
              "phases": ["idle", "steps"]}
    return server_bench.run_client({**c, "targets": [target]}, folder)["targets"][0]


# -- direct sockets: the fan-out probe and the kill test ---------------------------------

def login(url: str, app_id: str, account: dict) -> str:
    body = json.dumps({"appId": app_id, **account}).encode()
    request = urllib.request.Request(url + "/api/operator/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        cookie = response.headers.get("Set-Cookie", "")
    return cookie.split("parley_session=", 1)[1].split(";", 1)[0]


async def fanout_probe(visitor_url: str, operator_url: str, app_id: str, origin: str, account: dict,
                       count: int = 200, rate: float = 20.0) -> dict:
    """Visitor on one process, operator on another: the visitor -> operator leg and the round trip."""
    from websockets.asyncio.client import connect

    cookie = await asyncio.to_thread(login, operator_url, app_id, account)
    operator = await connect(operator_url.replace("http", "ws", 1) + "/ws/operator", origin=operator_url,
                             additional_headers={"Cookie": f"parley_session={cookie}"}, ping_interval=None)
    await operator.send(json.dumps({"v": 1, "type": "subscribe"}))
    while json.loads(await operator.recv()).get("type") != "subscribed":
        pass
    # The visitor budget is 2 messages a second: the probe cycles over a few visitors.
    visitors = []
    for _ in range(max(2, int(rate))):
        ws = await connect(visitor_url.replace("http", "ws", 1) + "/ws/visitor", origin=origin,
                           ping_interval=None)
        await ws.send(json.dumps({"v": 1, "type": "hello", "appId": app_id}))
        while json.loads(await ws.recv()).get("type") != "welcome":
            pass
        visitors.append(ws)
    sent: dict[str, float] = {}
    leg: list[float] = []
    leg_at: list[tuple[int, float]] = []  # (probe number, ms): where the slow ones fall
    trip: list[float] = []
    echoed: dict[str, asyncio.Future] = {}

    async def operator_reads() -> None:
        async for raw in operator:
            frame = json.loads(raw)
            message = frame.get("message") or {}
            text = message.get("text") or ""
            if frame.get("type") == "message" and message.get("authorKind") == "visitor" and text in sent:
                leg.append((now() - sent[text]) * 1000)
                leg_at.append((int(text[2:]), round(leg[-1], 1)))
                await operator.send(json.dumps({"v": 1, "type": "message.send", "chatId": frame["chatId"],
                                                "clientId": "e" + text, "text": "echo " + text}))

    async def visitor_reads(ws) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") != "event":
                continue
            message = (frame.get("event") or {}).get("message") or {}
            text = message.get("text") or ""
            if message.get("authorKind") == "operator" and text.startswith("echo "):
                future = echoed.pop(text[5:], None)
                if future is not None and not future.done():
                    future.set_result(now())

    readers = [asyncio.create_task(operator_reads())]
    readers += [asyncio.create_task(visitor_reads(v)) for v in visitors]
    try:
        # One warm-up message each: the first message opens a chat (the slower, general path).
        for i, ws in enumerate(visitors):
            await ws.send(json.dumps({"v": 1, "type": "message.send", "clientId": f"w{i}",
                                      "text": f"warm {i}"}))
        await asyncio.sleep(2.0)  # the warm-up's answers are not measured; the rate below is the probe's own
        futures = []
        for i in range(count):
            text = f"fx{i}"
            future = asyncio.get_running_loop().create_future()
            echoed[text] = future
            sent[text] = now()
            await visitors[i % len(visitors)].send(json.dumps(
                {"v": 1, "type": "message.send", "clientId": text, "text": text}))
            futures.append((text, future))
            await asyncio.sleep(1 / rate)
        await asyncio.wait([f for _t, f in futures], timeout=10)
        for text, future in futures:
            if future.done():
                trip.append((future.result() - sent[text]) * 1000)
    finally:
        for task in readers:
            task.cancel()
        for ws in [operator, *visitors]:
            with contextlib.suppress(Exception):
                await ws.close()
    return {"count": count, "visitor_to_operator": latency_stats(leg), "round_trip": latency_stats(trip),
            "missing": count - len(trip), "slowest_legs": sorted(leg_at, key=lambda x: -x[1])[:5]}


class KillVisitor:
    """A visitor as the widget behaves: resends unacknowledged messages, resumes from lastSeq."""

    def __init__(self, test: KillTest) -> None:
        self.test = test
        self.id: str | None = None
        self.token: str | None = None
        self.seq = 0
        self.chat_id: str | None = None
        self.unacked: dict[str, str] = {}
        self.sent: set[str] = set()
        self.received = collections.Counter()  # operator message id -> times delivered
        self.ws = None
        self.connected = asyncio.Event()
        self.dropped_at: float | None = None
        self.back_at: float | None = None

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        test = self.test
        while not test.stopping:
            try:
                ws = await connect(test.ws_url + "/ws/visitor", origin=test.origin, ping_interval=None,
                                   open_timeout=10)
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError):
                test.counters["visitor_connect_failures"] += 1
                await asyncio.sleep(0.2)
                continue
            try:
                hello = {"v": 1, "type": "hello", "appId": test.app_id}
                if self.id:
                    hello |= {"visitorId": self.id, "visitorToken": self.token, "lastSeq": self.seq}
                await ws.send(json.dumps(hello))
                async for raw in ws:
                    await self.on_frame(ws, json.loads(raw))
            except ConnectionClosed:
                pass
            finally:
                self.ws = None
                self.connected.clear()
            if not test.stopping:
                self.dropped_at = self.dropped_at or now()
                test.counters["visitor_drops"] += 1
                await asyncio.sleep(0.1)

    async def on_frame(self, ws, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "welcome":
            self.id, self.token = frame["visitorId"], frame["visitorToken"]
            self.ws = ws
            if self.dropped_at is not None and self.back_at is None:
                self.back_at = now()
            for client_id, text in list(self.unacked.items()):  # the widget's outbox
                await ws.send(json.dumps({"v": 1, "type": "message.send", "clientId": client_id,
                                          "text": text}))
            self.connected.set()
        elif kind == "ack":
            self.unacked.pop(frame["clientId"], None)
            self.chat_id = frame["message"].get("chatId") or self.chat_id
            if self.chat_id:
                self.test.chats.add(self.chat_id)
        elif kind == "event":
            seq = frame.get("seq") or 0
            if seq <= self.seq:
                self.test.counters["visitor_duplicate_events"] += 1
                return
            self.seq = seq
            message = (frame.get("event") or {}).get("message") or {}
            if message.get("authorKind") == "operator":
                self.received[message["id"]] += 1
        elif kind == "reset":
            self.test.counters["visitor_resets"] += 1
            self.seq = frame.get("seq") or self.seq
        elif kind == "error":
            self.test.counters["visitor_error:" + str(frame.get("code"))] += 1

    async def send(self, text: str) -> None:
        client_id = text
        self.sent.add(client_id)
        self.unacked[client_id] = text
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.send(json.dumps({"v": 1, "type": "message.send", "clientId": client_id,
                                               "text": text}))


class KillTest:
    def __init__(self, url: str, app_id: str, origin: str, account: dict, visitors: int) -> None:
        self.url = url
        self.ws_url = url.replace("http", "ws", 1)
        self.app_id = app_id
        self.origin = origin
        self.account = account
        self.stopping = False
        self.counters: collections.Counter = collections.Counter()
        self.chats: set[str] = set()
        self.visitors = [KillVisitor(self) for _ in range(visitors)]
        self.echoed: set[str] = set()  # visitor texts the operator has answered (acked)
        self.echo_unacked: dict[str, tuple[str, str]] = {}  # clientId -> (chatId, text)
        self.operator_back_at: float | None = None
        self.operator_dropped_at: float | None = None

    async def operator(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        cookie = await asyncio.to_thread(login, self.url, self.app_id, self.account)
        while not self.stopping:
            try:
                ws = await connect(self.ws_url + "/ws/operator", origin=self.url, ping_interval=None,
                                   additional_headers={"Cookie": f"parley_session={cookie}"}, open_timeout=10)
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError):
                self.counters["operator_connect_failures"] += 1
                await asyncio.sleep(0.2)
                continue
            try:
                await ws.send(json.dumps({"v": 1, "type": "subscribe"}))
                async for raw in ws:
                    await self.on_operator_frame(ws, json.loads(raw))
            except ConnectionClosed:
                pass
            if not self.stopping:
                self.operator_dropped_at = self.operator_dropped_at or now()
                self.counters["operator_drops"] += 1
                await asyncio.sleep(0.1)

    async def echo(self, ws, chat_id: str, text: str) -> None:
        if text in self.echoed:
            return
        client_id = "e" + text
        self.echo_unacked[client_id] = (chat_id, text)
        await ws.send(json.dumps({"v": 1, "type": "message.send", "chatId": chat_id, "clientId": client_id,
                                  "text": "echo " + text}))

    async def on_operator_frame(self, ws, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "subscribed":
            if self.operator_dropped_at is not None and self.operator_back_at is None:
                self.operator_back_at = now()
            # As the inbox does after a reconnect: resend what wasn't acknowledged, then
            # read each chat's history for messages that arrived while it was away.
            for client_id, (chat_id, text) in list(self.echo_unacked.items()):
                await ws.send(json.dumps({"v": 1, "type": "message.send", "chatId": chat_id,
                                          "clientId": client_id, "text": "echo " + text}))
            if self.operator_dropped_at is not None:
                for chat_id in list(self.chats):
                    await ws.send(json.dumps({"v": 1, "type": "history", "chatId": chat_id, "limit": 100}))
        elif kind == "message":
            message = frame["message"]
            if message.get("authorKind") == "visitor" and message.get("text", "").startswith("k"):
                await self.echo(ws, frame["chatId"], message["text"])
        elif kind == "history":
            texts = {m.get("text") for m in frame.get("messages", [])}
            for m in frame.get("messages", []):
                text = m.get("text") or ""
                if m.get("authorKind") == "visitor" and text.startswith("k") and "echo " + text not in texts:
                    await self.echo(ws, frame["chatId"], text)
        elif kind == "ack":
            done = self.echo_unacked.pop(frame.get("clientId"), None)
            if done is not None:
                self.echoed.add(done[1])
        elif kind == "error":
            self.counters["operator_error:" + str(frame.get("code"))] += 1

    async def run(self, victim, rate: float, seconds: float, kill_at: float) -> dict:
        tasks = [asyncio.create_task(v.run()) for v in self.visitors]
        operator = asyncio.create_task(self.operator())
        await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in self.visitors)), 60)
        t0 = now()
        killed_at = None
        n = 0
        while now() - t0 < seconds:
            if killed_at is None and now() - t0 >= kill_at:
                victim.process.send_signal(signal.SIGKILL)
                killed_at = now()
                log(f"kill: SIGKILL to pid {victim.process.pid} after {kill_at:.0f} s")
            visitor = self.visitors[n % len(self.visitors)]
            n += 1
            await visitor.send(f"k{n}")
            await asyncio.sleep(1 / rate)
        # Drain: everything acknowledged and answered, or the deadline.
        deadline = now() + 60
        while now() < deadline:
            pending = sum(len(v.unacked) for v in self.visitors) + len(self.echo_unacked)
            answered = len(self.echoed) >= sum(len(v.sent) for v in self.visitors)
            if not pending and answered:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # the last echoes' events in flight to their visitors
        self.stopping = True
        for v in self.visitors:
            if v.ws is not None:
                with contextlib.suppress(Exception):
                    await v.ws.close()
        for task in [*tasks, operator]:
            task.cancel()
        await asyncio.gather(*tasks, operator, return_exceptions=True)
        dropped = [v for v in self.visitors if v.dropped_at is not None]
        back = [v.back_at for v in dropped if v.back_at is not None]
        return {
            "visitors": len(self.visitors), "rate": rate, "seconds": seconds, "sent": n,
            "visitors_dropped": len(dropped), "visitors_back": len(back),
            "all_visitors_back_s": round(max(back) - killed_at, 2) if back and killed_at else None,
            "operator_back_s": round(self.operator_back_at - killed_at, 2)
            if self.operator_back_at and killed_at else None,
            "unacked_at_end": sum(len(v.unacked) for v in self.visitors),
            "unanswered_at_end": sum(len(v.sent) for v in self.visitors) - len(self.echoed),
            "counters": dict(self.counters),
        }


async def kill_verdict(db_url: str, test: KillTest) -> dict:
    """The database against the client's records: stored once, delivered once."""
    from sqlalchemy import func, select

    from parley.storage.db import Database
    from parley.storage.models import Message

    database = Database(db_url)
    try:
        async with database.session() as session:
            rows = (await session.execute(
                select(Message.author_id, Message.client_message_id, func.count())
                .where(Message.author_kind == "visitor", Message.client_message_id.like("k%"))
                .group_by(Message.author_id, Message.client_message_id))).all()
            echoes = (await session.execute(
                select(Message.id, Message.chat_id).where(Message.author_kind == "operator",
                                                          Message.text.like("echo k%")))).all()
    finally:
        await database.close()
    stored = {(a, c): n for a, c, n in rows}
    sent = {(v.id, c) for v in test.visitors for c in v.sent}
    by_chat = {v.chat_id: v for v in test.visitors}
    delivered = lost = twice = 0
    for message_id, chat_id in echoes:
        visitor = by_chat.get(chat_id)
        times = visitor.received.get(message_id, 0) if visitor else 0
        delivered += times >= 1
        lost += times == 0
        twice += times > 1
    return {"visitor_messages_sent": len(sent), "stored": len(stored),
            "lost": len(sent - set(stored)), "stored_twice": sum(1 for n in stored.values() if n > 1),
            "echoes_stored": len(echoes), "echoes_delivered": delivered, "echoes_lost": lost,
            "echoes_delivered_twice": twice}


# -- the run -------------------------------------------------------------------------

def run(counts: list[int], size: str, kill: bool) -> dict:
    started = now()
    c = client_config(size)
    quick = size != "full"
    soft, _hard = server_bench.raise_nofile()
    c = server_bench.fits(c, soft)
    result: dict = {"kind": "scaleout", "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "machine": server_bench.machine(), "quick": quick, "size": size, "config": c,
                    "clusters": {}}
    postgres = services.start_postgres()
    redis = services.start_redis()
    try:
        with tempfile.TemporaryDirectory(prefix="parley-scaleout-") as tmp:
            folder = Path(tmp)
            (folder / "data").mkdir()
            db_url = postgres.url(postgres.create_database())
            setup = harness.ParleyServer(folder / "data", db_url=db_url)
            origin = f"http://127.0.0.1:{harness.free_port()}"
            app = setup.cli("app", "create", "--name", "Scale-out bench", "--origin", origin)
            operators = server_bench.operators_needed(c)
            accounts = asyncio.run(server_bench._create_operators(db_url, app["appId"], operators + 1))
            probe_account, accounts = accounts[-1], accounts[:-1]
            log(f"PostgreSQL {db_url.rsplit('@', 1)[-1]}, Redis {redis.url}, {operators} operators")
            for count in counts:
                cluster = Cluster(folder, count, db_url, redis.url)
                try:
                    cluster.start()
                    log(f"{count} process(es) behind nginx {cluster.nginx.url}: pids {cluster.pids}")
                    out = throughput(f"pg-x{count}", cluster.nginx.url, cluster.pids, app["appId"], origin,
                                     accounts, c, folder)
                    direct = [s.url for s in cluster.servers]
                    out["fanout"] = asyncio.run(fanout_probe(direct[0], direct[-1], app["appId"], origin,
                                                             probe_account, count=SIZES[size]["probe"]))
                    out["fanout"]["across_processes"] = count > 1
                    result["clusters"][str(count)] = out
                    log(f"{count}: {summary(out)}")
                finally:
                    cluster.stop()
            # One SQLite process, same client, same run.
            sqlite = harness.ParleyServer(folder / "sqlite")
            (folder / "sqlite").mkdir()
            try:
                sqlite.start()
                app1 = sqlite.cli("app", "create", "--name", "SQLite", "--origin", origin)
                accounts1 = server_bench.create_operators(sqlite, app1["appId"], operators)
                out = throughput("sqlite-x1", sqlite.url, [sqlite.process.pid], app1["appId"], origin,
                                 accounts1, c, folder)
                result["sqlite"] = out
                log(f"sqlite, one process: {summary(out)}")
            finally:
                sqlite.stop()
            if kill:
                count = max(counts)
                cluster = Cluster(folder, count, db_url, redis.url)
                try:
                    cluster.start()
                    plan = SIZES[size]["kill"]
                    test = KillTest(cluster.nginx.url, app["appId"], origin, probe_account,
                                    visitors=plan["visitors"])
                    victim = cluster.servers[0]
                    out = asyncio.run(test.run(victim, rate=plan["rate"], seconds=plan["seconds"],
                                               kill_at=plan["kill_at"]))
                    out["processes"] = count
                    out |= asyncio.run(kill_verdict(db_url, test))
                    result["kill"] = out
                    log(f"kill: {json.dumps(out)}")
                finally:
                    cluster.stop()
    finally:
        redis.close()
        postgres.stop()
    result["elapsed_s"] = round(now() - started, 1)
    return result


def summary(target: dict) -> str:
    steps = (target.get("phases") or {}).get("steps") or {}
    best = steps.get("sustained_round_trips_per_s")
    held = [s for s in steps.get("steps", []) if s.get("ok")]
    cpu = held[-1].get("server_cpu_ms_per_round_trip") if held else None
    fan = (target.get("fanout") or {}).get("visitor_to_operator") or {}
    parts = [f"{best or 0:.0f} round trips/s at p99 <= 50 ms"]
    if cpu:
        parts.append(f"{cpu:.2f} ms CPU/round trip (all processes)")
    if fan:
        parts.append(f"fan-out p50 {fan.get('p50_ms') or 0:.1f} ms p99 {fan.get('p99_ms') or 0:.1f} ms")
    if target.get("error"):
        parts.append("error: " + target["error"])
    return ", ".join(parts)


def render(result: dict) -> str:
    lines = [f"## Scale-out: PostgreSQL + Redis behind nginx ({result['date']}, "
             f"{result['machine']['cpus']} cores{', quick' if result['quick'] else ''})", "",
             "| processes | round trips/s at p99 <= 50 ms | x one process | CPU ms/round trip | "
             "visitor -> operator p50 / p99 | round trip p50 / p99 |",
             "| --- | --- | --- | --- | --- | --- |"]
    one = None
    rows = [(k, v) for k, v in result["clusters"].items()]
    if result.get("sqlite"):
        rows.append(("1, SQLite (no nginx, no Redis)", result["sqlite"]))
    for name, target in rows:
        steps = (target.get("phases") or {}).get("steps") or {}
        best = steps.get("sustained_round_trips_per_s") or 0
        if name == "1":
            one = best or None
        held = [s for s in steps.get("steps", []) if s.get("ok")]
        cpu = held[-1].get("server_cpu_ms_per_round_trip") if held else None
        fan = target.get("fanout") or {}
        leg, trip = fan.get("visitor_to_operator") or {}, fan.get("round_trip") or {}
        ratio = f"{best / one:.2f}x" if one and name.isdigit() else ""
        fan_text = f"{leg.get('p50_ms') or 0:.1f} / {leg.get('p99_ms') or 0:.1f} ms" if leg else ""
        trip_text = f"{trip.get('p50_ms') or 0:.1f} / {trip.get('p99_ms') or 0:.1f} ms" if trip else ""
        lines.append(f"| {name} | {best:.0f} | {ratio} | {cpu or 0:.2f} | {fan_text} | {trip_text} |")
    kill = result.get("kill")
    if kill:
        lines += ["", f"Kill test: {kill['processes']} processes, {kill['visitors']} visitors through nginx, "
                      f"{kill['rate']} messages/s, SIGKILL to one process after a few seconds.", "",
                  "| visitors dropped | all back after | operator back after | visitor messages sent "
                  "| stored | lost | stored twice | echoes delivered | lost | twice |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
                  f"| {kill['visitors_dropped']} | {kill['all_visitors_back_s']} s "
                  f"| {kill['operator_back_s']} s | {kill['visitor_messages_sent']} | {kill['stored']} "
                  f"| {kill['lost']} | {kill['stored_twice']} | "
                  f"{kill['echoes_delivered']}/{kill['echoes_stored']} | {kill['echoes_lost']} | "
                  f"{kill['echoes_delivered_twice']} |"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,2,3", help="process counts to measure (default 1,2,3)")
    parser.add_argument("--quick", action="store_true", help="small counts and steps (a few minutes)")
    parser.add_argument("--smoke", action="store_true", help="tiny counts (the CI test, about a minute)")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill test")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.counts.split(",") if n.strip()]
    size = "smoke" if args.smoke else "quick" if args.quick else "full"
    result = run(counts, size, not args.no_kill)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = result["date"].replace(":", "").replace("-", "")
    for name in (f"scaleout-{stamp}.json", "latest-scaleout.json"):
        (args.out / name).write_text(json.dumps(result, indent=1))
    text = render(result)
    (args.out / "latest-scaleout.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
