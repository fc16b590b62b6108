"""Who is at the other end of a request or a socket: its address, and the origin of the
page it runs in (this server's own pages, or a site an app allows).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from parley import protocol
from parley.web.json_api import ApiError


def client_ip(connection: HTTPConnection) -> str:
    """The peer's address: uvicorn puts a trusted proxy's X-Forwarded-For there (its
    --proxy-headers, --forwarded-allow-ips); a header is never read here, or anyone
    could name any address."""
    return connection.client.host if connection.client else "?"


def own_origin(connection: HTTPConnection) -> str:
    """This server's origin as the browser sees it (scheme://host[:port])."""
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    return f"{scheme}://{connection.url.netloc}"


def from_own_pages(connection: HTTPConnection, *, absent_ok: bool = False) -> bool:
    """Whether `Origin` is this server's own (or, with `absent_ok`, missing)."""
    origin = connection.headers.get("origin")
    if origin is None and absent_ok:
        return True
    return origin == own_origin(connection)


def check_origin(connection: HTTPConnection, refusal: str, *, absent_ok: bool = False) -> None:
    """Raises 403 `PARLEY_E_ORIGIN` (with `refusal` as the message) unless `from_own_pages`."""
    if not from_own_pages(connection, absent_ok=absent_ok):
        raise ApiError(403, protocol.E_ORIGIN, refusal)


def origin_allowed(allowed: list[str], origin: str | None) -> bool:
    """Exact match of scheme://host[:port]; an empty list allows every origin."""
    if not allowed:
        return True
    return origin is not None and origin.rstrip("/") in {o.rstrip("/") for o in allowed}


def page_may_use(connection: HTTPConnection, app_origins: list[str]) -> bool:
    """Whether the page asking may use an app: a site the app allows, or Parley's own chat
    page (openIn '_blank'), which serves every app."""
    origin = connection.headers.get("origin")
    return origin_allowed(app_origins, origin) or origin == own_origin(connection)
