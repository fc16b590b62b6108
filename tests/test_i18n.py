"""CPython-only checks of widget.core.i18n: table completeness, language choice,
and hypothesis properties (choice always supported, translation never raises)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget.core.i18n import (
    EN,
    KEYS,
    LANGUAGES,
    RTL_LANGUAGES,
    STRINGS,
    Translator,
    choose_language,
    placeholders,
    ranked_languages,
)

OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang != "en"]
HEBREW_OR_ARABIC = re.compile("[\u0590-\u05ff\u0600-\u06ff]")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def test_required_languages_and_keys() -> None:
    required = {"en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "ja", "ar", "he"}
    assert required <= set(LANGUAGES)
    assert set(STRINGS) == set(LANGUAGES)
    assert set(RTL_LANGUAGES) == {"ar", "he"}
    assert len(KEYS) >= 40
    assert set(KEYS) == set(EN)
    for key in (
        "launcher_open",
        "launcher_close",
        "status_online",
        "status_offline",
        "composer_placeholder",
        "operator_typing",
        "offline_form_title",
        "rate_title",
        "transcript_request",
        "reconnecting",
        "file_too_large",
        "powered_by",
    ):
        assert key in EN
    assert EN["rate_title"] == "How was this chat?"
    assert EN["composer_placeholder"] == "Type your message…"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_exactly_the_english_keys(lang: str) -> None:
    assert set(STRINGS[lang]) == set(EN)
    assert all(isinstance(text, str) and text.strip() for text in STRINGS[lang].values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    for key, text in STRINGS[lang].items():
        assert sorted(set(PLACEHOLDER.findall(text))) == sorted(set(PLACEHOLDER.findall(EN[key]))), (
            lang,
            key,
        )
        assert placeholders(text) == placeholders(EN[key])


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_translations_are_not_english_copies(lang: str) -> None:
    copies = [key for key in KEYS if STRINGS[lang][key] == EN[key]]
    assert copies == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rtl_languages_are_written_in_rtl_scripts(lang: str) -> None:
    texts = STRINGS[lang].values()
    rtl_texts = sum(1 for text in texts if HEBREW_OR_ARABIC.search(text))
    if lang in RTL_LANGUAGES:
        assert rtl_texts == len(KEYS)
        assert Translator(lang).is_rtl and Translator(lang).direction == "rtl"
    else:
        assert rtl_texts == 0
        assert not Translator(lang).is_rtl and Translator(lang).direction == "ltr"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "en"),
        ({"use": "es", "source": "html", "html_lang": "de", "accept_language": "fr"}, "es"),
        ({"use": "xx", "accept_language": "fr"}, "en"),
        ({"source": "html", "html_lang": "pt-BR", "accept_language": "fr"}, "pt"),
        ({"source": "html", "html_lang": "ko", "accept_language": "fr"}, "en"),
        ({"source": "html", "accept_language": "fr"}, "fr"),
        ({"source": "header", "html_lang": "de", "accept_language": "fr-CA,fr;q=0.9"}, "fr"),
        ({"accept_language": "ko, ja;q=0.2, nl;q=0.3"}, "nl"),
        ({"accept_language": "*, de;q=0.5"}, "de"),
        ({"accept_language": ["ko-KR", "ar-EG", "en"]}, "ar"),
        ({"accept_language": "de;q=0"}, "en"),
    ],
)
def test_choose_language_table(kwargs: dict, expected: str) -> None:
    assert choose_language(**kwargs) == expected


LANGUAGE_TAGS = st.one_of(
    st.sampled_from(("en", "de-DE", "pt-BR", "zh-CN", "ko", "*", "he", "ar-SA", "xx", "")),
    st.text(max_size=8),
)
Q_VALUES = st.one_of(st.none(), st.sampled_from(("1", "0", "0.5", "0.500", "1.0", "abc", "", "2", ".7")))
HEADERS = st.lists(st.tuples(LANGUAGE_TAGS, Q_VALUES), max_size=6).map(
    lambda items: ", ".join(tag if q is None else tag + ";q=" + q for tag, q in items)
)


@given(
    use=st.one_of(st.none(), LANGUAGE_TAGS, st.integers()),
    source=st.one_of(st.none(), st.sampled_from(("html", "header", "other"))),
    html_lang=st.one_of(st.none(), LANGUAGE_TAGS),
    accept_language=st.one_of(st.none(), HEADERS, st.lists(LANGUAGE_TAGS), st.text()),
    supported=st.one_of(st.just(LANGUAGES), st.lists(st.sampled_from(LANGUAGES), min_size=1, unique=True)),
)
def test_choose_language_always_returns_a_supported_language(
    use, source, html_lang, accept_language, supported
) -> None:
    lang = choose_language(use, source, html_lang, accept_language, supported)
    assert lang in supported
    if isinstance(use, str) and use.strip():
        # `use` decides alone: the visitor's preferences never matter then.
        assert lang == choose_language(use, source, None, "he, ar", supported)


@given(st.lists(st.tuples(st.sampled_from(("de", "fr", "nl", "ja")), st.integers(1, 9))))
def test_ranked_languages_orders_by_weight_then_position(entries: list) -> None:
    header = ",".join(f"{tag}-{i};q=0.{q}" for i, (tag, q) in enumerate(entries))
    ranked = ranked_languages(header)
    expected = [f"{tag}-{i}" for i, (tag, q) in sorted(enumerate(entries), key=lambda e: -e[1][1])]
    assert ranked == expected


@given(
    lang=st.one_of(st.none(), st.sampled_from(LANGUAGES), st.text(max_size=6), st.integers()),
    key=st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.none(), st.integers()),
    params=st.dictionaries(
        st.sampled_from(("name", "count", "email", "max", "minutes", "other")),
        st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats()),
    ),
)
def test_translate_never_raises(lang, key, params) -> None:
    text = Translator(lang).t(key, **params)
    assert isinstance(text, str)
    if isinstance(key, str) and key not in EN:
        assert text == key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_filled_in_every_language(lang: str) -> None:
    values = {"name": "NAME", "count": 7, "email": "a@b.c", "max": "5 MB", "minutes": 3, "percent": 42,
              "position": 2}
    tr = Translator(lang)
    for key in KEYS:
        text = tr.t(key, **values)
        assert "{" not in text and "}" not in text, (lang, key)
        for name in placeholders(EN[key]):
            assert str(values[name]) in text


def test_missing_key_falls_back_to_english_then_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(STRINGS["fr"], "send")
    assert Translator("fr").t("send") == EN["send"]
    assert Translator("fr").t("nope") == "nope"
    assert Translator("fr-CA").t("launcher_open") == "Ouvrir le chat"
    assert Translator("tlh").lang == "en"
