"""The offline corpus must cover all 26 languages consistently, or the offline server lies."""

import pytest

from okapi.languages import OKAPI_LANGUAGES, get_language
from okapi.offline.corpus import corpus_languages, sentences, table
from okapi.offline.server import translate_text
from okapi.quality import LangId, Script
from okapi.records import Example


def test_corpus_has_every_okapi_language_line_aligned():
    assert set(OKAPI_LANGUAGES) <= set(corpus_languages())
    english = sentences("en")
    assert len(english) >= 30
    for code in OKAPI_LANGUAGES:
        assert len(table(code)) == len(english), code


@pytest.mark.parametrize("code", OKAPI_LANGUAGES)
def test_corpus_text_passes_the_language_and_script_checks(code):
    lang = get_language(code)
    english = " ".join(sentences("en")[:12])
    translated = Example("x", {"text": translate_text(english, code)}, code)
    source = Example("x", {"text": english})
    assert LangId()(translated, source, lang).keep, code
    assert Script()(translated, source, lang).keep, code
    assert not LangId()(source, source, lang).keep  # English text is caught as the wrong language
