"""The inbox's admin screens over HTTP: the app, its snippet, operators, teams, triggers.

Every endpoint needs the session cookie (401 `PARLEY_E_AUTH`) of an operator whose
role is admin (403 `PARLEY_E_FORBIDDEN`) and only ever reads or changes that
operator's own app: ids of another app's operators, teams or triggers answer 404,
exactly as ids that do not exist. Requests that change something also need an
`Origin` equal to this server's own origin (403 `PARLEY_E_ORIGIN`: the session
cookie rides along from any site, so this is the CSRF defence), and those with a
body need JSON (415, or 400 `PARLEY_E_BAD_FRAME` with `field` naming what is wrong).

The checks are the command line's (`app set`, `operator create`, `operator
reset-password`, `team create`, `trigger add`): both take them from parley.rules (here
through parley.web.admin_fields), so an app looks the same whichever way it was configured.
See docs/protocol.md, "Admin HTTP API".
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley import fanout as channels
from parley import protocol, rules, wire
from parley.snippet import render_snippet
from parley.storage import app_queries, operator_queries, presence_queries, trigger_queries
from parley.storage.models import App, Operator, Team
from parley.web import admin_fields as fields
from parley.web import hello_cache
from parley.web.json_api import NO_STORE, ApiError, answer, read_json
from parley.web.peers import own_origin
from parley.web.sessions import current_operator, logged_in_operator
from parley.web.templates import templates
from widget.core.config import WINDOW_COLOR_NAMES, WINDOW_COLORS

MAX_BODY = protocol.MAX_FRAME_BYTES

def not_found(what: str) -> ApiError:
    # The same answer for "no such id" and "another app's id": nothing leaks.
    return ApiError(404, protocol.E_NOT_FOUND, f"this app has no such {what}")


# -- the guard every endpoint goes through ---------------------------------------------

NO_BODY, OPTIONAL_BODY, BODY = "none", "optional", "required"


async def _read_body(request: Request, mode: str) -> dict:
    if mode == NO_BODY or (mode == OPTIONAL_BODY and not (await request.body()).strip()):
        return {}
    usage = "body must be a JSON object (Content-Type: application/json)"
    return await read_json(request, MAX_BODY, usage=usage, field="body")


class AdminEndpoint(HTTPEndpoint):
    """One admin resource. HTTPEndpoint picks the method (HEAD is GET); its `get`, `post`,
    `patch` or `delete` is called as (request, session, admin, body) once the checks every
    admin endpoint makes have passed, with `bodies[method]` saying whether it reads a body."""

    bodies: ClassVar[dict[str, str]] = {"POST": BODY, "PATCH": BODY}

    async def dispatch(self) -> None:
        request = Request(self.scope, receive=self.receive, send=self.send)
        method = "GET" if request.method == "HEAD" else request.method
        handler = getattr(self, method.lower(), None)
        if handler is None:
            response = await self.method_not_allowed(request)
        else:
            response = await self._checked(request, handler, self.bodies.get(method, NO_BODY))
        await response(self.scope, self.receive, self.send)

    @staticmethod
    async def _checked(request: Request, handler, body: str) -> Response:
        changing = request.method not in ("GET", "HEAD")
        admin = await current_operator(
            request, admin=True, change="change settings from this server's own pages" if changing else None)
        async with request.app.state.db.session() as session:
            try:
                response = await handler(request, session, admin, await _read_body(request, body))
                if changing:
                    await session.commit()  # the endpoint's one unit of work
            except rules.InvalidInput as invalid:
                raise fields.bad(invalid.field, invalid.message) from None
        if changing and response.status_code < 400:
            # Triggers, operators and teams are in every welcome, cached per app: any change
            # by an admin drops that cache, in every process (parley.web.hello_cache).
            await hello_cache.app_changed(request.app.state, admin.app_id)
        return response


# -- the app ---------------------------------------------------------------------------------

async def _own_app(session, admin: Operator) -> App:
    app = await app_queries.get_app(session, admin.app_id)
    if app is None:  # deleted under the session
        raise ApiError(401, protocol.E_AUTH, "log in first")
    return app


class AppSettings(AdminEndpoint):
    """`/api/admin/app`: the app's settings (name, origins, appearance, working hours)."""

    async def get(self, request, session, admin, _body) -> Response:
        app = await _own_app(session, admin)
        # The spec's colour names with the hex the widget draws them in, for the colour picker.
        colors = [[name, WINDOW_COLORS[name]] for name in WINDOW_COLOR_NAMES]
        return answer({**wire.admin_app(app), "windowColors": colors})

    async def patch(self, request, session, admin, body) -> Response:
        fields.only(body, ("name", "origins", "appearance", "workingHours"))
        app = await _own_app(session, admin)
        changes: dict = {}
        if "name" in body:
            changes["name"] = fields.name(body)
        if "origins" in body:
            changes["origins"] = fields.origins(body["origins"])
        if "appearance" in body:
            changes["appearance"] = fields.appearance(body["appearance"], app.appearance)
        if "workingHours" in body:
            changes["working_hours"] = fields.working_hours(body["workingHours"])
        if not changes:
            raise fields.bad("body", "changes nothing: give name, origins, appearance or workingHours")
        before = await presence_queries.app_online(session, app.id) if "working_hours" in changes else None
        await app_queries.update_app(session, app, changes)
        await session.commit()  # before the visitors hear the new online state
        if before is not None:
            # The widget shows offline outside working hours: tell the app's visitors now,
            # not at the next tick of the clock (parley.clock).
            after = await presence_queries.app_online(session, app.id)
            if after != before:
                await request.app.state.fanout.publish(channels.app_visitors_channel(app.id),
                                                       protocol.frame("online", online=after))
        return answer(wire.admin_app(app))


class RotateSecret(AdminEndpoint):
    """`/api/admin/app/rotate-secret`: a new secret for the app (no body)."""

    bodies: ClassVar[dict[str, str]] = {}

    async def post(self, request, session, admin, _body) -> Response:
        app = await _own_app(session, admin)
        secret = await app_queries.rotate_app_secret(session, app)
        return answer({"appId": app.id, "secret": secret})


class Snippet(AdminEndpoint):
    """`/api/admin/snippet`: what to paste into the site."""

    async def get(self, request, session, admin, _body) -> Response:
        server = own_origin(request)
        # What `parley snippet --app-id <id> --server <server>` prints (without print's newline).
        return answer({"appId": admin.app_id, "server": server,
                       "snippet": render_snippet(admin.app_id, server)})


# -- operators -----------------------------------------------------------------------------

_GET = {"operator": operator_queries.get_operator, "team": operator_queries.get_team,
        "trigger": trigger_queries.get_trigger}


async def _from_path(request, session, admin: Operator, what: str):
    """The app's operator, team or trigger (`what`) whose id the path names (`{what}_id`)."""
    found = await _GET[what](session, admin.app_id, request.path_params[what + "_id"])
    if found is None:
        raise not_found(what)
    return found


class Operators(AdminEndpoint):
    """`/api/admin/operators`: the app's operators; a new one."""

    async def get(self, request, session, admin, _body) -> Response:
        operators = await operator_queries.list_operators(session, admin.app_id)
        return answer({"me": admin.id, "operators": [wire.admin_operator(o) for o in operators]})

    async def post(self, request, session, admin, body) -> Response:
        fields.only(body, ("email", "password", "name", "role"))
        email = rules.email(body.get("email"))
        password = rules.password(body.get("password"))
        name = fields.name(body) if body.get("name") not in (None, "") else email.split("@")[0][:200]
        role = fields.role(body) if "role" in body else "operator"
        if await operator_queries.find_operator(session, admin.app_id, email):
            raise fields.bad("email",
                      f"is taken: an operator with email {email.lower()!r} already exists in this app", 409)
        # Hashed off the event loop, like logins: argon2 would stall every socket meanwhile.
        password_hash = await request.app.state.passwords.hash(password)
        operator = await operator_queries.create_operator(session, admin.app_id, email, None, name, role,
                                                          password_hash=password_hash)
        return answer(wire.admin_operator(operator), 201)


class OperatorItem(AdminEndpoint):
    """`/api/admin/operators/{operator_id}`: one operator: a new role; deletion."""

    async def patch(self, request, session, admin, body) -> Response:
        fields.only(body, ("role",))
        operator = await _from_path(request, session, admin, "operator")
        role = fields.role(body)
        if operator.id == admin.id and role != admin.role:
            raise fields.bad("role", "of your own account cannot be changed here: ask another admin", 409)
        demoting = operator.role == "admin" and role != "admin"
        if demoting and await operator_queries.count_admins(session, admin.app_id) <= 1:
            raise fields.bad("role", "cannot be taken from the app's last admin", 409)
        await operator_queries.set_operator_role(session, operator, role)
        return answer(wire.admin_operator(operator))

    async def delete(self, request, session, admin, _body) -> Response:
        operator = await _from_path(request, session, admin, "operator")
        if operator.id == admin.id:
            raise ApiError(409, protocol.E_BAD_FRAME, "you cannot delete your own account")
        if operator.role == "admin" and await operator_queries.count_admins(session, admin.app_id) <= 1:
            raise ApiError(409, protocol.E_BAD_FRAME, "the app's last admin cannot be deleted")
        await operator_queries.delete_operator(session, operator)
        return answer({"operatorId": operator.id, "deleted": True})


class ResetPassword(AdminEndpoint):
    """`/api/admin/operators/{operator_id}/reset-password`."""

    bodies: ClassVar[dict[str, str]] = {"POST": OPTIONAL_BODY}

    async def post(self, request, session, admin, body) -> Response:
        """`parley operator reset-password`: a new password (generated unless given), and every
        login of the operator ends."""
        fields.only(body, ("password",))
        operator = await _from_path(request, session, admin, "operator")
        generated = body.get("password") in (None, "")
        password = secrets.token_urlsafe(18) if generated else rules.password(body.get("password"))
        password_hash = await request.app.state.passwords.hash(password)
        ended = await operator_queries.reset_operator_password(session, operator, None,
                                                               password_hash=password_hash)
        result = {"operatorId": operator.id, "email": operator.email, "sessionsEnded": ended}
        return answer({**result, "password": password} if generated else result)


# -- teams ---------------------------------------------------------------------------------

async def _team_response(session, team: Team, status: int = 200) -> Response:
    return answer(wire.admin_team(team, await operator_queries.team_member_ids(session, team.id)), status)


class Teams(AdminEndpoint):
    """`/api/admin/teams`: the app's teams; a new one."""

    async def get(self, request, session, admin, _body) -> Response:
        teams = await operator_queries.list_teams(session, admin.app_id)
        members = await operator_queries.team_members_of_app(session, admin.app_id)
        return answer({"teams": [wire.admin_team(team, members.get(team.id, [])) for team in teams]})

    async def post(self, request, session, admin, body) -> Response:
        fields.only(body, ("name",))
        team = await operator_queries.create_team(session, admin.app_id, fields.name(body))
        return answer(wire.admin_team(team, []), 201)


class TeamItem(AdminEndpoint):
    """`/api/admin/teams/{team_id}`: one team: a new name; deletion."""

    async def patch(self, request, session, admin, body) -> Response:
        fields.only(body, ("name",))
        team = await _from_path(request, session, admin, "team")
        await operator_queries.rename_team(session, team, fields.name(body))
        return await _team_response(session, team)

    async def delete(self, request, session, admin, _body) -> Response:
        team = await _from_path(request, session, admin, "team")
        await operator_queries.delete_team(session, team)
        return answer({"teamId": team.id, "deleted": True})


class TeamMembers(AdminEndpoint):
    """`/api/admin/teams/{team_id}/members`: a new member of a team."""

    async def post(self, request, session, admin, body) -> Response:
        fields.only(body, ("operatorId",))
        team = await _from_path(request, session, admin, "team")
        operator_id = body.get("operatorId")
        if not isinstance(operator_id, str):
            raise fields.bad("operatorId", "must be an operator id")
        operator = await operator_queries.get_operator(session, admin.app_id, operator_id)
        if operator is None:
            raise ApiError(404, protocol.E_NOT_FOUND, "this app has no such operator",
                           field="operatorId")
        await operator_queries.add_team_member(session, team, operator)
        return await _team_response(session, team)


class TeamMember(AdminEndpoint):
    """`/api/admin/teams/{team_id}/members/{operator_id}`: a member leaves a team."""

    async def delete(self, request, session, admin, _body) -> Response:
        team = await _from_path(request, session, admin, "team")
        if not await operator_queries.remove_team_member(session, team, request.path_params["operator_id"]):
            raise ApiError(404, protocol.E_NOT_FOUND, "that operator is not a member of this team")
        return await _team_response(session, team)


# -- triggers -------------------------------------------------------------------------------

class Triggers(AdminEndpoint):
    """`/api/admin/triggers`: the app's triggers; a new one."""

    async def get(self, request, session, admin, _body) -> Response:
        triggers = await trigger_queries.list_triggers(session, admin.app_id)
        # The editor's choices: the spec's parameter keys and compare()'s matchers.
        return answer({"triggers": [wire.admin_trigger(t) for t in triggers],
                      "parameterKeys": list(rules.PARAMETER_KEYS),
                      "matchers": list(rules.MATCHERS), "kinds": list(rules.TRIGGER_KINDS)})

    async def post(self, request, session, admin, body) -> Response:
        changes = fields.trigger_changes(body, creating=True)
        trigger = await trigger_queries.create_trigger(session, admin.app_id, changes.pop("message"),
                                                       **changes)
        return answer(wire.admin_trigger(trigger), 201)


class TriggerItem(AdminEndpoint):
    """`/api/admin/triggers/{trigger_id}`: one trigger: changes; deletion."""

    async def patch(self, request, session, admin, body) -> Response:
        trigger = await _from_path(request, session, admin, "trigger")
        await trigger_queries.update_trigger(session, trigger, fields.trigger_changes(body, creating=False))
        return answer(wire.admin_trigger(trigger))

    async def delete(self, request, session, admin, _body) -> Response:
        trigger = await _from_path(request, session, admin, "trigger")
        await trigger_queries.delete_trigger(session, admin.app_id, trigger.id)
        return answer({"triggerId": trigger.id, "deleted": True})


# -- the page and the routes ----------------------------------------------------------------

def admin_page(build_id: str, script: dict):
    """/inbox/admin: the admin screens for admins; anyone else gets the page's refusal
    (401 not logged in, 403 not an admin) without the admin screens in it. `script`: the
    page script's URL and modules, from the build (DistFiles.page_script)."""
    async def page(request: Request) -> Response:
        operator = await logged_in_operator(request)
        state = "login" if operator is None else "admin" if operator.role == "admin" else "forbidden"
        status = {"login": 401, "forbidden": 403, "admin": 200}[state]
        context = {"build_id": build_id, "state": state, "script": script}
        return templates.TemplateResponse(request, "admin.html", context, status_code=status,
                                          headers=NO_STORE)
    return page


def routes(build_id: str, script: dict) -> list[Route]:
    """Every admin route; mount them before /inbox/{name} (the page is /inbox/admin)."""
    def route(path: str, endpoint: type[AdminEndpoint]) -> Route:
        # The methods the class has, so that others get the router's 405 as before.
        methods = [m for m in ("GET", "POST", "PATCH", "DELETE") if hasattr(endpoint, m.lower())]
        return Route(path, endpoint, methods=methods)

    return [
        Route("/inbox/admin", admin_page(build_id, script)),
        route("/api/admin/app", AppSettings),
        route("/api/admin/app/rotate-secret", RotateSecret),
        route("/api/admin/snippet", Snippet),
        route("/api/admin/operators", Operators),
        route("/api/admin/operators/{operator_id}", OperatorItem),
        route("/api/admin/operators/{operator_id}/reset-password", ResetPassword),
        route("/api/admin/teams", Teams),
        route("/api/admin/teams/{team_id}", TeamItem),
        route("/api/admin/teams/{team_id}/members", TeamMembers),
        route("/api/admin/teams/{team_id}/members/{operator_id}", TeamMember),
        route("/api/admin/triggers", Triggers),
        route("/api/admin/triggers/{trigger_id}", TriggerItem),
    ]
