# The translation table loads on both interpreters, every language has every English
# key with the same placeholders, and Translator.t fills/falls back without raising.
# Translations are printed with print(text), never repr(): MicroPython escapes
# non-ASCII characters in repr where CPython does not.
from widget.core.i18n import (
    EN,
    KEYS,
    LANGUAGES,
    RTL_LANGUAGES,
    STRINGS,
    Translator,
    fill,
    placeholders,
)

assert len(KEYS) >= 40
assert tuple(sorted(STRINGS)) == tuple(sorted(LANGUAGES))
print("keys:", len(KEYS), "languages:", " ".join(LANGUAGES))

for lang in LANGUAGES:
    table = STRINGS[lang]
    assert sorted(table) == sorted(EN), lang
    same = [key for key in KEYS if lang != "en" and table[key] == EN[key]]
    assert not same, (lang, same)
    for key in KEYS:
        assert placeholders(table[key]) == placeholders(EN[key]), (lang, key)
    tr = Translator(lang)
    print(
        lang,
        tr.direction,
        "|",
        tr.t("launcher_open"),
        "|",
        tr.t("named_typing", name="Ann"),
        "|",
        tr.t("new_messages", count=3),
        "|",
        tr.t("file_too_large", max="10 MB"),
    )
    assert tr.is_rtl == (lang in RTL_LANGUAGES)

for lang in ("pt-BR", "DE", "xx", None, 42, ""):
    tr = Translator(lang)
    print("Translator", repr(lang), "->", tr.lang, tr.is_rtl)

tr = Translator("de")
print("missing key:", tr.t("no_such_key"), "|", tr.t(None), "|", tr.t(7))
print("missing param:", tr.t("named_typing"), "|", tr.t("named_typing", other=1))
print("non-string param:", tr.t("new_messages", count=None), "|", tr.t("reply_time", minutes=2.5))


class Bad:
    def __str__(self):
        raise RuntimeError("no text")


print("param whose str raises: [" + tr.t("named_typing", name=Bad()) + "]")

# A key that only English has falls back to English.
STRINGS["de"].pop("powered_by")
try:
    print("fallback to English:", Translator("de").t("powered_by"))
    assert Translator("de").t("powered_by") == EN["powered_by"]
finally:
    STRINGS["de"]["powered_by"] = "Bereitgestellt von Parley"

FILL = [
    ("{a} and {b}", {"a": 1, "b": "two"}),
    ("{{a}}", {"a": "x"}),
    ("{a", {"a": "x"}),
    ("a}", {"a": "x"}),
    ("{}", {"": "empty"}),
    ("{a}{a}", {"a": "x"}),
    ("{unknown} {a}", {"a": "x"}),
]
for template, params in FILL:
    print("fill", repr(template), "->", repr(fill(template, params)), placeholders(template))
