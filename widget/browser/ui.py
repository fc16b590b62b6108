"""Draws the launcher and the invitation into isolated iframes on the host page
(the chat window, built only when needed, is widget.browser.window).

Each part is an about:blank iframe the widget writes into: host CSS can't
reach inside, our CSS can't leak out. The iframe element itself gets inline
`!important` styles, which beat even `* { all: unset !important }` rules.
Styles inside use constructable stylesheets, which a strict CSP still allows.
"""

from widget.browser import console
from widget.core.colors import avatar_colors, readable_text_color

# (lang, dir) of every widget document; main sets it from the chosen language.
LANGUAGE = ["en", "ltr"]
LAUNCHER_SIZE = 60
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

# In every widget frame. Reduced motion: nothing moves (the widget has no animation today,
# this keeps it so). Forced colours (Windows High Contrast) drop our backgrounds and shadows,
# so a button would be an invisible box: a system-coloured border keeps every control seen.
A11Y_CSS = """
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;
transition:none!important;scroll-behavior:auto!important}}
@media (forced-colors:active){button,[role=button]{border:2px solid ButtonText!important}
.badge{outline:1px solid CanvasText}}
"""

LAUNCHER_CSS = """
html,body{margin:0;padding:0;background:transparent;overflow:hidden}
button{all:unset;box-sizing:border-box;width:%(size)dpx;height:%(size)dpx;border-radius:50%%;
background:var(--accent);color:var(--on-accent);display:flex;align-items:center;justify-content:center;
cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}
button:focus-visible{outline:3px solid #1a73e8;outline-offset:-3px}
svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:0;right:0;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;
border-radius:10px;background:#d1242f;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center;
pointer-events:none}
.badge[hidden]{display:none}
"""

CHAT_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6'
    'a2 2 0 0 1 2-2z"/></svg>'
)


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
        self.document.documentElement.setAttribute("lang", LANGUAGE[0])
        self.document.documentElement.setAttribute("dir", LANGUAGE[1])
        self.document.title = title
        sheet = self.window.CSSStyleSheet.new()
        sheet.replaceSync(css + A11Y_CSS)
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
        # The avatars' tint is computed, not a translucent overlay, so its contrast is known.
        background, text = avatar_colors(color)
        root.setProperty("--avatar-bg", background)
        root.setProperty("--avatar-fg", text)


def corner(position, extra_bottom):
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
        self.frame.style({"width": size, "height": size})
        self.frame.set_accent(color)
        body = self.frame.document.body
        self.button = self.frame.document.createElement("button")
        self.button.setAttribute("type", "button")
        self.button.setAttribute("aria-label", label)
        self.button.setAttribute("aria-expanded", "false")
        self.button.innerHTML = CHAT_ICON  # a constant of ours, never visitor text
        self.button.addEventListener("click", lambda _event: on_click())
        body.appendChild(self.button)
        self.badge = self.frame.document.createElement("span")
        self.badge.className = "badge"
        self.badge.setAttribute("aria-hidden", "true")
        self.badge.hidden = True
        body.appendChild(self.badge)
        self.place(position)

    def place(self, position):
        self.frame.style(corner(position, 0))

    def set_expanded(self, expanded, label):
        self.button.setAttribute("aria-expanded", "true" if expanded else "false")
        self.button.setAttribute("aria-label", label)

    def set_unread(self, count, label):
        self.badge.hidden = count <= 0
        self.badge.textContent = str(count) if count < 100 else "99+"
        self.button.setAttribute("aria-label", label)

    def focus(self):
        self.button.focus()

    def show(self, visible):
        self.frame.show(visible)


INVITATION_CSS = """
html,body{margin:0;padding:0;background:transparent;overflow:hidden;
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.bubble{box-sizing:border-box;position:absolute;inset:8px;background:#fff;color:#1f2328;border-radius:12px;
padding:12px 36px 12px 14px;box-shadow:0 4px 16px rgba(0,0,0,.2);cursor:pointer;overflow:hidden;
border-top:4px solid var(--accent)}
.bubble p{margin:0}
.open{all:unset;cursor:pointer;white-space:pre-wrap;display:-webkit-box;-webkit-line-clamp:4;
-webkit-box-orient:vertical;overflow:hidden}
.dismiss{all:unset;position:absolute;top:12px;right:14px;cursor:pointer;font-size:16px;color:#57606a}
.dismiss:focus-visible,.open:focus-visible{outline:2px solid #1a73e8}
"""


class Invitation:
    """The auto-invitation bubble above the launcher (chat.autoInvitation)."""

    WIDTH = 300
    HEIGHT = 130

    def __init__(self, host, color, position, texts, on_open, on_dismiss):
        # A title of its own: two frames with one title can't be told apart (unique-frame-title).
        self.frame = Frame(host, "invitation", INVITATION_CSS, texts["invitation_title"])
        self.frame.style({"width": "%dpx" % self.WIDTH, "height": "%dpx" % self.HEIGHT})
        self.frame.set_accent(color)
        doc = self.frame.document
        # The message is a real button beside the dismiss button, not a role=button bubble
        # around it: a control inside a control is announced wrongly (axe nested-interactive).
        # A click anywhere on the bubble still opens the chat (the click bubbles up to it).
        bubble = doc.createElement("div")
        bubble.className = "bubble"
        line = doc.createElement("p")
        self.text = doc.createElement("button")
        self.text.className = "open"
        self.text.setAttribute("type", "button")
        line.appendChild(self.text)
        bubble.appendChild(line)
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
        self.frame.style(corner(position, LAUNCHER_SIZE + 4))

    def set_message(self, message):
        self.text.textContent = message  # text, never HTML

    def show(self, visible):
        self.frame.show(visible)


def remove(part):
    try:
        part.frame.element.remove()
    except Exception as error:
        console.warn("could not remove a widget frame: %s" % error)
