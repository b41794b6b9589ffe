"""Pure quality checks: record → scores and (keep, reason). Never calls a model."""

from okapi.quality.backtranslation import BackTranslationScore, BackTranslationScoreV2
from okapi.quality.checks import (
    Check,
    Checked,
    CheckResult,
    CorpusPass,
    LangId,
    Numbers,
    Refusal,
    Script,
    ScriptV2,
    Untranslated,
    apply_checks,
    check_records,
)
from okapi.quality.duplicates import Duplicates
from okapi.quality.heuristics import (
    Chatter,
    Ending,
    EndingV2,
    LengthRatio,
    LengthRatioV2,
    NumbersV3,
    Preserved,
    UntranslatedV2,
)
from okapi.quality.items import ItemFields, ItemValid
from okapi.quality.langid import LangIdV2, LangIdV3

# Every check class, old versions included: `okapi.quality.versions` tells the current ones.
CHECK_CLASSES = (
    BackTranslationScore,
    BackTranslationScoreV2,
    Chatter,
    Duplicates,
    Ending,
    EndingV2,
    ItemFields,
    ItemValid,
    LangId,
    LangIdV2,
    LangIdV3,
    LengthRatio,
    LengthRatioV2,
    Numbers,
    NumbersV3,
    Preserved,
    Refusal,
    Script,
    ScriptV2,
    Untranslated,
    UntranslatedV2,
)

__all__ = [
    "CHECK_CLASSES",
    "BackTranslationScore",
    "BackTranslationScoreV2",
    "Chatter",
    "Check",
    "CheckResult",
    "Checked",
    "CorpusPass",
    "Duplicates",
    "Ending",
    "EndingV2",
    "ItemFields",
    "ItemValid",
    "LangId",
    "LangIdV2",
    "LangIdV3",
    "LengthRatio",
    "LengthRatioV2",
    "Numbers",
    "NumbersV3",
    "Preserved",
    "Refusal",
    "Script",
    "ScriptV2",
    "Untranslated",
    "UntranslatedV2",
    "apply_checks",
    "check_records",
]
