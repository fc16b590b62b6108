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
# Close codes with which the server says "don't retry": the request itself is wrong
# (bad hello, wrong session.user token, origin not allowed, unknown app).
FINAL_CLOSE_CODES = (4400, 4401, 4403, 4404)
# Too many new visitors or open sockets from this address (or the app): retry only slowly.
CLOSE_TOO_MANY = 4429


class VisitorSocket:
    def __init__(self, url, on_open, on_frame, on_down, on_refused=None):
        """`on_down()`: the connection closed and a retry is scheduled; `on_refused(code)`:
        the server closed with a final code, so there is no retry (the socket is stopped)."""
        self.url = url
        self._on_open = on_open
        self._on_frame = on_frame
        self._on_down = on_down
        self._on_refused = on_refused
        self._socket = None
        self._failures = 0
        self._stopped = False
        self.connected = False
        self.close_code = None  # the last close's code (chaport.client's `disconnected`)

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
        if self._stopped:
            return  # a frame still in flight for a session that was stopped
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
        self.close_code = code
        if self._stopped:
            return
        if code in FINAL_CLOSE_CODES:
            # Retrying would be refused the same way, forever (the server said why in an
            # error frame first).
            self._stopped = True
            if self._on_refused is not None:
                self._on_refused(code)
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
        if code == CLOSE_TOO_MANY:
            # The socket opened, so the failures were reset; a quick retry would only be
            # refused again, and would keep the address over its limit.
            delay = BACKOFF_MS[-1]
        later(self.connect, delay)
