from collections import Counter

from okapi.languages import get_language
from okapi.quality import LangId, Numbers, Refusal, Script, Untranslated, apply_checks
from okapi.quality.checks import numbers
from okapi.records import Example

SRC = Example(
    "r1", {"instruction": "Plant 20 trees in the school garden.", "output": "We planted 1,500 trees."}
)


def tr(lang: str, instruction: str, output: str) -> Example:
    return Example("r1", {"instruction": instruction, "output": output}, lang)


def test_lang_id_catches_wrong_language_and_accepts_lookalikes():
    de = tr("vi", "Pflanze 20 Bäume im Schulgarten.", "Wir haben 1.500 Bäume gepflanzt.")
    result = LangId()(de, SRC, get_language("vi"))
    assert not result.keep and result.reason == "wrong_language" and result.scores["lang_id_label"] == "de"
    hr = tr("sr", "Posadi 20 stabala u školskom vrtu.", "Posadili smo 1.500 stabala u vrtu škole.")
    assert LangId()(hr, SRC, get_language("sr")).keep  # sr/hr/bs cannot be told apart reliably
    assert LangId()(tr("vi", "Ok.", "Ok."), SRC, get_language("vi")).keep  # too short to judge


def test_script_share():
    cyrillic = tr("hi", "Посадите 20 деревьев.", "Мы посадили 1500 деревьев.")
    result = Script()(cyrillic, SRC, get_language("hi"))
    assert not result.keep and result.reason == "wrong_script" and result.scores["script_fraction"] == 0.0
    assert Script()(tr("hi", "20 पेड़ लगाइए।", "हमने 1500 पेड़ लगाए।"), SRC, get_language("hi")).keep


def test_refusal_and_untranslated():
    refused = tr("fr", "Plantez 20 arbres.", "I'm sorry, but I can't help with that.")
    assert Refusal()(refused, SRC, get_language("fr")).reason == "refusal"
    copied = tr("fr", "Plant 20 trees in the school garden.", "Nous avons planté 1 500 arbres.")
    result = Untranslated()(copied, SRC, get_language("fr"))
    assert result.reason == "untranslated" and result.scores["untranslated_fields"] == 1


def test_numbers_survive_other_digits_and_separators():
    assert numbers("১,৫০০ and 20") == Counter({"1500": 1, "20": 1})
    bengali = tr("bn", "স্কুলের বাগানে ২০টি গাছ লাগাও।", "আমরা ১,৫০০টি গাছ লাগিয়েছি।")
    assert Numbers()(bengali, SRC, get_language("bn")).keep
    lost = tr("fr", "Plantez vingt arbres.", "Nous avons planté 1 500 arbres.")
    result = Numbers()(lost, SRC, get_language("fr"))
    assert result.reason == "numbers_changed" and result.scores["numbers_kept"] == 0.5


def test_apply_checks_keeps_every_score_and_names_the_first_failure():
    good = tr("fr", "Plantez 20 arbres dans le jardin de l'école.", "Nous avons planté 1 500 arbres.")
    bad = Example("r2", {"instruction": "Plant 20 trees in the school garden.", "output": "I'm sorry."}, "fr")
    checks = (LangId(), Script(), Refusal(), Untranslated(), Numbers())
    sources = {"r1": SRC, "r2": Example("r2", dict(SRC.fields))}
    checked = apply_checks([good, bad], sources, get_language("fr"), checks)
    assert [r.id for r in checked.kept] == ["r1"]
    assert set(checked.kept[0].scores) == {c for check in checks for c in check.columns}
    record, reason, detail = checked.rejected[0]
    assert record.id == "r2" and reason == "wrong_language" and "untranslated" in detail
