import pytest

from okapi.languages import LANGUAGES, OKAPI_LANGUAGES, UnknownLanguageError, get_language, parse_languages


def test_registry_has_the_26_okapi_languages_in_their_tiers():
    assert len(OKAPI_LANGUAGES) == 26
    tiers = {t: {c for c in OKAPI_LANGUAGES if LANGUAGES[c].tier == t} for t in ("high", "medium", "low")}
    assert tiers["high"] == set("ru de zh fr es it nl vi".split())
    assert tiers["medium"] == set("id ar hu ro da sk uk ca sr hr hi".split())
    assert tiers["low"] == set("bn ta ne ml mr te kn".split())
    assert get_language("sr").script == "Latin"
    assert get_language("hi").script == "Devanagari"


def test_other_languages_by_code_and_tiers_by_name():
    assert [lang.code for lang in parse_languages("pt, vi")] == ["pt", "vi"]
    assert len(parse_languages("okapi")) == 26
    assert [lang.code for lang in parse_languages("low")] == "bn ta ne ml mr te kn".split()


def test_unknown_code_lists_the_valid_ones():
    with pytest.raises(UnknownLanguageError, match=r"unknown language code 'xx'.*valid codes: .*vi"):
        parse_languages("vi,xx")
    with pytest.raises(UnknownLanguageError, match="English is the source"):
        parse_languages("en")
