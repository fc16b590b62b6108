"""`window.chaportConfig` -> one complete, validated config dict.

`normalize_config(raw, device)` never raises. Every option of the spec is present in
the result with its default filled in; each unknown key, wrong type or bad value
produces ONE warning naming its full path and that key falls back to its default.
`None` (JS undefined/null) for any option means "not given", without a warning.

Per-device overrides (`devices.configs.<device>`, and also `devices.<device>` as in
the spec's "More complete example") are deep-merged over the base config BEFORE
validation: `mobile` first (for ios and android), then the specific device; within
a device the `devices.<device>` form goes first, then `devices.configs.<device>`.
Dicts merge key by key; any other value (lists included) replaces. Warnings about a
value that came from an override name it, e.g. "devices.configs.mobile.appearance
.position[0] ...". Overrides for other devices are validated on their own so their
mistakes show up on every device; device-only cross checks are skipped for them.

Decisions where the spec is silent:
- `closeButton` and `responsive` default to None: "let the widget decide" (spec:
  close button shown when the launcher is hidden or on mobile; responsive detected).
- Appearance texts, `textStatuses` and `windowColor` default to None: "use the
  account settings". `windowColor` is stored as '#rrggbb' (see WINDOW_COLORS).
- `appearance.position` is `[side, x, y]`; missing offsets are 20; offsets are
  non-negative finite pixel numbers.
- `analytics.google.apiObject` without `api` is dropped with a warning (the spec
  says `api` is required then); `session.user` needs both `id` and `token`.
- `triggers` becomes `{'all': bool, 'enabled': [ids]|None, 'disabled': [ids]}`;
  see `trigger_enabled` for how to read it. Disabling wins over enabling.
- `countries`/`devices` include/exclude: a list counts as "set" only when it is
  non-empty. An unknown country (None) is visible unless `include` is set.
- `devices.configs` keeps the raw override dicts (for reference); the options
  they carry are already merged into the rest of the result.
- `parley` holds Parley's own options, which Chaport does not have:
  `reconnectingAfter` (ms the socket is down before "Reconnecting…" shows) and `ui`
  (false: headless, the runtime and connection with no launcher and no window; the page
  builds its own UI on `chaport.client`).
"""

from widget.core.assignments import normalize_rules

DEVICES = ("desktop", "ios", "android")
DEVICE_KEYS = ("desktop", "ios", "android", "mobile")
OPTIONS = (
    "appId",
    "analytics",
    "appearance",
    "assignments",
    "closeButton",
    "countries",
    "devices",
    "history",
    "init",
    "language",
    "launcher",
    "openIn",
    "operators",
    "parley",
    "responsive",
    "session",
    "triggers",
    "visitor",
    "visitorIntegrityHash",
)
# Parley's own options (not in the Chaport spec), under `parley`; a Chaport page never sets them.
PARLEY_OPTION_KEYS = ("reconnectingAfter", "ui")
# How long (ms) the socket is down before the window says "Reconnecting…": a quick
# reconnect shows nothing.
RECONNECTING_AFTER_MS = 4000
# Keys of the `devices` option: the spec's three plus the direct override form.
_DEVICES_OPTION_KEYS = ("include", "exclude", "configs", "desktop", "ios", "android", "mobile")
GOOGLE_APIS = ("gtag", "gtm", "ga", "gaq")
LANGUAGE_SOURCES = ("html", "header")
DEFAULT_OFFSET = 20
# Prefix of the single warning returned if validation itself fails (a bug).
INTERNAL_ERROR = "chaportConfig could not be read, using the defaults: "

# Our hex values for the spec's named window colours.
WINDOW_COLORS = {
    "dark-gray": "#424242",
    "gray": "#757575",
    "blue-gray": "#607d8b",
    "red": "#e53935",
    "pink": "#d81b60",
    "purple": "#8e24aa",
    "blue": "#1e88e5",
    "light-blue": "#039be5",
    "teal": "#00897b",
    "green": "#43a047",
    "orange": "#fb8c00",
}
# The names in the spec's order (dict order differs on MicroPython).
WINDOW_COLOR_NAMES = (
    "dark-gray",
    "gray",
    "blue-gray",
    "red",
    "pink",
    "purple",
    "blue",
    "light-blue",
    "teal",
    "green",
    "orange",
)
_HEX = "0123456789abcdef"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def default_config():
    """A fresh config with every option at its default."""
    return {
        "appId": None,
        "analytics": {"google": {"id": None, "api": None, "apiObject": None, "enabled": True}},
        "appearance": {
            "windowColor": None,
            "teamName": None,
            "onlineWelcome": None,
            "offlineWelcome": None,
            "position": ["right", DEFAULT_OFFSET, DEFAULT_OFFSET],
            "textStatuses": None,
        },
        "assignments": {"resolve": None, "rules": None, "defaultRules": None},
        "closeButton": None,
        "countries": {"include": None, "exclude": None},
        "devices": {"include": None, "exclude": None, "configs": {}},
        "history": True,
        "init": {"event": "load", "eventTarget": None, "maxDelay": 5000, "delayAfterEvent": 500},
        "language": {"use": None, "source": "header"},
        "launcher": {"show": True},
        "openIn": None,
        "operators": None,
        "parley": {"reconnectingAfter": RECONNECTING_AFTER_MS, "ui": True},
        "responsive": None,
        "session": {
            "user": {"id": None, "token": None},
            "autoStart": True,
            "persist": True,
            "cookieDomain": None,
        },
        "triggers": {"all": True, "enabled": None, "disabled": []},
        "visitor": {"name": None, "email": None, "phone": None, "notes": None, "custom": None},
        "visitorIntegrityHash": None,
    }


def _is_number(value):
    """A finite int or float, not a bool (MicroPython: bool is not an int subclass)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value - value == 0


def _tidy_number(value):
    # JS numbers may arrive as floats; 20.0 -> 20 keeps CSS and printing clean.
    if isinstance(value, float) and value - value == 0 and value == int(value):
        return int(value)
    return value


def _key_text(key):
    return key if isinstance(key, str) else repr(key)


def _join(path, key):
    key = _key_text(key)
    return path + "." + key if path else key


def resolve_window_color(value):
    """'#rrggbb' for a hex colour (#abc or #aabbcc) or a named colour, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in WINDOW_COLORS:
        return WINDOW_COLORS[text]
    if not text.startswith("#") or len(text) not in (4, 7):
        return None
    digits = text[1:]
    for c in digits:
        if c not in _HEX:
            return None
    if len(digits) == 3:
        digits = digits[0] * 2 + digits[1] * 2 + digits[2] * 2
    return "#" + digits


def parse_position(value, path="position"):
    """Parse `appearance.position` / the `updatePosition` argument.

    Accepts `[side]`, `[side, x]` or `[side, x, y]` with side 'left' or 'right' and
    offsets non-negative finite numbers of pixels (missing or None -> 20).
    Returns `(['left'|'right', x, y], None)` or `(None, error)`; `path` names the
    value in the error, e.g. "position[0] must be 'left' or 'right'".
    """
    if not isinstance(value, (list, tuple)):
        return None, f"{path} must be an array like ['right', 20, 20]"
    if len(value) > 3:
        return None, f"{path} must have at most 3 elements: [side, x, y]"
    if len(value) == 0 or not isinstance(value[0], str) or value[0] not in ("left", "right"):
        return None, f"{path}[0] must be 'left' or 'right'"
    position = [value[0], DEFAULT_OFFSET, DEFAULT_OFFSET]
    for index in (1, 2):
        if index >= len(value) or value[index] is None:
            continue
        offset = value[index]
        if not _is_number(offset) or offset < 0:
            return None, f"{path}[{index}] must be a non-negative number of pixels"
        position[index] = _tidy_number(offset)
    return position, None


def _language_code(value):
    """'en', 'pt-BR' style code normalised ('pt_br' -> 'pt-BR'), or None if invalid."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    primary = text[:2].lower()
    if len(primary) != 2 or primary[0] not in _LETTERS or primary[1] not in _LETTERS:
        return None
    if len(text) == 2:
        return primary
    region = text[3:]
    if text[2] not in "-_" or not 2 <= len(region) <= 8:
        return None
    for c in region.lower():
        if c not in _LETTERS and c not in "0123456789":
            return None
    return primary + "-" + (region.upper() if len(region) == 2 else region)


def _country_code(value):
    if not isinstance(value, str) or len(value) != 2:
        return None
    code = value.lower()
    if code[0] not in _LETTERS or code[1] not in _LETTERS:
        return None
    return code.upper()


def _deep_merge(base, override, label, origins, path):
    """`override` merged over `base` (new dict); records each replaced path's origin."""
    merged = dict(base)
    for key in override:
        value = override[key]
        where = _join(path, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value, label, origins, where)
        else:
            merged[key] = value
            origins[where] = label
    return merged


class _Checker:
    """Collects warnings; names paths, prefixing values that came from an override."""

    def __init__(self, origins, partial):
        self.warnings = []
        self.origins = origins
        # partial: checking a device override alone, so cross-option checks that
        # need the base config are skipped.
        self.partial = partial

    def name(self, path):
        dotted = path.split("[", 1)[0]
        probe = dotted
        while probe:
            label = self.origins.get(probe)
            if label is not None:
                return label + "." + path
            cut = probe.rfind(".")
            if cut < 0:
                break
            probe = probe[:cut]
        return path

    def warn(self, path, text):
        self.warnings.append(f"{self.name(path)} {text}")

    def obj(self, raw, path, keys):
        """`raw` if it is an object (warning about unknown keys), else {}."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.warn(path, "must be an object")
            return {}
        unknown = [key for key in raw if not isinstance(key, str) or key not in keys]
        for key in sorted(unknown, key=_key_text):
            self.warnings.append(f"unknown option '{self.name(_join(path, key))}'")
        return raw

    def boolean(self, section, path, key, default):
        value = section.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.warn(_join(path, key), "must be true or false")
        return default

    def text(self, section, path, key, allow_empty=False):
        value = section.get(key)
        if value is None:
            return None
        if isinstance(value, str) and (allow_empty or value.strip()):
            return value
        self.warn(_join(path, key), "must be a string" if allow_empty else "must be a non-empty string")
        return None

    def number(self, section, path, key, default):
        value = section.get(key)
        if value is None:
            return default
        if _is_number(value) and value >= 0:
            return _tidy_number(value)
        self.warn(_join(path, key), "must be a non-negative number")
        return default

    def choice(self, section, path, key, choices, default):
        value = section.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value in choices:
            return value
        self.warn(_join(path, key), "must be one of {}".format(", ".join(choices)))
        return default

    def id_list(self, value, path, check=None, what="a non-empty string"):
        """List of unique strings (mapped through `check`); bad items dropped."""
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            self.warn(path, "must be an array")
            return None
        items = []
        for index, item in enumerate(value):
            if check is not None:
                good = check(item)
            elif isinstance(item, str) and item.strip():
                good = item
            else:
                good = None
            if good is None:
                self.warn(f"{path}[{index}]", f"must be {what}")
            elif good not in items:
                items.append(good)
        return items


def _analytics(ck, raw):
    path = "analytics.google"
    analytics = ck.obj(raw, "analytics", ("google",))
    google = ck.obj(analytics.get("google"), path, ("id", "api", "apiObject", "enabled"))
    result = {
        "id": ck.text(google, path, "id"),
        "api": ck.choice(google, path, "api", GOOGLE_APIS, None),
        "apiObject": google.get("apiObject"),
        "enabled": ck.boolean(google, path, "enabled", True),
    }
    if result["apiObject"] is not None and result["api"] is None and not ck.partial:
        ck.warn(path + ".apiObject", "needs analytics.google.api; it is ignored")
        result["apiObject"] = None
    return {"google": result}


def _appearance(ck, raw):
    path = "appearance"
    section = ck.obj(
        raw,
        path,
        (
            "windowColor",
            "teamName",
            "onlineWelcome",
            "offlineWelcome",
            "position",
            "textStatuses",
        ),
    )
    color = section.get("windowColor")
    if color is not None:
        resolved = resolve_window_color(color)
        if resolved is None:
            ck.warn(
                path + ".windowColor",
                "must be a hex colour like '#a077bc' or one of {}".format(", ".join(WINDOW_COLOR_NAMES)),
            )
        color = resolved
    position = ["right", DEFAULT_OFFSET, DEFAULT_OFFSET]
    if section.get("position") is not None:
        parsed, error = parse_position(section["position"], ck.name(path + ".position"))
        if error is None:
            position = parsed
        else:
            ck.warnings.append(error)
    return {
        "windowColor": color,
        "teamName": ck.text(section, path, "teamName", allow_empty=True),
        "onlineWelcome": ck.text(section, path, "onlineWelcome", allow_empty=True),
        "offlineWelcome": ck.text(section, path, "offlineWelcome", allow_empty=True),
        "position": position,
        "textStatuses": ck.boolean(section, path, "textStatuses", None),
    }


def _assignments(ck, raw, path):
    section = ck.obj(raw, path, ("resolve", "rules", "defaultRules"))
    resolve = section.get("resolve")
    if resolve is not None and not callable(resolve):
        ck.warn(path + ".resolve", "must be a function")
        resolve = None
    result = {"resolve": resolve}
    for key in ("rules", "defaultRules"):
        rules, problems = normalize_rules(section.get(key), ck.name(path + "." + key))
        ck.warnings.extend(problems)
        result[key] = rules
    return result


def normalize_assignments(value, path="assignments"):
    """Validate the `assignments` option or the `setAssignmentRules` argument.

    Returns `({'resolve': callable|None, 'rules': [(id, condition)]|None,
    'defaultRules': [(id, condition)]|None}, warnings)`; see
    `assignments.normalize_rules` for the rule shape. `path` prefixes warnings.
    """
    ck = _Checker({}, False)
    return _assignments(ck, value, path), ck.warnings


def _list_filter(ck, raw, path, check, what):
    section = ck.obj(raw, path, ("include", "exclude"))
    return {
        "include": ck.id_list(section.get("include"), path + ".include", check, what),
        "exclude": ck.id_list(section.get("exclude"), path + ".exclude", check, what),
    }


def _device_name(value):
    return value if isinstance(value, str) and value in DEVICE_KEYS else None


def _init(ck, raw):
    path = "init"
    section = ck.obj(raw, path, ("event", "eventTarget", "maxDelay", "delayAfterEvent"))
    target = section.get("eventTarget")
    if target is not None and (
        isinstance(target, (str, bool, int, float, list, tuple, dict)) or callable(target)
    ):
        ck.warn(path + ".eventTarget", "must be an EventTarget (e.g. window or an element)")
        target = None
    return {
        "event": ck.text(section, path, "event") or "load",
        "eventTarget": target,
        "maxDelay": ck.number(section, path, "maxDelay", 5000),
        "delayAfterEvent": ck.number(section, path, "delayAfterEvent", 500),
    }


def _language(ck, raw):
    path = "language"
    section = ck.obj(raw, path, ("use", "source"))
    use = section.get("use")
    if use is not None:
        code = _language_code(use)
        if code is None:
            ck.warn(path + ".use", "must be a 2-letter language code like 'en'")
        use = code
    return {"use": use, "source": ck.choice(section, path, "source", LANGUAGE_SOURCES, "header")}


def _open_in(ck, value):
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        section = ck.obj(value, "openIn", ("selector",))
        selector = ck.text(section, "openIn", "selector")
        if selector is not None:
            return {"selector": selector}
        if section.get("selector") is None:
            ck.warn("openIn.selector", "is required")
        return None
    ck.warn("openIn", "must be a window name like '_blank' or an object like {selector: '#id'}")
    return None


def _session(ck, raw):
    path = "session"
    section = ck.obj(raw, path, ("user", "autoStart", "persist", "cookieDomain"))
    user = ck.obj(section.get("user"), path + ".user", ("id", "token"))
    user_id = ck.text(user, path + ".user", "id")
    token = ck.text(user, path + ".user", "token")
    if (user_id is None) != (token is None) and not ck.partial:
        ck.warn(path + ".user", "needs both id and token; it is ignored")
        user_id = token = None
    return {
        "user": {"id": user_id, "token": token},
        "autoStart": ck.boolean(section, path, "autoStart", True),
        "persist": ck.boolean(section, path, "persist", True),
        "cookieDomain": ck.text(section, path, "cookieDomain"),
    }


def _triggers(ck, value):
    result = {"all": True, "enabled": None, "disabled": []}
    if value is None or value is True:
        return result
    if value is False:
        result["all"] = False
        return result
    if not isinstance(value, dict):
        ck.warn("triggers", "must be false or an object like {disabled: ['trigger-id']}")
        return result
    section = ck.obj(value, "triggers", ("enabled", "disabled"))
    enabled = section.get("enabled")
    disabled = section.get("disabled")
    if enabled is False:
        result["all"] = False
    elif isinstance(enabled, (list, tuple)):
        # "enabled: [ids]" keeps only those triggers.
        result["all"] = False
        result["enabled"] = ck.id_list(enabled, "triggers.enabled")
    elif enabled is not None and enabled is not True:
        ck.warn("triggers.enabled", "must be a boolean or an array of trigger IDs")
    if disabled is True:
        result["all"] = False
    elif isinstance(disabled, (list, tuple)):
        result["disabled"] = ck.id_list(disabled, "triggers.disabled")
    elif disabled is not None and disabled is not False:
        ck.warn("triggers.disabled", "must be a boolean or an array of trigger IDs")
    return result


def trigger_enabled(triggers, trigger_id):
    """Whether the `triggers` option (normalised) lets trigger `trigger_id` run.

    A trigger runs when it is not in `disabled` and either `all` is True or it is
    listed in `enabled`.
    """
    if trigger_id in triggers.get("disabled", ()):
        return False
    if triggers.get("all", True):
        return True
    return trigger_id in (triggers.get("enabled") or ())


def _custom_value(ck, value, path):
    if value is None or isinstance(value, (str, bool)):
        return value, True
    if _is_number(value):
        return _tidy_number(value), True
    ck.warn(path, "must be a string, number or boolean")
    return None, False


def _visitor(ck, raw):
    path = "visitor"
    section = ck.obj(raw, path, ("name", "email", "phone", "notes", "custom"))
    result = {}
    for key in ("name", "email", "phone", "notes"):
        result[key] = ck.text(section, path, key, allow_empty=True)
    custom = section.get("custom")
    if custom is not None:
        if isinstance(custom, dict):
            fields = {}
            for key in sorted(custom, key=_key_text):
                where = path + ".custom." + _key_text(key)
                if not isinstance(key, str) or not key:
                    ck.warn(where, "is not a valid custom field name")
                    continue
                value, ok = _custom_value(ck, custom[key], where)
                if ok:
                    fields[key] = value
            custom = fields
        else:
            ck.warn(path + ".custom", "must be an object")
            custom = None
    result["custom"] = custom
    return result


def _devices(ck, raw):
    """The `devices` option; `configs` combines both override forms."""
    path = "devices"
    section = ck.obj(raw, path, _DEVICES_OPTION_KEYS)
    what = "one of {}".format(", ".join(DEVICE_KEYS))
    configs = {}
    for name, override in _overrides(ck, section):
        configs[name] = _deep_merge(configs.get(name, {}), override, "", {}, "")
    return {
        "include": ck.id_list(section.get("include"), path + ".include", _device_name, what),
        "exclude": ck.id_list(section.get("exclude"), path + ".exclude", _device_name, what),
        "configs": configs,
    }


def _overrides(ck, devices):
    """[(device key, override dict)] in merge order, warning about bad ones."""
    found = []
    configs = ck.obj(devices.get("configs"), "devices.configs", DEVICE_KEYS)
    for name in DEVICE_KEYS:
        forms = (
            ("devices." + name, devices.get(name)),
            ("devices.configs." + name, configs.get(name)),
        )
        for where, value in forms:
            if value is None:
                continue
            if isinstance(value, dict):
                found.append((name, value))
            else:
                ck.warn(where, "must be an object of options")
    return found


def _labelled_overrides(devices):
    """[(device key, label, override)] without any checking (done by `_devices`)."""
    found = []
    if not isinstance(devices, dict):
        return found
    configs = devices.get("configs")
    if not isinstance(configs, dict):
        configs = {}
    for name in DEVICE_KEYS:
        forms = (
            ("devices." + name, devices.get(name)),
            ("devices.configs." + name, configs.get(name)),
        )
        for label, value in forms:
            if isinstance(value, dict):
                found.append((name, label, value))
    return found


def _check(ck, raw):
    """Validate a merged raw config dict into a full config."""
    section = ck.obj(raw, "", OPTIONS)
    config = {}
    app_id = section.get("appId")
    if app_id is None:
        if not ck.partial:
            ck.warnings.append("missing required option 'appId'")
    elif not isinstance(app_id, str) or not app_id.strip():
        ck.warn("appId", "must be a non-empty string")
        app_id = None
    config["appId"] = app_id
    config["analytics"] = _analytics(ck, section.get("analytics"))
    config["appearance"] = _appearance(ck, section.get("appearance"))
    config["assignments"] = _assignments(ck, section.get("assignments"), "assignments")
    config["closeButton"] = ck.boolean(section, "", "closeButton", None)
    config["countries"] = _list_filter(
        ck, section.get("countries"), "countries", _country_code, "a 2-letter country code"
    )
    if ck.partial:
        config["devices"] = {"include": None, "exclude": None, "configs": {}}
    else:
        config["devices"] = _devices(ck, section.get("devices"))
    config["history"] = ck.boolean(section, "", "history", True)
    config["init"] = _init(ck, section.get("init"))
    config["language"] = _language(ck, section.get("language"))
    launcher = ck.obj(section.get("launcher"), "launcher", ("show",))
    config["launcher"] = {"show": ck.boolean(launcher, "launcher", "show", True)}
    config["openIn"] = _open_in(ck, section.get("openIn"))
    config["operators"] = ck.id_list(section.get("operators"), "operators")
    parley = ck.obj(section.get("parley"), "parley", PARLEY_OPTION_KEYS)
    config["parley"] = {
        "reconnectingAfter": ck.number(parley, "parley", "reconnectingAfter", RECONNECTING_AFTER_MS),
        "ui": ck.boolean(parley, "parley", "ui", True),
    }
    config["responsive"] = ck.boolean(section, "", "responsive", None)
    config["session"] = _session(ck, section.get("session"))
    config["triggers"] = _triggers(ck, section.get("triggers"))
    config["visitor"] = _visitor(ck, section.get("visitor"))
    config["visitorIntegrityHash"] = ck.text(section, "", "visitorIntegrityHash")
    return config


def _applies(name, device):
    if name == "mobile":
        return device == "ios" or device == "android"
    return name == device


def normalize_config(raw, device):
    """Validate `chaportConfig` for `device` ('desktop', 'ios' or 'android').

    `raw` is the host's config as plain Python values (JS functions as callables,
    other JS objects as opaque objects). Returns `(config, warnings)`: `config` has
    every option (see `default_config`) with device overrides applied; `warnings` is
    a list of strings, one per problem. Never raises.
    """
    try:
        return _normalize_config(raw, device)
    except Exception as error:  # a bug here must not stop the widget; report it
        return default_config(), [INTERNAL_ERROR + str(error)]


def _normalize_config(raw, device):
    warnings = []
    if device not in DEVICES:
        warnings.append("device must be one of {}; using 'desktop'".format(", ".join(DEVICES)))
        device = "desktop"
    if raw is None:
        raw = {}
    elif not isinstance(raw, dict):
        warnings.append("chaportConfig must be an object; using the defaults")
        raw = {}
    overrides = _labelled_overrides(raw.get("devices"))
    origins = {}
    merged = raw
    for _name, label, override in _applying(overrides, device):
        override = _without_devices(override, label, warnings)
        merged = _deep_merge(merged, override, label, origins, "")
    ck = _Checker(origins, False)
    config = _check(ck, merged)
    warnings.extend(ck.warnings)
    # Overrides for other devices: checked alone so typos show on every device.
    for name, label, override in overrides:
        if _applies(name, device):
            continue
        alone = {}
        side = _Checker(alone, True)
        override = _without_devices(override, label, warnings)
        _check(side, _deep_merge({}, override, label, alone, ""))
        warnings.extend(side.warnings)
    return config, warnings


def _applying(overrides, device):
    # "mobile" merges before the specific device: DEVICE_KEYS lists it last, so
    # sort the applying overrides by that rule rather than by list order.
    applying = [item for item in overrides if item[0] == "mobile" and _applies("mobile", device)]
    applying += [item for item in overrides if item[0] == device]
    return applying


def device_visitor(raw, device):
    """Where the `visitor` this device sends is: the path of keys under chaportConfig of the
    last applying device override that sets one (("devices", "configs", "ios", "visitor")),
    or None for the page's own. A device's `visitor` replaces the page's instead of merging:
    it is signed as a whole by visitorIntegrityHash, and a merge would be an object the site
    never signed (nor could: key order differs between interpreters)."""
    if not isinstance(raw, dict):
        return None
    found = None
    for _name, label, override in _applying(_labelled_overrides(raw.get("devices")), device):
        if isinstance(override.get("visitor"), dict):
            found = tuple(label.split(".")) + ("visitor",)
    return found


def _without_devices(override, label, warnings):
    if "devices" not in override:
        return override
    warnings.append(f"{label}.devices is ignored: device overrides can't be nested")
    trimmed = dict(override)
    del trimmed["devices"]
    return trimmed


def _in_devices(device, names):
    return device in names or ("mobile" in names and (device == "ios" or device == "android"))


def widget_visible_for(config, device, country):
    """Whether the widget shows for `device` and `country` (ISO code or None).

    `exclude` wins: when a non-empty exclude list is set, include is ignored. A
    non-empty include list shows the widget only for the listed entries; 'mobile'
    stands for ios and android. An unknown country (None) is hidden only when
    `countries.include` is set, as we can't prove it is one of the listed ones.
    """
    devices = config.get("devices") or {}
    exclude = devices.get("exclude")
    include = devices.get("include")
    if exclude:
        if _in_devices(device, exclude):
            return False
    elif include and not _in_devices(device, include):
        return False
    countries = config.get("countries") or {}
    exclude = countries.get("exclude")
    include = countries.get("include")
    code = country.upper() if isinstance(country, str) else None
    if exclude:
        return code is None or code not in exclude
    if include:
        return code is not None and code in include
    return True


ACCOUNT_APPEARANCE_KEYS = ("windowColor", "teamName", "onlineWelcome", "offlineWelcome")


def merge_account_appearance(appearance, account):
    """Fills what the page left unset (None) in `appearance` from the app's defaults
    (`welcome.appearance`, set by an admin in the inbox): the page always wins.
    Bad values from the server are ignored. Returns the keys it filled."""
    filled = []
    if not isinstance(account, dict):
        return filled
    for key in ACCOUNT_APPEARANCE_KEYS:
        if appearance.get(key) is not None:
            continue
        value = account.get(key)
        if key == "windowColor":
            value = resolve_window_color(value)
        elif not isinstance(value, str) or not value.strip() or len(value) > 1000:
            value = None
        if value is not None:
            appearance[key] = value
            filled.append(key)
    return filled
