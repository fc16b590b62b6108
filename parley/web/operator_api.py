"""Operator login and logout over plain HTTP (JSON in, JSON out, session cookie)."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from parley import identity, protocol
from parley.passwords import Busy, Passwords
from parley.settings import public_url_is_https
from parley.storage import operator_queries
from parley.storage.models import Operator
from parley.web import hello_cache

# The operator's login, Parley's only cookie: HttpOnly (no script reads it), SameSite=Lax
# (not sent on cross-site POSTs; the Origin checks are the CSRF defence), Path=/, for
# operator_queries.SESSION_DAYS, and Secure over HTTPS (secure_cookies). Only a hash is stored.
SESSION_COOKIE = "parley_session"
# Spent on unknown emails so a login takes as long whether or not the email exists.
_DUMMY_HASH = identity.hash_password("parley-dummy-password")


def own_origin(connection: HTTPConnection) -> str:
    """This server's origin as the browser sees it (scheme://host[:port])."""
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    return f"{scheme}://{connection.url.netloc}"


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


def _error(status: int, code: str, message: str, **headers) -> JSONResponse:
    return JSONResponse(protocol.error(code, message), status_code=status, headers=headers or None)


def busy_error(busy: Busy) -> JSONResponse:
    """The answer when too many password checks are under way (parley.passwords)."""
    body = protocol.error(protocol.E_RATE_LIMIT, "the server is busy checking passwords; retry in a second",
                          retryAfter=busy.retry_after)
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(busy.retry_after)})


def _foreign_origin(request: Request) -> bool:
    # Browsers send Origin on cross-site POSTs: refuse those (CSRF); tools may omit it.
    origin = request.headers.get("origin")
    return origin is not None and origin != own_origin(request)


async def login(request: Request) -> JSONResponse:
    if _foreign_origin(request):
        return _error(403, protocol.E_ORIGIN, "log in from this server's own pages")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, protocol.E_BAD_FRAME, "send JSON: {appId?, email, password}")
    try:
        body = protocol.strict_json(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(
            isinstance(body.get(key), str) and 0 < len(body[key]) <= 500 for key in ("email", "password")):
        return _error(400, protocol.E_BAD_FRAME, "send JSON: {appId?, email, password}")
    app_id = body.get("appId")
    if app_id in (None, ""):
        app_id = None  # the app is the one this email and password belong to
    elif not isinstance(app_id, str) or len(app_id) > 500:
        return _error(400, protocol.E_BAD_FRAME, "appId must be a string")
    email = body["email"].strip().lower()
    ip = request.client.host if request.client else "?"
    limits = request.app.state.limits
    key = (ip, app_id or "", email)
    if not limits.failed_logins.allowed(key) or not limits.failed_logins_per_ip.allowed(ip):
        wait = max(limits.failed_logins.retry_after(key), limits.failed_logins_per_ip.retry_after(ip))
        return _error(429, protocol.E_RATE_LIMIT, "too many failed logins; wait a minute",
                      **{"Retry-After": str(int(wait) + 1)})
    try:
        async with request.app.state.passwords.admitted():
            matching = await _matching_operators(request, app_id, email, body["password"])
    except Busy as busy:
        return busy_error(busy)
    if len(matching) > 1:
        # Right password, but for several apps: the client must say which (not a failure).
        body = protocol.error(protocol.E_AUTH, "this email is in several apps: give the app id",
                              needAppId=True)
        return JSONResponse(body, status_code=401)
    if not matching:
        limits.failed_logins.hit(key)
        limits.failed_logins_per_ip.hit(ip)
        return _error(401, protocol.E_AUTH, "wrong app, email or password")
    operator = matching[0]
    limits.failed_logins.reset(key)
    async with request.app.state.db.session() as session:
        token = await operator_queries.create_operator_session(session, operator)
    # Welcomes carry the app's operators (names for "Ann joined the chat"), cached per app.
    # An operator made by `parley operator create` (another process) announces nothing; the
    # login that precedes any chat of theirs drops the cache in every process.
    await hello_cache.app_changed(request.app.state, operator.app_id)
    response = JSONResponse({"operatorId": operator.id, "appId": operator.app_id,
                             "email": operator.email, "name": operator.name, "role": operator.role})
    response.set_cookie(session_cookie_name(request), token, max_age=operator_queries.SESSION_DAYS * 86400,
                        path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
    return response


async def _matching_operators(request: Request, app_id: str | None, email: str,
                              password: str) -> list[Operator]:
    """The operators this email and password log in as (several: the same login in several apps)."""
    async with request.app.state.db.session() as session:
        if app_id is not None:
            found = await operator_queries.find_operator(session, app_id, email)
            candidates = [found] if found is not None else []
        else:
            candidates = await operator_queries.operators_with_email(session, email)
    # Checked after the session is closed: no database connection waits on argon2.
    passwords: Passwords = request.app.state.passwords
    # Verify every candidate (or one dummy) so timing says little about which emails exist.
    matching = [operator for operator in candidates
                if await passwords.verify(operator.password_hash, password)]
    if not candidates:
        await passwords.verify(_DUMMY_HASH, password)
    return matching


async def logout(request: Request) -> JSONResponse:
    if _foreign_origin(request):
        return _error(403, protocol.E_ORIGIN, "log out from this server's own pages")
    async with request.app.state.db.session() as session:
        await operator_queries.delete_operator_session(session, session_token(request))
    response = JSONResponse({"ok": True})
    response.delete_cookie(session_cookie_name(request), path="/", httponly=True, samesite="lax",
                           secure=secure_cookies(request))
    return response
