"""Turns the widget benchmark's medians into the printed table and the target verdicts."""

from __future__ import annotations

import tracing

KB = 1000  # 1 KB = 1000 bytes throughout the report

# (key, label, unit) in the order printed; unit picks the formatting.
METRICS = [
    ("bytes", "bytes transferred (body, as encoded)", "kb"),
    ("server_bytes", "  of which from the Parley server", "kb"),
    ("requests", "requests (all / from network)", "req"),
    ("ready_ms", "navigation start -> ready", "ms"),
    ("snippet_to_ready_ms", "snippet -> ready", "ms"),
    ("start_to_ready_ms", "start -> ready (init fired -> ready)", "ms"),
    ("launcher_ms", "navigation start -> launcher painted", "ms"),
    ("open_ms", "open() -> window painted", "ms"),
    ("trace_longest_task_ms", "longest task (CDP trace)", "ms"),
    ("trace_tbt_ms", "total blocking time (CDP trace)", "ms"),
    ("trace_main_ms", "main-thread time to ready (CDP trace)", "ms"),
    ("trace_main_from_start_ms", "  of which from start (CDP trace)", "ms"),
    ("trace_idle_longest_ms", "longest task building the window in idle time", "ms"),
    ("longest_task_ms", "longest task (host PerformanceObserver)", "ms"),
    ("tbt_ms", "total blocking time (host PerformanceObserver)", "ms"),
    ("main_thread_ms", "main-thread busy (CDP TaskDuration)", "ms"),
    ("script_ms", "  of which script (CDP ScriptDuration)", "ms"),
    ("cls", "layout shift (CLS)", "cls"),
    ("heap_bytes", "JS heap after ready (after GC)", "mb"),
    ("globals_added", "globals added to window", "n"),
]
THROTTLED_METRICS = ["ready_ms", "snippet_to_ready_ms", "start_to_ready_ms", "launcher_ms",
                     "trace_longest_task_ms", "trace_tbt_ms", "trace_main_ms", "trace_main_from_start_ms",
                     "trace_idle_longest_ms",
                     "longest_task_ms", "tbt_ms", "main_thread_ms"]
MEASURED = ["parley", "floor-js", "floor-mpy", "host", "pyscript-core", "brython"]
FLOORS = ["floor-js", "floor-mpy"]
COMPARED = ["parley", "pyscript-core", "brython"]
SHORT = {"parley": "parley", "pyscript-core": "pyscript", "brython": "brython",
         "floor-js": "fjs", "floor-mpy": "fmpy"}


def fmt(value, unit: str, stats: dict | None = None) -> str:
    if unit == "req":
        if stats is None or stats.get("requests") is None:
            return "-"
        return f"{stats['requests']:g} / {stats['network_requests']:g}"
    if value is None:
        return "-"
    if unit == "kb":
        return f"{value / KB:.1f} KB"
    if unit == "mb":
        return f"{value / 1e6:.2f} MB"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "cls":
        return f"{value:.3f}"
    return f"{value:g}"


def ratio(a, b) -> str:
    if a is None or b is None:
        return "-"
    if b == 0:
        return "both 0" if a == 0 else "floor 0"
    return f"{a / b:.2f}x"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pass_table(result: dict, pass_name: str, metrics: list[tuple[str, str, str]]) -> str:
    """Medians of one pass, a column per page."""
    pages = result["pages"]
    present = [p for p in MEASURED if p in pages and pass_name in pages[p]]
    rows = [["metric", *present]]
    for key, label, unit in metrics:
        row = [label]
        for p in present:
            stats = pages[p][pass_name]
            row.append(fmt(stats.get(key), unit, stats))
        rows.append(row)
    return table(rows)


def ratio_table(result: dict, pass_name: str, metrics: list[tuple[str, str, str]]) -> str | None:
    """Each compared page (parley, pyscript-core, brython) over each floor, for one pass."""
    pages = result["pages"]
    pairs = [(p, f) for p in COMPARED for f in FLOORS
             if pass_name in pages.get(p, {}) and pass_name in pages.get(f, {})]
    if not pairs:
        return None
    rows = [["ratio", *(f"{SHORT[p]}/{SHORT[f]}" for p, f in pairs)]]
    for key, label, unit in metrics:
        if key in ("server_bytes", "globals_added", "open_ms"):
            continue  # no meaning for the peers / floors (0 or not measured)
        field = "requests" if unit == "req" else key
        row = [label.strip()]
        for p, f in pairs:
            row.append(ratio(pages[p][pass_name].get(field), pages[f][pass_name].get(field)))
        rows.append(row)
    return table(rows)


def targets(result: dict) -> list[dict]:
    """The issue's targets, each met or missed and by how much."""
    pages = result["pages"]
    static = result["static"]
    cold = pages.get("parley", {}).get("cold", {})
    mpy = pages.get("floor-mpy", {}).get("cold", {})
    out = []

    def add(name: str, value, limit, unit: str, note: str = "") -> None:
        if value is None or limit is None:
            out.append({"target": name, "value": None, "limit": limit, "met": None, "by": None,
                        "unit": unit, "note": note or "not measured in this run"})
            return
        over = value - limit
        out.append({"target": name, "value": value, "limit": limit, "met": over <= 0, "by": over,
                    "unit": unit, "note": note})

    add("widget download <= 150 KB brotli (build sizes)", static["widget_bytes"]["brotli"], 150 * KB, "kb",
        "loader + boot + runtime .mjs + .wasm, from build.widget_download_sizes")
    add("widget download <= 150 KB (measured, cold)", cold.get("server_bytes"), 150 * KB, "kb",
        "body bytes from the Parley server in a cold load, as the browser received them")
    add("snippet <= 1 KB", static["snippet_bytes"], 1 * KB, "b")
    early = static.get("before_init") or {}
    add("zero requests before init fires", early.get("requests_before_init"), 0, "n",
        "init: {event: 'never'}; requests to the server other than loader.js within "
        f"{early.get('seconds', '?')} s")
    mpy_ready = mpy.get("start_to_ready_ms")
    add("ready <= 1.5x floor-mpy (start -> ready, cold)", cold.get("start_to_ready_ms"),
        1.5 * mpy_ready if mpy_ready else None, "ms",
        "both from the runtime iframe being attached; parley's navigation->ready also holds "
        "Chaport's default init delay (500 ms after load)")
    add("longest task <= 50 ms (cold, CDP trace)", cold.get("trace_longest_task_ms"), 50, "ms",
        "every main-thread task of the page's renderer from the snippet to ready + 100 ms")
    throttled = pages.get("parley", {}).get("throttled", {})
    add("longest task <= 100 ms (4x CPU, CDP trace)", throttled.get("trace_longest_task_ms"), 100, "ms")
    mpy_throttled = pages.get("floor-mpy", {}).get("throttled", {}).get("trace_main_ms")
    add("main thread at 4x <= 1.5x floor-mpy (CDP trace)", throttled.get("trace_main_ms"),
        1.5 * mpy_throttled if mpy_throttled else None, "ms",
        "snippet -> ready + 100 ms, both pages")
    host = pages.get("host", {}).get("cold", {})
    if cold.get("main_thread_ms") is not None and host.get("main_thread_ms") is not None:
        add("widget main-thread <= 40 ms (cold, parley - host page)",
            cold["main_thread_ms"] - host["main_thread_ms"], 40, "ms",
            "CDP TaskDuration medians: the parley page minus the same host page without the widget")
    else:
        add("widget main-thread <= 40 ms (cold, CDP TaskDuration)", cold.get("main_thread_ms"), 40, "ms",
            "upper bound: all main-thread work of the page, host page included (measure `host` too)")
    add("open() -> window painted <= 100 ms (cold)", cold.get("open_ms"), 100, "ms")
    return out


def target_table(items: list[dict]) -> str:
    rows = [["target", "value", "limit", "verdict"]]
    for t in items:
        unit = t["unit"]

        def show(v, unit=unit):
            if v is None:
                return "-"
            if unit == "kb":
                return f"{v / KB:.1f} KB"
            if unit == "b":
                return f"{v:.0f} B"
            if unit == "ms":
                return f"{v:.0f} ms"
            return f"{v:g}"

        if t["met"] is None:
            verdict = "not measured"
        elif t["met"]:
            verdict = f"met ({show(-t['by'])} to spare)" if t["by"] else "met"
        else:
            pct = f", +{t['by'] / t['limit'] * 100:.0f}%" if t["limit"] else ""
            verdict = f"MISSED by {show(t['by'])}{pct}"
        rows.append([t["target"], show(t["value"]), show(t["limit"]), verdict])
    return table(rows)


# Issue 16's table: (label, pass, key) per column.
ISSUE_COLUMNS = [
    ("snippet->ready", "cold", "snippet_to_ready_ms"),
    ("longest task", "cold", "trace_longest_task_ms"),
    ("TBT", "cold", "trace_tbt_ms"),
    ("main thread", "cold", "trace_main_ms"),
    ("4x: snippet->ready", "throttled", "snippet_to_ready_ms"),
    ("4x: longest", "throttled", "trace_longest_task_ms"),
    ("4x: TBT", "throttled", "trace_tbt_ms"),
    ("4x: main thread", "throttled", "trace_main_ms"),
    ("bytes as served", "cold", "bytes"),
]


def issue_table(result: dict) -> str:
    """Issue 16's table, a row per page (cold medians; tasks from the CDP trace), with each
    page's ratio to floor-mpy in the same run under it."""
    pages = result["pages"]
    present = [p for p in MEASURED if p != "host" and pages.get(p, {}).get("cold")]
    rows = [["page (cold; tasks and main thread from the CDP trace)", *(c[0] for c in ISSUE_COLUMNS)]]
    floor = pages.get("floor-mpy", {})
    for p in present:
        row, ratios = [p], [f"  {p} / floor-mpy"]
        for _label, pass_name, key in ISSUE_COLUMNS:
            value = pages[p].get(pass_name, {}).get(key)
            row.append(fmt(value, "kb" if key == "bytes" else "ms"))
            ratios.append(ratio(value, floor.get(pass_name, {}).get(key)) if p != "floor-mpy" else "")
        rows.append(row)
        if p != "floor-mpy" and floor.get("cold"):
            rows.append(ratios)
    s = result["static"]["widget_bytes"]
    note = (f"parley's widget download (build): {s['brotli'] / KB:.1f} KB brotli / "
            f"{s['gzip'] / KB:.1f} KB gzip; "
            "'main thread' = every main-thread task of the page's renderer from the snippet to "
            "ready (+ launcher painted) + 100 ms")
    return "ISSUE 16 TABLE (medians)\n" + table(rows) + "\n" + note


def phase_table(result: dict) -> str | None:
    """parley's start-up phases (medians, ms), a column per pass."""
    page = result["pages"].get("parley", {})
    passes = [p for p in ("cold", "warm", "throttled") if page.get(p, {}).get("phases")]
    if not passes:
        return None
    rows = [["parley start-up phase (ms, median)", *passes]]
    for mark, label in tracing.PHASES:
        name = mark.removeprefix("parley:")
        values = [page[p]["phases"].get(name) for p in passes]
        if any(v is not None for v in values):
            rows.append([f"{name}: {label}", *(fmt(v, "ms") for v in values)])
    return table(rows)


def render(result: dict) -> str:
    m = result["machine"]
    head = (f"Parley widget benchmark, {result['date']} | {m['platform']} | {m['cpus']} CPUs | "
            f"Chromium {result['chromium']} | medians of {result['runs']} loads per pass"
            + (" (--quick)" if result["quick"] else ""))
    parts = [head, ""]
    s = result["static"]
    w = s["widget_bytes"]
    early = (s.get("before_init") or {}).get("requests_before_init", "-")
    parts.append(f"static: snippet {s['snippet_bytes']} B; widget download "
                 f"{w['brotli'] / KB:.1f} KB brotli / {w['gzip'] / KB:.1f} KB gzip / "
                 f"{w['raw'] / KB:.1f} KB raw; "
                 f"requests to the server before init fires: {early}")
    parts.append("")
    for pass_name, title, metrics in (
        ("cold", "COLD (fresh browser context, empty HTTP cache)", METRICS),
        ("warm", "WARM (reload in the same context, HTTP cache warm)", METRICS),
        ("throttled", "COLD, CPU throttled 4x (mobile proxy)",
         [m for m in METRICS if m[0] in THROTTLED_METRICS]),
    ):
        if not any(pass_name in result["pages"].get(p, {}) for p in MEASURED):
            continue
        parts.append(title)
        parts.append(pass_table(result, pass_name, metrics))
        parts.append("")
        ratios = ratio_table(result, pass_name, metrics)
        if ratios and pass_name != "warm":
            parts.append(f"{title.split(' (')[0]}: ratios to the floors (fjs = floor-js, fmpy = floor-mpy)")
            parts.append(ratios)
            parts.append("")
    skipped = [p for p in MEASURED if p not in result["pages"] or "cold" not in result["pages"][p]]
    for p in skipped:
        page = result["pages"].get(p, {})
        parts.append(f"{p}: {page.get('status') or 'no successful load'}")
    if "brython" in s:
        b = s["brython"]
        parts.append(f"brython {b['version']}: brython.js {b['brython_js']['brotli'] / KB:.1f} KB brotli "
                     f"({b['brython_js']['raw'] / KB:.0f} KB raw); any stdlib import (json, ...) would add "
                     f"brython_stdlib.js, {b['brython_stdlib_js']['brotli_q9'] / KB:.0f} KB brotli (q9) / "
                     f"{b['brython_stdlib_js']['raw'] / KB:.0f} KB raw")
    parts.append("")
    parts.append(issue_table(result))
    parts.append("")
    phases = phase_table(result)
    if phases:
        parts.append(phases)
        parts.append("")
    parts.append("TARGETS")
    parts.append(target_table(result["targets"]))
    for p, page in result["pages"].items():
        if page.get("failures"):
            parts.append(f"\n{p}: {page['failures']} failed load(s); first: {page['errors'][0]}")
    return "\n".join(parts)
