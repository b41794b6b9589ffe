"""The version-2 checks, heuristics, duplicates and back-translation scores, one by one."""

from okapi.languages import get_language
from okapi.quality import (
    BackTranslationScore,
    Chatter,
    Duplicates,
    Ending,
    LangIdV2,
    LengthRatio,
    NumbersV3,
    Preserved,
    ScriptV2,
    UntranslatedV2,
    apply_checks,
)
from okapi.quality.heuristics import ending, significant_numbers
from okapi.records import Example

EN = {
    "instruction": "Explain why the sky is blue during a clear summer day.",
    "output": "Sunlight is scattered by the molecules of the air, and blue light is scattered the most.",
}
FR = {
    "instruction": "Explique pourquoi le ciel est bleu par une journée d'été claire.",
    "output": "La lumière du soleil est diffusée par les molécules de l'air, et la lumière bleue l'est le plus.",
}
SRC = Example("r1", EN)
FRENCH = get_language("fr")


def fr(**fields: str) -> Example:
    return Example("r1", {**FR, **fields}, "fr")


def test_lang_id_v2_judges_each_field_and_accepts_lookalikes():
    assert LangIdV2()(fr(), SRC, FRENCH).keep
    mixed = fr(output="Das Sonnenlicht wird von den Molekülen der Luft gestreut, blaues Licht am stärksten.")
    result = LangIdV2()(mixed, SRC, FRENCH)
    assert not result.keep and result.reason == "wrong_language" and result.scores["lang_id_label"] == "de"
    croatian = Example(
        "r1", {"instruction": "Objasni zašto je nebo plavo tijekom vedrog ljetnog dana."}, "sr"
    )
    assert LangIdV2()(croatian, SRC, get_language("sr")).keep  # sr/hr/bs: no identifier separates them


def test_lang_id_v2_tells_ukrainian_from_russian_by_their_own_letters():
    russian = Example(
        "r1", {"output": "Солнечный свет рассеивается молекулами воздуха, синий сильнее всего."}, "uk"
    )
    assert not LangIdV2()(russian, SRC, get_language("uk")).keep
    ukrainian = Example(
        "r1", {"output": "Сонячне світло розсіюється молекулами повітря, синє найсильніше."}, "uk"
    )
    assert LangIdV2()(ukrainian, SRC, get_language("uk")).keep


def test_script_v2_does_not_count_names_copied_from_the_english():
    src = Example("r1", {"output": "Elite League: Dundee Stars beat Belfast Giants at the SSE Arena."})
    zh = Example("r1", {"output": "Elite League：Dundee Stars 在 SSE Arena 击败 Belfast Giants。"}, "zh")
    assert ScriptV2()(zh, src, get_language("zh")).keep
    russian = Example("r1", {"output": "Команда Dundee Stars победила Belfast Giants."}, "zh")
    assert ScriptV2()(russian, src, get_language("zh")).reason == "wrong_script"


def test_length_ratio_catches_halves_and_additions_with_calibrated_spread():
    assert LengthRatio()(fr(), SRC, FRENCH).keep
    half = fr(output=FR["output"][: len(FR["output"]) // 2])
    result = LengthRatio()(half, SRC, FRENCH)
    assert result.reason == "too_short" and result.scores["length_z"] < -3
    answer = fr(output=FR["output"] + " " + " ".join([FR["instruction"]] * 4))
    assert LengthRatio()(answer, SRC, FRENCH).reason == "too_long"


def test_ending_catches_cut_text_and_questions_answered():
    assert ending("Il a dit : « Bonjour. »") == "terminal" and ending("Pourquoi ?") == "question"
    assert ending("Voici le code : ```x = 1```") == "terminal" and ending("La liste") == "open"
    cut = fr(output="La lumière du soleil est diffusée par les")
    assert Ending()(cut, SRC, FRENCH).reason == "truncated"
    question = Example("q", {"instruction": "Why is the sky blue on a clear day?"})
    answered = Example("q", {"instruction": "Le ciel est bleu à cause de la diffusion de Rayleigh."}, "fr")
    assert Ending()(answered, question, FRENCH).reason == "answered_instead"
    assert Ending()(
        Example("q", {"instruction": "Pourquoi le ciel est-il bleu ?"}, "fr"), question, FRENCH
    ).keep


def test_preserved_spans_are_checked_on_the_final_text():
    src = Example("c", {"output": "Run `pip install okapi` then see https://example.org/docs for {name}."})
    good = Example(
        "c", {"output": "Lancez `pip install okapi` puis voyez https://example.org/docs pour {name}."}, "fr"
    )
    assert Preserved()(good, src, FRENCH).scores["protected_kept"] == 1.0
    bad = Example(
        "c", {"output": "Lancez `pip installer okapi` puis voyez https://example.org/docs pour {nom}."}, "fr"
    )
    result = Preserved()(bad, src, FRENCH)
    assert result.reason == "protected_span_changed" and result.scores["protected_kept"] == 0.3333


def test_chatter_and_untranslated():
    chatty = fr(output="Bien sûr ! Voici la réponse : la lumière bleue est diffusée le plus.")
    assert Chatter()(chatty, SRC, FRENCH).reason == "answered_instead"
    assert Chatter()(fr(), SRC, FRENCH).keep
    copied = fr(output=EN["output"].replace("molecules", "molécules"))
    result = UntranslatedV2()(copied, SRC, FRENCH)
    assert result.reason == "untranslated" and result.scores["copied_share"] > 0.8
    assert UntranslatedV2()(fr(), SRC, FRENCH).scores["untranslated_fields"] == 0


def test_numbers_compares_significant_digits_or_parts():
    assert significant_numbers("380,000 people at 04:40") == significant_numbers("38 万人，4:40")
    src = Example("n", {"output": "The city of 380,000 people lost 25 buildings on 3 days."})
    russian = Example("n", {"output": "Город с населением 380 тысяч потерял 25 зданий за три дня."}, "ru")
    assert NumbersV3()(russian, src, get_language("ru")).keep  # single digits are not judged
    changed = Example("n", {"output": "Город с населением 380 тысяч потерял 52 здания."}, "ru")
    assert NumbersV3()(changed, src, get_language("ru")).reason == "numbers_changed"
    kickoff = Example("t", {"output": "The game starts at 19:30 and ends at 21:45."})
    chinese = Example("t", {"output": "比赛19点30分开始，21点45分结束。"}, "zh")
    bengali = Example("t", {"output": "খেলা ১৯ঃ৩০ মিনিটে শুরু হয়ে ২১ঃ৪৫ মিনিটে শেষ হয়।"}, "bn")
    assert NumbersV3()(chinese, kickoff, get_language("zh")).keep
    assert NumbersV3()(bengali, kickoff, get_language("bn")).keep
    moved = Example("t", {"output": "比赛19点30分开始，21点54分结束。"}, "zh")
    assert NumbersV3()(moved, kickoff, get_language("zh")).scores["numbers_kept"] == 0.5


def test_duplicates_exact_and_near_within_a_language():
    texts = [
        "Le chat dort sur le tapis rouge de la grande maison familiale.",
        "le chat dort sur le tapis rouge de la  grande maison familiale.",
        "Le chat dort sur le tapis rouge de la grande maison familiale !",
        "Une phrase tout à fait différente sur un autre sujet.",
    ]
    records = [Example(str(i), {"t": t}, "fr") for i, t in enumerate(texts)]
    results = Duplicates(max_similarity=0.9)(records, {}, FRENCH)
    assert [r.reason for r in results] == [None, "duplicate", "near_duplicate", None]
    assert results[2].scores["duplicate_of"] == "0" and results[2].scores["near_duplicate_similarity"] >= 0.9


def test_backtranslation_scores_per_field_and_record():
    check = BackTranslationScore(("instruction", "output"), min_chrf=40)
    assert check(fr(), SRC, FRENCH).scores["bt_chrf"] is None  # not back-translated: no score, kept
    good = Example(
        "r1", {"instruction": EN["instruction"], "output": EN["output"].replace("most", "strongest")}
    )
    result = check(fr(), SRC, FRENCH, good)
    assert (
        result.keep and result.scores["bt_chrf_instruction"] == 100.0 and 60 < result.scores["bt_chrf"] < 100
    )
    assert result.scores["backtranslation_output"] == good.fields["output"]
    other = Example("r1", {"instruction": "The cat sleeps on a mat.", "output": "Prices rose again in May."})
    assert check(fr(), SRC, FRENCH, other).reason == "low_backtranslation_chrf"


def test_apply_checks_runs_duplicates_on_passing_records_and_keeps_every_reason():
    sources = {i: Example(i, EN) for i in ("a", "b", "c")}
    records = [
        Example("a", FR, "fr"),
        Example("b", FR, "fr"),
        Example("c", {**FR, "output": "I'm sorry."}, "fr"),
    ]
    checks = (LangIdV2(), Chatter(), LengthRatio(), Duplicates())
    checked = apply_checks(records, sources, FRENCH, checks)
    assert [r.id for r in checked.kept] == ["a"]
    reasons = {record.id: record.scores["reject_reasons"] for record, _, _ in checked.rejected}
    assert reasons == {"b": ["duplicate"], "c": ["too_short"]}
    assert checked.judged["duplicates_v1"] == 2 and checked.pass_rates()["duplicates_v1"] == 0.5


def test_names_alone_are_no_evidence_of_language_or_copying():
    headline = Example("h", {"text": "Elite League: Dundee Stars 5-3 Belfast Giants"})
    same = Example("h", {"text": "Elite League: Dundee Stars 5-3 Belfast Giants"}, "fr")
    assert LangIdV2()(same, headline, FRENCH).keep
    assert UntranslatedV2()(same, headline, FRENCH).keep
    sentence = Example("s", {"text": "The players of Dundee Stars celebrated their win over Belfast Giants."})
    copied = Example("s", {"text": sentence.fields["text"]}, "fr")
    assert LangIdV2()(copied, sentence, FRENCH).reason == "wrong_language"
    assert UntranslatedV2()(copied, sentence, FRENCH).reason == "untranslated"


def test_unclosed_bracket_is_a_cut_and_small_numbers_may_be_words():
    src = Example("b", {"text": "Flake (a senator) was the central figure in the drama."})
    cut = Example("b", {"text": "Flake (un sénateur"}, "fr")
    assert Ending()(cut, src, FRENCH).reason == "truncated"
    boy = Example("n", {"text": "A shark injured a 13-year-old boy on Saturday."})
    words = Example("n", {"text": "Un requin a blessé un garçon de treize ans samedi."}, "fr")
    other = Example("n", {"text": "Un requin a blessé un garçon de 31 ans samedi."}, "fr")
    assert NumbersV3(may_spell_out=99)(words, boy, FRENCH).keep
    assert not NumbersV3()(words, boy, FRENCH).keep
    assert NumbersV3(may_spell_out=99)(other, boy, FRENCH).reason == "numbers_changed"
    both = Example("n", {"text": "A shark injured a 13-year-old boy and 250 fish on Saturday."})
    kept_small = Example(
        "n", {"text": "Un requin a blessé un garçon de 13 ans et des poissons samedi."}, "fr"
    )
    assert NumbersV3(may_spell_out=99)(kept_small, both, FRENCH).reason == "numbers_changed"  # 250 is gone
