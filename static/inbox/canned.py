"""Canned responses in the composer, without the DOM: which "/shortcut" is being typed,
which saved responses match it, and the reply text once one is inserted.

Pure Python for MicroPython (the page) and CPython (tests): no `re`, no `typing`.
"""

SHORTCUT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
MAX_SHORTCUT = 64
MAX_SHOWN = 8  # options shown at once in the composer's list


def _is_shortcut_char(char):
    return char in SHORTCUT_CHARS


def slash_query(text, caret):
    """(start, query) when the caret ends a "/shortcut" being typed, else None.

    The slash starts the reply or follows whitespace (a slash inside a word, as in
    "and/or" or a URL, is no shortcut); the query is what follows it up to the caret,
    letters (any case; shortcuts are lower case), digits, - and _.
    """
    if not isinstance(text, str) or caret is None:
        return None
    caret = min(max(int(caret), 0), len(text))
    start = caret - 1
    while start >= 0 and text[start] != "/":
        if not _is_shortcut_char(text[start].lower()) or caret - start > MAX_SHORTCUT:
            return None
        start -= 1
    if start < 0:
        return None
    if start > 0 and not text[start - 1].isspace():
        return None
    return start, text[start + 1:caret].lower()


def matching(responses, query):
    """The responses whose shortcut starts with `query`, then those that contain it;
    each group by shortcut, at most MAX_SHOWN."""
    query = (query or "").lower()
    first = []
    then = []
    for response in responses:
        shortcut = response.get("shortcut") or ""
        if shortcut.startswith(query):
            first.append(response)
        elif query and query in shortcut:
            then.append(response)
    first.sort(key=lambda response: response["shortcut"])
    then.sort(key=lambda response: response["shortcut"])
    return (first + then)[:MAX_SHOWN]


def insert(text, caret, start, replacement):
    """The reply with the "/query" from `start` to `caret` replaced; (text, new caret)."""
    before = text[:start]
    after = text[caret:]
    return before + replacement + after, len(before) + len(replacement)


def clean_shortcut(value):
    """What the management form sends for what was typed: no spaces or leading "/",
    lower case (the server checks the rest: 1..64 of a-z 0-9 _ -)."""
    value = (value or "").strip()
    while value.startswith("/"):
        value = value[1:]
    return value.lower()


def valid_shortcut(value):
    return 0 < len(value) <= MAX_SHORTCUT and all(_is_shortcut_char(char) for char in value)


def preview(text, limit=80):
    """One line of a response's text for the list."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[:limit - 1] + "…"
