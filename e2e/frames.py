"""A websocket whose JSON frames are read on a thread, for the scripted e2e peers (the
operator in e2e/operator.py, the raw visitor in e2e/inbox_helpers.py): a test waits for
the frame it expects, and sees everything that came before it."""

from __future__ import annotations

import json
import queue
import threading
import time


def nth_frame(n: int, match):
    """A matcher for wait_for that accepts the `n`th frame (from 1) that `match` accepts."""
    count = 0

    def nth(frame) -> bool:
        nonlocal count
        count += match(frame)
        return count == n
    return nth


class FrameSocket:
    who = "socket"  # what wait_for's failure calls the frames ("operator", "visitor")

    def __init__(self, socket) -> None:
        self.socket = socket
        self.frames: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.socket:
                self.frames.put(json.loads(raw))
        except Exception:  # closed at the end of the test
            return

    def wait_for(self, match, timeout: float = 15) -> dict:
        """The first frame (seen before or arriving within `timeout`) that `match` accepts."""
        for frame in self.seen:
            if match(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(frame)
            if match(frame):
                return frame
        raise AssertionError(f"no matching {self.who} frame within {timeout}s; saw {self.seen}")

    def drain(self) -> None:
        while True:
            try:
                self.seen.append(self.frames.get_nowait())
            except queue.Empty:
                return

    def close(self) -> None:
        self.socket.close()
