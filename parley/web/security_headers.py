"""Security headers on every HTTP response (issue 13), as a pure ASGI middleware.

- Everything: `X-Content-Type-Options: nosniff` (JSON is never sniffed into HTML) and
  `Referrer-Policy: no-referrer` (inbox URLs and chat ids stay out of other sites' logs),
  unless the endpoint chose its own.
- Over HTTPS only: `Strict-Transport-Security`. HTTPS is the request's scheme (with
  `parley serve --proxy-headers`, a trusted proxy's X-Forwarded-Proto) or an https
  PARLEY_PUBLIC_URL; over plain HTTP the header would pin a site that has no TLS.
- Parley's own HTML pages (/inbox, /inbox/admin with its login, /): a strict CSP and
  `X-Frame-Options: DENY`, so nobody frames the inbox (clickjacking) and only scripts
  from this origin run (no inline ones, no other hosts). The pages are PyScript +
  MicroPython: WebAssembly needs 'wasm-unsafe-eval', and PyScript's core builds its
  hook functions with `Function(...)` (Chromium stops it with an EvalError otherwise),
  so these pages need 'unsafe-eval' too; PyScript may start helpers as blob: workers;
  styles are set inline by the Python UI. Pages that set their own CSP keep it
  (/chat/<appId>, the widget without PyScript: no 'unsafe-eval' there).
- /widget/ (loader.js and the runtime that host pages load) gets no framing rules: it is
  embedded in other sites by design, and its iframes are about:blank ones on the host page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.settings import public_url_is_https

HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hosts of the domain are not ours to pin
EMBEDDED_PREFIXES = ("/widget/",)
# A Host header we are willing to repeat in the policy (anything else: 'self' alone).
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def page_policy(host: str | None) -> str:
    """The CSP of Parley's own pages; `host` lets the inbox's WebSocket (ws/wss to this
    host) through in browsers whose 'self' does not cover ws: yet."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return ("default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:; connect-src 'self'{sockets}; worker-src 'self' blob:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def over_https(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss") or public_url_is_https()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not `async def`: a WebSocket passes straight through, so no frame of this layer
        # stays alive for the socket's whole life (~0.4 KB each of 10,000 idle sockets).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_headers(scope: Scope, headers: MutableHeaders) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if over_https(scope):
        headers.setdefault("Strict-Transport-Security", HSTS)
    own_page = (headers.get("content-type", "").startswith("text/html")
                and not scope["path"].startswith(EMBEDDED_PREFIXES))
    if own_page:
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), None)
        headers.setdefault("Content-Security-Policy", page_policy(host))
        headers.setdefault("X-Frame-Options", "DENY")
