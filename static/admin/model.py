"""The admin screens' pure logic: checks before sending, and how API answers read.

No browser here (tested under CPython, runs under MicroPython): the server checks
everything again with the command line's own validators; these checks only give a
quick, translated message before a request is made.
"""

# The widget's own rules, shipped beside this file as they are (build.SHARED_WITH_PAGES):
# the text colour on a window colour, and what an email address looks like.
try:
    from colors import readable_text_color
    from validation import looks_like_email
except ImportError:  # CPython (tests), where they are the widget's package
    from widget.core.colors import readable_text_color
    from widget.core.validation import looks_like_email

__all__ = ["looks_like_email", "readable_text_color"]  # main.py takes them from here

# The widget's colour when neither the page nor the app sets one (widget/browser/drawing.py).
DEFAULT_COLOR = "#3659e3"
HEX = "0123456789abcdef"
MAX_DELAY = 86400


def check_origin(text):
    """'scheme://host[:port]' normalised (lower-case, no trailing slash), or None.

    The same shape `parley app set --origin` accepts (parley.rules.origin)."""
    text = text.strip()
    lower = text.lower()
    scheme = None
    for candidate in ("http://", "https://"):
        if lower.startswith(candidate):
            scheme = candidate
    if scheme is None:
        return None
    rest = text[len(scheme):]
    if rest.endswith("/"):
        rest = rest[:-1]
    if not rest or "/" in rest or "?" in rest or "#" in rest or "@" in rest or "\\" in rest:
        return None
    for char in rest:
        if char in " \t\r\n":
            return None
    host = rest
    if host.startswith("["):  # IPv6 literal
        end = host.find("]")
        if end < 2:
            return None
        port = host[end + 1:]
        host = host[:end + 1]
    else:
        parts = host.split(":")
        if len(parts) > 2:
            return None
        host = parts[0]
        port = ":" + parts[1] if len(parts) == 2 else ""
    if not host:
        return None
    if port:
        digits = port[1:]
        if not digits or not digits.isdigit() or int(digits) > 65535:
            return None
    return scheme + rest.lower()


def resolve_color(value, names):
    """'#rrggbb' for a hex colour (#abc or #aabbcc) or one of `names` ({name: hex}), else None
    (what the widget accepts: widget.core.config.resolve_window_color)."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in names:
        return names[text]
    if not text.startswith("#") or len(text) not in (4, 7):
        return None
    digits = text[1:]
    for char in digits:
        if char not in HEX:
            return None
    if len(digits) == 3:
        digits = digits[0] * 2 + digits[1] * 2 + digits[2] * 2
    return "#" + digits


def parse_delay(text):
    """Seconds 0..86400 from the delay field, or None."""
    text = text.strip()
    if not text or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_DELAY else None


def condition_text(condition, t):
    """'Page URL contains pricing' for ["page_url", "contains", "pricing"]."""
    key, matcher, value = condition
    return "{} {} “{}”".format(t("param." + key), t("matcher." + matcher), value)


def conditions_text(conditions, t):
    if not conditions:
        return t("triggers.always")
    return "; ".join(condition_text(c, t) for c in conditions)


def error_text(status, body, t):
    """A translated sentence for a failed request (status 0: the server was not reached)."""
    code = body.get("code") if isinstance(body, dict) else None
    reason = body.get("message") if isinstance(body, dict) and body.get("message") else str(status)
    if status == 0:
        return t("error.network")
    if status == 401:
        return t("error.session")
    if code == "PARLEY_E_FORBIDDEN":
        return t("error.forbidden")
    if code == "PARLEY_E_ORIGIN":
        return t("error.origin")
    if status == 404:
        return t("error.not_found")
    if status == 413:
        return t("error.too_large")
    if status in (400, 409, 415):
        return t("error.invalid", reason=reason)
    return t("error.failed", status=status, reason=reason)


def error_field(body):
    """The field an error names (`field` in the API's error), or None."""
    if isinstance(body, dict) and isinstance(body.get("field"), str):
        return body["field"]
    return None


def display_name(operator, t, me=None):
    name = operator.get("name") or operator.get("email") or ""
    return t("operators.self", name=name) if me is not None and operator.get("id") == me else name


def non_members(operators, member_ids):
    """The operators a team could still take, in the list's order."""
    return [o for o in operators if o["id"] not in member_ids]


def trigger_label(trigger):
    """What to call a trigger in buttons and messages: its name, else its message's start."""
    name = (trigger.get("name") or "").strip()
    if name:
        return name
    message = (trigger.get("message") or "").strip()
    return message if len(message) <= 40 else message[:39] + "…"


def hours_body(spec, timezone):
    """The PATCH body for working hours, or None when a field is missing."""
    spec, timezone = spec.strip(), timezone.strip()
    if not spec or not timezone:
        return None
    return {"workingHours": {"spec": spec, "timezone": timezone}}
