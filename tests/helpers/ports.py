"""Free ports for the servers the tests start."""

from __future__ import annotations

import socket
import threading

HOST = "127.0.0.1"
_handed_out: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A port nothing listens on now, never handed out before in this process (so two servers
    of one test run never get the same one). Another process can still take it before the
    caller binds it: the launchers (helpers.server.Server) start again on another port then."""
    with _lock:
        while True:
            with socket.socket() as probe:
                probe.bind((HOST, 0))
                port = probe.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port


def lost_the_port(log_text: str) -> bool:
    """Whether a server's log says another process had its port."""
    text = log_text.lower()
    return "address already in use" in text or "errno 98" in text
