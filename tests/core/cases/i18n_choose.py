# choose_language: `use` overrides `source`; 'html' reads <html lang>; 'header'
# (default) reads Accept-Language (string with q-values) or navigator.languages.
from widget.core.i18n import LANGUAGES, choose_language, ranked_languages

CASES = [
    # (label, kwargs, expected)
    ("nothing at all", {}, "en"),
    ("use es", {"use": "es", "accept_language": "de"}, "es"),
    ("use pt-BR", {"use": "pt-BR"}, "pt"),
    ("use overrides html", {"use": "fr", "source": "html", "html_lang": "de"}, "fr"),
    ("use unsupported -> en", {"use": "uk", "accept_language": "ru"}, "en"),
    ("use blank is unset", {"use": "  ", "accept_language": "de"}, "de"),
    ("use non-string is unset", {"use": 5, "accept_language": "de"}, "de"),
    ("html de-AT", {"source": "html", "html_lang": "de-AT", "accept_language": "fr"}, "de"),
    ("html unsupported -> en", {"source": "html", "html_lang": "zh-CN", "accept_language": "fr"}, "en"),
    ("html missing -> header", {"source": "html", "html_lang": "", "accept_language": "fr"}, "fr"),
    ("html None -> header", {"source": "html", "html_lang": None, "accept_language": ["it"]}, "it"),
    ("header ignores html", {"source": "header", "html_lang": "de", "accept_language": "ja"}, "ja"),
    ("unknown source = header", {"source": "cookie", "html_lang": "de", "accept_language": "ja"}, "ja"),
    ("header q-values", {"accept_language": "da, en-GB;q=0.8, de;q=0.9"}, "de"),
    ("header first supported", {"accept_language": "zh-CN,zh;q=0.9,ru;q=0.8,en;q=0.7"}, "ru"),
    ("header q=0 excluded", {"accept_language": "fr;q=0, nl;q=0.1"}, "nl"),
    ("header bad q dropped", {"accept_language": "fr;q=abc, pl;q=0.5"}, "pl"),
    ("header ties keep order", {"accept_language": "ar;q=0.5, he;q=0.5"}, "ar"),
    ("header spaces, case", {"accept_language": "  PT-br ; Q=0.9 , EN ; q=0.8"}, "pt"),
    ("header wildcard only", {"accept_language": "*"}, "en"),
    ("header junk", {"accept_language": ";;,,=q;"}, "en"),
    ("navigator.languages list", {"accept_language": ["zh-TW", "he-IL", "en-US"]}, "he"),
    ("list with junk", {"accept_language": [None, 3, "", "nl-BE"]}, "nl"),
    ("supported without en", {"accept_language": "ko", "supported": ("fr", "de")}, "fr"),
    ("supported subset", {"accept_language": "de, fr", "supported": ("en", "fr")}, "fr"),
    ("supported empty", {"accept_language": "de", "supported": ()}, "en"),
]

for label, kwargs, expected in CASES:
    got = choose_language(**kwargs)
    assert got == expected, (label, got, expected)
    assert got in kwargs.get("supported", LANGUAGES) or not kwargs.get("supported", LANGUAGES)
    print(label, "->", got)

for header in ("da, en-GB;q=0.8, en;q=0.7", "a;q=0.3,b,c;q=1.5,d;q=0.300", "x;q=1.0.0, y", ""):
    print("ranked", repr(header), "->", ranked_languages(header))
assert ranked_languages("a;q=0.3,b,c;q=1.5,d;q=0.300") == ["b", "c", "a", "d"]
