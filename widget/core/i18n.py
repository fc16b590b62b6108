"""The widget's translation table, language choice, and `{placeholder}` filling.

Every user-visible string of the widget lives here, keyed by a stable name.
English is the reference: every other language has exactly its keys and uses
the same `{placeholders}`; a key missing at runtime falls back to English and
then to the key itself, so a gap shows an odd label instead of breaking the
widget.

Language choice follows the spec's `language` option: `use` overrides
`source`; source 'html' reads `<html lang>`, 'header' (the default) reads the
visitor's Accept-Language (a header string with q-values, or a list in
preference order such as `navigator.languages`). Anything unsupported ends in
English.
"""

from widget.core.lang.en import TABLE as EN
from widget.core.parameters import split_language_tag

DEFAULT_LANGUAGE = "en"

# Right-to-left scripts: the widget mirrors its layout (dir="rtl") for these.
RTL_LANGUAGES = ("ar", "he")

# Every language, in a fixed order for menus and tests; each has a module widget.core.lang.<code>.
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "ja", "ar", "he")
# Sorted: MicroPython dicts do not promise insertion order.
KEYS = tuple(sorted(EN))


def table(lang):
    """The string table of `lang` (a code from LANGUAGES), its module imported on first use.

    Only English is imported with this module: start-up loads the visitor's language
    and no other (issue 16), and a later switch imports the new one then. The module
    is in the widget's bundle like every other (build.widget_sources).
    """
    if lang not in LANGUAGES:
        raise KeyError(lang)
    if lang == DEFAULT_LANGUAGE:
        return EN
    # A non-empty fromlist makes __import__ return the module itself, on both Pythons.
    return __import__("widget.core.lang." + lang, None, None, ("TABLE",)).TABLE


class _Tables:
    """Every language's table by code (read-only), each loaded when first asked for."""

    def __getitem__(self, lang):
        return table(lang)

    def __contains__(self, lang):
        return lang in LANGUAGES

    def __iter__(self):
        return iter(LANGUAGES)

    def __len__(self):
        return len(LANGUAGES)

    def keys(self):
        return LANGUAGES

    def items(self):
        return [(lang, table(lang)) for lang in LANGUAGES]


# STRINGS["de"]: a mapping over LANGUAGES, as the tables were before they had modules.
STRINGS = _Tables()


def placeholders(text):
    """The sorted names of the `{name}` placeholders in `text`."""
    names = []
    start = text.find("{")
    while start >= 0:
        end = text.find("}", start + 1)
        if end < 0:
            break
        name = text[start + 1 : end]
        if "{" in name:
            # '{{x}': the inner brace starts the real placeholder.
            start = text.find("{", start + 1)
            continue
        if name and name not in names:
            names.append(name)
        start = text.find("{", end + 1)
    return sorted(names)


def _parse_q(text):
    # An Accept-Language weight ("0.8"); None when it is not a number, so the
    # entry is skipped like a browser would. Above 1 is treated as 1.
    if not text or text.count(".") > 1:
        return None
    for char in text:
        if not ("0" <= char <= "9" or char == "."):
            return None
    if text == ".":
        return None
    value = float(text)
    return 1.0 if value > 1 else value


def ranked_languages(accept_language):
    """Language tags in preference order from an Accept-Language string
    ('da, en-GB;q=0.8') or a list already in order (navigator.languages).

    Entries with q=0 ("not acceptable") or an unreadable q are dropped; equal
    weights keep their written order.
    """
    if isinstance(accept_language, (list, tuple)):
        return [tag.strip() for tag in accept_language if isinstance(tag, str) and tag.strip()]
    if not isinstance(accept_language, str):
        return []
    ranked = []
    index = 0
    for part in accept_language.split(","):
        pieces = part.split(";")
        tag = pieces[0].strip()
        if not tag:
            continue
        weight = 1.0
        for param in pieces[1:]:
            eq = param.find("=")
            if eq >= 0 and param[:eq].strip().lower() == "q":
                weight = _parse_q(param[eq + 1 :].strip())
        if weight is None or weight <= 0:
            continue
        # The index breaks ties: MicroPython's sort is not stable.
        ranked.append((-weight, index, tag))
        index += 1
    ranked.sort()
    return [entry[2] for entry in ranked]


def choose_language(use=None, source=None, html_lang=None, accept_language=None, supported=LANGUAGES):
    """The widget language: a code from `supported` (English when possible).

    - `use` (a 2-letter code or a tag like 'pt-BR') overrides everything; if it
      is not supported the result is the fallback, not a guess from the
      visitor's browser, since the site asked for one fixed language.
    - source 'html': the `<html lang>` value; if the page declares none, the
      visitor's languages are used; a declared but unsupported one gives the fallback.
    - source 'header' (the default, also for any other value): the first
      supported entry of `accept_language` (header string or list).
    """
    supported = [code for code in supported if isinstance(code, str)] if supported else []
    fallback = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in supported or not supported else supported[0]
    if isinstance(use, str) and use.strip():
        code = split_language_tag(use)
        return code if code in supported else fallback
    if source == "html" and isinstance(html_lang, str) and html_lang.strip():
        code = split_language_tag(html_lang)
        return code if code in supported else fallback
    for tag in ranked_languages(accept_language):
        code = split_language_tag(tag)
        if code is not None and code in supported:
            return code
    return fallback


def _text(value):
    # str() of a host object can raise; a translation must never raise. None
    # (JS undefined/null) shows as nothing rather than the word "None".
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:
        return ""


def fill(template, params):
    """Replaces `{name}` with str(params[name]); unknown placeholders stay as written."""
    out = []
    i = 0
    while True:
        start = template.find("{", i)
        if start < 0:
            break
        end = template.find("}", start + 1)
        if end < 0:
            break
        name = template[start + 1 : end]
        if name in params:
            out.append(template[i:start])
            out.append(_text(params[name]))
            i = end + 1
        else:
            out.append(template[i : start + 1])
            i = start + 1
    out.append(template[i:])
    return "".join(out)


class Translator:
    """Looks up widget strings in one language, falling back to English."""

    def __init__(self, lang=DEFAULT_LANGUAGE):
        """`lang`: a code or tag ('de', 'pt-BR'); unsupported ones mean English."""
        code = split_language_tag(lang)
        self.lang = code if code in LANGUAGES else DEFAULT_LANGUAGE
        self.is_rtl = self.lang in RTL_LANGUAGES
        # The value for the widget root's dir attribute.
        self.direction = "rtl" if self.is_rtl else "ltr"
        self._table = table(self.lang)

    def t(self, key, **params):
        """The text for `key` with `{placeholders}` filled from `params`.

        Falls back to English, then to the key itself; never raises.
        """
        template = self._table.get(key) if isinstance(key, str) else None
        if not isinstance(template, str):
            template = EN.get(key) if isinstance(key, str) else None
        if not isinstance(template, str):
            return _text(key)
        if not params:
            return template
        return fill(template, params)
