"""Draws the launcher and the chat window into isolated iframes on the host page.

Each part is an about:blank iframe the widget writes into: host CSS can't
reach inside, our CSS can't leak out. The iframe element itself gets inline
`!important` styles, which beat even `* { all: unset !important }` rules.
Styles inside use constructable stylesheets, which a strict CSP still allows.
"""

from widget.browser import console

LAUNCHER_SIZE = 60
WINDOW_WIDTH = 370
WINDOW_HEIGHT = 560
GAP = 16  # between the launcher and the window

_FRAME_BASE = {
    "position": "fixed",
    "border": "0",
    "margin": "0",
    "padding": "0",
    "background": "transparent",
    "color-scheme": "normal",
    "z-index": "2147483000",
    "display": "block",
    "visibility": "visible",
    "opacity": "1",
    "max-width": "100vw",
    "max-height": "100dvh",
    "overflow": "hidden",
    "inset": "auto",
}

LAUNCHER_CSS = """
html,body{margin:0;padding:0;background:transparent;overflow:hidden}
button{all:unset;box-sizing:border-box;width:%(size)dpx;height:%(size)dpx;border-radius:50%%;
background:var(--accent);color:var(--on-accent);display:flex;align-items:center;justify-content:center;
cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}
button:focus-visible{outline:3px solid #1a73e8;outline-offset:-3px}
svg{width:28px;height:28px;fill:currentColor}
"""

WINDOW_CSS = """
html,body{margin:0;padding:0;height:100%;background:transparent;overflow:hidden;
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.window{box-sizing:border-box;height:100%;display:flex;flex-direction:column;background:#fff;
color:#1f2328;border-radius:14px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.2)}
header{background:var(--accent);color:var(--on-accent);padding:16px;display:flex;align-items:center;gap:8px}
header h1{font-size:17px;margin:0;flex:1}
header p{margin:2px 0 0;font-size:13px;opacity:.9}
header button{all:unset;cursor:pointer;width:32px;height:32px;border-radius:8px;text-align:center;
font-size:20px}
header button:focus-visible{outline:2px solid currentColor}
main{flex:1;overflow:auto;padding:16px}
.bubble{background:#f1f3f5;border-radius:12px;padding:10px 12px;max-width:85%;white-space:pre-wrap}
"""

CHAT_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6'
    'a2 2 0 0 1 2-2z"/></svg>'
)


def readable_text_color(hex_color):
    """Black or white, whichever reads better on `hex_color` (#rrggbb), by WCAG luminance."""
    try:
        channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    except Exception:
        return "#ffffff"
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white vs with black; pick the larger.
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else "#000000"


class Frame:
    """One isolated iframe on the host page, under <html> so body rewrites don't kill it."""

    def __init__(self, host, name, css, title, container=None):
        self.host = host
        doc = host.document
        self.element = doc.createElement("iframe")
        self.element.setAttribute("title", title)
        self.element.setAttribute("data-parley", name)
        self.style(_FRAME_BASE)
        (container or doc.documentElement).appendChild(self.element)
        self.window = self.element.contentWindow
        self.document = self.element.contentDocument
        self.document.documentElement.setAttribute("lang", "en")
        sheet = self.window.CSSStyleSheet.new()
        sheet.replaceSync(css)
        self.document.adoptedStyleSheets = self.window.Array.of(sheet)

    def style(self, properties):
        style = self.element.style
        for name in properties:
            style.setProperty(name, properties[name], "important")

    def show(self, visible):
        self.style({"display": "block" if visible else "none"})

    def set_accent(self, color):
        root = self.document.documentElement.style
        root.setProperty("--accent", color)
        root.setProperty("--on-accent", readable_text_color(color))


def _corner(position, extra_bottom):
    side, x, y = position
    return {
        side: "%dpx" % x,
        "left" if side == "right" else "right": "auto",
        "bottom": "%dpx" % (y + extra_bottom),
        "top": "auto",
    }


class Launcher:
    def __init__(self, host, on_click, color, position, label):
        self.frame = Frame(host, "launcher", LAUNCHER_CSS % {"size": LAUNCHER_SIZE}, label)
        size = "%dpx" % LAUNCHER_SIZE
        self.frame.style({"width": size, "height": size, "border-radius": "50%"})
        self.frame.set_accent(color)
        body = self.frame.document.body
        self.button = self.frame.document.createElement("button")
        self.button.setAttribute("type", "button")
        self.button.setAttribute("aria-label", label)
        self.button.setAttribute("aria-expanded", "false")
        self.button.innerHTML = CHAT_ICON  # a constant of ours, never visitor text
        self.button.addEventListener("click", lambda _event: on_click())
        body.appendChild(self.button)
        self.place(position)

    def place(self, position):
        self.frame.style(_corner(position, 0))

    def set_expanded(self, expanded, label):
        self.button.setAttribute("aria-expanded", "true" if expanded else "false")
        self.button.setAttribute("aria-label", label)

    def show(self, visible):
        self.frame.show(visible)


class ChatWindow:
    def __init__(self, host, texts, color, position, on_close, direction="ltr", close_shown=True,
                 container=None):
        self.frame = Frame(host, "window", WINDOW_CSS, texts["title"], container)
        self.frame.style({"display": "none"})
        self.container = None
        self._fit(container, position)
        self.frame.set_accent(color)
        doc = self.frame.document
        root = doc.createElement("div")
        root.className = "window"
        root.setAttribute("dir", direction)
        root.setAttribute("role", "dialog")
        root.setAttribute("aria-label", texts["title"])
        header = doc.createElement("header")
        heading = doc.createElement("div")
        heading.style.flex = "1"
        self.title = doc.createElement("h1")
        self.title.textContent = texts["title"]
        self.status = doc.createElement("p")
        self.status.textContent = texts["status"]
        heading.appendChild(self.title)
        heading.appendChild(self.status)
        header.appendChild(heading)
        self.close_button = doc.createElement("button")
        self.close_button.setAttribute("type", "button")
        self.close_button.setAttribute("aria-label", texts["close"])
        self.close_button.textContent = "\u2715"
        self.close_button.addEventListener("click", lambda _event: on_close())
        header.appendChild(self.close_button)
        self.set_close_button(close_shown)
        root.appendChild(header)
        body = doc.createElement("main")
        self.welcome = doc.createElement("div")
        self.welcome.className = "bubble"
        self.welcome.textContent = texts["welcome"]  # text, never HTML
        body.appendChild(self.welcome)
        root.appendChild(body)
        doc.body.appendChild(root)
        self.place(position)

    def _fit(self, container, position):
        self.container = container
        if container is None:
            self.frame.style({
                "position": "fixed",
                "width": "%dpx" % WINDOW_WIDTH,
                "height": "%dpx" % WINDOW_HEIGHT,
                "border-radius": "14px",
            })
            self.place(position)
        else:
            # openIn {selector}: the chat fills the site's element, in its flow.
            self.frame.style({"position": "static", "width": "100%", "height": "100%",
                              "min-height": "%dpx" % 400, "border-radius": "0", "z-index": "auto"})

    def place(self, position):
        if self.container is None:
            self.frame.style(_corner(position, LAUNCHER_SIZE + GAP))

    def show(self, visible):
        self.frame.show(visible)

    def set_status(self, texts):
        self.status.textContent = texts["status"]
        self.welcome.textContent = texts["welcome"]

    def set_close_button(self, shown):
        self.close_button.style.display = "" if shown else "none"


INVITATION_CSS = """
html,body{margin:0;padding:0;background:transparent;overflow:hidden;
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.bubble{box-sizing:border-box;position:absolute;inset:8px;background:#fff;color:#1f2328;border-radius:12px;
padding:12px 36px 12px 14px;box-shadow:0 4px 16px rgba(0,0,0,.2);cursor:pointer;overflow:hidden;
border-top:4px solid var(--accent)}
.bubble p{margin:0;white-space:pre-wrap;display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;
overflow:hidden}
.dismiss{all:unset;position:absolute;top:12px;right:14px;cursor:pointer;font-size:16px;color:#57606a}
.dismiss:focus-visible,.bubble:focus-visible{outline:2px solid #1a73e8}
"""


class Invitation:
    """The auto-invitation bubble above the launcher (chat.autoInvitation)."""

    WIDTH = 300
    HEIGHT = 130

    def __init__(self, host, color, position, texts, on_open, on_dismiss):
        self.frame = Frame(host, "invitation", INVITATION_CSS, texts["title"])
        self.frame.style({"width": "%dpx" % self.WIDTH, "height": "%dpx" % self.HEIGHT})
        self.frame.set_accent(color)
        doc = self.frame.document
        bubble = doc.createElement("div")
        bubble.className = "bubble"
        bubble.setAttribute("role", "button")
        bubble.setAttribute("tabindex", "0")
        self.text = doc.createElement("p")
        bubble.appendChild(self.text)
        bubble.addEventListener("click", lambda _event: on_open())
        dismiss = doc.createElement("button")
        dismiss.className = "dismiss"
        dismiss.setAttribute("type", "button")
        dismiss.setAttribute("aria-label", texts["dismiss"])
        dismiss.textContent = "\u2715"

        def dismissed(event):
            event.stopPropagation()
            on_dismiss()
        dismiss.addEventListener("click", dismissed)
        bubble.appendChild(dismiss)
        doc.body.appendChild(bubble)
        self.place(position)

    def place(self, position):
        self.frame.style(_corner(position, LAUNCHER_SIZE + 4))

    def set_message(self, message):
        self.text.textContent = message  # text, never HTML

    def show(self, visible):
        self.frame.show(visible)


def remove(part):
    try:
        part.frame.element.remove()
    except Exception as error:
        console.warn("could not remove a widget frame: %s" % error)
