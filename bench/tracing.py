"""Long tasks and start-up phases from a CDP trace of the renderer's main thread.

Why a trace and not a `PerformanceObserver('longtask')` in the host page: the
widget runs in a same-origin `about:blank` iframe, and what the host's observer
reports of that iframe's tasks depends on how Chromium attributes them (the
bench saw none where an independent measurement saw 96 ms tasks). A trace
records every task the renderer's main thread runs (`RunTask`), whichever
frame it served, so nothing depends on attribution. See bench/README.md.

Timestamps: trace events are in microseconds on the trace clock. The pages'
moments (`bench:*` marks from measure.INIT_SCRIPT) and the widget's own
(`parley:*` marks from boot.mjs and widget/browser) are User Timing marks, which
the trace records on that same clock, so they line up with the tasks.
"""

from __future__ import annotations

import time

CATEGORIES = ",".join([
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink.user_timing",
    "v8.execute",
    "toplevel",
    "__metadata",
])
LONG_TASK_US = 50_000
# The phases of the widget's start, in order: (mark that ends it, name). Each phase
# runs from the previous mark found to this one; `bench:start` begins the first.
PHASES = [
    ("parley:boot", "loader -> boot module running (fetch + parse of boot.mjs)"),
    ("parley:runtime", "runtime fetch + compile + instantiate (loadMicroPython)"),
    ("parley:bundle", "bytecode bundle written to the runtime's file system"),
    ("parley:imported", "bytecode import of widget.browser.main"),
    ("parley:api", "config + API install (chaport.* callable)"),
    ("parley:started", "the rest of the start task (queued calls, session, socket created)"),
    ("parley:connect", "socket opened, hello sent"),
    ("parley:welcome", "welcome frame received"),
    ("parley:ready", "ready fired"),
    ("parley:launcher", "launcher built"),
    ("parley:done", "the rest of the welcome task (what is drawn after ready)"),
    ("parley:window", "chat window built in idle time (wall time, in slices)"),
]


class Recorder:
    """Starts and stops a trace through a CDP session and keeps its events."""

    def __init__(self, cdp) -> None:
        self.cdp = cdp
        self.events: list[dict] = []
        self.complete = False
        cdp.on("Tracing.dataCollected", lambda e: self.events.extend(e.get("value") or []))
        cdp.on("Tracing.tracingComplete", self._complete)

    def _complete(self, _event) -> None:
        self.complete = True

    def start(self) -> None:
        self.events = []
        self.complete = False
        self.cdp.send("Tracing.start", {"transferMode": "ReportEvents",
                                         "traceConfig": {"includedCategories": CATEGORIES.split(",")}})

    def stop(self, page, seconds: float = 20.0) -> list[dict]:
        self.cdp.send("Tracing.end")
        deadline = time.monotonic() + seconds
        # The sync Playwright client delivers CDP events while it waits on the page.
        while not self.complete:
            if time.monotonic() > deadline:
                raise TimeoutError("the CDP trace did not complete")
            page.wait_for_timeout(20)
        return self.events


def renderer_threads(events: list[dict]) -> set[tuple[int, int]]:
    """(pid, tid) of the main threads of the renderers that held the page's frames."""
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"
             and (e.get("args") or {}).get("name") == "CrRendererMain"}
    pids = set()
    for e in events:
        data = (e.get("args") or {}).get("data") or {}
        if e.get("name") == "TracingStartedInBrowser":
            pids.update(f.get("processId") for f in data.get("frames") or [] if f.get("processId"))
        elif e.get("name") in ("FrameCommittedInBrowser", "ProcessReadyInBrowser") and data.get("processId"):
            pids.add(data["processId"])
    chosen = {t for t in mains if t[0] in pids}
    return chosen or mains


def marks(events: list[dict]) -> dict[str, float]:
    """User Timing mark name -> its trace timestamp (µs); the first of each name."""
    out: dict[str, float] = {}
    for e in sorted(events, key=lambda e: e.get("ts", 0)):
        name = e.get("name", "")
        if "blink.user_timing" in e.get("cat", "") and name.startswith(("bench:", "parley:")):
            out.setdefault(name, float(e["ts"]))
    return out


def analyse(events: list[dict], until_mark_names: tuple[str, ...] = ("bench:ready", "bench:launcher"),
            after_ms: float = 100.0) -> dict:
    """Long tasks and main-thread time up to the last of `until_mark_names` + `after_ms`.

    The window starts at the page's `bench:snippet` mark (else `bench:start`).
    """
    threads = renderer_threads(events)
    found = marks(events)
    ends = [found[n] for n in until_mark_names if n in found]
    tasks = [e for e in events if e.get("name") == "RunTask" and e.get("ph") == "X"
             and (e["pid"], e["tid"]) in threads]
    tasks.sort(key=lambda e: e["ts"])
    if not tasks:
        return {"trace_problem": "no RunTask events on a renderer main thread"}
    until = (max(ends) if ends else tasks[-1]["ts"]) + after_ms * 1000
    # From the widget's first line (the snippet; a floor: its script) on: the host page's
    # own navigation and parsing before it are not the widget's.
    begin = found.get("bench:snippet", found.get("bench:start"))
    in_window = [t for t in tasks if t["ts"] <= until
                 and (begin is None or t["ts"] + t.get("dur", 0) >= begin)]
    long_tasks = [t for t in in_window if t.get("dur", 0) > LONG_TASK_US]
    start = found.get("bench:start")
    out = {
        "trace_longest_task_ms": max((t.get("dur", 0) for t in in_window), default=0) / 1000,
        "trace_tbt_ms": sum(t["dur"] - LONG_TASK_US for t in long_tasks) / 1000,
        "trace_long_tasks": len(long_tasks),
        # Every task of the page's main thread(s) from the snippet to ready + 100 ms.
        "trace_main_ms": sum(min(t.get("dur", 0), until - t["ts"]) for t in in_window) / 1000,
        # The same from `start` (init fired / the floor's script) on: the widget's part.
        "trace_main_from_start_ms": (sum(min(t.get("dur", 0), until - t["ts"]) for t in in_window
                                         if t["ts"] + t.get("dur", 0) >= start) / 1000
                                     if start is not None else None),
        "trace_long": [describe(t, found, events) for t in long_tasks],
        # The idle-time build of the chat window (after the welcome task): its longest slice.
        "trace_idle_longest_ms": idle_longest(tasks, found),
        "phases": phases(found),
    }
    return out


def idle_longest(tasks: list[dict], found: dict[str, float]) -> float | None:
    """The longest main-thread task from the end of the welcome task (`parley:done`) to
    the window built (`parley:window`), in ms; None without both marks."""
    if "parley:done" not in found or "parley:window" not in found:
        return None
    begin, end = found["parley:done"], found["parley:window"]
    # Tasks that start after the welcome task's end (that one is measured in analyse).
    inside = [t.get("dur", 0) for t in tasks if begin < t["ts"] <= end]
    return max(inside, default=0) / 1000


def describe(task: dict, found: dict[str, float], events: list[dict]) -> dict:
    """One long task: when, how long, which widget marks fall inside, what V8 ran in it."""
    begin, end = task["ts"], task["ts"] + task.get("dur", 0)
    inside = sorted((ts, name) for name, ts in found.items() if begin <= ts <= end)
    # The biggest top-level pieces inside the task (script runs, compiles, GC, layout).
    pieces: dict[str, float] = {}
    for e in events:
        if (e.get("ph") == "X" and e.get("pid") == task["pid"] and e.get("tid") == task["tid"]
                and begin <= e.get("ts", 0) < end and e is not task and e.get("name") != "RunTask"):
            name = e["name"]
            data = (e.get("args") or {}).get("data") or {}
            url = data.get("url") or data.get("scriptName") or ""
            if url:
                name += " " + url.rsplit("/", 1)[-1][:40]
            pieces[name] = pieces.get(name, 0.0) + e.get("dur", 0) / 1000
    top = sorted(pieces.items(), key=lambda kv: -kv[1])[:8]
    return {"start_ms_after_start": (begin - found["bench:start"]) / 1000 if "bench:start" in found else None,
            "duration_ms": task.get("dur", 0) / 1000,
            # Each widget mark inside the task, with ms since the task began.
            "marks_inside": {name: round((ts - begin) / 1000, 1) for ts, name in inside},
            "top_events_ms": {k: round(v, 1) for k, v in top}}


def phases(found: dict[str, float]) -> dict[str, float]:
    """Phase name -> ms, each from the previous mark present to its own."""
    if "bench:start" not in found:
        return {}
    out = {}
    previous = found["bench:start"]
    for mark, _label in PHASES:
        if mark in found:
            out[mark.removeprefix("parley:")] = (found[mark] - previous) / 1000
            previous = found[mark]
    return out
