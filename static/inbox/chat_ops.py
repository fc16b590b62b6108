"""The conversation's operations in the inbox: assign or transfer the chat to an
operator or a team, reopen a closed chat, and write internal notes instead of replies.

main.App owns the socket and the state; it calls `entered`, `render_head`,
`chat_answer`, `on_error` and `render_mode` here, and asks `note_mode` when it sends.
Every string comes from strings.t; user data only ever reaches the page as text.
"""

from dom import clear, el, on, option
from pyscript import document
from strings import t


class ChatOps:
    def __init__(self, app, api, spawn):
        self.app = app
        self.api = api
        self.spawn = spawn
        self.note_mode = False
        self.reopening = None  # the chat id a chat.reopen is out for
        self.assigning = None  # the chat id a chat.assign is out for
        self.people = {"operators": [], "teams": []}
        on(el("conv-reopen"), "click", self.on_reopen)
        on(el("assign-form"), "submit", self.on_assign)
        on(el("note-toggle"), "click", self.on_toggle_note)

    # -- who a chat can go to ------------------------------------------------------------
    def entered(self):
        self.note_mode = False
        self.reopening = None
        self.assigning = None
        self.render_mode()
        self.spawn(self.load_people())

    def chat_opened(self):
        """Another chat is shown: who is online may have changed since the list was read."""
        self.spawn(self.load_people())

    async def load_people(self):
        generation = self.app.generation
        status, body = await self.api("GET", "/api/operator/assignees")
        if generation != self.app.generation or status != 200 or not isinstance(body, dict):
            return
        self.people = {"operators": body.get("operators") or [], "teams": body.get("teams") or []}
        self.app.state.set_operators(self.people["operators"])
        self.app.state.set_teams(self.people["teams"])
        self.fill_select()
        self.app.render_conversation()

    def fill_select(self):
        select = el("assign-to")
        chosen = select.value
        clear(select)
        select.appendChild(option("", t("conv.assign.choose")))
        operators = document.createElement("optgroup")
        operators.label = t("conv.assign.operators")
        for person in self.people["operators"]:
            name = person.get("name") or ""
            label = t("conv.assign.online", name=name) if person.get("online") else name
            operators.appendChild(option("operator:" + person["id"], label))
        select.appendChild(operators)
        if self.people["teams"]:
            teams = document.createElement("optgroup")
            teams.label = t("conv.assign.teams")
            for team in self.people["teams"]:
                label = t("conv.assign.team", name=team.get("name") or "")
                teams.appendChild(option("team:" + team["id"], label))
            select.appendChild(teams)
        select.value = chosen

    # -- the conversation's header ---------------------------------------------------------
    def render_head(self, chat):
        """The assignee line, the assign form (open chats) and Reopen (closed chats)."""
        state = self.app.state
        open_chat = chat["status"] == "open"
        operator_ids = chat.get("operatorIds") or []
        names = [state.operators.get(operator_id) or t("system.someone") for operator_id in operator_ids]
        team = state.teams.get(chat.get("teamId")) if chat.get("teamId") else None
        if not names:
            text = t("conv.unassigned")
        elif team:
            text = t("conv.assigned.team", name=", ".join(names), team=team)
        else:
            text = t("conv.assigned", name=", ".join(names))
        el("conv-assignee").textContent = text
        el("assign-form").hidden = not open_chat
        busy = self.assigning == chat["id"]
        el("assign-submit").disabled = busy
        el("assign-submit").textContent = t("conv.assigning") if busy else t("conv.assign")
        reopen = el("conv-reopen")
        reopen.hidden = open_chat
        reopen.disabled = self.reopening == chat["id"]
        reopen.textContent = t("conv.reopening") if self.reopening == chat["id"] else t("conv.reopen")

    def chat_answer(self, chat):
        """A chat's new state arrived (our action's answer or the feed): not busy any more."""
        if chat.get("id") == self.assigning:
            self.assigning = None
            el("assign-to").value = ""
        if chat.get("id") == self.reopening:
            self.reopening = None
            if chat.get("status") == "open" and chat.get("id") == self.app.state.current:
                self.spawn(self._focus_reply())

    async def _focus_reply(self):
        el("reply").focus()

    def on_error(self, frame):
        """Errors answering chat.assign / chat.reopen; True when handled here."""
        chat_id = frame.get("chatId")
        if chat_id is None or chat_id not in (self.assigning, self.reopening):
            return False
        code = frame.get("code")
        if chat_id == self.reopening:
            self.reopening = None
            text = t("error.reopen.conflict") if code == "PARLEY_E_CONFLICT" else None
            open_id = frame.get("openChatId")
            if open_id and open_id in self.app.state.chats:
                self.app.open_chat(open_id)  # continue where the visitor is talking now
        else:
            self.assigning = None
            if code == "PARLEY_E_CONFLICT":
                closed = (self.app.state.chats.get(chat_id) or {}).get("status") == "closed"
                text = t("error.assign.closed") if closed else t("error.assign.empty_team")
            elif code == "PARLEY_E_NOT_FOUND":
                text = t("error.assign.not_found")
                self.spawn(self.load_people())
            else:
                text = None
        self.app.show_banner(text or t("error.action", reason=frame.get("message") or code))
        self.app.render_conversation()
        return True

    # -- actions -----------------------------------------------------------------------------
    def on_reopen(self, event):
        state = self.app.state
        chat_id = state.current
        if not chat_id or self.reopening:
            return
        if self.app.send({"type": "chat.reopen", "chatId": chat_id}):
            self.reopening = chat_id
            self.app.hide_banner()
            self.app.render_head()
        else:
            self.app.show_banner(t("error.action", reason=t("conn.reconnecting")))

    def on_assign(self, event):
        event.preventDefault()
        state = self.app.state
        chat_id = state.current
        value = str(el("assign-to").value or "")
        if not chat_id or self.assigning or ":" not in value:
            return
        kind, target = value.split(":", 1)
        frame = {"type": "chat.assign", "chatId": chat_id}
        frame["operatorId" if kind == "operator" else "teamId"] = target
        if self.app.send(frame):
            self.assigning = chat_id
            self.app.hide_banner()
            self.app.render_head()
        else:
            self.app.show_banner(t("error.action", reason=t("conn.reconnecting")))

    # -- reply or internal note -------------------------------------------------------------
    def on_toggle_note(self, event):
        self.note_mode = not self.note_mode
        self.render_mode()
        el("reply").focus()

    def render_mode(self):
        """The composer says what Enter does: send a reply, or add an internal note."""
        toggle = el("note-toggle")
        toggle.setAttribute("aria-pressed", "true" if self.note_mode else "false")
        composer = el("composer")
        composer.className = "composer note-mode" if self.note_mode else "composer"
        reply = el("reply")
        placeholder = "conv.note.placeholder" if self.note_mode else "conv.reply.placeholder"
        reply.setAttribute("placeholder", t(placeholder))
        el("reply-label").textContent = t("conv.note") if self.note_mode else t("conv.reply")
        el("send").textContent = t("conv.note.add") if self.note_mode else t("conv.send")
        # A file always goes to the visitor: no attachments on notes.
        el("attach").hidden = self.note_mode
