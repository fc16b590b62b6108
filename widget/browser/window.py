"""The chat window: an isolated iframe with the conversation, the composer and its panels.

Not imported at start-up: the launcher comes first, and this module, its styles and
its DOM are built when the visitor opens the chat or in idle time after `ready`
(issue 16; see main.Widget._prepare_window). `ChatWindow.steps()` builds it in
pieces of a few milliseconds each, so that idle time can do it without a long task.
"""

from widget.browser.panels import PANELS_CSS, EndOfChat, UploadBar
from widget.browser.ui import GAP, LAUNCHER_SIZE, Frame, corner
from widget.core.linkify import split_links

WINDOW_WIDTH = 370
WINDOW_HEIGHT = 560

WINDOW_CSS = """
html,body{margin:0;padding:0;height:100%;background:transparent;overflow:hidden;
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.window{box-sizing:border-box;height:100%;display:flex;flex-direction:column;background:#fff;
color:#1f2328;border-radius:14px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.2)}
header{background:var(--accent);color:var(--on-accent);padding:16px;display:flex;align-items:center;gap:8px}
header h1{font-size:17px;margin:0;flex:1}
.avatars{display:flex;margin-inline-end:4px}
.avatars span{width:30px;height:30px;border-radius:50%;background:var(--avatar-bg);color:var(--avatar-fg);
display:flex;align-items:center;justify-content:center;font-size:12px;font-weight:700;
border:2px solid var(--accent);margin-inline-start:-8px}
.avatars span:first-child{margin-inline-start:0}
header p{margin:2px 0 0;font-size:13px}
header button{all:unset;cursor:pointer;width:32px;height:32px;border-radius:8px;text-align:center;
font-size:20px}
header button:focus-visible{outline:2px solid currentColor}
main{flex:1;overflow:auto;padding:16px;display:flex;flex-direction:column;gap:8px}
.bubble{background:#f1f3f5;border-radius:12px;padding:10px 12px;max-width:85%;white-space:pre-wrap;
overflow-wrap:anywhere}
.log{margin:0;padding:0;display:flex;flex-direction:column;gap:6px}
.msg{display:flex;flex-direction:column;align-items:flex-start}
.msg.visitor{align-items:flex-end}
.msg.visitor .bubble{background:var(--accent);color:var(--on-accent)}
.msg.system .bubble{background:transparent;color:#57606a;font-size:13px;text-align:center;align-self:center}
.msg .meta{font-size:12px;color:#57606a;margin:2px 4px 0}
.msg .bubble a{color:inherit;text-decoration:underline}
form.composer{display:flex;gap:8px;align-items:flex-end;border-top:1px solid #d0d7de;padding:10px}
form.composer textarea{flex:1;resize:none;border:1px solid #d0d7de;border-radius:10px;padding:8px 10px;
font-family:inherit;font-size:16px;line-height:1.4;max-height:120px;min-height:40px;box-sizing:border-box;color:#1f2328;background:#fff}
form.composer textarea:focus{outline:2px solid var(--accent);outline-offset:0}
form.composer button{border:0;border-radius:10px;background:var(--accent);color:var(--on-accent);
padding:0 14px;height:40px;font-family:inherit;font-size:15px;font-weight:600;cursor:pointer}
form.composer button:focus-visible{outline:3px solid #1a73e8}
.window.full{border-radius:0;box-shadow:none}
.offline{padding:10px 10px 0;border-top:1px solid #d0d7de}
.offline label{display:block;font-size:13px;color:#57606a;margin-bottom:4px}
.offline input{box-sizing:border-box;width:100%;border:1px solid #d0d7de;border-radius:10px;padding:8px 10px;
font-family:inherit;font-size:16px;color:#1f2328;background:#fff}
.offline input:focus{outline:2px solid var(--accent)}
.offline .error{color:#b42318;font-size:13px;min-height:16px;margin-top:2px}
.offline[hidden]{display:none}
.typing{font-size:13px;color:#57606a;min-height:18px;padding:0 16px}
.msg .who{font-size:12px;color:#57606a;margin:0 4px 2px}
.queue{font-size:13px;color:#1f2328;background:#fff8c5;padding:6px 16px}
.queue[hidden]{display:none}
.connection{font-size:13px;color:#57606a;background:#f6f8fa;border-bottom:1px solid #d0d7de;
padding:6px 16px;text-align:center}
.connection[hidden]{display:none}
.msg .meta span+span:not(:empty){margin-inline-start:6px}
.msg.cont{margin-top:-3px}
.file-link{display:inline-flex;gap:6px;align-items:center}
.bubble img{display:block;max-width:100%;max-height:240px;height:auto;border-radius:8px}
.bubble .caption{margin-top:6px}
form.composer .attach{all:unset;box-sizing:border-box;width:40px;height:40px;border-radius:10px;
cursor:pointer;display:flex;align-items:center;justify-content:center;color:#57606a}
form.composer .attach:focus-visible{outline:3px solid #1a73e8}
form.composer .attach svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2}
"""

ATTACH_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1'
    'l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9"/></svg>'
)


def initials(name):
    """'Ann Lee' -> 'AL'; one word -> its first letter."""
    words = [w for w in str(name).split() if w]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


class ChatWindow:
    def __init__(self, host, texts, color, position, on_close, direction="ltr", close_shown=True,
                 container=None, full_screen=False, staged=False):
        """Builds the window now, or with `staged` a piece per `build_step()` call."""
        self._steps = self._build(host, texts, color, position, on_close, direction, close_shown,
                                  container, full_screen)
        self.built = False
        if not staged:
            self.finish_build()

    def build_step(self):
        """Builds the next piece (a few ms at most); True once the window is complete."""
        if not self.built:
            try:
                next(self._steps)
            except StopIteration:
                self.built = True
                self._steps = None
        return self.built

    def finish_build(self):
        while not self.build_step():
            pass

    def _build(self, host, texts, color, position, on_close, direction="ltr", close_shown=True,
               container=None, full_screen=False):
        self.frame = Frame(host, "window", WINDOW_CSS + PANELS_CSS, texts["title"], container)
        self.frame.style({"display": "none"})
        self.visible = False
        self._kept_scroll = None  # where to be when shown again (None: the newest message)
        self.container = None
        self.full_screen = full_screen
        self._fit(container, position)
        self.frame.set_accent(color)
        yield
        doc = self.frame.document

        def key(event):
            if event.key == "Escape":
                event.preventDefault()
                on_close()
        doc.addEventListener("keydown", key)
        root = doc.createElement("div")
        root.className = "window full" if full_screen and container is None else "window"
        root.setAttribute("dir", direction)
        root.setAttribute("role", "dialog")
        root.setAttribute("aria-label", texts["title"])
        header = doc.createElement("header")
        self.avatars = doc.createElement("div")
        self.avatars.className = "avatars"
        header.appendChild(self.avatars)
        heading = doc.createElement("div")
        heading.style.flex = "1"
        self.title = doc.createElement("h1")
        self.title.id = "parley-title"
        self.title.textContent = texts["title"]
        # Named by its title: the host page's own header is a banner landmark too, and two
        # landmarks of one kind need distinct names to be told apart (axe landmark-unique).
        header.setAttribute("aria-labelledby", "parley-title")
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
        # "Reconnecting…" while the socket is down for a while: quiet, under the header.
        self.connection = doc.createElement("div")
        self.connection.className = "connection"
        self.connection.setAttribute("role", "status")
        self.connection.hidden = True
        root.appendChild(self.connection)
        body = doc.createElement("main")
        self.body = body
        self.on_scroll = None
        body.addEventListener("scroll", lambda _event: self.on_scroll and self.on_scroll())
        self.welcome = doc.createElement("div")
        self.welcome.className = "bubble"
        self.welcome.textContent = texts["welcome"]  # text, never HTML
        body.appendChild(self.welcome)
        # New messages are announced to screen readers (role=log is polite).
        self.log = doc.createElement("div")
        self.log.className = "log"
        self.log.setAttribute("role", "log")
        self.log.setAttribute("aria-live", "polite")
        self.log.setAttribute("aria-label", texts["title"])
        body.appendChild(self.log)
        self.end = EndOfChat(doc, texts, self._rated, self._transcript)
        body.appendChild(self.end.element)
        root.appendChild(body)
        self.typing = doc.createElement("div")
        self.typing.className = "typing"
        self.typing.setAttribute("aria-live", "polite")
        root.appendChild(self.typing)
        self.queue = doc.createElement("div")
        self.queue.className = "queue"
        self.queue.setAttribute("role", "status")
        self.queue.hidden = True
        root.appendChild(self.queue)
        yield
        self._items = {}  # clientId or "id:<n>" -> li
        self.on_send = None
        self.on_typing = None
        self.on_attach = None
        self.on_cancel_upload = None
        self.on_rate = None
        self.on_transcript = None
        root.appendChild(self._offline_form(doc, texts))
        self.upload = UploadBar(doc, texts["cancel"], self._cancel_upload)
        root.appendChild(self.upload.element)
        root.appendChild(self.upload.error)
        root.appendChild(self._composer(doc, texts))
        doc.body.appendChild(root)
        self.texts = texts

    def _attach_button(self, doc, texts, form):
        picker = doc.createElement("input")
        picker.setAttribute("type", "file")
        picker.hidden = True
        picker.setAttribute("tabindex", "-1")
        button = doc.createElement("button")
        button.setAttribute("type", "button")
        button.className = "attach"
        button.setAttribute("aria-label", texts["attach"])
        button.setAttribute("title", texts["attach"])
        button.innerHTML = ATTACH_ICON  # a constant of ours, never visitor text
        button.addEventListener("click", lambda _event: picker.click())

        def picked(_event):
            files = picker.files
            if files is not None and files.length and self.on_attach is not None:
                self.on_attach(files.item(0))
            picker.value = ""  # the same file may be picked again
        picker.addEventListener("change", picked)
        form.appendChild(picker)
        form.appendChild(button)
        self.attach_button = button
        self.file_picker = picker

    def _cancel_upload(self):
        if self.on_cancel_upload is not None:
            self.on_cancel_upload()

    def _rated(self, rating, comment):
        if self.on_rate is not None:
            self.on_rate(rating, comment)

    def _transcript(self, email):
        if self.on_transcript is not None:
            self.on_transcript(email)

    def _composer(self, doc, texts):
        form = doc.createElement("form")
        form.className = "composer"
        self._attach_button(doc, texts, form)
        self.input = doc.createElement("textarea")
        self.input.setAttribute("rows", "1")
        self.input.setAttribute("aria-label", texts["placeholder"])
        self.input.setAttribute("placeholder", texts["placeholder"])
        self.input.setAttribute("maxlength", "5000")
        form.appendChild(self.input)
        send = doc.createElement("button")
        send.setAttribute("type", "submit")
        send.textContent = texts["send"]
        form.appendChild(send)

        def submitted(event):
            event.preventDefault()
            self._send()

        def key(event):
            # Enter sends; Shift+Enter is a new line; composing IME text is left alone.
            if event.key == "Enter" and not event.shiftKey and not event.isComposing:
                event.preventDefault()
                self._send()

        def typed(_event):
            if self.on_typing is not None:
                self.on_typing(self.input.value)
        form.addEventListener("submit", submitted)
        def pasted(event):
            # A pasted screenshot or file is sent as an attachment, like Intercom/Crisp.
            data = event.clipboardData
            files = data.files if data is not None else None
            if files is not None and files.length and self.on_attach is not None:
                event.preventDefault()
                self.on_attach(files.item(0))
        self.input.addEventListener("keydown", key)
        self.input.addEventListener("input", typed)
        self.input.addEventListener("paste", pasted)
        return form

    def _offline_form(self, doc, texts):
        # Shown when no operator is online and no chat has started: ask for an
        # email so the team can answer later (Chatwoot/Crisp do the same).
        self.offline = doc.createElement("div")
        self.offline.className = "offline"
        self.offline.hidden = True
        label = doc.createElement("label")
        label.textContent = texts["offline_title"]
        label.setAttribute("for", "parley-email")
        self.email = doc.createElement("input")
        self.email.setAttribute("id", "parley-email")
        self.email.setAttribute("type", "email")
        self.email.setAttribute("autocomplete", "email")
        self.email.setAttribute("placeholder", texts["email_placeholder"])
        self.email_error = doc.createElement("div")
        self.email_error.className = "error"
        self.email_error.setAttribute("role", "alert")
        self.offline.appendChild(label)
        self.offline.appendChild(self.email)
        self.offline.appendChild(self.email_error)
        return self.offline

    def ask_email(self, shown):
        self.offline.hidden = not shown

    def email_value(self):
        return "" if self.offline.hidden else self.email.value.strip()

    def email_problem(self, text):
        self.email_error.textContent = text or ""
        if text:
            self.email.focus()

    def _send(self):
        text = self.input.value.strip()
        if not text or self.on_send is None:
            return
        if self.on_send(text) is not False:
            self.input.value = ""

    def focus_input(self):
        self.input.focus()

    def draft(self):
        return self.input.value

    def set_draft(self, text):
        self.input.value = text

    def show_message(self, message, meta):
        """Adds or updates a message: dict with author ('visitor'|'operator'|'system'),
        text, clientId and/or id, and optionally `file` ({url, name, size, image}),
        `who` (a name above the bubble) and `time`. `meta` is the status under it:
        text, or (icon, words) for an icon that screen readers read as words."""
        doc = self.frame.document
        keys = []
        if message.get("clientId"):
            keys.append(message["clientId"])
        if isinstance(message.get("id"), int):
            keys.append("id:%d" % message["id"])
        item = None
        for key in keys:
            item = self._items.get(key)
            if item is not None:
                break
        if item is None:
            # Follow new messages only when the reader is at the bottom (or wrote it).
            follow = not self.visible or self.at_bottom() or message.get("author") == "visitor"
            item = self._new_item(doc, message)
            self.log.appendChild(item)
            if follow and self.visible:
                self.body.scrollTop = self.body.scrollHeight
            elif follow:
                self._kept_scroll = None
        for key in keys:
            self._items[key] = item
        self._set_meta(item.lastChild, message.get("time"), meta)

    def _new_item(self, doc, message):
        item = doc.createElement("div")
        item.className = "msg " + (message.get("author") or "operator")
        if message.get("who"):
            who = doc.createElement("div")
            who.className = "who"
            who.textContent = message["who"]
            item.appendChild(who)
        bubble = doc.createElement("div")
        bubble.className = "bubble"
        file = message.get("file")
        if isinstance(file, dict):
            bubble.appendChild(self._file_node(doc, file))
        text = message.get("text") or ""
        if text:
            holder = bubble
            if isinstance(file, dict):
                holder = doc.createElement("div")
                holder.className = "caption"
                bubble.appendChild(holder)
            self._fill_text(doc, holder, text)
        item.appendChild(bubble)
        line = doc.createElement("div")
        line.className = "meta"
        item.appendChild(line)
        return item

    def _fill_text(self, doc, holder, text):
        for kind, value in split_links(text):
            if kind == "link":
                link = doc.createElement("a")
                link.setAttribute("href", value)
                link.setAttribute("target", "_blank")
                link.setAttribute("rel", "noopener noreferrer")
                link.textContent = value
                holder.appendChild(link)
            else:
                holder.appendChild(doc.createTextNode(value))

    def _file_node(self, doc, file):
        link = doc.createElement("a")
        link.setAttribute("href", file.get("url") or "#")
        link.setAttribute("target", "_blank")
        link.setAttribute("rel", "noopener noreferrer")
        name = file.get("name") or "file"
        if file.get("image"):
            image = doc.createElement("img")
            image.setAttribute("src", file.get("url") or "")
            image.setAttribute("alt", name)
            image.setAttribute("loading", "lazy")
            if file.get("width") and file.get("height"):
                image.setAttribute("width", str(file["width"]))
                image.setAttribute("height", str(file["height"]))
            link.appendChild(image)
        else:
            link.className = "file-link"
            icon = doc.createElement("span")
            icon.setAttribute("aria-hidden", "true")
            icon.textContent = "\U0001F4C4"
            link.appendChild(icon)
            label = doc.createElement("span")
            size = file.get("sizeText")
            label.textContent = "%s (%s)" % (name, size) if size else name
            link.appendChild(label)
        return link

    def _set_meta(self, line, time, meta):
        """The line under a bubble: <span.time> and <span.status> (an icon that screen
        readers read as words, or the words themselves with textStatuses)."""
        doc = self.frame.document
        if line.childNodes.length == 0:
            clock = doc.createElement("span")
            clock.className = "time"
            status = doc.createElement("span")
            status.className = "status"
            line.appendChild(clock)
            line.appendChild(status)
        clock, status = line.firstChild, line.lastChild
        clock.textContent = time or ""
        if isinstance(meta, tuple):
            status.textContent = meta[0]
            status.setAttribute("aria-label", meta[1])
            status.setAttribute("title", meta[1])
        else:
            status.textContent = meta or ""
            status.removeAttribute("aria-label")
            status.removeAttribute("title")

    def at_bottom(self):
        body = self.body
        return body.scrollHeight - body.scrollTop - body.clientHeight < 24

    def scroll_state(self):
        if not self.visible:
            return self._kept_scroll
        return {"top": int(self.body.scrollTop), "bottom": self.at_bottom()}

    def restore_scroll(self, state):
        """Back to a saved position ({top, bottom}); None or bottom: the newest message."""
        if not self.visible:
            self._kept_scroll = state
            return
        if isinstance(state, dict) and not state.get("bottom") and isinstance(state.get("top"), int):
            self.body.scrollTop = state["top"]
        else:
            self.body.scrollTop = self.body.scrollHeight

    def drop_pending(self, key):
        """Takes away a message shown before (key: its clientId) that will never be stored."""
        item = self._items.pop(key, None)
        if item is not None and item.parentNode is not None:
            item.parentNode.removeChild(item)

    def set_meta(self, key, time, meta):
        """Updates the status line of a message shown before (key: clientId or 'id:<n>')."""
        item = self._items.get(key)
        if item is not None:
            self._set_meta(item.lastChild, time, meta)

    def set_queue(self, text):
        self.queue.textContent = text or ""
        self.queue.hidden = not text

    def set_connection(self, text):
        """The connection line: `text` shown, or None/'' to hide it."""
        self.connection.textContent = text or ""
        self.connection.hidden = not text

    def set_typing(self, text):
        self.typing.textContent = text or ""

    def _fit(self, container, position):
        self.container = container
        if container is None and self.full_screen:
            # Small mobile screens: the chat takes the whole screen; dvh keeps the
            # composer above the on-screen keyboard.
            self.frame.style({"position": "fixed", "left": "0", "top": "0", "right": "auto",
                              "bottom": "auto", "width": "100vw", "height": "100dvh",
                              "border-radius": "0", "z-index": "2147483001"})
        elif container is None:
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
        if self.container is None and not self.full_screen:
            self.frame.style(corner(position, LAUNCHER_SIZE + GAP))

    def show(self, visible):
        if not visible and self.visible:
            self._kept_scroll = self.scroll_state()  # a hidden element has no scroll position
        self.frame.show(visible)
        if visible and not self.visible:
            self.visible = True
            self.restore_scroll(self._kept_scroll)
        self.visible = visible

    def set_status(self, texts):
        self.status.textContent = texts["status"]
        self.welcome.textContent = texts["welcome"]

    def set_operators(self, operators):
        """Initials of up to three operators in the header, each with its name as a label."""
        doc = self.frame.document
        self.avatars.textContent = ""
        for operator in operators[:3]:
            name = operator.get("name") or "?"
            avatar = doc.createElement("span")
            avatar.setAttribute("role", "img")
            avatar.setAttribute("aria-label", name)
            avatar.setAttribute("title", name)
            avatar.textContent = initials(name)
            self.avatars.appendChild(avatar)

    def set_close_button(self, shown):
        self.close_button.style.display = "" if shown else "none"
