"""New chats and new visitor messages ring: a short sound, plus a desktop notification
once the operator enabled them (the browser is asked only after a click on "Enable
notifications", never on load).

Every tab sees every message, but only one rings (notify.js claims each message id
under a Web Lock across the operator's tabs), and none rings for the chat open in
a visible tab: that tab claims the message quietly at once, the others wait
RING_DELAY_S before trying. The choice (on/off) is kept in localStorage, so every
tab of this browser follows it.
"""

import asyncio

from dom import el, on_guarded, spawn_guarded, visible
from people import Notifier, notification_text, visitor_name
from pyscript import document, window
from strings import t

CHOICE_KEY = "parley.inbox.notify"  # "on" | "off"; unset = sound only
CLAIM_KEY = "parley.inbox.notified."  # + operator id: the newest message id claimed
RING_DELAY_S = 0.4


def helper():
    return getattr(window, "parleyNotify", None)


class Notify:
    def __init__(self, app):
        self.app = app
        self.notifier = Notifier()
        on_guarded(el("notify-toggle"), "click", self.on_click)
        # (The page's window as a DOM node: pyscript's `window` proxy can't be `this` here.)
        page = document.defaultView
        on_guarded(page, "parley-open-chat", self.on_notification_click)
        on_guarded(page, "storage", lambda event: self.render())  # chosen in another tab

    # -- the choice --------------------------------------------------------------------
    def choice(self):
        try:
            return window.localStorage.getItem(CHOICE_KEY)
        except Exception:  # storage blocked
            return None

    def choose(self, value):
        try:
            window.localStorage.setItem(CHOICE_KEY, value)
        except Exception:  # storage blocked: nothing is remembered
            value = None
        self.render()

    def permission(self):
        notify = helper()
        return str(notify.permission()) if notify is not None else "unsupported"

    def render(self):
        """A bell button: its name says the state ("Enable notifications", "Notifications on"…)."""
        button = el("notify-toggle")
        permission = self.permission()
        choice = self.choice()
        button.disabled = False
        if permission == "granted" and choice == "on":
            label, hint, pressed, state = "notify.on", "notify.on.hint", "true", "on"
        elif permission == "granted" and choice == "off":
            label, hint, pressed, state = "notify.off", "notify.off.hint", "false", "off"
        elif permission == "denied":
            label, hint, pressed, state = "notify.blocked", "notify.blocked.hint", None, "off"
            button.disabled = True
        else:
            label, hint, pressed, state = "notify.enable", "notify.enable.hint", None, "ask"
        button.hidden = permission == "unsupported"
        button.setAttribute("aria-label", t(label))
        button.setAttribute("title", t(label) + ". " + t(hint))
        button.setAttribute("data-state", state)
        if pressed is None:
            button.removeAttribute("aria-pressed")
        else:
            button.setAttribute("aria-pressed", pressed)

    def entered(self, me):
        self.notifier = Notifier()
        self.render()

    def on_click(self, event):
        notify = helper()
        if notify is None:
            return
        permission = self.permission()
        if permission == "granted":
            self.choose("off" if self.choice() == "on" else "on")
            return
        if permission == "default":
            # Asked inside the click (user activation); the answer comes later.
            spawn_guarded(self.asked(notify.requestPermission()))

    async def asked(self, promise):
        answer = str(await promise)
        if answer == "granted":
            self.choose("on")
        else:
            self.render()

    # -- messages ----------------------------------------------------------------------
    def frame(self, frame):
        kind = frame.get("type")
        if kind == "chat.started":
            self.notifier.chat_started(frame.get("chat") or {})
            return
        if kind != "message" or self.app.me is None:
            return
        notify = helper()
        if notify is None:
            return
        plan = self.notifier.plan(frame, self.app.state.current, visible())
        if plan is None:
            return
        key = CLAIM_KEY + str(self.app.me.get("id"))
        if plan["quiet"]:
            notify.quiet(key, plan["id"])
            return
        spawn_guarded(self.ring_later(notify, key, plan, frame["message"]))

    async def ring_later(self, notify, key, plan, message):
        await asyncio.sleep(RING_DELAY_S)
        choice = self.choice()
        if choice == "off" or self.app.me is None:
            return
        # Opened in a visible tab meanwhile (this one): nothing to announce.
        if visible() and self.app.state.current == plan["chatId"]:
            notify.quiet(key, plan["id"])
            return
        chat = self.app.state.chats.get(plan["chatId"]) or {}
        visitor = chat.get("visitor") or {"id": chat.get("visitorId")}
        title, body = notification_text(plan, message, visitor_name(visitor, t), t)
        desktop = choice == "on" and self.permission() == "granted"
        notify.ring(key, plan["id"], title, body, plan["chatId"], True, desktop)

    def on_notification_click(self, event):
        chat_id = str(event.detail)
        if chat_id in self.app.state.chats:
            self.app.open_chat(chat_id)


def install(app, hooks):
    notify = Notify(app)
    hooks.entered.append(notify.entered)
    hooks.frames.append(notify.frame)
    app.notify = notify
    return notify
