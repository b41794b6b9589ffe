"""Pure quality checks: record → scores and (keep, reason). Never calls a model."""

from okapi.quality.backtranslation import BackTranslationScore
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
from okapi.quality.heuristics import Chatter, Ending, LengthRatio, NumbersV3, Preserved, UntranslatedV2
from okapi.quality.langid import LangIdV2

__all__ = [
    "BackTranslationScore",
    "Chatter",
    "Check",
    "CheckResult",
    "Checked",
    "CorpusPass",
    "Duplicates",
    "Ending",
    "LangId",
    "LangIdV2",
    "LengthRatio",
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
