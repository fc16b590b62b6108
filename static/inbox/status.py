"""The operator's status in the top bar: online (takes chats), away (connected, takes
no new chats) or offline (looks offline while connected). PUT /api/operator/presence;
the widget's online state follows on the server's side."""

from dom import api, el, on_guarded, spawn_guarded
from strings import t

STATUSES = ("online", "away", "offline")


class Status:
    def __init__(self, app):
        self.app = app
        self.select = el("status-select")
        on_guarded(self.select, "change", self.changed)

    def entered(self, me):
        status = me.get("status") if me.get("status") in STATUSES else "online"
        self.select.value = status
        self.select.setAttribute("data-status", status)

    def changed(self, _event):
        spawn_guarded(self.save(str(self.select.value)))

    async def save(self, status):
        code, body = await api("PUT", "/api/operator/presence", {"status": status})
        if code == 200:
            self.select.setAttribute("data-status", status)
            el("status-error").textContent = ""
            return
        # Put the old choice back and say why.
        self.select.value = self.select.getAttribute("data-status") or "online"
        message = (body or {}).get("message") if isinstance(body, dict) else None
        el("status-error").textContent = t("status.failed") + (": " + message if message else "")


def install(app, hooks):
    status = Status(app)
    hooks.entered.append(status.entered)
    app.status = status
    return status
