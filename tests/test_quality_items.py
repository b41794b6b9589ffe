"""Field-aware checks (issue 14): kinds of field, look-alike languages, multiple-choice items."""

from okapi.benchmarks import ItemSpec
from okapi.languages import get_language
from okapi.quality import BackTranslationScoreV2, EndingV2, ItemFields, ItemValid, LangIdV3, LengthRatioV2
from okapi.quality.lookalikes import lookalike_verdict
from okapi.records import Example

SPEC = ItemSpec(("instruction",), ("option_a", "option_b", "option_c"), "answer", ("A", "B", "C"))
KINDS = (("instruction", "question"), ("option_a", "option"), ("option_b", "option"), ("option_c", "option"))
EN = Example(
    "q1",
    {
        "instruction": "Which quantity describes how fast an object changes its position?",
        "option_a": "The speed of the object.",
        "option_b": "The mass of the object.",
        "option_c": "The colour of the object.",
    },
    meta={"answer": "A"},
)
DE = {
    "instruction": "Welche Größe beschreibt, wie schnell ein Objekt seine Position ändert?",
    "option_a": "Die Geschwindigkeit des Objekts",  # the full stop lost: not a cut
    "option_b": "Die Masse des Objekts",
    "option_c": "Die Farbe des Objekts",
}
GERMAN = get_language("de")


def de(**fields: str) -> Example:
    return Example("q1", {**DE, **fields}, "de")


def test_a_short_option_that_lost_its_full_stop_is_not_cut():
    assert EndingV2(kinds=KINDS)(de(), EN, GERMAN).keep
    assert LengthRatioV2(kinds=KINDS)(de(), EN, GERMAN).keep
    answered = de(instruction="Die Geschwindigkeit beschreibt, wie schnell ein Objekt seine Position ändert.")
    assert EndingV2(kinds=KINDS)(answered, EN, GERMAN).reason == "answered_instead"


def test_an_instruction_may_turn_a_question_into_a_polite_imperative():
    src = Example("p", {"instruction": "Can you help me plan my wedding?"})
    ru = Example("p", {"instruction": "Помоги спланировать свадьбу, пожалуйста."}, "ru")
    kinds = (("instruction", "instruction"),)
    assert EndingV2(kinds=kinds)(ru, src, get_language("ru")).keep
    assert not EndingV2()(ru, src, get_language("ru")).keep  # judged as a sentence it is an answer


def test_lookalikes_are_told_apart_only_where_the_words_say_so():
    src = Example("r", {"text": "The government said that the new law will come into force next week."})
    hindi = "सरकार ने कहा है कि नया कानून अगले सप्ताह से लागू होगा और इसमें कई बदलाव किए गए हैं।"
    marathi = "सरकारने सांगितले की नवीन कायदा पुढील आठवड्यापासून लागू होईल आणि त्यामध्ये अनेक बदल केले आहेत."
    for code in ("mr", "ne"):
        result = LangIdV3()(Example("r", {"text": hindi}, code), src, get_language(code))
        assert not result.keep and result.reason == "wrong_language", code
    assert LangIdV3()(Example("r", {"text": marathi}, "mr"), src, get_language("mr")).keep
    croatian = "Vlada je priopćila da će novi zakon stupiti na snagu sljedeći tjedan, prije izbora."
    serbian = "Vlada je saopštila da će novi zakon stupiti na snagu sledeće nedelje, pre izbora."
    assert not LangIdV3()(Example("r", {"text": croatian}, "sr"), src, get_language("sr")).keep
    assert LangIdV3()(Example("r", {"text": serbian}, "sr"), src, get_language("sr")).keep
    assert LangIdV3()(Example("r", {"text": croatian}, "hr"), src, get_language("hr")).keep
    assert lookalike_verdict("Kerajaan berkata bahawa undang-undang baharu akan berkuat kuasa", "id") == "ms"
    assert lookalike_verdict("Pemerintah mengatakan bahwa undang-undang baru akan berlaku", "id") is None
    assert lookalike_verdict("Zakon je donesen.", "sr") is None  # nothing tells them apart: ambiguous


def test_item_fields_catch_copied_options_leaks_and_foreign_scripts():
    check = ItemFields(SPEC)
    assert check(de(), EN, GERMAN).keep
    copied = de(**{name: EN.fields[name] for name in ("option_a", "option_b", "option_c")})
    assert check(copied, EN, GERMAN).reason == "untranslated_option"
    leaked = de(instruction=DE["instruction"] + " (Die Geschwindigkeit des Objekts)")
    assert check(leaked, EN, GERMAN).reason == "answer_in_question"
    hindi = get_language("hi")
    hi = Example(
        "q1",
        {
            "instruction": "कौन सी मात्रा बताती है?",
            "option_a": "वस्तु की गति",
            "option_b": "Die Masse des Objekts",
            "option_c": "वस्तु का रंग",
        },
        "hi",
    )
    assert check(hi, EN, hindi).reason == "wrong_script"


def test_item_validation_runs_as_a_check_without_the_answer_on_the_translation():
    collapsed = de(option_b=DE["option_a"])
    result = ItemValid(SPEC)(collapsed, EN, GERMAN)  # an audit's rows carry no meta
    assert not result.keep and result.reason == "duplicate_option"
    assert ItemValid(SPEC)(de(), EN, GERMAN).keep


def test_back_translation_per_field_catches_swapped_options_and_a_foreign_question():
    check = BackTranslationScoreV2(
        SPEC.translated, min_chrf=30, min_field_chrf=20, options=SPEC.option_fields
    )
    assert check(de(), EN, GERMAN, EN).keep
    swapped = Example(
        "q1", {**EN.fields, "option_a": EN.fields["option_b"], "option_b": EN.fields["option_a"]}
    )
    assert check(de(), EN, GERMAN, swapped).reason == "option_order_changed"
    other = Example("q1", {**EN.fields, "instruction": "Who wrote the novel about a whale and its captain?"})
    assert check(de(), EN, GERMAN, other).reason == "low_backtranslation_chrf"
