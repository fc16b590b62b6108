"""The server benchmark's load client: asyncio + `websockets`, in its own process.

    python bench/loadclient.py SPEC.json OUT.json

bench/server.py writes SPEC (targets, counts, time budget) and reads OUT. Each
target (the real Parley server, then the bare `websockets` baseline) goes
through the same phases with the same code:

- idle: open visitor sockets (hello -> welcome) up to each count and read the
  server process's RSS (psutil, else /proc) after a short settle;
- storm (Parley only): S visitors, C of them with a chat, all drop; while
  they are away an operator writes to each chat; all reconnect at once with
  `lastSeq` while the operators write once more; time until every visitor has
  its `welcome` and every message meant for it, and how many never arrived;
- rtt: visitor -> operator -> visitor round trips at a fixed rate over the
  active chats (an operator script echoes each visitor message back to its
  chat);
- steps: the same round trip at rising rates over all connected visitors,
  until p99 exceeds the limit (or round trips go missing).

Everything is bounded: counts come from SPEC, every wait has a timeout, and
the whole run stops at SPEC's deadline. Only 127.0.0.1 is ever contacted.
Progress goes to stdout, results to OUT as JSON.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import itertools
import json
import math
import os
import sys
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

now = time.monotonic
# The client keeps this share of what the server allows per visitor / operator a minute
# (target["budgets"]; without it the server's defaults, 30 and 120).
BUDGET_SHARE = 0.93
CONNECT_ERRORS = (OSError, asyncio.TimeoutError, WebSocketException)


def dumps(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"))


def log(text: str) -> None:
    print(f"server-bench: {text}", flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def latency_stats(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": percentile(values, 50), "p90_ms": percentile(values, 90),
            "p99_ms": percentile(values, 99), "max_ms": max(values) if values else None}


def rss_bytes(pid: int | list[int]) -> int | None:
    if isinstance(pid, list):
        each = [rss_bytes(one) for one in pid]
        return None if None in each else sum(each)
    try:
        import psutil
        return psutil.Process(pid).memory_info().rss
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | list[int]) -> float | None:
    """CPU (user + system) of a process, or the sum over several (bench/scaleout.py)."""
    if isinstance(pid, list):
        each = [cpu_seconds(one) for one in pid]
        return None if None in each else sum(each)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def no_gc():
    """No cyclic GC pauses in the client while it times things (thousands of live sockets)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


class Budget:
    """Client-side sliding window, so the bench stays under the server's rate limits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.hits: collections.deque[float] = collections.deque()

    def has_room(self, t: float) -> bool:
        while self.hits and self.hits[0] <= t - 60.0:
            self.hits.popleft()
        return len(self.hits) < self.limit

    def take(self, t: float) -> None:
        self.hits.append(t)


class Run:
    """Shared state of one target's run: round trips in flight and their results."""

    def __init__(self, target: dict, spec: dict) -> None:
        self.target = target
        self.spec = spec
        self.base = target["url"].replace("http://", "ws://", 1)
        self.deadline = spec["deadline"]
        self.pending: dict[str, float] = {}  # round-trip token -> send time
        self.latencies: list[float] = []
        self.counters: collections.Counter = collections.Counter()
        self.tokens = itertools.count(1)
        self.phase = "setup"
        self.max_lag_ms: dict[str, float] = {}

    def left(self) -> float:
        return self.deadline - now()


class Visitor:
    __slots__ = ("budget", "chat_id", "connected", "id", "reader", "received", "run", "seq", "seqs_seen",
                 "token", "welcome_seq", "ws")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.id: str | None = None
        self.token: str | None = None
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.seq = 0  # the highest event seq processed
        self.welcome_seq: int | None = None
        self.chat_id: str | None = None
        self.received: set[int] = set()  # message ids received as events
        self.seqs_seen: list[int] | None = None  # recorded during the storm
        self.budget = Budget(int(run.target.get("budgets", {}).get("visitor", 30) * BUDGET_SHARE))
        self.connected = False

    async def connect(self, last_seq: int | None = None, timeout: float = 30.0) -> None:
        run = self.run
        ws = await connect(run.base + "/ws/visitor", origin=run.target.get("origin"), open_timeout=timeout,
                           ping_interval=None, close_timeout=5, max_size=2**20)
        try:
            hello = {"v": 1, "type": "hello", "appId": run.target.get("app_id", "baseline")}
            if self.id and self.token:
                hello.update(visitorId=self.id, visitorToken=self.token)
            if last_seq is not None:
                hello["lastSeq"] = last_seq
            await ws.send(dumps(hello))
            async with asyncio.timeout(timeout):
                while True:
                    frame = json.loads(await ws.recv())
                    if frame.get("type") == "welcome":
                        break
                    if frame.get("type") == "error":
                        raise RuntimeError(f"hello refused: {frame.get('code')} {frame.get('message')}")
        except BaseException:
            await ws.close()
            raise
        self.id, self.token = frame["visitorId"], frame["visitorToken"]
        self.welcome_seq = frame.get("seq", 0)
        if last_seq is None:
            self.seq = max(self.seq, self.welcome_seq or 0)
        self.ws = ws
        self.connected = True
        self.reader = asyncio.create_task(self.read(ws))

    async def read(self, ws) -> None:
        run = self.run
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "event":
                    seq = frame.get("seq") or 0
                    if self.seqs_seen is not None:
                        self.seqs_seen.append(seq)
                    self.seq = max(self.seq, seq)
                    event = frame.get("event") or {}
                    if event.get("type") != "message":
                        continue
                    message = event["message"]
                    self.received.add(message["id"])
                    self.chat_id = message.get("chatId") or self.chat_id
                    text = message.get("text") or ""
                    if message.get("authorKind") == "operator" and text.startswith("rt:"):
                        sent = run.pending.pop(text, None)
                        if sent is not None:
                            run.latencies.append((now() - sent) * 1000.0)
                elif kind == "ack":
                    self.chat_id = frame["message"].get("chatId") or self.chat_id
                    run.counters["visitor_acks"] += 1
                elif kind == "error":
                    run.counters["visitor_error:" + str(frame.get("code"))] += 1
                elif kind == "reset":
                    run.counters["visitor_resets"] += 1
        except ConnectionClosed:
            pass
        finally:
            self.connected = False

    async def send_message(self, text: str) -> None:
        self.budget.take(now())
        await self.ws.send(dumps({"v": 1, "type": "message.send", "clientId": f"c{next(self.run.tokens)}",
                                  "text": text}))

    async def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self.reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self.reader, 5)
        self.connected = False


class Operator:
    def __init__(self, run: Run, operator_id: str, cookie: str | None) -> None:
        self.run = run
        self.id = operator_id
        self.cookie = cookie
        self.ws = None
        self.reader: asyncio.Task | None = None
        allowed = run.target.get("budgets", {}).get("operator", 120)
        self.budget = Budget(int(allowed * BUDGET_SHARE) if run.target.get("rate_limited") else 10**9)
        self.acks: dict[str, asyncio.Future] = {}
        self.pool: OperatorPool | None = None
        self.subscribed = asyncio.Event()
        self.connected = False
        self.closing = False

    async def connect(self, subscribe: bool) -> None:
        run = self.run
        headers = {"Cookie": f"parley_session={self.cookie}"} if self.cookie else None
        self.ws = await connect(run.base + "/ws/operator", origin=run.target["url"],
                                additional_headers=headers, open_timeout=30, ping_interval=None,
                                close_timeout=5, max_size=2**22)
        self.connected = True
        self.reader = asyncio.create_task(self.read())
        if subscribe:
            await self.ws.send(dumps({"v": 1, "type": "subscribe"}))
            await asyncio.wait_for(self.subscribed.wait(), 30)

    async def read(self) -> None:
        run = self.run
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    message = frame["message"]
                    text = message.get("text") or ""
                    if message.get("authorKind") == "visitor" and text.startswith("rt:"):
                        await self.pool.send(frame["chatId"], text)
                elif kind == "chat.started":
                    chat = frame.get("chat") or {}
                    self.pool.assigned[chat.get("id")] = list(chat.get("operatorIds") or [])
                elif kind == "ack":
                    future = self.acks.pop(frame.get("clientId"), None)
                    if future is not None and not future.done():
                        future.set_result(frame["message"])
                elif kind == "error":
                    run.counters["operator_error:" + str(frame.get("code"))] += 1
                    future = self.acks.pop(frame.get("clientId"), None)
                    if future is not None and not future.done():
                        future.set_exception(RuntimeError(f"{frame.get('code')}: {frame.get('message')}"))
                elif kind == "subscribed":
                    self.subscribed.set()
        except ConnectionClosed as closed:
            if not self.closing:
                run.counters["operator_sockets_closed_by_server"] += 1
                log(f"operator socket closed by the server: {closed}")
        finally:
            self.connected = False
            for future in self.acks.values():
                if not future.done():
                    future.set_exception(ConnectionError("operator socket closed"))
            self.acks.clear()

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self.reader, 5)


class OperatorPool:
    """Operator sockets that answer chats; one of them is subscribed to the feed.

    Parley limits each operator to 120 messages a minute, so the load is spread
    over several operators (each its own login): a chat is answered by the
    operator it is assigned to when that one has room, else by the next with room.
    """

    def __init__(self, run: Run, operators: list[Operator]) -> None:
        self.run = run
        self.operators = operators
        self.by_id = {o.id: o for o in operators}
        self.assigned: dict[str, list[str]] = {}
        self.next = itertools.cycle(range(len(operators)))
        for operator in operators:
            operator.pool = self

    async def ensure_connected(self) -> None:
        """Reconnects operator sockets the server closed (as the inbox would), counted."""
        for index, operator in enumerate(self.operators):
            if operator.connected:
                continue
            self.run.counters["operator_reconnects"] += 1
            operator.subscribed.clear()
            operator.closing = False
            try:
                await operator.connect(subscribe=index == 0)
            except (*CONNECT_ERRORS, RuntimeError) as error:
                log(f"operator reconnect failed: {type(error).__name__}: {error}")

    def pick(self, chat_id: str) -> Operator | None:
        t = now()
        for operator_id in self.assigned.get(chat_id, []):
            operator = self.by_id.get(operator_id)
            if operator is not None and operator.connected and operator.budget.has_room(t):
                return operator
        for _ in range(len(self.operators)):
            operator = self.operators[next(self.next)]
            if operator.connected and operator.budget.has_room(t):
                return operator
        return None

    async def send(self, chat_id: str, text: str, want_ack: bool = False) -> asyncio.Future | None:
        operator = self.pick(chat_id)
        waited = now()
        while operator is None:  # every operator is at its rate limit: wait (counted, bounded)
            self.run.counters["operator_budget_waits"] += 1
            if now() - waited > 30 or self.run.left() < 0:
                self.run.counters["operator_budget_dropped"] += 1
                return None
            await asyncio.sleep(0.1)
            operator = self.pick(chat_id)
        operator.budget.take(now())
        client_id = f"o{next(self.run.tokens)}"
        future = None
        if want_ack:
            future = asyncio.get_running_loop().create_future()
            operator.acks[client_id] = future
        await operator.ws.send(dumps({"v": 1, "type": "message.send", "chatId": chat_id,
                                      "clientId": client_id, "text": text}))
        return future


def login(target: dict, account: dict) -> tuple[str, str]:
    """POST /api/operator/login -> (operatorId, session cookie value)."""
    body = json.dumps({"appId": target["app_id"], "email": account["email"],
                       "password": account["password"]}).encode()
    request = urllib.request.Request(target["url"] + "/api/operator/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.loads(response.read())
        cookie = response.headers.get("Set-Cookie", "")
    token = cookie.split("parley_session=", 1)[1].split(";", 1)[0]
    return data["operatorId"], token


async def gather_bounded(items, work, concurrency: int, timeout: float) -> list:
    """work(item) for every item, at most `concurrency` at once; exceptions are returned."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(item):
        async with semaphore:
            return await work(item)

    tasks = [asyncio.create_task(one(item)) for item in items]
    if not tasks:
        return []
    _done, pending = await asyncio.wait(tasks, timeout=max(1.0, timeout))
    for task in pending:
        task.cancel()
    out = []
    for task in tasks:
        if task in pending:
            out.append(TimeoutError("phase timeout"))
        else:
            out.append(task.exception() or task.result())
    return out


async def connect_visitors(run: Run, visitors: list[Visitor], concurrency: int, timeout: float,
                           resume: bool = False) -> int:
    async def work(v: Visitor):
        for attempt in range(3):
            try:
                await v.connect(last_seq=v.seq if resume else None)
                return None
            except CONNECT_ERRORS as error:
                if attempt == 2:
                    raise
                run.counters["connect_retries"] += 1
                await asyncio.sleep(0.2 * (attempt + 1))
                del error
        return None

    results = await gather_bounded(visitors, work, concurrency, timeout)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        run.counters["connect_failures"] += len(failures)
        log(f"{len(failures)} connection(s) failed, first: {type(failures[0]).__name__}: {failures[0]}")
    return len(visitors) - len(failures)


async def close_visitors(visitors: list[Visitor]) -> None:
    open_ = [v for v in visitors if v.ws is not None]
    if not open_:
        return
    t = now()
    results = await gather_bounded(open_, Visitor.close, 200, 60)
    stuck = sum(1 for r in results if isinstance(r, BaseException))
    log(f"closed {len(open_)} visitor sockets in {now() - t:.1f} s"
        + (f" ({stuck} timed out)" if stuck else ""))


# -- phases ------------------------------------------------------------------------

async def phase_idle(run: Run, pool: list[Visitor], counts: list[int]) -> dict:
    pid = run.target.get("pids") or run.target["pid"]
    spec = run.spec
    warm = min(50, counts[0] // 4)
    connected = await connect_visitors(run, pool[:warm], spec["connect_concurrency"], 60)
    await asyncio.sleep(1.5)
    base_rss = rss_bytes(pid)
    points = []
    have = warm
    started = now()
    for count in counts:
        if count > len(pool):
            break
        elapsed = now() - started
        if points and have > warm:
            rate = (have - warm) / max(elapsed, 1e-3)
            needed = (count - have) / rate + 10
            if needed > run.left() - spec["reserve_s"]:
                log(f"idle: skipping {count} sockets (about {needed:.0f} s needed, budget left "
                    f"{run.left() - spec['reserve_s']:.0f} s)")
                break
        t0 = now()
        connected += await connect_visitors(run, pool[have:count], spec["connect_concurrency"],
                                            max(10.0, run.left() - spec["reserve_s"]))
        opened_s = now() - t0
        have = count
        await asyncio.sleep(2.0)
        rss = rss_bytes(pid)
        alive = sum(1 for v in pool[:count] if v.connected)
        per = (rss - base_rss) / max(1, alive - warm) if rss and base_rss else None
        opened = count - (points[-1]["target"] if points else warm)
        points.append({"sockets": alive, "target": count, "rss_bytes": rss, "per_socket_bytes": per,
                       "open_s": opened_s, "opened_per_s": opened / max(opened_s, 1e-3)})
        log(f"idle: {alive} sockets open, server RSS {rss / 1e6:.1f} MB, "
            f"{(per or 0) / 1e3:.1f} KB per socket ({opened_s:.1f} s to open)")
    return {"warm_sockets": warm, "base_rss_bytes": base_rss, "points": points}


async def warm_chats(run: Run, visitors: list[Visitor]) -> None:
    """Every visitor without a chat sends one message (opens its chat), acks awaited."""
    async def work(v: Visitor):
        if v.chat_id is not None or not v.connected:
            return
        await v.send_message("warm: hello")
        for _ in range(200):
            if v.chat_id is not None:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("no ack for the warm-up message")

    results = await gather_bounded(visitors, work, 50, max(10.0, min(120.0, run.left())))
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        run.counters["warm_failures"] += len(failures)


async def rate_run(run: Run, visitors: list[Visitor], rate: float, seconds: float, grace: float) -> dict:
    """Round trips at `rate`/s for `seconds`, cycling over `visitors`; waits `grace` for stragglers."""
    pid = run.target.get("pids") or run.target["pid"]
    run.latencies = []
    run.pending.clear()
    total = int(rate * seconds)
    ring = itertools.cycle(visitors)
    with no_gc():
        return await _rate_run(run, visitors, rate, seconds, grace, pid, total, ring)


async def _rate_run(run: Run, visitors: list[Visitor], rate: float, seconds: float, grace: float,
                    pid: int | list[int], total: int, ring) -> dict:
    skipped = 0
    cpu0, t0 = cpu_seconds(pid), now()
    sent = 0
    while sent < total and run.left() > 0:
        due = min(total, int((now() - t0) * rate) + 1)
        while sent < due:
            for _ in range(len(visitors)):
                v = next(ring)
                if v.connected and v.budget.has_room(now()):
                    break
            else:
                skipped += 1
                sent += 1
                continue
            token = f"rt:{next(run.tokens)}"
            run.pending[token] = now()
            try:
                v.budget.take(now())
                await v.ws.send(dumps({"v": 1, "type": "message.send", "clientId": token[3:], "text": token}))
            except ConnectionClosed:
                run.pending.pop(token, None)
                run.counters["send_failures"] += 1
            sent += 1
        next_at = t0 + sent / rate
        await asyncio.sleep(max(0.0, next_at - now()))
    send_s = now() - t0
    wait_until = now() + grace
    while run.pending and now() < wait_until:
        await asyncio.sleep(0.02)
    cpu1 = cpu_seconds(pid)
    lost = len(run.pending)
    run.pending.clear()
    done = len(run.latencies)
    out = {"target_rate": rate, "seconds": seconds, "sent": sent - skipped, "skipped_budget": skipped,
           "achieved_rate": (sent - skipped) / max(send_s, 1e-3), "completed": done, "missing": lost,
           **latency_stats(run.latencies)}
    if cpu0 is not None and cpu1 is not None and done:
        out["server_cpu_s"] = cpu1 - cpu0
        out["server_cpu_ms_per_round_trip"] = (cpu1 - cpu0) * 1000.0 / done
    return out


async def phase_rtt(run: Run, chats: list[Visitor], ops: OperatorPool) -> dict:
    spec = run.spec
    await ops.ensure_connected()
    result = await rate_run(run, chats, spec["rtt_rate"], spec["rtt_seconds"], 3.0)
    result["chats"] = len(chats)
    log(f"rtt: {result['completed']} round trips over {len(chats)} chats at {spec['rtt_rate']}/s: "
        f"p50 {result['p50_ms'] or 0:.1f} ms, p99 {result['p99_ms'] or 0:.1f} ms, "
        f"missing {result['missing']}")
    return result


def step_ok(step: dict, rate: float, limit: float) -> bool:
    return (step["completed"] > 0 and step["missing"] == 0 and step["p99_ms"] is not None
            and step["p99_ms"] <= limit and step["achieved_rate"] >= 0.9 * rate
            and not step["skipped_budget"])


async def phase_steps(run: Run, visitors: list[Visitor], ops: OperatorPool) -> dict:
    spec = run.spec
    limit = spec["p99_limit_ms"]
    steps = []
    best = None
    for rate in spec["steps"]:
        if run.left() < spec["step_seconds"] + 5:
            log("steps: time budget used up")
            break
        await ops.ensure_connected()
        step = await rate_run(run, visitors, rate, spec["step_seconds"], 2.0)
        ok = step_ok(step, rate, limit)
        if not ok and run.left() > spec["step_seconds"] + 8:
            # One retry: on a shared 2-core machine one stray hiccup is enough to put a
            # short step's p99 over the limit. Both tries are kept in the JSON.
            log(f"steps: {rate}/s over the limit (p99 {step['p99_ms'] or 0:.1f} ms); trying it once more")
            await asyncio.sleep(1.0)
            first = step
            step = await rate_run(run, visitors, rate, spec["step_seconds"], 2.0)
            step["first_try"] = first
            ok = step_ok(step, rate, limit)
        step["ok"] = ok
        steps.append(step)
        log(f"steps: {rate}/s -> {step['achieved_rate']:.0f}/s sent, p50 {step['p50_ms'] or 0:.1f} ms, "
            f"p99 {step['p99_ms'] or 0:.1f} ms, missing {step['missing']}"
            + (f", server CPU {step.get('server_cpu_ms_per_round_trip', 0):.2f} ms/round trip" if ok else "")
            + ("" if ok else "  <- over the limit"))
        if not ok:
            break
        best = step["achieved_rate"]
        await asyncio.sleep(1.0)
    return {"p99_limit_ms": limit, "steps": steps, "sustained_round_trips_per_s": best,
            "limit_reached": bool(steps) and not steps[-1]["ok"]}


async def collect_acks(run: Run, sent: list, expected: dict[int, set[int]], timeout: float = 60) -> int:
    """Waits (bounded, all at once) for the acks of operator messages; adds their ids to `expected`."""
    futures = [f for _v, f in sent if f is not None]
    if futures:
        await asyncio.wait(futures, timeout=timeout)
    acked = 0
    for v, future in sent:
        if future is not None and future.done() and not future.cancelled() and future.exception() is None:
            expected[id(v)].add(future.result()["id"])
            acked += 1
        elif future is not None:
            run.counters["storm_operator_messages_unacked"] += 1
    return acked


async def phase_storm(run: Run, pool: list[Visitor], ops: OperatorPool, size: int, chats: int) -> dict:
    spec = run.spec
    visitors = pool[:size]
    # 1. Everyone connected; the first `chats` visitors have a chat and have seen its events.
    await connect_visitors(run, [v for v in visitors if not v.connected], spec["connect_concurrency"],
                           max(60.0, run.left() - spec["reserve_s"]))
    chatting = visitors[:chats]
    t = now()
    await warm_chats(run, chatting)
    await asyncio.sleep(1.0)
    chatting = [v for v in chatting if v.chat_id is not None]
    log(f"storm: {sum(1 for v in visitors if v.connected)} visitors connected, {len(chatting)} with a chat "
        f"({now() - t:.1f} s); all drop now")
    # 2. Everyone drops.
    t = now()
    await close_visitors(visitors)
    last_seq = {id(v): v.seq for v in visitors}
    expected: dict[int, set[int]] = {id(v): set() for v in chatting}
    for v in visitors:
        v.received = set()
        v.seqs_seen = []
    # 3. While they are away, an operator writes to every chat.
    away = []
    for v in chatting:
        away.append((v, await ops.send(v.chat_id, f"while away {v.id}", want_ack=True)))
    acked = await collect_acks(run, away, expected)
    log(f"storm: dropped and {acked} messages written while away ({now() - t:.1f} s); reconnecting "
        f"{len(visitors)} at once")
    # 4. The storm: all reconnect at once with lastSeq; operators write once more meanwhile.
    t0 = now()
    caught: dict[int, float] = {}

    async def reconnect(v: Visitor):
        for attempt in range(5):
            try:
                await v.connect(last_seq=last_seq[id(v)], timeout=60)
                break
            except CONNECT_ERRORS:
                if attempt == 4:
                    raise
                run.counters["storm_retries"] += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        while now() - t0 < spec["storm_timeout_s"]:
            want = expected.get(id(v), set())
            if v.welcome_seq is not None and v.seq >= v.welcome_seq and want <= v.received:
                caught[id(v)] = now() - t0
                return
            await asyncio.sleep(0.02)

    with no_gc():
        tasks = [asyncio.create_task(reconnect(v)) for v in visitors]
        live = []
        for v in chatting:
            live.append((v, await ops.send(v.chat_id, f"during the storm {v.id}", want_ack=True)))
        acked += await collect_acks(run, live, expected)
        done, pending = await asyncio.wait(tasks, timeout=spec["storm_timeout_s"] + 5)
        for task in pending:
            task.cancel()
    failed = sum(1 for t in done if t.exception() is not None)
    elapsed = sorted(caught.values())
    should = sum(len(s) for s in expected.values())
    got = sum(len(s & v.received) for v in chatting for s in [expected[id(v)]])
    duplicates = sum(len(v.seqs_seen) - len(set(v.seqs_seen)) for v in visitors if v.seqs_seen)
    gaps = 0
    for v in visitors:
        seen = sorted(set(v.seqs_seen or []))
        if seen:
            gaps += (seen[-1] - last_seq[id(v)]) - len([s for s in seen if s > last_seq[id(v)]])
        v.seqs_seen = None
    result = {"visitors": len(visitors), "chats": len(chatting), "operator_messages_acked": acked,
              "caught_up": len(caught), "failed_reconnects": failed + len(pending),
              "all_caught_up_s": elapsed[-1] if len(caught) == len(visitors) else None,
              "p50_caught_up_s": percentile(elapsed, 50), "p99_caught_up_s": percentile(elapsed, 99),
              "messages_expected": should, "messages_received": got, "messages_lost": should - got,
              "duplicate_events": duplicates, "seq_gaps": gaps}
    log(f"storm: {len(caught)}/{len(visitors)} caught up, all in "
        f"{result['all_caught_up_s'] or float('nan'):.2f} s; messages expected {should}, "
        f"received {got}, lost {should - got}; duplicates {duplicates}, gaps {gaps}")
    return result


async def watch_lag(run: Run) -> None:
    """The client's own event-loop lag, so a slow client is not blamed on the server."""
    while True:
        t = now()
        await asyncio.sleep(0.1)
        lag = (now() - t - 0.1) * 1000.0
        if lag > run.max_lag_ms.get(run.phase, 0.0):
            run.max_lag_ms[run.phase] = lag


async def run_target(target: dict, spec: dict) -> dict:
    run = Run(target, spec)
    watcher = asyncio.create_task(watch_lag(run))
    out: dict = {"name": target["name"], "phases": {}}
    pool_size = max(spec["idle_counts"][-1], spec["storm_visitors"], spec["visitors"])
    pool = [Visitor(run) for _ in range(pool_size)]
    operators: list[Operator] = []
    try:
        # Operators first, as in a real app: they are online when visitors arrive.
        t0 = now()
        if target.get("operators"):
            # One login at a time: concurrent logins make SQLite answer "database is locked"
            # (HTTP 500) on this server, and each costs an argon2 verify anyway.
            loop = asyncio.get_running_loop()
            for account in target["operators"]:
                operator_id, cookie = await loop.run_in_executor(None, login, target, account)
                operators.append(Operator(run, operator_id, cookie))
        else:
            operators = [Operator(run, "baseline-operator", None)]
        await operators[0].connect(subscribe=True)
        await asyncio.gather(*(o.connect(subscribe=False) for o in operators[1:]))
        ops = OperatorPool(run, operators)
        out["operators"] = len(operators)
        out["operators_s"] = now() - t0
        log(f"{target['name']}: {len(operators)} operator socket(s) logged in and connected "
            f"({now() - t0:.1f} s)")

        run.phase = "idle"
        out["phases"]["idle"] = await phase_idle(run, pool, spec["idle_counts"])
        if "storm" in target["phases"] and run.left() > spec["reserve_s"] / 2:
            # Keep only what the storm needs open.
            await close_visitors(pool[spec["storm_visitors"]:])
            run.phase = "storm"
            out["phases"]["storm"] = await phase_storm(run, pool, ops, spec["storm_visitors"],
                                                       spec["storm_chats"])
        run.phase = "setup"
        await ops.ensure_connected()
        await close_visitors(pool[spec["visitors"]:])
        active = pool[:spec["visitors"]]
        reopened = [v for v in active if not v.connected]
        if reopened:
            await connect_visitors(run, reopened, spec["connect_concurrency"], 120, resume=True)
        await warm_chats(run, active)
        active = [v for v in active if v.connected and v.chat_id is not None]
        out["connected_visitors"] = sum(1 for v in pool if v.connected)
        log(f"{target['name']}: {out['connected_visitors']} visitors connected, {len(active)} with a chat")
        run.phase = "rtt"
        if run.left() > spec["rtt_seconds"] + 5:
            out["phases"]["rtt"] = await phase_rtt(run, active[:spec["chats"]], ops)
            out["phases"]["rtt"]["connected_visitors"] = out["connected_visitors"]
        run.phase = "steps"
        if "steps" in target["phases"] and run.left() > spec["step_seconds"] + 5:
            out["phases"]["steps"] = await phase_steps(run, active, ops)
    except Exception as error:  # reported in the JSON; the next target still runs
        out["error"] = f"{type(error).__name__}: {error}"
        log(f"{target['name']}: {out['error']}")
    finally:
        await close_visitors(pool)
        for operator in operators:
            await operator.close()
    watcher.cancel()
    out["counters"] = dict(run.counters)
    out["client_max_loop_lag_ms"] = {k: round(v, 1) for k, v in run.max_lag_ms.items()}
    return out


async def main(spec_path: Path, out_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    spec["deadline"] = now() + spec["budget_s"]
    spec["reserve_s"] = min(spec["reserve_s"], 0.4 * spec["budget_s"])
    results = []
    for target in spec["targets"]:
        target_spec = dict(spec)
        share = target.get("budget_share", 1.0)
        target_spec["deadline"] = min(spec["deadline"], now() + (spec["deadline"] - now()) * share)
        results.append(await run_target(target, target_spec))
        out_path.write_text(json.dumps({"targets": results}, indent=1))


if __name__ == "__main__":
    try:
        import uvloop  # the client's own loop: faster, so the client is less of a bottleneck
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(main(Path(sys.argv[1]), Path(sys.argv[2])))
