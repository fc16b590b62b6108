"""The operator's own profile over HTTP:

- `GET /api/operator/profile`: name, email, avatar, role;
- `PATCH /api/operator/me` `{name?, avatarUrl?, currentPassword?, newPassword?}`: changes
  them (a new password ends the operator's other logins).

Both need the operator session; the PATCH also needs `Origin` equal to this server's
(CSRF) and a JSON object of at most 16 KB (else 400). See docs/protocol.md.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parley import delivery, file_names, protocol, rules, wire
from parley import fanout as channels
from parley.passwords import Busy
from parley.storage import operator_queries, visitor_queries
from parley.web import hello_cache
from parley.web.json_api import ApiError, answer, read_json
from parley.web.operator_api import busy_error
from parley.web.sessions import current_operator, session_token

MAX_BODY = 16 * 1024


async def profile(request: Request) -> JSONResponse:
    operator = await current_operator(request)
    return answer({"profile": wire.profile_dict(operator)})


def _profile_changes(body: dict) -> tuple[dict | None, str | None]:
    """The checked fields of a PATCH /api/operator/me body, or (None, the problem)."""
    allowed = {"name", "avatarUrl", "currentPassword", "newPassword"}
    if not body or not set(body) <= allowed:
        return None, "send JSON with any of: name, avatarUrl, currentPassword + newPassword"
    changes: dict = {}
    if "name" in body:
        try:
            changes["name"] = " ".join(rules.name(body["name"]).split())
        except rules.InvalidInput as invalid:
            return None, str(invalid)
    if "avatarUrl" in body:
        if body["avatarUrl"] is not None and not isinstance(body["avatarUrl"], str):
            return None, "avatarUrl must be an uploaded image's url or null"
        changes["avatarUrl"] = body["avatarUrl"]
    if "newPassword" in body or "currentPassword" in body:
        new, current = body.get("newPassword"), body.get("currentPassword")
        if not isinstance(current, str) or not current:
            return None, "changing the password needs currentPassword"
        try:
            rules.password(new, "newPassword")
        except rules.InvalidInput as invalid:
            return None, str(invalid)
        changes["password"] = (current, new)
    return changes, None


async def update_me(request: Request) -> JSONResponse:
    """PATCH {name?, avatarUrl?, currentPassword?, newPassword?}: the operator's own profile."""
    operator = await current_operator(request, change="change your profile from this server's own pages")
    body = await read_json(request, MAX_BODY, usage="send a JSON object", only_400=True)
    changes, problem = _profile_changes(body)
    if changes is None:
        raise ApiError(400, protocol.E_BAD_FRAME, problem)
    limits = request.app.state.limits
    ip = request.client.host if request.client else "?"
    key = (ip, operator.app_id, operator.email)
    # The same budget as logins: a stolen session can't guess the password either.
    if "password" in changes and not (limits.failed_logins.allowed(key)
                                      and limits.failed_logins_per_ip.allowed(ip)):
        wait = max(limits.failed_logins.retry_after(key), limits.failed_logins_per_ip.retry_after(ip))
        raise ApiError(429, protocol.E_RATE_LIMIT, "too many wrong passwords; wait a minute",
                       headers={"Retry-After": str(int(wait) + 1)})
    token = session_token(request)
    operator_id, app_id = operator.id, operator.app_id
    checked_hash, new_hash = operator.password_hash, None
    if "password" in changes:
        # argon2 runs in a thread, before the write, so neither the event loop nor a
        # transaction waits on it (parley.passwords).
        passwords = request.app.state.passwords
        current, new = changes["password"]
        try:
            async with passwords.admitted():
                if await passwords.verify(checked_hash, current):
                    new_hash = await passwords.hash(new)
        except Busy as busy:
            raise busy_error(busy) from None

    async def work(session):
        me = await operator_queries.get_operator(session, app_id, operator_id)
        if "avatarUrl" in changes and changes["avatarUrl"] is not None:
            file = await visitor_queries.avatar_file(session, me.app_id, changes["avatarUrl"])
            if file is None:
                return me, "avatar", 0
            changes["avatarUrl"] = file_names.url_for(file.id, file.name)
        # Wrong, or changed elsewhere since it was checked: refused like a wrong password.
        if "password" in changes and (new_hash is None or me.password_hash != checked_hash):
            return me, "password", 0
        if "name" in changes:
            me.name = changes["name"]
        if "avatarUrl" in changes:
            me.avatar_url = changes["avatarUrl"]
        ended = 0
        if "password" in changes:
            ended = await visitor_queries.change_password(session, me, new_hash, token)
        await session.commit()
        return me, None, ended

    me, refused, ended = await delivery.write(request.app.state.db, work)
    if refused == "avatar":
        raise ApiError(400, protocol.E_BAD_FRAME,
                       "avatarUrl must be the url of an image uploaded to this app")
    if refused == "password":
        limits.failed_logins.hit(key)
        limits.failed_logins_per_ip.hit(ip)
        raise ApiError(403, protocol.E_AUTH, "the current password is wrong")
    if "name" in changes:
        await hello_cache.app_changed(request.app.state, me.app_id)  # welcomes show operators' names
    if "name" in changes or "avatarUrl" in changes:
        await request.app.state.fanout.publish(channels.app_channel(me.app_id), protocol.frame(
            "operator.updated", operator={"id": me.id, "name": me.name, "avatarUrl": me.avatar_url}))
    result = {"profile": wire.profile_dict(me)}
    if "password" in changes:
        result["sessionsEnded"] = ended
    return answer(result)


def routes() -> list[Route]:
    """This module's HTTP routes (parley.web.app adds them)."""
    return [
        Route("/api/operator/profile", profile),
        Route("/api/operator/me", update_me, methods=["PATCH"]),
    ]
