"""The widget's one WebSocket to the Parley server, with reconnects.

Frames are JSON objects with a protocol version `v` and a `type`; see
docs/protocol.md. This module only moves frames; `main.Widget` decides.
"""

import json

import js

from widget.browser import console
from widget.browser.hostjs import later

PROTOCOL_VERSION = 1
# Reconnect backoff: quick first retries, then at most every 30 s.
BACKOFF_MS = (500, 1000, 2000, 5000, 10000, 30000)
# Close codes with which the server says "don't retry": the request itself is wrong.
FINAL_CLOSE_CODES = (4400, 4403, 4404)


class VisitorSocket:
    def __init__(self, url, on_open, on_frame, on_down):
        self.url = url
        self._on_open = on_open
        self._on_frame = on_frame
        self._on_down = on_down
        self._socket = None
        self._failures = 0
        self._stopped = False
        self.connected = False

    def connect(self):
        if self._stopped:
            return
        try:
            socket = js.WebSocket.new(self.url)
        except Exception as error:
            console.error_once("socket-url", "cannot open a WebSocket to %s: %s" % (self.url, error))
            return
        socket.onopen = self._opened
        socket.onmessage = self._message
        socket.onclose = self._closed
        self._socket = socket

    def send(self, frame):
        """Sends a frame; returns False when there is no open connection."""
        if not self.connected:
            return False
        frame["v"] = PROTOCOL_VERSION
        self._socket.send(json.dumps(frame))
        return True

    def stop(self):
        self._stopped = True
        if self._socket is not None:
            self._socket.close(1000)

    def _opened(self, _event):
        self.connected = True
        self._failures = 0
        self._on_open()

    def _message(self, event):
        try:
            frame = json.loads(event.data)
        except Exception:
            console.error_once("bad-frame", "the server sent a frame that is not JSON; ignored")
            return
        if isinstance(frame, dict):
            self._on_frame(frame)

    def _closed(self, event):
        was_connected = self.connected
        self.connected = False
        self._socket = None
        code = event.code
        if self._stopped or code in FINAL_CLOSE_CODES:
            return
        if not was_connected:
            self._failures += 1
        if self._failures == 1 and not was_connected:
            console.error_once(
                "server-down",
                "cannot reach the Parley server at %s; retrying in the background" % self.url,
            )
        self._on_down()
        delay = BACKOFF_MS[min(self._failures, len(BACKOFF_MS) - 1)]
        later(self.connect, delay)
