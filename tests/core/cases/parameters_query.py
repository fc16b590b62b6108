# parse_query / percent_decode / split_language_tag / parameters_for, printed with
# non-ASCII escaped so both interpreters' reprs can't differ.
from widget.core.parameters import (
    PARAMETER_KEYS,
    parameters_for,
    parse_query,
    percent_decode,
    split_language_tag,
    unknown_key_error,
)


def show(value):
    if value is None:
        return "None"
    out = []
    for char in value:
        code = ord(char)
        out.append(char if 0x20 <= code < 0x7F else "\\u{:04x}".format(code))
    return "'" + "".join(out) + "'"


def show_dict(d):
    return "{" + ", ".join(show(k) + ": " + show(d[k]) for k in sorted(d)) + "}"


QUERY_CASES = [
    ("https://x.com/p?utm_source=google&utm_medium=cpc", {"utm_source": "google", "utm_medium": "cpc"}),
    ("https://x.com/p", {}),
    ("https://x.com/p?", {}),
    ("?a=1&&b=2&", {"a": "1", "b": "2"}),
    ("?a=1&a=2", {"a": "1"}),
    ("?a&b=", {"a": "", "b": ""}),
    ("?q=hello+world", {"q": "hello world"}),
    ("?q=a%2Bb", {"q": "a+b"}),
    ("?q=caf%C3%A9", {"q": "caf\u00e9"}),
    ("?q=%E2%82%AC%20", {"q": "\u20ac "}),
    ("?q=%F0%9F%98%80", {"q": "\U0001f600"}),
    ("?q=%zz%4%", {"q": "%zz%4%"}),
    ("?q=%%41", {"q": "%A"}),
    ("?q=%C3", {"q": "\ufffd"}),
    ("?q=%C3%28", {"q": "\ufffd("}),
    ("?q=%E2%82", {"q": "\ufffd"}),
    ("?q=%ED%A0%80", {"q": "\ufffd\ufffd\ufffd"}),
    ("?q=%C0%AF", {"q": "\ufffd\ufffd"}),
    ("?q=%FF", {"q": "\ufffd"}),
    ("?q=%c3%a9", {"q": "\u00e9"}),
    ("?q=1#frag?x=2", {"q": "1"}),
    ("https://x.com/#a?utm_source=no", {}),
    ("?a=b=c", {"a": "b=c"}),
    ("?%61=1&a=2", {"a": "1"}),
    ("?=v", {"": "v"}),
    ("?q=\u00e9t\u00e9", {"q": "\u00e9t\u00e9"}),
    (None, {}),
    (42, {}),
]

for url, expected in QUERY_CASES:
    got = parse_query(url)
    assert got == expected, (url, got, expected)
    print("parse_query", show(url) if isinstance(url, str) else repr(url), "->", show_dict(got))

assert percent_decode("a+b", plus_is_space=False) == "a+b"
assert percent_decode("a+b") == "a b"
print("percent_decode plus kept:", show(percent_decode("a+b%20c", plus_is_space=False)))

TAG_CASES = [
    ("pt-BR", "pt"),
    ("EN", "en"),
    ("en_US", "en"),
    (" de ", "de"),
    ("zh-Hant-TW", "zh"),
    ("", None),
    ("*", None),
    ("haw", None),
    ("e1", None),
    ("i-klingon", None),
    ("\u212aa", None),
    ("-en", None),
    (None, None),
    (7, None),
]
for tag, expected in TAG_CASES:
    got = split_language_tag(tag)
    assert got == expected, (tag, got)
    print("split_language_tag", show(tag) if isinstance(tag, str) else repr(tag), "->", show(got))

params = parameters_for(
    "https://shop.example.com/pricing?utm_source=news%20letter&utm_campaign=spring+sale"
    "&utm_source=second&utm_medium=&utm_term=%E6%97%A5%E6%9C%AC#utm_content=no",
    "https://www.google.com/",
    "pt-BR",
    "us",
    "Hello, I need help",
)
assert tuple(sorted(params)) == tuple(sorted(PARAMETER_KEYS))
assert params["utm_source"] == "news letter"
assert params["utm_campaign"] == "spring sale"
assert params["utm_medium"] is None
assert params["utm_term"] == "\u65e5\u672c"
assert params["utm_content"] is None
assert params["language"] == "pt"
assert params["country"] == "US"
print("parameters_for", show_dict(params))

empty = parameters_for(None, "", None, "", "   ")
assert all(empty[key] is None for key in PARAMETER_KEYS)
print("parameters_for empty", show_dict(empty))

print("unknown_key_error page_url:", unknown_key_error("page_url"))
print("unknown_key_error bogus:", unknown_key_error("bogus"))
assert unknown_key_error("bogus") is not None
assert unknown_key_error(None) is not None
