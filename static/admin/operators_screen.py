"""The operators screen: roles, password resets, deleting, and new operators."""

from dom import api, clear, el, make, on, option, spawn
from model import display_name, error_text, looks_like_email
from screen import Screen, focused_id, refocus
from strings import t


class OperatorsScreen(Screen):
    def __init__(self, admin):
        super().__init__(admin)
        self.operators = []
        self.me = None
        self.resetting = None  # the operator whose password is being reset

    def bind(self):
        on(el("operator-rows"), "click", self.on_operator_click)
        on(el("operator-rows"), "change", self.on_operator_change)
        on(el("operator-form"), "submit", self.on_create_operator)
        on(el("reset-form"), "submit", self.on_reset)
        on(el("reset-cancel"), "click", lambda event: self.close_reset())
        on(el("reset-copy"), "click", lambda event: spawn(self.copy("reset-result-value", "reset-msg")))

    async def load_operators(self):
        status, body = await api("GET", "/api/admin/operators")
        if status != 200:
            self.fail("operators-msg", t("error.load", reason=error_text(status, body, t)))
            return
        self.operators = body["operators"]
        self.me = body["me"]
        self.render_operators()

    def operator(self, operator_id):
        for operator in self.operators:
            if operator["id"] == operator_id:
                return operator
        return None

    def render_operators(self):
        keep = focused_id()
        rows = el("operator-rows")
        clear(rows)
        for operator in self.operators:
            oid = operator["id"]
            name = display_name(operator, t)
            row = make("tr")
            row.appendChild(make("td", text=display_name(operator, t, self.me)))
            row.appendChild(make("td", text=operator["email"]))
            cell = make("td")
            select = make("select", id="role-" + oid, data_id=oid,
                          aria_label=t("operators.role.of", name=name))
            for role in ("operator", "admin", "bot"):
                select.appendChild(option(role, t("role." + role), operator["role"] == role))
            if oid == self.me:
                select.disabled = True
            cell.appendChild(select)
            row.appendChild(cell)
            presence = operator["presence"]
            row.appendChild(make("td", "presence " + presence, t("presence." + presence)))
            actions = make("td", "actions")
            actions.appendChild(make("button", None, t("operators.reset"), type="button", id="reset-" + oid,
                                     data_action="reset", data_id=oid,
                                     aria_label=t("operators.reset.of", name=name)))
            if oid != self.me:
                actions.appendChild(make("button", "danger", t("delete"), type="button", id="delete-" + oid,
                                         data_action="delete", data_id=oid,
                                         aria_label=t("operators.delete.of", name=name)))
            row.appendChild(actions)
            rows.appendChild(row)
        refocus(keep)

    def on_operator_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        operator = self.operator(button.getAttribute("data-id"))
        if operator is None:
            return
        action = button.getAttribute("data-action")
        if action == "reset":
            self.open_reset(operator)
        elif action == "delete":
            spawn(self.delete_operator(operator))

    def on_operator_change(self, event):
        select = event.target
        operator = self.operator(select.getAttribute("data-id"))
        if operator is not None:
            spawn(self.change_role(operator, select))

    async def change_role(self, operator, select):
        role = select.value
        body = await self.call("PATCH", "/api/admin/operators/" + operator["id"], {"role": role},
                               "operators-msg")
        if body is None:
            select.value = operator["role"]
            select.focus()
            return
        operator["role"] = body["role"]
        self.say("operators-msg", t("operators.role.changed", name=display_name(operator, t),
                                    role=t("role." + body["role"])))

    async def delete_operator(self, operator):
        name = display_name(operator, t)
        if not await self.ask(t("operators.delete.confirm", name=name, email=operator["email"]),
                              t("operators.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/operators/" + operator["id"], None, "operators-msg")
        if body is None:
            return
        if self.resetting == operator["id"]:
            self.close_reset(focus=False)
        await self.load_operators()
        await self.admin.teams.load_teams()
        self.say("operators-msg", t("operators.deleted", name=name))
        el("new-email").focus()

    def open_reset(self, operator):
        self.resetting = operator["id"]
        el("reset-form").hidden = False
        el("reset-heading").textContent = t("reset.heading", name=display_name(operator, t))
        el("reset-password").value = ""
        el("reset-result").hidden = True
        el("reset-result-value").value = ""
        el("reset-msg").textContent = ""
        el("reset-password").focus()

    def close_reset(self, focus=True):
        operator_id = self.resetting
        self.resetting = None
        el("reset-form").hidden = True
        el("reset-result-value").value = ""
        if focus and operator_id:
            refocus("reset-" + operator_id, "new-email")

    def on_reset(self, event):
        event.preventDefault()
        spawn(self.reset_password())

    async def reset_password(self):
        operator = self.operator(self.resetting)
        if operator is None:
            self.close_reset()
            return
        password = el("reset-password").value
        if password and len(password) < 8:
            self.fail("reset-msg", t("operators.invalid.password"), "reset-password")
            return
        body = await self.call("POST", "/api/admin/operators/" + operator["id"] + "/reset-password",
                               {"password": password} if password else None, "reset-msg",
                               {"password": "reset-password"})
        if body is None:
            return
        el("reset-password").value = ""
        name = display_name(operator, t)
        self.say("reset-msg", t("reset.done", name=name, count=body.get("sessionsEnded", 0)))
        if body.get("password"):
            el("reset-result").hidden = False
            el("reset-result-label").textContent = t("reset.generated", name=name)
            el("reset-result-value").value = body["password"]
            el("reset-result-value").focus()
            el("reset-result-value").select()

    def on_create_operator(self, event):
        event.preventDefault()
        spawn(self.create_operator())

    async def create_operator(self):
        email = el("new-email").value.strip()
        password = el("new-password").value
        if not looks_like_email(email):
            self.fail("operator-form-msg", t("operators.invalid.email"), "new-email")
            return
        if len(password) < 8:
            self.fail("operator-form-msg", t("operators.invalid.password"), "new-password")
            return
        request = {"email": email, "password": password, "role": el("new-role").value}
        if el("new-name").value.strip():
            request["name"] = el("new-name").value.strip()
        fields = {"email": "new-email", "password": "new-password", "name": "new-name", "role": "new-role"}
        body = await self.call("POST", "/api/admin/operators", request, "operator-form-msg", fields)
        if body is None:
            return
        for input_id in ("new-email", "new-name", "new-password"):
            el(input_id).value = ""
        el("new-role").value = "operator"
        await self.load_operators()
        self.admin.teams.render_teams()  # the member pickers list the new operator
        self.say("operator-form-msg", t("operators.created", email=body["email"]))
        el("new-email").focus()
