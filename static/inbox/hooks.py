"""The points where the inbox's features (extras) join main.App, named and called by App.

App calls `run` at the end of the methods features follow: `frames` after every feed
frame is handled, `entered`/`leaving` after login and logout, `opened` after a chat is
opened, `rendered` after the conversation is drawn. A failing hook is reported in the
console and does not stop the others, nor the App.
"""

from dom import guarded

POINTS = ("frames", "entered", "leaving", "opened", "rendered")


class Hooks:
    def __init__(self):
        self.frames = []
        self.entered = []
        self.leaving = []
        self.opened = []
        self.rendered = []

    def run(self, point, *args):
        for hook in getattr(self, point):
            guarded(hook)(*args)
