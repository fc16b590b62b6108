"""What every admin screen shares: the shell (main.Admin) that gives it messages, requests,
the confirmation dialog and copying, and keeping the focus across a redraw."""

from dom import el
from pyscript import document


def focused_id():
    active = document.activeElement
    return str(active.id) if active and active.id else ""


def refocus(element_id, fallback=None):
    """Focus goes back to the element with this id after a redraw (or to `fallback`)."""
    node = el(element_id) if element_id else None
    if not node and fallback:
        node = el(fallback)
    if node:
        node.focus()


class Screen:
    """One admin screen: its state, its drawing and its handlers (`bind`)."""

    def __init__(self, admin):
        self.admin = admin

    def bind(self):
        pass

    def say(self, msg_id, text, error=False):
        self.admin.say(msg_id, text, error)

    def fail(self, msg_id, text, input_id=None):
        self.admin.fail(msg_id, text, input_id)

    def unmark(self):
        self.admin.unmark()

    async def call(self, method, path, body, msg_id, fields=None, button=None):
        return await self.admin.call(method, path, body, msg_id, fields, button)

    async def ask(self, text, yes):
        return await self.admin.ask(text, yes)

    async def copy(self, source_id, msg_id):
        await self.admin.copy(source_id, msg_id)
