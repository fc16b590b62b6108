"""Visitor parameters: the values `getParameterValue(key)` returns.

Triggers, assignment rules and `compare` all read the same ten parameters, so
they are computed once here from what the browser knows (page URL, referrer,
language, country from the server, last message text).

MicroPython has no `urllib`, so query strings are parsed by hand. The result
follows what a browser's `URLSearchParams` gives for the same text: `+` is a
space, `%XX` escapes are UTF-8 bytes, an escape that is not `%` plus two hex
digits stays as written, and bytes that are not valid UTF-8 become U+FFFD.
"""

# The spec's parameter table, in its order.
PARAMETER_KEYS = (
    "page_url",
    "message_text",
    "country",
    "language",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_term",
    "utm_campaign",
    "utm_content",
)

UTM_KEYS = ("utm_source", "utm_medium", "utm_term", "utm_campaign", "utm_content")

_HEX = "0123456789abcdefABCDEF"
_REPLACEMENT = "\ufffd"


def _utf8_decode(data):
    """Decodes a list of byte values as UTF-8, one U+FFFD per invalid subpart.

    This is the WHATWG Encoding Standard decoder (the one browsers use), written
    out because MicroPython's `bytes.decode` has no `errors='replace'`.
    """
    out = []
    needed = 0
    seen = 0
    code = 0
    lower = 0x80
    upper = 0xBF
    i = 0
    n = len(data)
    while i < n:
        byte = data[i]
        if needed == 0:
            i += 1
            if byte <= 0x7F:
                out.append(chr(byte))
            elif 0xC2 <= byte <= 0xDF:
                needed = 1
                code = byte & 0x1F
            elif 0xE0 <= byte <= 0xEF:
                # E0 and ED narrow the next byte's range: no overlong forms, no surrogates.
                if byte == 0xE0:
                    lower = 0xA0
                elif byte == 0xED:
                    upper = 0x9F
                needed = 2
                code = byte & 0x0F
            elif 0xF0 <= byte <= 0xF4:
                # F0 and F4 keep code points between U+10000 and U+10FFFF.
                if byte == 0xF0:
                    lower = 0x90
                elif byte == 0xF4:
                    upper = 0x8F
                needed = 3
                code = byte & 0x07
            else:
                out.append(_REPLACEMENT)
            continue
        if byte < lower or byte > upper:
            # The sequence so far is one invalid subpart; this byte starts afresh,
            # so it is examined again without advancing.
            out.append(_REPLACEMENT)
            needed = seen = code = 0
            lower = 0x80
            upper = 0xBF
            continue
        i += 1
        lower = 0x80
        upper = 0xBF
        code = (code << 6) | (byte & 0x3F)
        seen += 1
        if seen == needed:
            out.append(chr(code))
            needed = seen = code = 0
    if needed:
        out.append(_REPLACEMENT)
    return "".join(out)


def percent_decode(text, plus_is_space=True):
    """Decodes `%XX` escapes (as UTF-8) in `text`; with `plus_is_space`, `+` is a space.

    A `%` not followed by two hex digits is kept literally. Never raises.
    """
    if plus_is_space:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    out = []
    pending = []  # byte values of consecutive escapes, decoded together
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            pending.append(int(text[i + 1 : i + 3], 16))
            i += 3
            continue
        if pending:
            out.append(_utf8_decode(pending))
            pending = []
        out.append(char)
        i += 1
    if pending:
        out.append(_utf8_decode(pending))
    return "".join(out)


def query_string(url):
    """The part of `url` between the first `?` and the fragment, or '' when there is none."""
    if not isinstance(url, str):
        return ""
    hash_at = url.find("#")
    if hash_at >= 0:
        # A `?` inside the fragment does not start a query.
        url = url[:hash_at]
    ask_at = url.find("?")
    if ask_at < 0:
        return ""
    return url[ask_at + 1 :]


def parse_query(url):
    """Parses the query string of `url` into a {name: value} dict of strings.

    The first occurrence of a name wins; `name` without `=` has the value ''.
    Empty pieces (`a=1&&b=2`) are skipped. Anything that is not a string gives {}.
    """
    result = {}
    for piece in query_string(url).split("&"):
        if not piece:
            continue
        eq = piece.find("=")
        if eq < 0:
            name = piece
            value = ""
        else:
            name = piece[:eq]
            value = piece[eq + 1 :]
        name = percent_decode(name)
        if name not in result:
            result[name] = percent_decode(value)
    return result


def _is_ascii_letters(text):
    # str.isalpha() would accept non-ASCII letters, and CPython lowercases some of
    # them to ASCII (KELVIN SIGN -> 'k') where MicroPython does not.
    return all("a" <= char <= "z" or "A" <= char <= "Z" for char in text)


def split_language_tag(tag):
    """The 2-letter lowercase primary subtag of a language tag, or None.

    'pt-BR' -> 'pt', 'EN_us' -> 'en', ' de ' -> 'de'; '', '*', 'haw', 'e1' -> None.
    """
    if not isinstance(tag, str):
        return None
    tag = tag.strip()
    for sep in ("-", "_"):
        at = tag.find(sep)
        if at >= 0:
            tag = tag[:at]
    if len(tag) != 2 or not _is_ascii_letters(tag):
        return None
    return tag.lower()


def _text_or_none(value):
    # "Missing" covers undefined/null from JS and an empty string (document.referrer
    # is '' when there is no referrer; `?utm_source=` names no source).
    # Blank-only counts as missing too, but a real value is returned unchanged.
    if not isinstance(value, str) or not value.strip():
        return None
    return value


def parameters_for(page_url, referrer_url, language, country, message_text):
    """All ten parameters as a dict keyed by PARAMETER_KEYS; missing values are None.

    `language` is the visitor's language tag, the browser's (`navigator.language`, e.g.
    'pt-BR'), never the widget's UI language; the parameter is its 2-letter primary
    subtag ('pt'), matching the spec's `['language', '=', 'es']` ("if visitor language
    is Spanish") also on a page whose widget shows English (`language.use`). `country` is
    uppercased ('us' -> 'US'). utm_* come from the page URL's query string.
    """
    page_url = _text_or_none(page_url)
    country = _text_or_none(country)
    params = {
        "page_url": page_url,
        "message_text": _text_or_none(message_text),
        "country": country.upper() if country is not None else None,
        "language": split_language_tag(language),
        "referrer_url": _text_or_none(referrer_url),
    }
    query = parse_query(page_url) if page_url is not None else {}
    for key in UTM_KEYS:
        params[key] = _text_or_none(query.get(key))
    return params


def unknown_key_error(key):
    """An error message when `key` is not a parameter key, else None."""
    if isinstance(key, str) and key in PARAMETER_KEYS:
        return None
    return "unknown parameter {!r}; known parameters: {}".format(key, ", ".join(PARAMETER_KEYS))
