# Issue 16: importing widget.core.i18n loads English only; a Translator loads its own
# language's module, and a later switch (the app offering other languages) loads the
# new one then. Same on both interpreters.
import sys

from widget.core.i18n import EN, LANGUAGES, STRINGS, Translator, table

PREFIX = "widget.core.lang."


def loaded():
    return sorted(name[len(PREFIX) :] for name in sys.modules if name.startswith(PREFIX))


print("after import:", loaded())
assert loaded() == ["en"]

de = Translator("de")
print("Translator('de'):", loaded(), "|", de.t("launcher_open"))
assert loaded() == ["de", "en"]

print("Translator('pt-BR'):", Translator("pt-BR").lang, loaded())
print("Translator('xx'):", Translator("xx").lang, loaded())
assert loaded() == ["de", "en", "pt"]

# The same table object each time: edits (tests) and lookups see one dict.
assert table("de") is STRINGS["de"] is de._table
assert table("en") is EN
assert "he" in STRINGS and "xx" not in STRINGS and None not in STRINGS
assert len(STRINGS) == len(LANGUAGES) and tuple(STRINGS) == LANGUAGES
for bad in ("xx", None, "EN"):
    try:
        table(bad)
    except KeyError:
        print("table", repr(bad), "-> KeyError")
print("STRINGS is lazy:", loaded())
print("all:", sorted(lang for lang, strings in STRINGS.items() if strings["send"]))
print("after all:", loaded())
