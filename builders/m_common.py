"""What the benchmark builders (m_arc, m_hellaswag, m_mmlu) share: checks and translation settings."""

from okapi.benchmarks import ItemSpec
from okapi.quality import (
    BackTranslationScoreV2,
    Chatter,
    EndingV2,
    ItemFields,
    ItemValid,
    LangIdV3,
    LengthRatioV2,
    NumbersV3,
    Preserved,
    Refusal,
    ScriptV2,
    UntranslatedV2,
)
from okapi.steps.translate import TranslateSettings

BENCHMARK_LICENSE = "cc-by-nc-4.0"  # the translations; the English sets keep their own licences


def translate_settings(spec: ItemSpec) -> TranslateSettings:
    """One item per request: the question and its options share one context, are validated as a
    unit, and a failing item is asked again with the failure named."""
    return TranslateSettings(
        max_records_per_request=1, max_chars_per_request=20_000, max_attempts=3, validate_item=spec.validate
    )


def field_kinds(spec: ItemSpec, *, text_kind: str = "question") -> tuple[tuple[str, str], ...]:
    """Options are short options; the question (or context) fields are `text_kind`."""
    return tuple((name, text_kind) for name in spec.text_fields) + tuple(
        (name, "option") for name in spec.option_fields
    )


def quality_checks(spec: ItemSpec, kinds: tuple[tuple[str, str], ...], *, min_bt_chrf: float) -> tuple:
    """The instruction data's checks in their current versions, judged per kind of field, without
    near-duplicate removal (HellaSwag items share contexts on purpose) and with `min_words=5`
    for copies (options are often names or titles); plus the item checks: the builders' item
    validation (so audits run it too) and defects of single fields."""
    return (
        ItemValid(spec),
        ItemFields(spec, min_copied=2, min_phrase_words=3, min_answer_letters=4),
        LangIdV3(min_letters=15, min_field_letters=25),  # options are short: judged from 25 letters
        ScriptV2(min_fraction=0.5),
        Refusal(),
        Chatter(),
        UntranslatedV2(min_words=5, max_copied_share=0.8),
        NumbersV3(min_fraction=1.0, min_digits=2, may_spell_out=99),
        Preserved(min_fraction=1.0),
        EndingV2(kinds=kinds, max_z_open=-1.0),
        LengthRatioV2(kinds=kinds, min_z=-3.25, max_z=3.5),
        # scored when the build back-translates: the item, each field, and options against each other
        BackTranslationScoreV2(
            spec.translated, min_chrf=min_bt_chrf, min_field_chrf=min_bt_chrf - 10, options=spec.option_fields
        ),
    )


def checks_by_tier(spec: ItemSpec, kinds: tuple[tuple[str, str], ...]) -> dict[str, tuple]:
    return {
        "high": quality_checks(spec, kinds, min_bt_chrf=40.0),
        "medium": quality_checks(spec, kinds, min_bt_chrf=35.0),
        "low": quality_checks(spec, kinds, min_bt_chrf=30.0),
    }
