"""What the visitor and operator clients share about their connection's ups and downs.

Both keep an outbox of unacknowledged messages on one `Connection`; both tell their
listeners `connected` / `disconnected` once per outage (not once per reconnect
attempt), `connection_unstable` and `connection_recovered`, with the Customer SDK's
meaning. Each says what its `connected` event carries.
"""

from __future__ import annotations

import asyncio

from parley.client.emitter import Emitter
from parley.client.errors import CONNECTION_LOST, ClientError
from parley.client.outbox import Outbox


class LinkEvents(Emitter):
    _outbox: Outbox

    def __init__(self) -> None:
        super().__init__()
        self._was_up = False
        self._flush: asyncio.Task | None = None

    def _came_up(self) -> None:
        self._was_up = True
        # Unacknowledged messages go again, in order, before anything new.
        self._outbox.lost()
        self._flush = asyncio.ensure_future(self._outbox.flush())

    def down(self, reason: str, code: int | None, error: ClientError | None, retrying: bool) -> None:
        self._outbox.lost()
        if not retrying:
            self._outbox.abandon(ClientError(CONNECTION_LOST, f"the client stopped ({reason}); the "
                                             "message stays queued for the next connect"))
        # Once per outage: the attempts of one reconnect loop are not new disconnections.
        if not self._was_up and retrying:
            return
        self._was_up = False
        self.emit("disconnected", {"reason": reason, "code": code, "error": error,
                                   "will_reconnect": retrying})

    def unstable(self) -> None:
        self.emit("connection_unstable")

    def recovered(self) -> None:
        self.emit("connection_recovered")
