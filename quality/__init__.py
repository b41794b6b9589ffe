"""Pure quality checks: record → scores and (keep, reason). Never calls a model."""

from okapi.quality.checks import (
    Check,
    CheckResult,
    LangId,
    Numbers,
    Refusal,
    Script,
    Untranslated,
    apply_checks,
)

__all__ = ["Check", "CheckResult", "LangId", "Numbers", "Refusal", "Script", "Untranslated", "apply_checks"]
