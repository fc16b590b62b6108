"""Operator login and logout over plain HTTP (JSON in, JSON out, session cookie)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import identity, protocol
from parley.passwords import Busy, Passwords
from parley.storage import operator_queries
from parley.storage.models import Operator
from parley.web import hello_cache
from parley.web.json_api import ApiError, read_json
from parley.web.peers import check_origin
from parley.web.sessions import secure_cookies, session_cookie_name, session_token

# Spent on unknown emails so a login takes as long whether or not the email exists.
_DUMMY_HASH = identity.hash_password("parley-dummy-password")
LOGIN_USAGE = "send JSON: {appId?, email, password}"


def busy_error(busy: Busy) -> ApiError:
    """The refusal when too many password checks are under way (parley.passwords)."""
    return ApiError(503, protocol.E_RATE_LIMIT, "the server is busy checking passwords; retry in a second",
                    headers={"Retry-After": str(busy.retry_after)}, retryAfter=busy.retry_after)


async def login(request: Request) -> JSONResponse:
    # Scripts and parley.client log in without a browser, so without Origin.
    check_origin(request, "log in from this server's own pages", absent_ok=True)
    body = await read_json(request, usage=LOGIN_USAGE)
    if not all(isinstance(body.get(key), str) and 0 < len(body[key]) <= 500 for key in ("email", "password")):
        raise ApiError(400, protocol.E_BAD_FRAME, LOGIN_USAGE)
    app_id = body.get("appId")
    if app_id in (None, ""):
        app_id = None  # the app is the one this email and password belong to
    elif not isinstance(app_id, str) or len(app_id) > 500:
        raise ApiError(400, protocol.E_BAD_FRAME, "appId must be a string")
    email = body["email"].strip().lower()
    ip = request.client.host if request.client else "?"
    limits = request.app.state.limits
    key = (ip, app_id or "", email)
    if not limits.failed_logins.allowed(key) or not limits.failed_logins_per_ip.allowed(ip):
        wait = max(limits.failed_logins.retry_after(key), limits.failed_logins_per_ip.retry_after(ip))
        raise ApiError(429, protocol.E_RATE_LIMIT, "too many failed logins; wait a minute",
                       headers={"Retry-After": str(int(wait) + 1)})
    try:
        async with request.app.state.passwords.admitted():
            matching = await _matching_operators(request, app_id, email, body["password"])
    except Busy as busy:
        raise busy_error(busy) from None
    if len(matching) > 1:
        # Right password, but for several apps: the client must say which (not a failure).
        raise ApiError(401, protocol.E_AUTH, "this email is in several apps: give the app id", needAppId=True)
    if not matching:
        limits.failed_logins.hit(key)
        limits.failed_logins_per_ip.hit(ip)
        raise ApiError(401, protocol.E_AUTH, "wrong app, email or password")
    operator = matching[0]
    limits.failed_logins.reset(key)
    async with request.app.state.db.session() as session:
        token = await operator_queries.create_operator_session(session, operator)
        await session.commit()
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
    check_origin(request, "log out from this server's own pages", absent_ok=True)
    async with request.app.state.db.session() as session:
        await operator_queries.delete_operator_session(session, session_token(request))
        await session.commit()
    response = JSONResponse({"ok": True})
    response.delete_cookie(session_cookie_name(request), path="/", httponly=True, samesite="lax",
                           secure=secure_cookies(request))
    return response
