"""Parley benchmarks in one command: the widget against its floors and peers, then the server.

    .venv/bin/python bench/run.py            # 10 cold + 10 warm + 10 throttled loads per page, full server
    .venv/bin/python bench/run.py --quick    # 2 loads per pass, small server counts (about 2 minutes)

Widget: builds dist/, starts a real Parley server and a host site on another
loopback origin, drives Chromium (Playwright + CDP), prints tables with ratios
to floor-js and floor-mpy and the issue's targets, and writes
bench/results/widget-<UTC>.json and latest-widget.json. Server (bench/server.py,
skipped with --no-server): a real `parley serve` against a bare websockets
baseline, driven by bench/loadclient.py; writes server-<UTC>.json and
latest-server.json. Then (skipped with --no-scaleout or --no-server) bench/scaleout.py:
1, 2 and 3 `parley serve` processes behind nginx on PostgreSQL + Redis, one SQLite
process for comparison, and a process killed under load; writes latest-scaleout.json/.md.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)

import harness  # noqa: E402
import measure  # noqa: E402
import pages  # noqa: E402
import report  # noqa: E402

import build  # noqa: E402

RESULTS = BENCH / "results"
ALL_PAGES = ["parley", "floor-js", "floor-mpy", "host", "pyscript-core", "brython"]
# Pages compared with the floors (each gets x/floor-js and x/floor-mpy ratios).
COMPARED = ["parley", "pyscript-core", "brython"]
DESCRIPTIONS = {
    "parley": "the real snippet, minimal Chaport config (appId only); ready = chaport.on('ready')",
    "floor-js": "plain JS: a 60px round launcher in an iframe + WebSocket hello -> welcome",
    "floor-mpy": "the widget's MicroPython runtime alone, started like loader.js does, runPython('print(1)')",
    "host": "baseline: the host page alone, no widget (ready at the end of its one script)",
    "pyscript-core": "@pyscript/core (self-hosted, interpreter = the same micropython.mjs) in the host page, "
                     "<script type=mpy>: chaport stub + the floor-js launcher + WebSocket hello -> welcome",
    "brython": "Brython (PyPI brython, brython.js only, brotli from the host site), "
               "<script type=text/python>: chaport stub + the floor-js launcher + WebSocket hello -> welcome",
}
SAMPLE_KEYS = [key for key, _label, _unit in report.METRICS] + [
    "network_requests", "bytes_with_headers", "long_tasks", "websockets", "wall_s"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 loads per pass instead of 10")
    parser.add_argument("--runs", type=int, help="loads per pass (default 10, --quick 2)")
    parser.add_argument("--pages", default=",".join(ALL_PAGES),
                        help=f"comma-separated pages to measure (default: {','.join(ALL_PAGES)})")
    parser.add_argument("--no-throttle", action="store_true", help="skip the CPU-throttled pass")
    parser.add_argument("--no-build", action="store_true", help="use dist/ as built (build only if missing)")
    parser.add_argument("--budget", type=float,
                        help="stop taking samples after this many seconds (default 420, --quick 75)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--no-server", action="store_true", help="skip the server benchmarks")
    parser.add_argument("--no-widget", action="store_true", help="skip the widget (browser) benchmarks")
    parser.add_argument("--server-budget", type=float,
                        help="seconds the server benchmarks may take (default 540, --quick 75)")
    parser.add_argument("--server-scale", type=float,
                        help="multiply the server benchmarks' counts (e.g. 0.1 for a tiny smoke run)")
    parser.add_argument("--no-scaleout", action="store_true",
                        help="skip bench/scaleout.py (1, 2, 3 processes behind nginx on PostgreSQL + "
                             "Redis, and the kill test; ~12 min, --quick ~4 min)")
    args = parser.parse_args(argv)
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in args.pages if p not in ALL_PAGES]
    if unknown:
        parser.error(f"unknown page(s): {', '.join(unknown)}; choose from {', '.join(ALL_PAGES)}")
    args.runs = args.runs or (2 if args.quick else 10)
    args.budget = args.budget or (75.0 if args.quick else 420.0)
    return args


def summarize(samples: list[dict]) -> dict:
    out = {key: measure.median([s.get(key) for s in samples]) for key in SAMPLE_KEYS}
    out["n"] = len(samples)
    # Start-up phases (bench/tracing.py): the median of each over the loads that had it.
    names = [name for s in samples for name in s.get("phases", {})]
    out["phases"] = {name: measure.median([s.get("phases", {}).get(name) for s in samples])
                     for name in dict.fromkeys(names)}
    out["globals"] = sorted({g for s in samples for g in s.get("globals", [])})
    return out


def compact(sample: dict) -> dict:
    """A sample for the JSON: the numbers, plus which files and long tasks made them."""
    keep = {k: v for k, v in sample.items() if k not in ("files", "longtasks", "trace_long")}
    keep["trace_long"] = sample.get("trace_long", [])
    keep["files"] = [{k: f[k] for k in ("url", "status", "cached", "encoding", "body_bytes")}
                     for f in sample.get("files", [])]
    keep["longtasks"] = [{k: round(t[k], 1) if isinstance(t[k], float) else t[k] for k in t}
                         for t in sample.get("longtasks", [])]
    return keep


def build_dist(attempts: int = 4) -> dict:
    # Other work in this checkout (a test run) may be building dist/ at the same
    # moment; build.py's staging folder is shared, so a collision just retries.
    for attempt in range(attempts):
        try:
            return build.build()
        except OSError as error:
            if attempt == attempts - 1:
                raise
            print(f"bench: build collided with another build ({error}); retrying", flush=True)
            time.sleep(2 + 2 * attempt)
    raise AssertionError("unreachable")


def check_served(server_url: str, manifest: dict) -> None:
    """The server must serve the files of the manifest we measure against."""
    for name in manifest["widget"].values():
        with urllib.request.urlopen(f"{server_url}/{name}", timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"{name}: HTTP {response.status}")


def run(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    executable = harness.chromium_path()
    if executable is None:
        raise SystemExit("bench: no Chromium found; install Debian's chromium or set CHROMIUM")

    if args.no_build and (build.DIST / "manifest.json").exists():
        manifest = json.loads((build.DIST / "manifest.json").read_text())
        print("bench: using dist/ as built", flush=True)
    else:
        print("bench: building dist/ ...", flush=True)
        manifest = build_dist()
    sizes = build.widget_download_sizes(manifest)

    measured = [p for p in args.pages if p in ALL_PAGES]
    result: dict = {
        "kind": "widget",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"platform": platform.platform(), "machine": platform.machine(),
                    "processor": platform.processor(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "runs": args.runs,
        "quick": args.quick,
        "throttle_rate": None if args.no_throttle else 4,
        "build_id": manifest["build_id"],
        "pages": {},
    }

    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "site").mkdir()
        (tmp_path / "data").mkdir()
        site = harness.HostSite(tmp_path / "site")
        server = harness.ParleyServer(tmp_path / "data")
        try:
            server.start()
            # What the server loaded at start-up (dist/ may have been rebuilt since build()).
            manifest = json.loads((build.DIST / "manifest.json").read_text())
            sizes = build.widget_download_sizes(manifest)
            result["build_id"] = manifest["build_id"]
            check_served(server.url, manifest)
            app = server.cli("app", "create", "--name", "Bench site", "--origin", site.origin)
            app_id = app["appId"]
            brython = harness.publish_brython(site) if "brython" in measured else None
            urls = pages.write_pages(site, app_id, server.url, manifest, build.WIDGET_HEAP_BYTES,
                                     brython_js=brython["url"] if brython else None)
            snippet = pages.snippet(app_id, server.url)
            result["static"] = {
                "snippet_bytes": len(snippet.encode()),
                "widget_bytes": sizes,
                "widget_files": {k: manifest["widget"][k] for k in manifest["widget"]},
                "pyscript_core": pyscript_sizes(manifest),
            }
            if brython:
                result["static"]["brython"] = brython
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=harness.CHROMIUM_FLAGS)
                try:
                    result["chromium"] = browser.version
                    print(f"bench: Chromium {browser.version}; server {server.url}, host site {site.origin}",
                          flush=True)
                    result["static"]["before_init"] = measure.count_early_requests(
                        browser, urls["never-init"], server.url)
                    result["pages"] = measure_pages(browser, args, measured, urls, server.url, started)
                finally:
                    browser.close()
        finally:
            server.stop()
            site.stop()

    for name in ALL_PAGES:
        if name not in result["pages"]:
            result["pages"][name] = {"status": "not in this run", "description": DESCRIPTIONS[name]}
    result["ratios"] = ratios(result["pages"])
    result["targets"] = report.targets(result)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def measure_pages(browser, args, measured: list[str], urls: dict, server_url: str, started: float) -> dict:
    loader = measure.Loader(browser, server_url, urls["blank"], timeout_ms=30_000)
    samples: dict[str, dict[str, list]] = {p: {"cold": [], "warm": [], "throttled": []} for p in measured}
    errors: dict[str, list[str]] = {p: [] for p in measured}
    passes = [("pair", 1.0)] + ([] if args.no_throttle else [("throttled", 4.0)])
    stopped_early = False
    # Interleave pages and passes so drift on the machine hits every page alike.
    for i in range(args.runs):
        for kind, rate in passes:
            for name in measured:
                if time.monotonic() - started > args.budget and i > 0:
                    stopped_early = True
                    break
                session = None
                try:
                    session = loader.session(name, urls[name], throttle=rate)
                    if kind == "pair":
                        samples[name]["cold"].append(session.load())
                        samples[name]["warm"].append(session.load(reload=True))
                    else:
                        samples[name]["throttled"].append(session.load())
                except Exception as error:  # a failed load is reported, the run goes on
                    errors[name].append(f"{kind} #{i}: {type(error).__name__}: {error}".splitlines()[0])
                finally:
                    if session is not None:
                        session.close()
        done = {n: len(samples[n]["cold"]) for n in measured}
        elapsed = time.monotonic() - started
        print(f"bench: round {i + 1}/{args.runs} done ({elapsed:.0f} s) {done}", flush=True)
        if stopped_early:
            print(f"bench: time budget of {args.budget:.0f} s used up; reporting what was measured",
                  flush=True)
            break
    out = {}
    for name in measured:
        page = {"description": DESCRIPTIONS[name], "url": urls[name]}
        for pass_name, items in samples[name].items():
            if items:
                page[pass_name] = summarize(items)
        page["samples"] = {k: [compact(s) for s in v] for k, v in samples[name].items()}
        page["failures"] = len(errors[name])
        page["errors"] = errors[name]
        page["stopped_early"] = stopped_early
        out[name] = page
    return out


def ratios(pages_: dict) -> dict:
    """`page/floor` -> pass -> metric -> ratio, for every compared page measured."""
    out = {}
    for name in COMPARED:
        page = pages_.get(name, {})
        if not page.get("cold"):
            continue
        for floor in ("floor-js", "floor-mpy"):
            if not pages_.get(floor, {}).get("cold"):
                continue
            entry = {}
            for pass_name in ("cold", "warm", "throttled"):
                a, b = page.get(pass_name), pages_[floor].get(pass_name)
                if not a or not b:
                    continue
                entry[pass_name] = {k: (a[k] / b[k] if a.get(k) is not None and b.get(k) else None)
                                    for k in SAMPLE_KEYS}
            out[f"{name}/{floor}"] = entry
    return out


def pyscript_sizes(manifest: dict) -> dict:
    """Brotli bytes of the PyScript files in dist/inbox/pyscript (what the route could fetch)."""
    files = {k: v for k, v in manifest["files"].items() if k.startswith("inbox/pyscript/")}
    return {"files": len(files), "brotli_all": sum(v.get("brotli", v["bytes"]) for v in files.values())}


def show(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main_widget(args: argparse.Namespace) -> int:
    try:
        result = run(args)
    except Exception:
        traceback.print_exc()
        return 1
    print()
    print(report.render(result))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = result["date"].replace("-", "").replace(":", "")
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    target = args.out / f"widget-{stamp}.json"
    target.write_text(text)
    (args.out / "latest-widget.json").write_text(text)
    print(f"\nbench: wrote {show(target)} and latest-widget.json ({result['elapsed_s']:.0f} s)")
    missing = [p for p in args.pages if p in ALL_PAGES and not result["pages"].get(p, {}).get("cold")]
    if missing:
        print(f"bench: no successful load for {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


def main_server(args: argparse.Namespace) -> int:
    import server

    print("\nbench: server benchmarks ...", flush=True)
    try:
        result = server.run(quick=args.quick, scale=args.server_scale, budget=args.server_budget)
    except Exception:
        traceback.print_exc()
        return 1
    print()
    print(server.render(result))
    target = server.write(result, args.out)
    print(f"bench: wrote {show(target)} and latest-server.json ({result['elapsed_s']:.0f} s)")
    broken = [name for name, t in result["targets"].items() if t.get("error")]
    if broken or set(result["targets"]) != {"parley", "baseline"}:
        what = ", ".join(broken) or "a target is missing"
        print(f"bench: server benchmark errors: {what}", file=sys.stderr)
        return 1
    return 0


def main_scaleout(args: argparse.Namespace) -> int:
    """bench/scaleout.py in a process of its own (it starts PostgreSQL, Redis, nginx and
    several servers); its tables are printed as it prints them."""
    print("\nbench: scale-out benchmarks (bench/scaleout.py) ...", flush=True)
    command = [sys.executable, str(ROOT / "bench" / "scaleout.py"), "--out", str(args.out)]
    if args.quick:
        command.append("--quick")
    done = subprocess.run(command, cwd=ROOT)
    if done.returncode != 0:
        print(f"bench: bench/scaleout.py exited with {done.returncode}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    status = 0
    if not args.no_widget:
        status |= main_widget(args)
    if not args.no_server:
        status |= main_server(args)
        if not args.no_scaleout:
            status |= main_scaleout(args)
    print(f"\nbench: done in {time.monotonic() - started:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
