"""Plugs the inbox's visitor features into main.App without changing how it works:
live visitors and proactive chats (visitors), the visitor details pane (details),
search (search), the operator's profile (operator_profile), notifications (notify) and
the operator's status: online / away / offline (status).

Each feature registers hooks that run after the App's own method: `frames` after
every feed frame is handled, `entered`/`leaving` after login and logout, `opened`
after a chat is opened, `rendered` after the conversation is drawn. A failing hook
is reported in the console and does not stop the others.
"""

import details
import notify
import operator_profile
import search
import status
import visitors
from dom import guarded


class Hooks:
    def __init__(self, app):
        self.frames = []
        self.entered = []
        self.leaving = []
        self.opened = []
        self.rendered = []
        self._after(app, "handle", self.frames)
        self._after(app, "enter", self.entered)
        self._after(app, "leave", self.leaving)
        self._after(app, "open_chat", self.opened)
        self._after(app, "render_conversation", self.rendered)

    def _after(self, app, name, hooks):
        original = getattr(app, name)

        def run(*args, **kwargs):
            result = original(*args, **kwargs)
            for hook in hooks:
                guarded(hook)(*args, **kwargs)
            return result

        setattr(app, name, run)


def install(app):
    hooks = Hooks(app)
    for feature in (notify, visitors, details, search, operator_profile, status):
        guarded(feature.install)(app, hooks)  # one broken feature leaves the others working
    return hooks
