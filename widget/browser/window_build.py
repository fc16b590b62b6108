"""The chat window's build: its code comes in the second bundle (build.later_modules,
boot.mjs loadLater), then the window is drawn a slice per idle callback after the
launcher, or at once when the visitor opens the chat first, and connected to the
conversation (widget.browser.window_setup, the second bundle's entry).

A mixin of widget.browser.main.Widget (its state is made in Widget.__init__). It imports
window_setup inside a function only: that module and the window's own stay out of the
start-up bundle.
"""

import js
import parley_js

from widget.browser import console, ui
from widget.browser.hostjs import idle

# A slice of the idle-time build runs build steps until this much time has passed (each
# step takes a few ms), so no slice reaches 10 ms (issue 16).
WINDOW_SLICE_MS = 4


class WindowBuild:
    """The window built when first needed, or in idle time."""

    def _prepare_window(self):
        """Builds the chat window in idle time after the launcher, a slice per idle
        callback, unless the visitor opens it first (_ensure_window finishes it then)."""
        if self.window is not None or self.window_steps is not None or self.launcher is None:
            return
        if not self.window_code:
            # Its code downloads in idle time too; the build starts when it is here.
            idle(lambda _deadline=None: self._with_window_code(self._prepare_window))
            return
        self.window_steps = self._window_steps()
        idle(self._window_slice)

    def _with_window_code(self, then):
        """Runs `then()` when the chat window's code (build.later_modules) is in the
        runtime's files: now if it is, else once its bundle has downloaded."""
        if self.window_code:
            then()
            return
        self.window_code_waiting.append(then)
        if len(self.window_code_waiting) == 1:
            parley_js.loadLater(self._window_code_arrived)

    def _window_code_arrived(self, problem):
        waiting, self.window_code_waiting = self.window_code_waiting, []
        if problem is not None:  # the next open or idle build asks again
            console.error("the chat window could not load: %s" % problem)
            return
        self.window_code = True
        for then in waiting:
            try:
                then()
            except Exception as error:
                console.error("the chat window: %s" % error)

    def _window_slice(self, _deadline=None):
        steps = self.window_steps
        if steps is None:
            return  # built already (the visitor opened the chat) or the session stopped
        began = js.performance.now()
        try:
            while js.performance.now() - began < WINDOW_SLICE_MS:
                next(steps)
        except StopIteration:
            self.window_steps = None
            return
        except Exception as error:  # opening the chat builds it anew
            self._cancel_window_build()
            console.error("could not build the chat window: %s" % error)
            return
        idle(self._window_slice)

    def _ensure_window(self):
        """The chat window, finished now if idle time hasn't built it yet; None while its
        code is still downloading (the state is drawn again when it arrives)."""
        if self.window is None and self.launcher is not None and not self.window_code:
            self._with_window_code(self._draw_state)
            return None
        if self.window is None and self.launcher is not None:
            steps, self.window_steps = self.window_steps, None
            for _ in steps or self._window_steps():
                pass
        return self.window

    def _cancel_window_build(self):
        self.window_steps = None
        if self.window_draft is not None:
            ui.remove(self.window_draft)
            self.window_draft = None

    def _make_window(self):
        for _ in self._window_steps():
            pass
        return self.window

    def _window_steps(self):
        """Builds the window a piece per step and then connects it (sets self.window)."""
        from widget.browser import window_setup  # the second bundle's code: loaded only when needed

        yield
        yield from window_setup.build_steps(self)
