"""One page load in Chromium, measured: network (CDP), timings, long tasks,
layout shift, heap and globals.

The in-page part is an init script that keeps its state in a closure and
exposes it only under a Symbol key (`Object.getOwnPropertyNames` does not list
symbols), so the measurement adds no globals to the page it measures.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import tracing

KEY = "Symbol.for('parley.bench')"
# Pages that draw a launcher (their load also waits for it to be painted).
LAUNCHER_PAGES = ("parley", "floor-js", "pyscript-core", "brython")
LOOPBACK = ("http://127.0.0.1:", "ws://127.0.0.1:")

INIT_SCRIPT = """(() => {
  if (window.top !== window) return;
  const KEY = Symbol.for("parley.bench");
  if (window[KEY]) return;
  const d = {snippet: null, start: null, ready: null, launcher: null, longtasks: [], cls: 0, problems: []};
  Object.defineProperty(window, KEY, {value: d});
  const now = () => performance.now();
  // Each moment is also a User Timing mark: the CDP trace places it on its own clock.
  const at = (name) => {
    try { performance.mark("bench:" + name); } catch (error) { /* no User Timing: times only */ }
    return now();
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const a = e.attribution && e.attribution[0];
        const where = a ? a.containerType + " " + (a.containerSrc || a.containerName || "") : "";
        d.longtasks.push({start: e.startTime, duration: e.duration, name: e.name, container: where});
      }
    }).observe({type: "longtask", buffered: true});
  } catch (error) { d.problems.push("longtask: " + error); }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) d.cls += e.value;
    }).observe({type: "layout-shift", buffered: true});
  } catch (error) { d.problems.push("layout-shift: " + error); }
  addEventListener("bench:snippet", () => { if (d.snippet === null) d.snippet = at("snippet"); });
  addEventListener("bench:start", () => { if (d.start === null) d.start = at("start"); });
  addEventListener("bench:ready", () => { if (d.ready === null) d.ready = at("ready"); });
  // loader.js (and floor-mpy) start their work by attaching the runtime iframe.
  const mo = new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeName === "IFRAME" && n.getAttribute("data-parley") === "runtime") {
        if (d.start === null) d.start = at("start");
        mo.disconnect();
        return;
      }
    }
  });
  mo.observe(document, {childList: true, subtree: true});
  if (%(launcher)s) {
    const poll = () => {
      const el = document.querySelector("iframe[data-parley=launcher]");
      if (el) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && getComputedStyle(el).display !== "none") {
          d.launcher = at("launcher");
          return;
        }
      }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  }
})();"""

DONE = f"""() => {{
  const d = window[{KEY}];
  return !!d && d.ready !== null && (!%(launcher)s || d.launcher !== null);
}}"""

# Waits two frames and a macrotask so long tasks and shifts of the first paint are delivered.
SETTLE = """() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
  () => setTimeout(resolve, 50))))"""

READ = f"""() => {{
  const d = window[{KEY}];
  return {{snippet: d.snippet, start: d.start, ready: d.ready, launcher: d.launcher, cls: d.cls,
          longtasks: d.longtasks.slice(), problems: d.problems.slice()}};
}}"""

# Own property names of the page's window minus those of a pristine same-origin
# window (a fresh about:blank iframe), without the index keys iframes add.
GLOBALS = """() => {
  const f = document.createElement("iframe");
  f.style.display = "none";
  document.documentElement.appendChild(f);
  const pristine = new Set(Object.getOwnPropertyNames(f.contentWindow));
  f.remove();
  return Object.getOwnPropertyNames(window).filter((k) => !pristine.has(k) && !/^[0-9]+$/.test(k)).sort();
}"""

# chaport.open() -> the window iframe is display:block -> the next frame, then a
# message-loop turn (runs after that frame's paint).
OPEN = """async () => {
  const t0 = performance.now();
  window.chaport.open();
  const visible = () => {
    const w = document.querySelector("iframe[data-parley=window]");
    return !!w && getComputedStyle(w).display === "block" && w.getBoundingClientRect().height > 0;
  };
  await new Promise((resolve, reject) => {
    const step = () => {
      if (visible()) resolve();
      else if (performance.now() - t0 > 10000) reject(new Error("the chat window never became visible"));
      else requestAnimationFrame(step);
    };
    step();
  });
  await new Promise((resolve) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  }));
  return performance.now() - t0;
}"""

# The widget marks `parley:window` in its runtime iframe once the chat window is built.
WINDOW_BUILT = """() => {
  const f = document.querySelector("iframe[data-parley=runtime]");
  return !!f && f.contentWindow.performance.getEntriesByName("parley:window").length > 0;
}"""

CLOSE = """() => new Promise((resolve) => {
  window.chaport.close();
  requestAnimationFrame(() => resolve());
})"""


@dataclass
class Request:
    url: str
    cached: bool = False
    header_bytes: int = 0
    total_bytes: int = 0
    status: int | None = None
    encoding: str = ""
    failed: str = ""


@dataclass
class NetLog:
    """Requests seen by CDP's Network domain for one page (all its same-process frames)."""

    requests: dict[str, Request] = field(default_factory=dict)
    websockets: list[str] = field(default_factory=list)

    def attach(self, cdp) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.on("Network.webSocketCreated", lambda e: self.websockets.append(e["url"]))

    def reset(self) -> None:
        self.requests = {}
        self.websockets = []

    def _sent(self, e) -> None:
        url = e["request"]["url"]
        if url.startswith(("data:", "blob:", "about:")):
            return
        self.requests[e["requestId"]] = Request(url)

    def _from_cache(self, e) -> None:
        if e["requestId"] in self.requests:
            self.requests[e["requestId"]].cached = True

    def _response(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is None:
            return
        response = e["response"]
        r.status = response.get("status")
        r.cached = r.cached or bool(response.get("fromDiskCache") or response.get("fromPrefetchCache"))
        r.header_bytes = int(response.get("encodedDataLength") or 0)
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        r.encoding = headers.get("content-encoding", "")

    def _finished(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is not None:
            r.total_bytes = int(e.get("encodedDataLength") or 0)

    def _failed(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is not None:
            r.failed = e.get("errorText") or "failed"

    def summary(self, server_origin: str) -> dict:
        reqs = list(self.requests.values())
        body = [max(0, r.total_bytes - r.header_bytes) for r in reqs]
        server = [b for r, b in zip(reqs, body, strict=True) if r.url.startswith(server_origin + "/")]
        return {
            "bytes": sum(body),
            "bytes_with_headers": sum(r.total_bytes for r in reqs),
            "server_bytes": sum(server),
            "requests": len(reqs),
            "network_requests": sum(1 for r in reqs if not r.cached),
            "websockets": len(self.websockets),
            # Everything must stay on loopback (no CDN): anything else is listed as a problem.
            "external": [r.url for r in reqs if not r.url.startswith(LOOPBACK)]
            + [u for u in self.websockets if not u.startswith(LOOPBACK)],
            "files": [{"url": r.url, "status": r.status, "cached": r.cached, "encoding": r.encoding,
                       "body_bytes": max(0, r.total_bytes - r.header_bytes), "failed": r.failed}
                      for r in reqs],
        }


def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _busy(after: dict[str, float], name: str) -> float:
    # Chromium restarts these counters with every new document (measured: a
    # reload of a page busy for 300 ms reads 0.3 s again, not 0.6 s), so the
    # value read after ready is the new document's own main-thread time.
    return after.get(name, 0.0) * 1000.0


def tasks_summary(longtasks: list[dict], until: float) -> dict:
    tasks = [t for t in longtasks if t["start"] <= until]
    return {
        "longest_task_ms": max((t["duration"] for t in tasks), default=0.0),
        "tbt_ms": sum(max(0.0, t["duration"] - 50.0) for t in tasks),
        "long_tasks": len(tasks),
    }


class Loader:
    """Loads a page in a context and measures it; cold = new context, warm = reload in it."""

    def __init__(self, browser, server_origin: str, blank_url: str, timeout_ms: float) -> None:
        self.browser = browser
        self.server_origin = server_origin
        self.blank_url = blank_url
        self.timeout_ms = timeout_ms

    def session(self, page_name: str, url: str, throttle: float = 1.0) -> LoadSession:
        return LoadSession(self, page_name, url, throttle)


class LoadSession:
    def __init__(self, loader: Loader, page_name: str, url: str, throttle: float) -> None:
        self.loader = loader
        self.page_name = page_name
        self.url = url
        self.has_launcher = page_name in LAUNCHER_PAGES
        self.context = loader.browser.new_context()
        self.context.add_init_script(INIT_SCRIPT % {"launcher": "true" if self.has_launcher else "false"})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.cdp = self.context.new_cdp_session(self.page)
        self.net = NetLog()
        self.net.attach(self.cdp)
        self.cdp.send("Network.enable")
        self.cdp.send("Performance.enable")
        self.tracer = tracing.Recorder(self.cdp)
        if throttle != 1.0:
            self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        # Start the renderer on the host origin first, so the measured navigation
        # stays in one process (CDP counters and throttling carry over). The
        # Parley server's files are still uncached: this is the cold load.
        self.page.goto(loader.blank_url, wait_until="load", timeout=loader.timeout_ms)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append("console: " + message.text)

    def load(self, reload: bool = False) -> dict:
        self.net.reset()
        self.errors.clear()
        wall = time.monotonic()
        self.tracer.start()
        if reload:
            self.page.reload(wait_until="load", timeout=self.loader.timeout_ms)
        else:
            self.page.goto(self.url, wait_until="load", timeout=self.loader.timeout_ms)
        done = DONE % {"launcher": "true" if self.has_launcher else "false"}
        self.page.wait_for_function(done, timeout=self.loader.timeout_ms, polling=50)
        self.page.evaluate(SETTLE)
        after = _metrics(self.cdp)
        marks = self.page.evaluate(READ)
        if self.page_name == "parley":
            # Trace on until the chat window is built in idle time (its slices are measured).
            try:
                self.page.wait_for_function(WINDOW_BUILT, timeout=5000, polling=50)
            except Exception:
                self.errors.append("the chat window was not built in idle time within 5 s")
        traced = tracing.analyse(self.tracer.stop(self.page))
        until = max(v for v in (marks["ready"], marks["launcher"]) if v is not None)
        # The widget's code begins with the snippet (a page without a snippet mark: its start).
        snippet = marks["snippet"] if marks["snippet"] is not None else marks["start"]
        sample = {
            "ready_ms": marks["ready"],
            "start_to_ready_ms": (marks["ready"] - marks["start"]) if marks["start"] is not None else None,
            "snippet_to_ready_ms": (marks["ready"] - snippet) if snippet is not None else None,
            "launcher_ms": marks["launcher"],
            **tasks_summary(marks["longtasks"], until + 100),
            **{k: v for k, v in traced.items() if k not in ("trace_long", "phases")},
            "cls": marks["cls"],
            "main_thread_ms": _busy(after, "TaskDuration"),
            "script_ms": _busy(after, "ScriptDuration"),
        }
        network = self.net.summary(self.loader.server_origin)
        sample.update({k: v for k, v in network.items() if k not in ("files", "external")})
        self.cdp.send("HeapProfiler.collectGarbage")
        heap = self.cdp.send("Runtime.getHeapUsage")
        sample["heap_bytes"] = heap.get("usedSize")
        sample["open_ms"] = None
        if self.page_name == "parley":
            sample["open_ms"] = self.page.evaluate(OPEN)
            self.page.evaluate(CLOSE)  # the next (warm) load starts collapsed again
        globals_added = self.page.evaluate(GLOBALS)
        sample["globals_added"] = len(globals_added)
        sample["globals"] = globals_added
        sample["files"] = network["files"]
        sample["longtasks"] = marks["longtasks"]
        sample["trace_long"] = traced.get("trace_long", [])
        sample["phases"] = traced.get("phases", {})
        sample["problems"] = (marks["problems"] + list(self.errors)
                              + [f"not on loopback: {url}" for url in network["external"]])
        sample["wall_s"] = time.monotonic() - wall
        return sample

    def close(self) -> None:
        self.context.close()


def count_early_requests(browser, url: str, server_origin: str, seconds: float = 2.0) -> dict:
    """Loads a page whose widget init never fires; lists what reached the Parley server."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        net = NetLog()
        net.attach(cdp)
        cdp.send("Network.enable")
        page.goto(url, wait_until="load", timeout=30_000)
        page.wait_for_timeout(seconds * 1000)
        loader = server_origin + "/widget/loader.js"
        to_server = [r for r in net.requests.values() if r.url.startswith(server_origin + "/")]
        others = [r for r in to_server if r.url.split("?")[0] != loader]
        sockets = [u for u in net.websockets if server_origin.split("://", 1)[1] in u]
        return {
            "seconds": seconds,
            "loader_requests": len(to_server) - len(others),
            "requests_before_init": len(others) + len(sockets),
            "bytes_before_init": sum(max(0, r.total_bytes - r.header_bytes) for r in others),
            "urls": [r.url for r in others] + sockets,
        }
    finally:
        context.close()


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
