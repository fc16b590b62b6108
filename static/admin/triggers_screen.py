"""The triggers screen: the list (on/off, edit, delete) and the editor with its conditions."""

from dom import api, clear, el, make, on, option, spawn
from model import conditions_text, error_text, parse_delay, trigger_label
from screen import Screen, focused_id, refocus
from strings import t

NEW_CONDITION = ("page_url", "contains", "")


class TriggersScreen(Screen):
    def __init__(self, admin):
        super().__init__(admin)
        self.triggers = []
        self.keys = []
        self.matchers = []
        self.kinds = []
        self.editing = None  # the id of the trigger in the editor; None: a new one
        self.conditions = []  # the editor's rows: [key, matcher, value]

    def bind(self):
        on(el("trigger-rows"), "click", self.on_trigger_click)
        on(el("trigger-rows"), "change", self.on_trigger_change)
        on(el("trigger-form"), "submit", self.on_save_trigger)
        on(el("trigger-cancel"), "click", lambda event: self.reset_trigger_form(focus=True))
        on(el("condition-add"), "click", self.on_add_condition)
        on(el("conditions"), "click", self.on_conditions_click)

    async def load_triggers(self):
        status, body = await api("GET", "/api/admin/triggers")
        if status != 200:
            self.fail("triggers-msg", t("error.load", reason=error_text(status, body, t)))
            return
        first = not self.keys
        self.triggers = body["triggers"]
        self.keys = body["parameterKeys"]
        self.matchers = body["matchers"]
        self.kinds = body["kinds"]
        if first:
            kinds = el("tr-kind")
            clear(kinds)
            for kind in self.kinds:
                kinds.appendChild(option(kind, t("kind." + kind)))
            self.render_conditions()
        self.render_triggers()

    def trigger(self, trigger_id):
        for trigger in self.triggers:
            if trigger["id"] == trigger_id:
                return trigger
        return None

    def render_triggers(self):
        keep = focused_id()
        rows = el("trigger-rows")
        clear(rows)
        for trigger in self.triggers:
            tid = trigger["id"]
            label = trigger_label(trigger)
            row = make("tr")
            cell = make("td", "message-cell")
            if trigger.get("name"):
                cell.appendChild(make("strong", text=trigger["name"]))
            cell.appendChild(make("span", text=trigger["message"]))
            row.appendChild(cell)
            row.appendChild(make("td", text=t("kind." + trigger["kind"])))
            row.appendChild(make("td", text=t("triggers.seconds", n=trigger["delay"])))
            row.appendChild(make("td", text=conditions_text(trigger["conditions"], t)))
            toggle_cell = make("td")
            toggle = make("input", type="checkbox", id="enabled-" + tid, data_id=tid,
                          aria_label=t("triggers.enabled.of", name=label))
            toggle.checked = bool(trigger["enabled"])
            toggle_cell.appendChild(toggle)
            row.appendChild(toggle_cell)
            actions = make("td", "actions")
            actions.appendChild(make("button", None, t("triggers.edit"), type="button", id="edit-" + tid,
                                     data_action="edit", data_id=tid,
                                     aria_label=t("triggers.edit.of", name=label)))
            actions.appendChild(make("button", "danger", t("delete"), type="button",
                                     id="trigger-delete-" + tid, data_action="delete", data_id=tid,
                                     aria_label=t("triggers.delete.of", name=label)))
            row.appendChild(actions)
            rows.appendChild(row)
        el("trigger-table").hidden = not self.triggers
        el("triggers-none").hidden = bool(self.triggers)
        refocus(keep)

    def on_trigger_click(self, event):
        button = event.target.closest("button[data-action]")
        if not button:
            return
        trigger = self.trigger(button.getAttribute("data-id"))
        if trigger is None:
            return
        if button.getAttribute("data-action") == "edit":
            self.edit_trigger(trigger)
        else:
            spawn(self.delete_trigger(trigger))

    def on_trigger_change(self, event):
        box = event.target
        trigger = self.trigger(box.getAttribute("data-id"))
        if trigger is not None:
            spawn(self.toggle_trigger(trigger, box))

    async def toggle_trigger(self, trigger, box):
        enabled = bool(box.checked)
        body = await self.call("PATCH", "/api/admin/triggers/" + trigger["id"], {"enabled": enabled},
                               "triggers-msg")
        if body is None:
            box.checked = not enabled
            box.focus()
            return
        trigger["enabled"] = body["enabled"]
        label = trigger_label(body)
        key = "triggers.turned_on" if body["enabled"] else "triggers.turned_off"
        self.say("triggers-msg", t(key, name=label))

    async def delete_trigger(self, trigger):
        question = t("triggers.delete.confirm", name=trigger_label(trigger))
        if not await self.ask(question, t("triggers.delete.yes")):
            return
        body = await self.call("DELETE", "/api/admin/triggers/" + trigger["id"], None, "triggers-msg")
        if body is None:
            return
        if self.editing == trigger["id"]:
            self.reset_trigger_form()
        self.triggers = [other for other in self.triggers if other["id"] != trigger["id"]]
        self.render_triggers()
        self.say("triggers-msg", t("triggers.deleted"))
        el("tr-name").focus()

    # the editor
    def edit_trigger(self, trigger):
        self.editing = trigger["id"]
        el("trigger-form-heading").textContent = t("trigger.editing")
        el("trigger-submit").textContent = t("trigger.save")
        el("trigger-cancel").hidden = False
        el("tr-name").value = trigger.get("name") or ""
        el("tr-message").value = trigger["message"]
        el("tr-kind").value = trigger["kind"]
        el("tr-delay").value = str(trigger["delay"])
        el("tr-enabled").checked = bool(trigger["enabled"])
        self.conditions = [list(c) for c in trigger["conditions"]]
        self.render_conditions()
        el("trigger-form-msg").textContent = ""
        self.unmark()
        el("tr-name").focus()

    def reset_trigger_form(self, focus=False):
        editing = self.editing
        self.editing = None
        el("trigger-form-heading").textContent = t("trigger.new")
        el("trigger-submit").textContent = t("trigger.create")
        el("trigger-cancel").hidden = True
        for input_id in ("tr-name", "tr-message"):
            el(input_id).value = ""
        el("tr-delay").value = "0"
        el("tr-enabled").checked = True
        if self.kinds:
            el("tr-kind").value = self.kinds[0]
        self.conditions = []
        self.render_conditions()
        self.unmark()
        if focus:
            refocus("edit-" + editing if editing else "", "tr-name")

    def sync_conditions(self):
        """Reads the editor's rows back from the page (what the admin typed or chose)."""
        rows = []
        for index in range(len(self.conditions)):
            rows.append([el("cond-key-" + str(index)).value, el("cond-matcher-" + str(index)).value,
                         el("cond-value-" + str(index)).value])
        self.conditions = rows

    def render_conditions(self):
        listing = el("conditions")
        clear(listing)
        for index, (key, matcher, value) in enumerate(self.conditions):
            n = index + 1
            item = make("li", "condition")
            keys = make("select", id="cond-key-" + str(index), aria_label=t("trigger.condition.key", n=n))
            for option_key in self.keys:
                keys.appendChild(option(option_key, t("param." + option_key), option_key == key))
            matchers = make("select", id="cond-matcher-" + str(index),
                            aria_label=t("trigger.condition.matcher", n=n))
            for option_matcher in self.matchers:
                matchers.appendChild(option(option_matcher, t("matcher." + option_matcher),
                                            option_matcher == matcher))
            field = make("input", id="cond-value-" + str(index), autocomplete="off", maxlength="2000",
                         aria_label=t("trigger.condition.value", n=n))
            field.value = value
            item.appendChild(keys)
            item.appendChild(matchers)
            item.appendChild(field)
            item.appendChild(make("button", "link", t("remove"), type="button", data_index=str(index),
                                  aria_label=t("trigger.condition.remove", n=n)))
            listing.appendChild(item)
        listing.hidden = not self.conditions

    def on_add_condition(self, event):
        self.sync_conditions()
        self.conditions.append(list(NEW_CONDITION))
        self.render_conditions()
        el("cond-key-" + str(len(self.conditions) - 1)).focus()

    def on_conditions_click(self, event):
        button = event.target.closest("button[data-index]")
        if not button:
            return
        self.sync_conditions()
        index = int(button.getAttribute("data-index"))
        self.conditions.pop(index)
        self.render_conditions()
        if self.conditions:
            el("cond-key-" + str(min(index, len(self.conditions) - 1))).focus()
        else:
            el("condition-add").focus()

    def on_save_trigger(self, event):
        event.preventDefault()
        spawn(self.save_trigger())

    async def save_trigger(self):
        self.sync_conditions()
        message = el("tr-message").value.strip()
        if not message or len(message) > 5000:
            self.fail("trigger-form-msg", t("trigger.invalid.message"), "tr-message")
            return
        delay = parse_delay(el("tr-delay").value)
        if delay is None:
            self.fail("trigger-form-msg", t("trigger.invalid.delay"), "tr-delay")
            return
        for index, condition in enumerate(self.conditions):
            if not condition[2].strip():
                self.fail("trigger-form-msg", t("trigger.invalid.value", n=index + 1),
                          "cond-value-" + str(index))
                return
        body = {"name": el("tr-name").value.strip(), "message": message, "kind": el("tr-kind").value,
                "delay": delay, "conditions": self.conditions, "enabled": bool(el("tr-enabled").checked)}
        fields = {"name": "tr-name", "message": "tr-message", "kind": "tr-kind", "delay": "tr-delay",
                  "enabled": "tr-enabled"}
        for index in range(len(self.conditions)):
            fields["conditions[" + str(index) + "]"] = "cond-value-" + str(index)
        editing = self.editing
        method, path = "POST", "/api/admin/triggers"
        if editing:
            method, path = "PATCH", "/api/admin/triggers/" + editing
        answer = await self.call(method, path, body, "trigger-form-msg", fields, el("trigger-submit"))
        if answer is None:
            return
        if editing:
            self.triggers = [answer if other["id"] == editing else other for other in self.triggers]
        else:
            self.triggers.append(answer)
        self.render_triggers()
        self.reset_trigger_form()
        self.say("trigger-form-msg", t("trigger.saved" if editing else "trigger.created"))
        refocus("edit-" + answer["id"], "tr-name")
