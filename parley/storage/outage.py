"""Is this error "the database can't be reached right now"? (issue 12)

A PostgreSQL restart, a failover or a cut network shows up as a refused connect
(a bare OSError from the driver), a pooled connection found closed (SQLAlchemy's
InterfaceError, with the pool invalidated), a server-side "shutting down" or
"starting up" (SQLSTATE class 57P / 08), or every pooled connection busy for the
pool's timeout. Callers answer these with PARLEY_E_UNAVAILABLE (sockets: an error
frame, then close 1013 so clients reconnect; HTTP: 503 with Retry-After) instead
of a traceback, and the next request finds the database again: nothing in the
server needs a restart.
"""

from __future__ import annotations

import socket

from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Seconds a client is told to wait before trying again.
RETRY_AFTER = 2
# connection_exception (08…), admin/crash shutdown and cannot-connect-now (57P…).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P")
_NETWORK_ERRORS = (ConnectionError, socket.gaierror)


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, InterfaceError):
            return True
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or ""
        return code.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES) or isinstance(error.orig, (*_NETWORK_ERRORS,
                                                                                          TimeoutError))
    return isinstance(error, _NETWORK_ERRORS)
