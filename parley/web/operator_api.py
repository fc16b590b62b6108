"""Operator login and logout over plain HTTP (JSON in, JSON out, session cookie)."""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from parley import identity, protocol
from parley.storage import queries

SESSION_COOKIE = "parley_session"
# Spent on unknown emails so a login takes as long whether or not the email exists.
_DUMMY_HASH = identity.hash_password("parley-dummy-password")


def own_origin(connection: HTTPConnection) -> str:
    """This server's origin as the browser sees it (scheme://host[:port])."""
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    return f"{scheme}://{connection.url.netloc}"


def _error(status: int, code: str, message: str, **headers) -> JSONResponse:
    return JSONResponse(protocol.error(code, message), status_code=status, headers=headers or None)


def _foreign_origin(request: Request) -> bool:
    # Browsers send Origin on cross-site POSTs: refuse those (CSRF); tools may omit it.
    origin = request.headers.get("origin")
    return origin is not None and origin != own_origin(request)


async def login(request: Request) -> JSONResponse:
    if _foreign_origin(request):
        return _error(403, protocol.E_ORIGIN, "log in from this server's own pages")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, protocol.E_BAD_FRAME, "send JSON: {appId, email, password}")
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(
            isinstance(body.get(key), str) and 0 < len(body[key]) <= 500
            for key in ("appId", "email", "password")):
        return _error(400, protocol.E_BAD_FRAME, "send JSON: {appId, email, password}")
    email = body["email"].strip().lower()
    ip = request.client.host if request.client else "?"
    limits = request.app.state.limits
    key = (ip, body["appId"], email)
    if not limits.failed_logins.allowed(key) or not limits.failed_logins_per_ip.allowed(ip):
        wait = max(limits.failed_logins.retry_after(key), limits.failed_logins_per_ip.retry_after(ip))
        return _error(429, protocol.E_RATE_LIMIT, "too many failed logins; wait a minute",
                      **{"Retry-After": str(int(wait) + 1)})
    async with request.app.state.db.session() as session:
        operator = await queries.find_operator(session, body["appId"], email)
        good = identity.verify_password(operator.password_hash if operator else _DUMMY_HASH,
                                        body["password"])
        if operator is None or not good:
            limits.failed_logins.hit(key)
            limits.failed_logins_per_ip.hit(ip)
            return _error(401, protocol.E_AUTH, "wrong app, email or password")
        limits.failed_logins.reset(key)
        token = await queries.create_operator_session(session, operator)
    response = JSONResponse({"operatorId": operator.id, "appId": operator.app_id,
                             "email": operator.email, "name": operator.name, "role": operator.role})
    response.set_cookie(SESSION_COOKIE, token, max_age=queries.SESSION_DAYS * 86400, path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


async def logout(request: Request) -> JSONResponse:
    if _foreign_origin(request):
        return _error(403, protocol.E_ORIGIN, "log out from this server's own pages")
    async with request.app.state.db.session() as session:
        await queries.delete_operator_session(session, request.cookies.get(SESSION_COOKIE))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
