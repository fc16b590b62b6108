"""Which operator is asking: the session cookie, and the one guard every operator
endpoint goes through (`current_operator`).

The cookie rides along on requests from any site, so a request that changes something
must also come from this server's own pages: browsers always send `Origin` on those, and
it must equal this server's origin (the CSRF defence). Only logging in and out accept
a request with no `Origin` at all (`absent_ok`): scripts and parley.client do that, and
neither can change anything without first holding a session.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from parley import protocol
from parley.settings import public_url_is_https
from parley.storage import operator_queries
from parley.storage.models import Operator
from parley.web.json_api import ApiError
from parley.web.peers import check_origin

# The operator's login, Parley's only cookie: HttpOnly (no script reads it), SameSite=Lax
# (not sent on cross-site POSTs; the Origin checks are the CSRF defence), Path=/, for
# operator_queries.SESSION_DAYS, and Secure over HTTPS (secure_cookies). Only a hash is stored.
SESSION_COOKIE = "parley_session"
# Over https the cookie is `__Host-parley_session`: the prefix makes browsers refuse it
# unless it is Secure, host-only (no Domain) and Path=/, so a sibling subdomain or a
# plain-http page can't plant or shadow it. Over plain http (development) the prefix
# can't be used, so the plain name is read too.
SECURE_SESSION_COOKIE = "__Host-" + SESSION_COOKIE


def session_token(connection: HTTPConnection) -> str | None:
    """The operator login's token from the request's cookie, whichever name it has."""
    cookies = connection.cookies
    return cookies.get(SECURE_SESSION_COOKIE) or cookies.get(SESSION_COOKIE)


def session_cookie_name(connection: HTTPConnection) -> str:
    return SECURE_SESSION_COOKIE if secure_cookies(connection) else SESSION_COOKIE


def secure_cookies(connection: HTTPConnection) -> bool:
    """Cookies get `Secure` when this request came over HTTPS (directly, or as a trusted proxy's
    X-Forwarded-Proto says) or when the public URL is https (TLS ends at a proxy)."""
    return connection.url.scheme in ("https", "wss") or public_url_is_https()


async def logged_in_operator(connection: HTTPConnection) -> Operator | None:
    """The operator whose session the cookie holds, or None (no guard: pages decide themselves)."""
    async with connection.app.state.db.session() as session:
        operator = await operator_queries.operator_for_session(session, session_token(connection))
        await session.commit()  # the login's renewal, if it was due
        return operator


async def current_operator(request: Request, *, admin: bool = False, change: str | None = None) -> Operator:
    """The logged-in operator, or an `ApiError`. Checked in this order:

    1. a change (`change` is the refusal for a request from another origin; None for a
       read) needs `Origin` equal to this server's, else 403 `PARLEY_E_ORIGIN`: checked
       first, so a forged cross-site request costs no database work and learns nothing
       about the session;
    2. a valid session cookie, else 401 `PARLEY_E_AUTH`;
    3. with `admin`, the admin role, else 403 `PARLEY_E_FORBIDDEN`.
    """
    if change is not None:
        check_origin(request, change)
    operator = await logged_in_operator(request)
    if operator is None:
        raise ApiError(401, protocol.E_AUTH, "log in first")
    if admin and operator.role != "admin":
        raise ApiError(403, protocol.E_FORBIDDEN, "only an admin of this app can do this")
    return operator
