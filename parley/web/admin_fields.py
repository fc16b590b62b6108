"""The admin API's checks of request bodies: each field as `parley app set`, `operator
create`, `team create` and `trigger add` check it (parley.rules), refused as a 400
`ApiError` naming the field (the admin screens show it beside the input).
"""

from __future__ import annotations

from parley import hours, protocol, rules
from parley.web.json_api import ApiError
from widget.core.config import WINDOW_COLOR_NAMES, WINDOW_COLORS, resolve_window_color

ROLES = ("operator", "admin", "bot")
# Limits beyond the CLI's: what the columns hold and what the widget takes.
MAX_ORIGINS = 100
MAX_CONDITIONS = 50
MAX_CONDITION_VALUE = 2000


def bad(field: str, message: str, status: int = 400) -> ApiError:
    return ApiError(status, protocol.E_BAD_FRAME, f"{field} {message}", field=field)


def only(body: dict, allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise bad(key, f"is not a field here; use {', '.join(allowed)}")


def string(body: dict, field: str, *, low: int = 1, high: int = 200, prefix: str = "") -> str:
    """body[field], stripped, `low` to `high` characters; errors name `prefix + field`."""
    value = body.get(field)
    if not isinstance(value, str):
        raise bad(prefix + field, "must be a string")
    value = value.strip()
    if not low <= len(value) <= high:
        raise bad(prefix + field,
                  f"must be {low} to {high} characters" if low else f"must be at most {high} characters")
    return value


def name(body: dict, field: str = "name") -> str:
    return rules.name(body.get(field), field)


def origins(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_ORIGINS:
        raise bad("origins", f"must be a list of at most {MAX_ORIGINS} origins like https://shop.example")
    origins: list[str] = []
    for index, origin in enumerate(value):
        field = f"origins[{index}]"
        if not isinstance(origin, str) or len(origin) > 300:
            raise bad(field, "must be a string like https://shop.example")
        normal = rules.origin(origin, field)
        if normal not in origins:
            origins.append(normal)
    return origins


def stored_color(value: str) -> str | None:
    """What the widget accepts for windowColor (widget.core.config.resolve_window_color),
    kept as the admin wrote it when it is one of the spec's names, else as '#rrggbb'."""
    resolved = resolve_window_color(value)
    if resolved is None:
        return None
    name = value.strip().lower()
    return name if name in WINDOW_COLORS else resolved


def appearance(value: object, current: dict | None) -> dict | None:
    """Merges the given keys into the stored appearance; null or "" unsets a key."""
    if not isinstance(value, dict):
        raise bad("appearance", f"must be an object with {', '.join(rules.APPEARANCE_KEYS)}")
    merged = dict(current or {})
    for key, item in value.items():
        field = f"appearance.{key}"
        if key not in rules.APPEARANCE_KEYS:
            raise bad(field, f"is not an appearance setting; use {', '.join(rules.APPEARANCE_KEYS)}")
        if item is None or (isinstance(item, str) and not item.strip()):
            merged.pop(key, None)
            continue
        if not isinstance(item, str):
            raise bad(field, "must be a string")
        if key == "windowColor":
            color = stored_color(item)
            if color is None:
                raise bad(field, "must be a hex colour like #1e88e5 or one of "
                          + ", ".join(WINDOW_COLOR_NAMES))
            merged[key] = color
        else:
            text = item.strip()
            if len(text) > rules.APPEARANCE_LIMITS[key]:
                raise bad(field, f"must be at most {rules.APPEARANCE_LIMITS[key]} characters")
            merged[key] = text
    return merged or None


def working_hours(value: object) -> dict | None:
    """null: open whenever an operator is online; else {spec, timezone} as `--working-hours`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("workingHours", "must be null or {spec, timezone}")
    for key in value:
        if key not in ("spec", "timezone"):
            raise bad(f"workingHours.{key}", "is not a field here; use spec, timezone")
    spec = string(value, "spec", high=1000, prefix="workingHours.")
    timezone = string(value, "timezone", high=100, prefix="workingHours.")
    try:
        return hours.parse(spec, timezone)
    except hours.HoursError as error:
        field = "workingHours.timezone" if "time zone" in str(error) else "workingHours.spec"
        raise ApiError(400, protocol.E_BAD_FRAME, f"{field}: {error}", field=field) from None


def condition(value: object, index: int) -> list[str]:
    """[parameterKey, matcher, value], checked by `parley trigger add --when`'s own parser."""
    field = f"conditions[{index}]"
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(part, str) for part in value)):
        raise bad(field, "must be [parameterKey, matcher, value] (three strings)")
    key, matcher, text = value
    if not text.strip():
        raise bad(field, "needs a value to compare with")
    if len(text) > MAX_CONDITION_VALUE:
        raise bad(field, f"value must be at most {MAX_CONDITION_VALUE} characters")
    parsed = rules.condition(f"{key} {matcher} {text}", field)
    if parsed[:2] != [key, matcher]:  # whitespace inside the key or matcher
        raise bad(field, f"has an unknown parameter or matcher: {key!r} {matcher!r}")
    return parsed


def trigger_changes(body: dict, creating: bool) -> dict:
    """Checked trigger fields as model columns (`parley trigger add`'s rules)."""
    only(body, ("message", "name", "kind", "delay", "conditions", "enabled"))
    changes: dict = {}
    if creating or "message" in body:
        changes["message"] = string(body, "message", high=5000)
    if "name" in body:
        changes["name"] = string(body, "name", low=0)
    if "kind" in body:
        if body["kind"] not in rules.TRIGGER_KINDS:
            raise bad("kind", f"must be one of {', '.join(rules.TRIGGER_KINDS)}")
        changes["kind"] = body["kind"]
    if "delay" in body:
        delay = body["delay"]
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 86400:
            raise bad("delay", "must be 0 to 86400 seconds")
        changes["delay_seconds"] = delay
    if "conditions" in body:
        conditions = body["conditions"]
        if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
            raise bad("conditions",
                      f"must be a list of at most {MAX_CONDITIONS} [parameterKey, matcher, value]")
        changes["conditions"] = [condition(item, index) for index, item in enumerate(conditions)]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise bad("enabled", "must be true or false")
        changes["enabled"] = body["enabled"]
    if not changes:
        raise bad("body", "changes nothing: give message, name, kind, delay, conditions or enabled")
    return changes


def role(body: dict) -> str:
    if body.get("role") not in ROLES:
        raise bad("role", "must be operator, admin or bot")
    return body["role"]
