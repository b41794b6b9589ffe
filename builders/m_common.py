"""What the benchmark builders (m_arc, m_hellaswag, m_mmlu) share: checks and translation settings."""

from okapi.benchmarks import ItemSpec
from okapi.quality import (
    BackTranslationScore,
    Chatter,
    Ending,
    LangIdV2,
    LengthRatio,
    Numbers,
    Preserved,
    Refusal,
    Script,
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


def quality_checks(fields: tuple[str, ...], *, min_bt_chrf: float) -> tuple:
    """The instruction data's checks, without near-duplicate removal (HellaSwag items share
    contexts on purpose) and with `min_words=5` for copies (options are often names or titles)."""
    return (
        LangIdV2(min_letters=15),
        Script(min_fraction=0.5),
        Refusal(),
        Chatter(),
        UntranslatedV2(min_words=5, max_copied_share=0.8),
        Numbers(min_fraction=1.0),
        Preserved(min_fraction=1.0),
        Ending(),
        LengthRatio(min_z=-4.0, max_z=4.0),
        BackTranslationScore(fields, min_chrf=min_bt_chrf),  # scored when the build back-translates
    )


def checks_by_tier(fields: tuple[str, ...]) -> dict[str, tuple]:
    return {
        "high": quality_checks(fields, min_bt_chrf=40.0),
        "medium": quality_checks(fields, min_bt_chrf=35.0),
        "low": quality_checks(fields, min_bt_chrf=30.0),
    }
