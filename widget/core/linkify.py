"""Splits message text into plain runs and safe links (http/https only).

The UI renders every run as text and each link as an <a> whose text is the
URL itself: no HTML from a message is ever interpreted.
"""

_SCHEMES = ("https://", "http://")
# Characters that end a URL in running text; trailing punctuation is trimmed.
_STOP = " \t\r\n<>\"'`"
_TRAILING = ".,;:!?)]}"


def split_links(text):
    """[(kind, value)] with kind 'text' or 'link', in order; never raises."""
    if not isinstance(text, str):
        return []
    parts = []
    index = 0
    lower = text.lower()
    while index < len(text):
        start = -1
        for scheme in _SCHEMES:
            found = lower.find(scheme, index)
            if found != -1 and (start == -1 or found < start):
                start = found
        if start == -1:
            break
        end = start
        while end < len(text) and text[end] not in _STOP:
            end += 1
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        url = text[start:end]
        if len(url) <= len("https://"):
            if start > index:
                parts.append(("text", text[index:start + 1]))
            else:
                parts.append(("text", text[start:start + 1]))
            index = start + 1
            continue
        if start > index:
            parts.append(("text", text[index:start]))
        parts.append(("link", url))
        index = end
    if index < len(text):
        parts.append(("text", text[index:]))
    # Merge neighbouring text runs for tidy DOM.
    merged = []
    for kind, value in parts:
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + value)
        else:
            merged.append((kind, value))
    return merged
