"""Server benchmarks: a real `parley serve` on loopback against a bare `websockets`
baseline, driven by the same load client in a separate process.

    .venv/bin/python bench/run.py --no-widget           # server half only
    .venv/bin/python bench/server.py                    # the same, directly (--quick, --scale)

bench/run.py calls `run()` unless --no-server. Everything binds to 127.0.0.1,
every count and wait is bounded, and the processes started here (server,
baseline, client) are stopped in `finally` blocks by their own process group.
See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import resource
import socket
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
import report  # noqa: E402

RESULTS = BENCH / "results"
PASSWORD = "bench-password-1"  # throwaway operators in a throwaway database
PARLEY_SHARE = 0.75  # of the time budget; the baseline gets the rest


def config(quick: bool, scale: float | None, budget: float | None) -> dict:
    """Counts and limits of one run. `scale` multiplies the counts (tests use a tiny one)."""
    if quick:
        c = {"idle_counts": [200], "visitors": 100, "chats": 10, "rtt_rate": 5, "rtt_seconds": 4,
             "steps": [10, 25, 50, 100, 200], "step_seconds": 2, "storm_visitors": 200, "storm_chats": 50,
             "budget_s": 75.0, "reserve_s": 25.0, "storm_timeout_s": 30.0}
    else:
        c = {"idle_counts": [1000, 5000, 10000], "visitors": 1000, "chats": 100, "rtt_rate": 20,
             "rtt_seconds": 15, "steps": [10, 20, 40, 60, 80, 100, 150, 200, 300, 400, 600, 800, 1000],
             "step_seconds": 5,
             "storm_visitors": 5000, "storm_chats": 500, "budget_s": 540.0, "reserve_s": 150.0,
             "storm_timeout_s": 150.0}
    if scale:
        for key in ("visitors", "chats", "storm_visitors", "storm_chats"):
            c[key] = max(2, int(c[key] * scale))
        c["idle_counts"] = sorted({max(4, int(n * scale)) for n in c["idle_counts"]})
    if budget:
        c["budget_s"] = budget
    c["p99_limit_ms"] = 50.0
    c["connect_concurrency"] = 100
    return c


def operators_needed(c: dict) -> int:
    """Enough operators that the bench stays under its per-operator message budget.

    Each is logged in one after the other (an argon2 verify each); the bench's server
    allows each operator harness.BENCH_BUDGETS["operator"] messages a minute, so a few
    cover every step; a faster server than planned shows operator budget waits in the
    step's counters, and the step is marked as not reached.
    """
    per_operator = harness.BENCH_BUDGETS["operator"] * 0.9
    steps = sum(c["steps"]) * c["step_seconds"]
    echoes = max(2 * c["storm_chats"], c["rtt_rate"] * c["rtt_seconds"] + steps)
    return max(2, min(60, math.ceil(echoes / per_operator) + 2))


def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit; children (server, client) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def fits(c: dict, nofile: int) -> dict:
    """Counts that fit the file limit (each socket is a descriptor in the server and the client)."""
    room = nofile - 500
    c["idle_counts"] = [n for n in c["idle_counts"] if n <= room] or [room]
    c["storm_visitors"] = min(c["storm_visitors"], room)
    c["visitors"] = min(c["visitors"], room)
    return c


# -- setup helpers ------------------------------------------------------------------

async def _create_operators(db_url: str, app_id: str, count: int) -> list[dict]:
    from parley import identity
    from parley.storage.db import Database
    from parley.storage.models import Operator

    database = Database(db_url)
    hashed = identity.hash_password(PASSWORD)  # one argon2 hash for all: they share the password
    accounts = []
    try:
        async with database.session() as session:
            for i in range(count):
                email = f"op{i}@bench.invalid"
                session.add(Operator(id=identity.new_id(), app_id=app_id, email=email, name=f"Bench {i}",
                                     password_hash=hashed, role="operator"))
                accounts.append({"email": email, "password": PASSWORD})
            await session.commit()
    finally:
        await database.close()
    return accounts


def create_operators(server: harness.ParleyServer, app_id: str, count: int) -> list[dict]:
    """In a child process (this one may hold Playwright's loop): K operators of the app."""
    done = subprocess.run([sys.executable, str(Path(__file__)), "create-operators", "--db",
                           f"sqlite+aiosqlite:///{server.data / 'parley.db'}", "--app", app_id,
                           "--count", str(count)], cwd=ROOT, env=server.env, capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"creating operators failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


class Baseline:
    """bench/baseline_server.py on a free loopback port, in its own process group."""

    def __init__(self) -> None:
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(BENCH / "baseline_server.py"), "--port",
                                         str(self.port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode()[-1500:]
                raise RuntimeError(f"the baseline server exited: {error}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError("the baseline server did not listen within 30 s")

    def stop(self) -> None:
        harness.stop_group(self.process)


def run_client(spec: dict, folder: Path) -> dict:
    """The load client in its own process (and group); its progress lines go to our stdout."""
    spec_path, out_path = folder / "spec.json", folder / "client-out.json"
    spec_path.write_text(json.dumps(spec))
    process = subprocess.Popen([sys.executable, str(BENCH / "loadclient.py"), str(spec_path), str(out_path)],
                               cwd=ROOT, start_new_session=True)
    try:
        process.wait(timeout=spec["budget_s"] + 120)
    except subprocess.TimeoutExpired:
        print("server-bench: the load client overran its time limit; stopped", flush=True)
    finally:
        harness.stop_group(process)
    if not out_path.exists():
        raise RuntimeError(f"the load client wrote no results (exit code {process.returncode})")
    return json.loads(out_path.read_text())


# -- the run ----------------------------------------------------------------------

def run(quick: bool = False, scale: float | None = None, budget: float | None = None) -> dict:
    started = time.monotonic()
    c = config(quick, scale, budget)
    soft, hard = raise_nofile()
    c = fits(c, soft)
    operators = operators_needed(c)
    result: dict = {
        "kind": "server",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "quick": quick,
        "config": {**c, "operators": operators, "nofile": [soft, hard]},
    }
    targets = []
    with tempfile.TemporaryDirectory(prefix="parley-server-bench-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "data").mkdir()
        # One target at a time, each with its own client process: nothing else of ours
        # runs on the 2 cores while a server is measured.
        server = harness.ParleyServer(tmp_path / "data")
        try:
            server.start()
            site_origin = f"http://127.0.0.1:{harness.free_port()}"  # the visitors' page origin (a header)
            app = server.cli("app", "create", "--name", "Server bench", "--origin", site_origin)
            accounts = create_operators(server, app["appId"], operators)
            print(f"server-bench: parley {server.url} (pid {server.process.pid}), {operators} operators, "
                  f"open files limit {soft}", flush=True)
            target = {"name": "parley", "url": server.url, "pid": server.process.pid, "app_id": app["appId"],
                      "origin": site_origin, "operators": accounts, "rate_limited": True,
                      "budgets": harness.BENCH_BUDGETS,
                      "phases": ["idle", "storm", "rtt", "steps"]}
            spec = {**c, "budget_s": c["budget_s"] * PARLEY_SHARE, "targets": [target]}
            targets += run_client(spec, tmp_path)["targets"]
        finally:
            server.stop()
            result["server_log_tail"] = server.log_tail(4000)
        baseline = Baseline()
        try:
            baseline.start()
            print(f"server-bench: baseline {baseline.url} (pid {baseline.process.pid})", flush=True)
            target = {"name": "baseline", "url": baseline.url, "pid": baseline.process.pid,
                      "origin": "http://127.0.0.1:9", "phases": ["idle", "rtt", "steps"]}
            left = c["budget_s"] - (time.monotonic() - started)
            spec = {**c, "budget_s": max(30.0, left), "reserve_s": c["reserve_s"] / 3, "targets": [target]}
            targets += run_client(spec, tmp_path)["targets"]
        finally:
            baseline.stop()
    result["targets"] = {t["name"]: t for t in targets}
    result["ratios"] = ratios(result["targets"])
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def machine() -> dict:
    return {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def _idle_points(target: dict) -> dict[int, dict]:
    return {p["target"]: p for p in target.get("phases", {}).get("idle", {}).get("points", [])}


def ratios(targets: dict) -> dict:
    parley, base = targets.get("parley", {}), targets.get("baseline", {})
    out: dict = {}

    def div(a, b):
        return a / b if a is not None and b else None

    pi, bi = _idle_points(parley), _idle_points(base)
    out["idle_per_socket"] = {str(n): div(pi[n]["per_socket_bytes"], bi[n]["per_socket_bytes"])
                              for n in pi if n in bi}
    pr, br = parley.get("phases", {}).get("rtt", {}), base.get("phases", {}).get("rtt", {})
    out["rtt_p50"] = div(pr.get("p50_ms"), br.get("p50_ms"))
    out["rtt_p99"] = div(pr.get("p99_ms"), br.get("p99_ms"))
    ps, bs = parley.get("phases", {}).get("steps", {}), base.get("phases", {}).get("steps", {})
    out["sustained_rate"] = div(ps.get("sustained_round_trips_per_s"), bs.get("sustained_round_trips_per_s"))
    return out


# -- report -------------------------------------------------------------------------

def _ms(v) -> str:
    return "-" if v is None else (f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms")


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


def render(result: dict) -> str:
    m = result["machine"]
    c = result["config"]
    parts = [f"Parley server benchmark, {result['date']} | {m['platform']} | {m['cpus']} CPUs | "
             f"Python {m['python']} | one `parley serve` process (SQLite) vs a bare `websockets` server"
             + (" (--quick)" if result["quick"] else ""), ""]
    parley, base = result["targets"].get("parley", {}), result["targets"].get("baseline", {})
    r = result["ratios"]

    pi, bi = _idle_points(parley), _idle_points(base)
    rows = [["idle visitor sockets", "parley RSS", "per socket", "baseline RSS", "per socket",
             "parley/baseline"]]
    for n in sorted(set(pi) | set(bi)):
        p, b = pi.get(n, {}), bi.get(n, {})

        def mb(v):
            return "-" if v is None else f"{v / 1e6:.0f} MB"

        def kb(v):
            return "-" if v is None else f"{v / 1e3:.1f} KB"

        rows.append([f"{p.get('sockets', b.get('sockets', n))} (of {n})", mb(p.get("rss_bytes")),
                     kb(p.get("per_socket_bytes")), mb(b.get("rss_bytes")), kb(b.get("per_socket_bytes")),
                     _x(r["idle_per_socket"].get(str(n)))])
    parts += ["IDLE SOCKETS (server RSS after hello -> welcome; per socket = growth over the warm-up "
              "sockets / sockets)", report.table(rows), ""]

    pr, br = parley.get("phases", {}).get("rtt", {}), base.get("phases", {}).get("rtt", {})
    rows = [["round trip visitor -> operator -> visitor", "parley", "baseline", "parley/baseline"]]
    rows.append(["p50", _ms(pr.get("p50_ms")), _ms(br.get("p50_ms")), _x(r.get("rtt_p50"))])
    rows.append(["p99", _ms(pr.get("p99_ms")), _ms(br.get("p99_ms")), _x(r.get("rtt_p99"))])
    rows.append(["max", _ms(pr.get("max_ms")), _ms(br.get("max_ms")), ""])
    rows.append(["round trips (missing)", f"{pr.get('completed', '-')} ({pr.get('missing', '-')})",
                 f"{br.get('completed', '-')} ({br.get('missing', '-')})", ""])
    cpu_p, cpu_b = pr.get("server_cpu_ms_per_round_trip"), br.get("server_cpu_ms_per_round_trip")
    rows.append(["server CPU per round trip", _ms(cpu_p), _ms(cpu_b), _x(cpu_p / cpu_b if cpu_p and cpu_b
                                                                          else None)])
    parts += [f"ROUND TRIP ({pr.get('connected_visitors', c['visitors'])} connected visitors, "
              f"{pr.get('chats', c['chats'])} active chats, {c['rtt_rate']} messages/s for "
              f"{c['rtt_seconds']} s; "
              "the operator script echoes each message back)", report.table(rows), ""]

    ps, bs = parley.get("phases", {}).get("steps", {}), base.get("phases", {}).get("steps", {})
    rows = [["rate (round trips/s)", "parley p50", "p99", "CPU/rt", "baseline p50", "p99", "CPU/rt"]]
    pst = {s["target_rate"]: s for s in ps.get("steps", [])}
    bst = {s["target_rate"]: s for s in bs.get("steps", [])}
    for rate in sorted(set(pst) | set(bst)):
        p, b = pst.get(rate, {}), bst.get(rate, {})

        def cell(s, key):
            if not s:
                return "-"
            text = _ms(s.get(key))
            return text + ("" if s.get("ok") or key == "p50_ms" else " X")

        rows.append([f"{rate:g}", cell(p, "p50_ms"), cell(p, "p99_ms"),
                     _ms(p.get("server_cpu_ms_per_round_trip")), cell(b, "p50_ms"), cell(b, "p99_ms"),
                     _ms(b.get("server_cpu_ms_per_round_trip"))])

    def sustained(s):
        v = s.get("sustained_round_trips_per_s")
        if v is None:
            return "none (the first step already failed)" if s.get("steps") else "not measured"
        return f"{v:.0f}/s" + ("" if s.get("limit_reached") else " (never exceeded: the steps ran out)")

    parts += [f"RATE STEPS ({c['step_seconds']} s each over all connected visitors; X = p99 over "
              f"{c['p99_limit_ms']:.0f} ms, a round trip missing, or the rate not reached)",
              report.table(rows),
              f"highest rate sustained with p99 <= {c['p99_limit_ms']:.0f} ms: parley {sustained(ps)}, "
              f"baseline {sustained(bs)}; parley/baseline {_x(r.get('sustained_rate'))}. Each round trip is "
              "2 messages (visitor + operator), both stored by Parley", ""]

    st = parley.get("phases", {}).get("storm")
    if st:
        def s(v):
            return "-" if v is None else f"{v:.2f} s"
        rows = [["reconnect storm", "value"],
                ["visitors reconnecting at once (with lastSeq)", str(st["visitors"])],
                ["  of which with a chat and messages waiting", str(st["chats"])],
                ["all caught up after", s(st["all_caught_up_s"])],
                ["caught up: p50 / p99", f"{s(st['p50_caught_up_s'])} / {s(st['p99_caught_up_s'])}"],
                ["visitors caught up / failed to reconnect",
                 f"{st['caught_up']} / {st['failed_reconnects']}"],
                ["messages expected / received", f"{st['messages_expected']} / {st['messages_received']}"],
                ["messages LOST (must be 0)", str(st["messages_lost"])],
                ["duplicate events / seq gaps", f"{st['duplicate_events']} / {st['seq_gaps']}"]]
        parts += ["RECONNECT STORM (parley only: the baseline has no resume; messages were written while the "
                  "visitors were away and during the storm)", report.table(rows), ""]
    for name, target in result["targets"].items():
        if target.get("error"):
            parts.append(f"{name}: ERROR {target['error']}")
            if name == "parley" and result.get("server_log_tail"):
                parts.append("--- parley server log (tail) ---\n" + result["server_log_tail"][-1500:])
        counters = {k: v for k, v in target.get("counters", {}).items() if k != "visitor_acks"}
        if counters:
            parts.append(f"{name} counters: " + ", ".join(f"{k}={v}" for k, v in sorted(counters.items())))
        lag = target.get("client_max_loop_lag_ms")
        if lag:
            parts.append(f"{name}: the load client's own max event-loop lag per phase (ms): "
                         + ", ".join(f"{k} {v:.0f}" for k, v in lag.items()))
    return "\n".join(parts).rstrip() + "\n"


def write(result: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = result["date"].replace("-", "").replace(":", "")
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    target = out / f"server-{stamp}.json"
    target.write_text(text)
    (out / "latest-server.json").write_text(text)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    make = sub.add_parser("create-operators", help="(internal) create bench operators in a database")
    make.add_argument("--db", required=True)
    make.add_argument("--app", required=True)
    make.add_argument("--count", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scale", type=float)
    parser.add_argument("--budget", type=float)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.command == "create-operators":
        print(json.dumps(asyncio.run(_create_operators(args.db, args.app, args.count))))
        return 0
    result = run(args.quick, args.scale, args.budget)
    print()
    print(render(result))
    print(f"server-bench: wrote {write(result, args.out)} ({result['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
