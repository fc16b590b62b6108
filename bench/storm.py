"""Only the reconnect storm of bench/server.py, at a chosen size (for before/after runs).

    .venv/bin/python bench/storm.py --visitors 5000 --chats 500

Starts `parley serve` (SQLite) as bench/server.py does, runs the load client's storm
phase only (S visitors, C with a chat, all drop, operators write while they are away,
all reconnect at once with lastSeq while operators write again) and prints its result
and the client's counters (operator sockets closed, unacknowledged operator messages).
"""

from __future__ import annotations

import argparse
import json
import os
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=5000)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=150.0)
    args = parser.parse_args(argv)
    soft, _hard = server_bench.raise_nofile()
    c = server_bench.config(False, None, None)
    c.update(idle_counts=[min(100, args.visitors)], visitors=args.chats, chats=args.chats,
             storm_visitors=args.visitors, storm_chats=args.chats, storm_timeout_s=args.timeout,
             rtt_seconds=10**6, budget_s=args.timeout + 300, reserve_s=10.0)
    c = server_bench.fits(c, soft)
    with tempfile.TemporaryDirectory(prefix="parley-storm-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "data").mkdir()
        server = harness.ParleyServer(tmp_path / "data")
        try:
            server.start()
            site_origin = f"http://127.0.0.1:{harness.free_port()}"
            app = server.cli("app", "create", "--name", "Storm", "--origin", site_origin)
            accounts = server_bench.create_operators(server, app["appId"], server_bench.operators_needed(c))
            target = {"name": "parley", "url": server.url, "pid": server.process.pid, "app_id": app["appId"],
                      "origin": site_origin, "operators": accounts, "rate_limited": True,
                      "budgets": harness.BENCH_BUDGETS, "phases": ["storm"]}
            result = server_bench.run_client({**c, "targets": [target]}, tmp_path)["targets"][0]
        finally:
            server.stop()
    print(json.dumps({"storm": result.get("phases", {}).get("storm"), "counters": result.get("counters"),
                      "error": result.get("error"), "load_average": os.getloadavg(),
                      "client_max_loop_lag_ms": result.get("client_max_loop_lag_ms")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
