"""Operator login and logout over plain HTTP (JSON in, JSON out, session cookie)."""

from __future__ import annotations

import json

from sqlalchemy import select
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from parley import identity, protocol
from parley.storage import queries
from parley.storage.models import Operator

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
        return _error(415, protocol.E_BAD_FRAME, "send JSON: {appId?, email, password}")
    try:
        body = json.loads(await request.body())
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
    async with request.app.state.db.session() as session:
        if app_id is not None:
            candidates = [found] if (found := await queries.find_operator(session, app_id, email)) else []
        else:
            candidates = await _operators_with_email(session, email)
        # Verify every candidate (or one dummy) so timing says little about which emails exist.
        matching = [operator for operator in candidates
                    if identity.verify_password(operator.password_hash, body["password"])]
        if not candidates:
            identity.verify_password(_DUMMY_HASH, body["password"])
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
        token = await queries.create_operator_session(session, operator)
    response = JSONResponse({"operatorId": operator.id, "appId": operator.app_id,
                             "email": operator.email, "name": operator.name, "role": operator.role})
    response.set_cookie(SESSION_COOKIE, token, max_age=queries.SESSION_DAYS * 86400, path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


async def _operators_with_email(session, email: str) -> list[Operator]:
    """Every app's operator with this email (login without an app id)."""
    return list((await session.scalars(select(Operator).where(Operator.email == email)
                                       .order_by(Operator.created_at).limit(20))).all())


async def logout(request: Request) -> JSONResponse:
    if _foreign_origin(request):
        return _error(403, protocol.E_ORIGIN, "log out from this server's own pages")
    async with request.app.state.db.session() as session:
        await queries.delete_operator_session(session, request.cookies.get(SESSION_COOKIE))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
