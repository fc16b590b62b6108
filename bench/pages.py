"""The pages the widget benchmark loads, all served from the host site's origin.

Every page tells the measurement script when it is "ready" by dispatching a
`bench:ready` event on the host window (and `bench:start` when its work
begins, unless a `iframe[data-parley=runtime]` being attached marks it). Page
scripts live in closures so they add no globals of their own.
"""

from __future__ import annotations

import json

from parley.snippet import render_snippet

# What a host page looks like around the widget: a little content to paint.
HOST_BODY = ("<main><h1>A shop</h1><p>Some products, a cart, the usual.</p>"
             "<p>The chat launcher sits in the bottom corner.</p></main>")

# A 60px round launcher as the widget draws it (see widget/browser/ui.py),
# in plain JS: the physical floor for "a launcher + a socket".
FLOOR_JS = """<script>
(function (w, d) {
  w.dispatchEvent(new CustomEvent("bench:start"));
  var f = d.createElement("iframe");
  f.setAttribute("title", "Chat");
  f.setAttribute("data-parley", "launcher");
  var css = {position: "fixed", right: "20px", bottom: "20px", width: "60px", height: "60px",
    border: "0", margin: "0", padding: "0", "border-radius": "50%%", background: "transparent",
    "z-index": "2147483000", display: "block"};
  for (var k in css) f.style.setProperty(k, css[k], "important");
  d.documentElement.appendChild(f);
  var fd = f.contentDocument;
  var style = fd.createElement("style");
  style.textContent = "html,body{margin:0;padding:0;background:transparent;overflow:hidden}" +
    "button{all:unset;box-sizing:border-box;width:60px;height:60px;border-radius:50%%;background:#3659e3;" +
    "color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}svg{width:28px;height:28px;fill:currentColor}";
  fd.head.appendChild(style);
  var b = fd.createElement("button");
  b.type = "button";
  b.setAttribute("aria-label", "Chat");
  b.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 ' +
    '2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  fd.body.appendChild(b);
  var ws = new WebSocket(%(ws_url)s);
  ws.onopen = function () { ws.send(JSON.stringify({v: 1, type: "hello", appId: %(app_id)s})); };
  ws.onmessage = function (e) {
    var frame = JSON.parse(e.data);
    if (frame.type === "welcome") w.dispatchEvent(new CustomEvent("bench:ready"));
  };
})(window, document);
</script>"""

# The bare runtime, started like loader.js starts the widget: a hidden
# about:blank iframe under <html> with a <script type=module src=...> in it.
FLOOR_MPY_PAGE = """<script>
(function (d) {
  var f = d.createElement("iframe");
  f.setAttribute("aria-hidden", "true");
  f.setAttribute("tabindex", "-1");
  f.setAttribute("data-parley", "runtime");
  f.style.setProperty("display", "none", "important");
  d.documentElement.appendChild(f);
  var fd = f.contentDocument;
  var s = fd.createElement("script");
  s.type = "module";
  s.src = %(module_url)s;
  (fd.head || fd.documentElement).appendChild(s);
})(document);
</script>"""

FLOOR_MPY_MODULE = """// floor-mpy: the widget's MicroPython runtime and nothing else.
import { loadMicroPython } from %(runtime_js)s;

const HOST = window.parent;
let out = "";
const mp = await loadMicroPython({
  url: %(runtime_wasm)s,
  heapsize: %(heap)d,
  stdout: (line) => { out += line; },
  stderr: (line) => HOST.console.error(line),
});
mp.runPython("print(1)");
if (out.trim() === "1") HOST.dispatchEvent(new HOST.CustomEvent("bench:ready"));
else HOST.console.error("floor-mpy: print(1) wrote " + JSON.stringify(out));
"""

# Right before the snippet: the moment the widget's code begins ("snippet -> ready").
SNIPPET_MARK = """<script>dispatchEvent(new CustomEvent("bench:snippet"));</script>"""
# Chaport's init waits 500 ms after `load` by default (a deliberate delay, not a cost):
# the bench starts the widget right at `load`, as the issue 16 measurement did.
PARLEY_CONFIG = "init: {delayAfterEvent: 0},"

# After the snippet, as a site would: tell the bench when `ready` fired.
READY_HOOK = """<script>
window.chaport.on("ready", function () { window.dispatchEvent(new CustomEvent("bench:ready")); });
</script>"""

# The host page alone: the baseline the widget's own costs are measured against.
HOST_ONLY = """<script>
dispatchEvent(new CustomEvent("bench:start"));
dispatchEvent(new CustomEvent("bench:ready"));
</script>"""

# The Python both Python-route pages run: a `window.chaport` stub with `q`/`on`,
# the same 60px launcher as floor-js, and the visitor WebSocket (hello -> welcome).
# Only JS objects cross (window.JSON, window.Object), so neither runtime needs
# its json module: Brython's lives in the 5 MB brython_stdlib.js.
PY_WIDGET = """
stub = window.Object.new()
queued = []
listeners = {}
def q(*args):
    queued.append(args)
def on(name, fn):
    listeners.setdefault(str(name), []).append(fn)
stub.q = proxy(q)
stub.on = proxy(on)
window.chaport = stub

d = window.document
f = d.createElement("iframe")
f.setAttribute("title", "Chat")
f.setAttribute("data-parley", "launcher")
CSS = [("position", "fixed"), ("right", "20px"), ("bottom", "20px"), ("width", "60px"), ("height", "60px"),
       ("border", "0"), ("margin", "0"), ("padding", "0"), ("border-radius", "50%%"),
       ("background", "transparent"), ("z-index", "2147483000"), ("display", "block")]
for name, value in CSS:
    f.style.setProperty(name, value, "important")
d.documentElement.appendChild(f)
fd = f.contentDocument
style = fd.createElement("style")
style.textContent = ("html,body{margin:0;padding:0;background:transparent;overflow:hidden}"
    "button{all:unset;box-sizing:border-box;width:60px;height:60px;border-radius:50%%;background:#3659e3;"
    "color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;"
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}svg{width:28px;height:28px;fill:currentColor}")
fd.head.appendChild(style)
b = fd.createElement("button")
b.type = "button"
b.setAttribute("aria-label", "Chat")
b.innerHTML = ('<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 '
               '2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>')
fd.body.appendChild(b)

ws = window.WebSocket.new(%(ws_url)s)
def onopen(event):
    ws.send('{"v":1,"type":"hello","appId":"%(app_id)s"}')
def onmessage(event):
    if window.JSON.parse(event.data).type == "welcome":
        window.dispatchEvent(window.CustomEvent.new("bench:ready"))
ws.onopen = proxy(onopen)
ws.onmessage = proxy(onmessage)
"""

# PyScript core in the host page, as its docs have it, with the interpreter set to
# the self-hosted micropython.mjs (the Parley server's dist/inbox/pyscript/, the
# same runtime the widget ships) so nothing comes from a CDN. @pyscript/core 0.7
# reads the config from an `<mpy-config>` element (querySelectorAll("mpy-config"))
# or a `config` attribute; a `<script type="py-config">` is ignored for `mpy`
# scripts and the interpreter then comes from cdn.jsdelivr.net.
PYSCRIPT_PAGE = """<script>dispatchEvent(new CustomEvent("bench:start"));</script>
<mpy-config hidden>%(config)s</mpy-config>
<script type="module" src=%(core_js)s></script>
<script type="mpy">
from pyscript import window
from pyscript.ffi import create_proxy as proxy
%(python)s
</script>"""

# Brython from the PyPI package: brython.js alone (served brotli by the host
# site), then a text/python script; Brython runs it on DOMContentLoaded.
BRYTHON_PAGE = """<script>dispatchEvent(new CustomEvent("bench:start"));</script>
<script src=%(brython_js)s></script>
<script type="text/python">
from browser import window
def proxy(fn):
    return fn
%(python)s
</script>"""

CONFIG_LINE = "// Put your configuration options here"


def snippet(app_id: str, server_url: str, config: str = "") -> str:
    """The real installation snippet, with `config` in place of the placeholder comment."""
    text = render_snippet(app_id, server_url)
    if config:
        if CONFIG_LINE not in text:
            raise RuntimeError("the snippet template changed: no configuration placeholder to fill")
        text = text.replace(CONFIG_LINE, config)
    return text


def python_widget(ws_url: str, app_id: str) -> str:
    return PY_WIDGET % {"ws_url": json.dumps(ws_url), "app_id": app_id}


def write_pages(site, app_id: str, server_url: str, manifest: dict, heap_bytes: int,
                brython_js: str | None = None) -> dict[str, str]:
    """Writes every page onto the host site; returns page name -> URL.

    `brython_js` is the URL of brython.js on the host site (no `brython` page without it).
    """
    ws_url = "ws" + server_url.removeprefix("http") + "/ws/visitor"
    widget = manifest["widget"]
    python = python_widget(ws_url, app_id)
    extra = {}
    if brython_js:
        extra["brython"] = site.page("brython", HOST_BODY + BRYTHON_PAGE % {
            "brython_js": json.dumps(brython_js), "python": python}, "brython")
    module = site.write("floor-mpy.mjs", FLOOR_MPY_MODULE % {
        "runtime_js": json.dumps(f"{server_url}/{widget['runtime_js']}"),
        "runtime_wasm": json.dumps(f"{server_url}/{widget['runtime_wasm']}"),
        "heap": heap_bytes,
    })
    return {
        "blank": site.page("blank", "", "blank"),
        "parley": site.page("parley", HOST_BODY + SNIPPET_MARK + snippet(app_id, server_url, PARLEY_CONFIG)
                            + READY_HOOK, "parley"),
        "floor-js": site.page("floor-js", HOST_BODY + FLOOR_JS % {
            "ws_url": json.dumps(ws_url), "app_id": json.dumps(app_id)}, "floor-js"),
        "floor-mpy": site.page("floor-mpy", HOST_BODY + FLOOR_MPY_PAGE % {
            "module_url": json.dumps(module)}, "floor-mpy"),
        "host": site.page("host", HOST_BODY + HOST_ONLY, "host"),
        "never-init": site.page("never-init", HOST_BODY + snippet(
            app_id, server_url, "init: {event: 'never', maxDelay: 60000},"), "never-init"),
        "pyscript-core": site.page("pyscript-core", HOST_BODY + PYSCRIPT_PAGE % {
            "config": json.dumps({"interpreter": f"{server_url}/inbox/pyscript/micropython.mjs"}),
            "core_js": json.dumps(f"{server_url}/inbox/pyscript/core.js"),
            "python": python}, "pyscript-core"),
        **extra,
    }
