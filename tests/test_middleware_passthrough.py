"""The HTTP-only middlewares (security headers, body limit, NUL paths) hand a WebSocket to
the app as it is: they return the app's own awaitable instead of awaiting it in a frame of
their own, which stayed alive for each socket's whole life (memory per idle socket is an
issue 12 target: ~0.4 KB a layer at 10,000 sockets)."""

from __future__ import annotations

import pytest

from parley.web.body_limit import BodyLimit
from parley.web.nul_paths import NoNulInPaths
from parley.web.security_headers import SecurityHeaders


@pytest.mark.parametrize("middleware", [SecurityHeaders, BodyLimit, NoNulInPaths])
def test_a_websocket_goes_to_the_app_without_a_frame_of_the_middleware(middleware) -> None:
    handed = object()

    def app(scope, receive, send):
        return handed

    scope = {"type": "websocket", "path": "/ws/visitor", "headers": []}
    assert middleware(app)(scope, None, None) is handed
