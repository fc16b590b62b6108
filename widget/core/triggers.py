"""Visitor-side trigger state: auto-invitations and chatbots.

Triggers are defined per app on the server and arrive as dicts:

    {'id': str, 'message': str, 'kind': 'invitation' | 'bot', 'delay': seconds,
     'conditions': [[parameterKey, matcher, value], ...], 'enabled': bool}

This module decides which triggers are switched on (the `triggers` option,
`enableTriggers`, `disableTriggers`), which of them match the visitor's
parameters, which one is active (`getActiveTrigger`, `setActiveTrigger`) and
whether showing one fires `chat.autoInvitation` / `chat.botSent` (only the
first time). The caller owns timers and drawing.
"""

from widget.core.compare import compare
from widget.core.parameters import PARAMETER_KEYS

INVITATION = "invitation"
BOT = "bot"
KINDS = (INVITATION, BOT)

EVENT_FOR_KIND = {INVITATION: "chat.autoInvitation", BOT: "chat.botSent"}


def _is_number(value):
    # bool is an int subclass; `delay: true` is a server bug, not one second.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def normalise_trigger(raw):
    """Checks one server trigger; returns (trigger dict, None) or (None, error string).

    Optional fields get defaults: kind 'invitation', delay 0, no conditions
    (always matches), enabled True. A bad optional field falls back to its
    default rather than dropping the trigger, since the message is still usable.
    """
    if not isinstance(raw, dict):
        return None, "a trigger must be an object"
    trigger_id = raw.get("id")
    if not isinstance(trigger_id, str) or not trigger_id:
        return None, "a trigger needs a non-empty string id"
    message = raw.get("message")
    if not isinstance(message, str) or not message:
        return None, f"trigger '{trigger_id}' needs a non-empty string message"
    kind = raw.get("kind")
    if kind not in KINDS:
        kind = INVITATION
    delay = raw.get("delay")
    if not _is_number(delay) or not delay >= 0:  # `not >=` also rejects NaN
        delay = 0
    conditions = raw.get("conditions")
    if not isinstance(conditions, list):
        conditions = []
    enabled = raw.get("enabled")
    if not isinstance(enabled, bool):
        enabled = True
    trigger = {
        "id": trigger_id,
        "message": message,
        "kind": kind,
        "delay": delay,
        "conditions": [list(c) if isinstance(c, (list, tuple)) else c for c in conditions],
        "enabled": enabled,
    }
    return trigger, None


def condition_matches(condition, parameters):
    """True when one [parameterKey, matcher, value] condition holds for `parameters`.

    A malformed condition, an unknown parameter key or a matcher `compare`
    rejects counts as not matching: a bad rule must never show a trigger by
    accident, nor stop the other triggers from being checked.
    """
    if not isinstance(condition, (list, tuple)) or len(condition) != 3:
        return False
    key, matcher, expected = condition
    if not isinstance(key, str) or key not in PARAMETER_KEYS:
        return False
    try:
        return bool(compare(parameters.get(key), matcher, expected))
    except Exception:  # compare raises ValueError on unknown matchers; anything else is a bug too
        return False


def conditions_match(conditions, parameters):
    """True when every condition holds; an empty list always matches."""
    return all(condition_matches(condition, parameters) for condition in conditions)


def message_conditioned(trigger):
    """True when one of the trigger's conditions is on `message_text`: it can only match the
    visitor's message, when it is sent, never a page."""
    for condition in trigger.get("conditions") or ():
        if isinstance(condition, (list, tuple)) and condition and condition[0] == "message_text":
            return True
    return False


def _public(trigger):
    # getTriggerById / getActiveTrigger / event payloads expose only id and
    # message, as new dicts so host edits can't change our state.
    return {"id": trigger.get("id"), "message": trigger.get("message")}


def _id_list(ids):
    # Returns (list of ids, None) or (None, error). None means "all triggers".
    if ids is None:
        return None, None
    if isinstance(ids, str):
        return [ids], None
    if not isinstance(ids, (list, tuple)):
        return None, "trigger ids must be an array of strings"
    for trigger_id in ids:
        if not isinstance(trigger_id, str):
            return None, "trigger ids must be an array of strings"
    return list(ids), None


class TriggerState:
    """Which triggers are on, which one is active, and which were already shown."""

    def __init__(self, triggers_option=None):
        """`triggers_option`: the normalised `triggers` config option,
        {'all': bool, 'enabled': list or None, 'disabled': list}; None = all on."""
        # The page-side switch: `_all` is the default for any trigger id, `_on`
        # and `_off` are per-id exceptions to it. Per-id sets let
        # enableTriggers(ids) / disableTriggers(ids) touch only those ids.
        self._all = True
        self._on = set()
        self._off = set()
        self._triggers = []  # server order, normalised
        self._by_id = {}
        self._active = None
        self._started = False
        self._shown = []  # ids in the order first shown; a list keeps exports stable
        self._apply_option(triggers_option)

    def _apply_option(self, option):
        if not isinstance(option, dict):
            return
        enabled = option.get("enabled")
        disabled = option.get("disabled")
        # Same reading as config.trigger_enabled: on when not disabled and either
        # `all` or listed in `enabled` (the normaliser sets all=False for a list).
        self._all = option.get("all") is not False
        if isinstance(enabled, (list, tuple)):
            self._on = set(i for i in enabled if isinstance(i, str))
        if isinstance(disabled, (list, tuple)):
            for trigger_id in disabled:
                if isinstance(trigger_id, str):
                    self._off.add(trigger_id)
                    self._on.discard(trigger_id)

    def set_triggers(self, triggers):
        """Replaces the app's triggers (server order kept); returns a list of warnings.

        Invalid entries are skipped with a warning; for a repeated id the first wins.
        """
        warnings = []
        self._triggers = []
        self._by_id = {}
        if not isinstance(triggers, (list, tuple)):
            return ["triggers must be a list"] if triggers is not None else []
        for raw in triggers:
            trigger, error = normalise_trigger(raw)
            if error is not None:
                warnings.append(error)
                continue
            if trigger["id"] in self._by_id:
                warnings.append("duplicate trigger id '{}' ignored".format(trigger["id"]))
                continue
            self._triggers.append(trigger)
            self._by_id[trigger["id"]] = trigger
        return warnings

    def triggers(self):
        """Copies of all known triggers, in server order."""
        return [_copy(t) for t in self._triggers]

    def enable(self, ids=None):
        """enableTriggers: with no ids enable all; with ids enable only those,
        leaving every other trigger as it was. Returns an error string or None."""
        id_list, error = _id_list(ids)
        if error is not None:
            return error
        if id_list is None:
            self._all = True
            self._on = set()
            self._off = set()
            return None
        for trigger_id in id_list:
            self._on.add(trigger_id)
            self._off.discard(trigger_id)
        return None

    def disable(self, ids=None):
        """disableTriggers: with no ids disable all; with ids disable only those,
        without enabling any other. Returns an error string or None."""
        id_list, error = _id_list(ids)
        if error is not None:
            return error
        if id_list is None:
            self._all = False
            self._on = set()
            self._off = set()
            return None
        for trigger_id in id_list:
            self._off.add(trigger_id)
            self._on.discard(trigger_id)
        return None

    def is_enabled(self, trigger_id):
        """True when the page allows `trigger_id` and the app has not disabled it.

        A trigger disabled in the app stays disabled whatever the page says. For
        an id not (yet) known, only the page-side switch is answered.
        """
        trigger = self._by_id.get(trigger_id)
        if trigger is not None and not trigger["enabled"]:
            return False
        if trigger_id in self._off:
            return False
        if trigger_id in self._on:
            return True
        return self._all

    def matching(self, parameters):
        """Copies of the enabled triggers whose conditions all hold, in server order."""
        if not isinstance(parameters, dict):
            parameters = {}
        found = []
        for trigger in self._triggers:
            if self.is_enabled(trigger["id"]) and conditions_match(trigger["conditions"], parameters):
                found.append(_copy(trigger))
        return found

    def bot_message_event(self, message):
        """(event name, payload) for a fresh bot message from a bot login (a parley.client
        integration: author kind 'bot', its id not a trigger's), else None. A bot trigger's
        answer is not announced again here: its bubble already fired chat.botSent."""
        if not isinstance(message, dict) or message.get("authorKind") != BOT:
            return None
        author = message.get("authorId")
        if not isinstance(author, str) or author in self._by_id:
            return None
        return EVENT_FOR_KIND[BOT], {"id": author, "message": message.get("text") or ""}

    def get_by_id(self, trigger_id):
        """getTriggerById: {'id', 'message'} (a new dict) or None when unknown."""
        trigger = self._by_id.get(trigger_id) if isinstance(trigger_id, str) else None
        return _public(trigger) if trigger is not None else None

    @property
    def active(self):
        """The active trigger (full dict with kind; id None for a custom one) or None."""
        return self._active

    def set_active(self, trigger):
        """setActiveTrigger: show a known trigger (possibly with an edited message)
        or a custom {'message': str}. Returns an error string, or None when accepted.

        A custom trigger is an invitation with id None. The enabled switches do
        not apply: the host asked for it explicitly.
        """
        if self._started:
            return "a chat has already started; triggers are not shown during a chat"
        if not isinstance(trigger, dict):
            return "the trigger must be an object with a message"
        message = trigger.get("message")
        if not isinstance(message, str) or not message.strip():
            return "the trigger message must be a non-empty string"
        trigger_id = trigger.get("id")
        if trigger_id is None:
            self._active = {"id": None, "message": message, "kind": INVITATION}
            return None
        known = self._by_id.get(trigger_id) if isinstance(trigger_id, str) else None
        if known is None:
            return f"no trigger with id {trigger_id!r}; pass {{message}} alone for a custom one"
        active = _copy(known)
        active["message"] = message
        self._active = active
        return None

    def clear_active(self):
        """Forget the active trigger (e.g. the visitor dismissed it)."""
        self._active = None

    def get_active(self):
        """getActiveTrigger: {'id', 'message'} while no chat has started, else None."""
        if self._started or self._active is None:
            return None
        return _public(self._active)

    def chat_started(self):
        """The visitor started a chat: no trigger is active from now on."""
        self._started = True
        self._active = None

    @property
    def started(self):
        return self._started

    def mark_shown(self, trigger_id):
        """Records that `trigger_id` was shown; True only the first time.

        Custom triggers (id None) are never recorded and give False.
        """
        if not isinstance(trigger_id, str) or not trigger_id:
            return False
        if trigger_id in self._shown:
            return False
        self._shown.append(trigger_id)
        return True

    def shown_ids(self):
        """Ids already shown, in the order first shown (to persist across page loads)."""
        return list(self._shown)

    def restore_shown(self, ids):
        """Adds previously persisted shown ids; anything that is not a string is ignored."""
        if not isinstance(ids, (list, tuple)):
            return
        for trigger_id in ids:
            if isinstance(trigger_id, str) and trigger_id and trigger_id not in self._shown:
                self._shown.append(trigger_id)

    def forget_visitor(self):
        """Another visitor now (stopSession(true), another logged-in user): nothing was shown
        to them and no chat of theirs started. The page's own switches stay as they are."""
        self._shown = []
        self._started = False
        self._active = None

    def event_for(self, trigger):
        """(event name, payload) for showing `trigger`: chat.botSent for a bot,
        chat.autoInvitation otherwise; payload is {'id', 'message'}."""
        kind = trigger.get("kind") if isinstance(trigger, dict) else None
        name = EVENT_FOR_KIND.get(kind, EVENT_FOR_KIND[INVITATION])
        return name, _public(trigger if isinstance(trigger, dict) else {})

    def show(self, trigger):
        """Makes `trigger` (a dict from `matching`) active and returns the
        (event name, payload) to emit when it is shown for the first time, else None.

        Returns None without changing anything once a chat has started.
        """
        if self._started or not isinstance(trigger, dict):
            return None
        if self.set_active(trigger) is not None:
            return None
        if self.mark_shown(trigger.get("id")):
            return self.event_for(self._active)
        return None


def _copy(trigger):
    # One level deeper than dict(): conditions are lists the caller might edit.
    copy = dict(trigger)
    if isinstance(copy.get("conditions"), list):
        copy["conditions"] = [list(c) if isinstance(c, list) else c for c in copy["conditions"]]
    return copy
