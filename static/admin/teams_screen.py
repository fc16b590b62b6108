"""The teams screen: renaming, members, deleting, and new teams."""

from dom import api, clear, el, make, on, option, spawn
from model import display_name, error_text, non_members
from screen import Screen, focused_id, refocus
from strings import t


class TeamsScreen(Screen):
    def __init__(self, admin):
        super().__init__(admin)
        self.teams = []

    def bind(self):
        on(el("team-list"), "click", self.on_team_click)
        on(el("team-list"), "submit", self.on_team_submit)
        on(el("team-form"), "submit", self.on_create_team)

    def operator(self, operator_id):
        return self.admin.operators.operator(operator_id)

    async def load_teams(self):
        status, body = await api("GET", "/api/admin/teams")
        if status != 200:
            self.fail("teams-msg", t("error.load", reason=error_text(status, body, t)))
            return
        self.teams = body["teams"]
        self.render_teams()

    def team(self, team_id):
        for team in self.teams:
            if team["id"] == team_id:
                return team
        return None

    def render_teams(self):
        keep = focused_id()
        listing = el("team-list")
        clear(listing)
        for team in self.teams:
            listing.appendChild(self.team_card(team))
        el("teams-none").hidden = bool(self.teams)
        listing.hidden = not self.teams
        refocus(keep)

    def team_card(self, team):
        tid = team["id"]
        name = team["name"]
        card = make("li", "team card", id="team-" + tid)
        card.appendChild(make("h2", text=name))
        card.appendChild(make("p", "hint mono", t("teams.id", id=tid)))

        rename = make("form", "stack", data_form="rename", data_id=tid)
        rename.setAttribute("novalidate", "")
        rename.appendChild(make("label", text=t("teams.name"), for_="team-name-" + tid))
        row = make("div", "row")
        field = make("input", id="team-name-" + tid, maxlength="200", autocomplete="off")
        field.value = name
        row.appendChild(field)
        row.appendChild(make("button", None, t("teams.rename"), type="submit"))
        rename.appendChild(row)
        card.appendChild(rename)

        card.appendChild(make("h3", text=t("teams.members")))
        members = [self.operator(oid) for oid in team["memberIds"]]
        members = [m for m in members if m is not None]
        if members:
            listing = make("ul", "members")
            for member in members:
                item = make("li")
                member_name = display_name(member, t)
                item.appendChild(make("span", text=member_name))
                item.appendChild(make("span", "hint", member["email"]))
                item.appendChild(make("button", "link", t("remove"), type="button",
                                      id="remove-" + tid + "-" + member["id"], data_action="remove-member",
                                      data_id=tid, data_operator=member["id"],
                                      aria_label=t("teams.member.remove", name=member_name, team=name)))
                listing.appendChild(item)
            card.appendChild(listing)
        else:
            card.appendChild(make("p", "hint", t("teams.members.none")))

        candidates = non_members(self.admin.operators.operators, team["memberIds"])
        if candidates:
            add = make("form", "stack", data_form="add-member", data_id=tid)
            add.setAttribute("novalidate", "")
            add.appendChild(make("label", text=t("teams.member.add", team=name), for_="team-add-" + tid))
            row = make("div", "row")
            select = make("select", id="team-add-" + tid)
            select.appendChild(option("", t("teams.member.choose")))
            for operator in candidates:
                text = display_name(operator, t) + " · " + operator["email"]
                select.appendChild(option(operator["id"], text))
            row.appendChild(select)
            row.appendChild(make("button", None, t("teams.member.add.button"), type="submit",
                                 id="team-add-button-" + tid))
            add.appendChild(row)
            card.appendChild(add)
        else:
            card.appendChild(make("p", "hint", t("teams.member.all")))

        card.appendChild(make("button", "danger", t("teams.delete"), type="button", id="team-delete-" + tid,
                              data_action="delete-team", data_id=tid,
                              aria_label=t("teams.delete.of", name=name)))
        card.appendChild(make("p", "msg", None, id="team-msg-" + tid, role="status"))
        return card

    def on_team_submit(self, event):
        event.preventDefault()
        form = event.target
        team = self.team(form.getAttribute("data-id"))
        if team is None:
            return
        if form.getAttribute("data-form") == "rename":
            spawn(self.rename_team(team))
        else:
            spawn(self.add_member(team))

    def on_team_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        team = self.team(button.getAttribute("data-id"))
        if team is None:
            return
        if button.getAttribute("data-action") == "delete-team":
            spawn(self.delete_team(team))
        elif button.getAttribute("data-action") == "remove-member":
            spawn(self.remove_member(team, button.getAttribute("data-operator")))

    def replace_team(self, body):
        for index, team in enumerate(self.teams):
            if team["id"] == body["id"]:
                self.teams[index] = body
        self.render_teams()

    async def rename_team(self, team):
        field_id = "team-name-" + team["id"]
        name = el(field_id).value.strip()
        msg = "team-msg-" + team["id"]
        if not name or len(name) > 200:
            self.fail(msg, t("name.empty"), field_id)
            return
        body = await self.call("PATCH", "/api/admin/teams/" + team["id"], {"name": name}, msg,
                               {"name": field_id})
        if body is not None:
            self.replace_team(body)
            self.say("team-msg-" + team["id"], t("teams.renamed", name=body["name"]))

    async def add_member(self, team):
        select_id = "team-add-" + team["id"]
        operator = self.operator(el(select_id).value)
        msg = "team-msg-" + team["id"]
        if operator is None:
            self.fail(msg, t("teams.member.choose"), select_id)
            return
        body = await self.call("POST", "/api/admin/teams/" + team["id"] + "/members",
                               {"operatorId": operator["id"]}, msg, {"operatorId": select_id})
        if body is not None:
            self.replace_team(body)
            self.say(msg, t("teams.member.added", name=display_name(operator, t), team=body["name"]))
            refocus(select_id, "team-name-" + team["id"])

    async def remove_member(self, team, operator_id):
        operator = self.operator(operator_id)
        msg = "team-msg-" + team["id"]
        path = "/api/admin/teams/" + team["id"] + "/members/" + operator_id
        body = await self.call("DELETE", path, None, msg)
        if body is not None:
            self.replace_team(body)
            name = display_name(operator, t) if operator else operator_id
            self.say(msg, t("teams.member.removed", name=name, team=body["name"]))
            refocus("team-add-" + team["id"], "team-name-" + team["id"])

    async def delete_team(self, team):
        if not await self.ask(t("teams.delete.confirm", name=team["name"]), t("teams.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/teams/" + team["id"], None, "team-msg-" + team["id"])
        if body is None:
            return
        self.teams = [other for other in self.teams if other["id"] != team["id"]]
        self.render_teams()
        self.say("teams-msg", t("teams.deleted", name=team["name"]))
        el("new-team").focus()

    def on_create_team(self, event):
        event.preventDefault()
        spawn(self.create_team())

    async def create_team(self):
        name = el("new-team").value.strip()
        if not name or len(name) > 200:
            self.fail("team-form-msg", t("name.empty"), "new-team")
            return
        body = await self.call("POST", "/api/admin/teams", {"name": name}, "team-form-msg",
                               {"name": "new-team"})
        if body is not None:
            self.teams.append(body)
            self.render_teams()
            el("new-team").value = ""
            self.say("team-form-msg", t("teams.created", name=body["name"]))
            el("new-team").focus()
