"""Draws the chat window for a widget (widget.browser.main.Widget) and connects it to the
conversation: the window's texts, colour and place, its callbacks, the draft, the messages
so far.

The second bundle's entry (build.LATER_ENTRY): this module and what it imports come after
`ready` (widget.browser.window_build asks for them), never in the start-up bundle.
"""

from widget.browser import console
from widget.browser.timing import mark
from widget.browser.window import ChatWindow


def build_steps(widget):
    """Builds the window a piece per step, then connects it (sets widget.window)."""
    window = ChatWindow(
        widget.host, widget._texts(), widget._color(), widget.config["appearance"]["position"],
        widget._close_by_visitor, widget.translator.direction, widget._close_button_shown(),
        _container(widget.host, widget.config["openIn"]), widget._full_screen(), staged=True,
    )
    widget.window_draft = window
    while not window.build_step():
        yield
    widget.window_draft = None
    _connect(widget, window)


def _connect(widget, window):
    # What may have changed while the window was being built in idle time.
    window.set_status(widget._texts())
    window.set_close_button(widget._close_button_shown())
    window.place(widget.config["appearance"]["position"])
    window.on_send = widget.send_message
    window.on_typing = widget._visitor_typing
    window.on_scroll = widget._scrolled
    window.set_draft(widget.restored_ui.get("draft") or "")
    if widget.reconnecting_shown:
        window.set_connection(widget.translator.t("reconnecting"))
    widget.window = window
    widget._offer_offline_form()
    window.set_operators(widget._shown_operators())
    view = widget.view
    view.connect(window)
    for message in widget.timeline.messages():
        view.show(message)
    for frame in widget.outbox.pending():
        view.show_pending(frame)
    if widget.history_loaded and not widget.scroll_restored:
        window.restore_scroll(widget.restored_ui.get("scroll"))
        widget.scroll_restored = True
    mark("window")


def _container(host, open_in):
    """The host element `openIn: {selector}` names, or None for the floating window."""
    if not isinstance(open_in, dict):
        return None
    selector = open_in["selector"]
    try:
        element = host.document.querySelector(selector)
    except Exception:
        element = None
    if element is None:
        console.error("openIn: no element matches '%s'; the chat opens as a popup" % selector)
    return element
