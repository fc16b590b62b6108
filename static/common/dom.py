"""DOM and HTTP helpers shared by Parley's own pages: the operator inbox (main.py and its
feature modules) and the admin screens. Each page fetches this file as ./dom.py
(templates/inbox.html, templates/admin.html); `strings` is the page's own string table.

A page's own wiring uses `on` and `spawn`: an error there is thrown into the page (the
e2e tests fail on uncaught errors). The inbox's optional features use `on_guarded` and
`spawn_guarded`: their errors are reported in the console, the page keeps working."""

import asyncio
import json

from pyscript import document, fetch, window
from pyscript.ffi import create_proxy
from strings import t

_running = set()


def spawn(coroutine, on_error=None):
    """Runs a coroutine in the background, keeping a reference until it ends. An error
    goes to `on_error` when given, else on to asyncio (which prints it)."""
    async def run():
        try:
            await coroutine
        except Exception as error:
            if on_error is None:
                raise
            on_error(error)
        finally:
            _running.discard(task)

    task = asyncio.create_task(run())
    _running.add(task)
    return task


def spawn_guarded(coroutine):
    """`spawn` for a feature: one failing must not take the page down."""
    return spawn(coroutine, report)


def report(error):
    import sys

    try:
        import io

        trace = io.StringIO()
        sys.print_exception(error, trace)
        detail = trace.getvalue()
    except Exception:  # CPython has no print_exception: the message is enough
        detail = str(error)
    # print() reaches the browser console (PyScript's stdout) and can't fail itself.
    print("[inbox] error: " + str(type(error).__name__) + ": " + detail)


def guarded(handler):
    """A DOM or feed handler whose errors are reported, not thrown into the page."""
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            report(error)
            return None
    return run


def el(element_id):
    return document.getElementById(element_id)


def make(tag, cls=None, text=None, **attrs):
    node = document.createElement(tag)
    if cls:
        node.className = cls
    if text is not None:
        node.textContent = text
    for name, value in attrs.items():
        # for_ -> for, aria_label -> aria-label, data_id -> data-id
        node.setAttribute(name.rstrip("_").replace("_", "-"), str(value))
    return node


def option(value, text, selected=False):
    node = make("option", text=text)
    node.value = value
    if selected:
        node.selected = True
    return node


def clear(node):
    while node.firstChild:
        node.removeChild(node.firstChild)


def on(node, event, handler):
    node.addEventListener(event, create_proxy(handler))


def on_guarded(node, event, handler):
    on(node, event, guarded(handler))


def translate(root):
    """Fills `data-t*` attributes under `root` (the page, or markup added after it loaded)."""
    for node in root.querySelectorAll("[data-t]"):
        node.textContent = t(node.getAttribute("data-t"))
    for node in root.querySelectorAll("[data-t-label]"):
        node.setAttribute("aria-label", t(node.getAttribute("data-t-label")))
    for node in root.querySelectorAll("[data-t-title]"):
        node.setAttribute("title", t(node.getAttribute("data-t-title")))
    for node in root.querySelectorAll("[data-t-placeholder]"):
        node.setAttribute("placeholder", t(node.getAttribute("data-t-placeholder")))


def translate_page():
    translate(document)
    document.title = t("app.title")


def now_ms():
    return int(window.Date.now())


def iso_ms(iso):
    """Milliseconds since the epoch of an ISO timestamp (0 when missing)."""
    if not iso:
        return 0
    return int(window.Date.new(iso).getTime())


def local_time(iso):
    if not iso:
        return ""
    moment = window.Date.new(iso)
    return f"{int(moment.getHours()):02d}:{int(moment.getMinutes()):02d}"


def local_date_time(iso):
    if not iso:
        return ""
    moment = window.Date.new(iso)
    return (f"{int(moment.getFullYear())}-{int(moment.getMonth()) + 1:02d}-{int(moment.getDate()):02d} "
            f"{int(moment.getHours()):02d}:{int(moment.getMinutes()):02d}")


def visible():
    return str(document.visibilityState) == "visible"


async def api(method, path, body=None):
    """(status, parsed JSON or None); status 0 when the server could not be reached.
    Same-origin requests: the browser adds the session cookie and, to every request that
    changes something, this page's Origin."""
    options = {"method": method, "headers": {"Accept": "application/json"}}
    if body is not None:
        options["headers"]["Content-Type"] = "application/json"
        options["body"] = json.dumps(body)
    try:
        response = await fetch(path, **options)
        text = await response.text()
    except Exception:  # any network failure is "could not reach"
        return 0, None
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return int(response.status), parsed


async def upload(path, file):
    """POSTs a picked file's raw bytes (as the upload endpoints want them) with
    XMLHttpRequest; (status, parsed JSON or None), status 0 when the server could not be
    reached. The session cookie and the page's Origin go along."""
    done = asyncio.Event()
    xhr = window.XMLHttpRequest.new()
    finished = create_proxy(lambda event: done.set())
    xhr.open("POST", path)
    xhr.setRequestHeader("Accept", "application/json")
    xhr.onload = finished
    xhr.onerror = finished
    xhr.onabort = finished
    xhr.send(file)
    await done.wait()
    status = int(xhr.status)
    try:
        body = json.loads(str(xhr.responseText or "")) if status else None
    except ValueError:
        body = None
    return status, body


def reason_of(status, body, t):
    if status == 0:
        return t("error.network")
    if isinstance(body, dict) and body.get("message"):
        return body["message"]
    return str(status)


def encode(text):
    return str(window.encodeURIComponent(text))
