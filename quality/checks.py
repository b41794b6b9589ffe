"""Checks on a translated record against its English source.

Each check is a small class with one method: (translated, source) → CheckResult with scores kept
as columns and (keep, reason). Names carry a version (`lang_id_v1`) so results stay comparable.
Thresholds are constructor arguments, set by the builders.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, ClassVar, Protocol

from okapi.languages import OKAPI_LANGUAGES, Language
from okapi.prompts.refusal import REFUSAL
from okapi.quality.text import WORDS, prose, script_fraction
from okapi.records import Example

# Labels a language identifier gives to correct text in a close relative; accepted as correct.
LOOKALIKES = {
    "sr": {"sr", "hr", "bs"},
    "hr": {"hr", "sr", "bs"},
    "hi": {"hi", "mr", "ne"},
    "mr": {"mr", "hi", "ne"},
    "ne": {"ne", "hi", "mr"},
    "ru": {"ru", "uk"},
    "uk": {"uk", "ru"},
    "id": {"id", "ms"},
}


@dataclass(frozen=True)
class CheckResult:
    scores: dict[str, Any]
    keep: bool = True
    reason: str | None = None


class Check(Protocol):
    name: ClassVar[str]
    columns: ClassVar[dict[str, type]]  # score column → type (float, int, str, bool)

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult: ...


@lru_cache(maxsize=8)
def _identifier(languages: frozenset[str]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(languages))
    return identifier


@dataclass(frozen=True)
class LangId:
    """py3langid restricted to the Okapi languages, English and the target, with look-alikes."""

    name: ClassVar[str] = "lang_id_v1"
    columns: ClassVar[dict[str, type]] = {"lang_id_label": str, "lang_id_confidence": float}
    min_letters: int = 15  # shorter texts cannot be judged and are kept

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        text = " ".join(prose(translated).split())
        labels = frozenset({*OKAPI_LANGUAGES, "en", "bs", lang.code})
        label, confidence = _identifier(labels).classify(text)
        scores = {"lang_id_label": label, "lang_id_confidence": round(float(confidence), 4)}
        if sum(ch.isalpha() for ch in text) < self.min_letters:
            return CheckResult(scores)
        if label not in LOOKALIKES.get(lang.code, {lang.code}):
            return CheckResult(scores, False, "wrong_language")
        return CheckResult(scores)


@dataclass(frozen=True)
class Script:
    """Share of letters in the language's script (names and code are often Latin, hence < 1)."""

    name: ClassVar[str] = "script_v1"
    columns: ClassVar[dict[str, type]] = {"script_fraction": float}
    min_fraction: float = 0.5

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        fraction, letters = script_fraction(prose(translated), lang.script)
        scores = {"script_fraction": round(fraction, 4)}
        keep = letters == 0 or fraction >= self.min_fraction
        return CheckResult(scores, keep, None if keep else "wrong_script")


@dataclass(frozen=True)
class ScriptV2:
    """Share of letters in the language's script, not counting words copied from the English.

    Version 1 counted names kept in Latin letters against the script, which rejected Chinese
    sentences full of English names (2% of NTREX zh); copied words are judged by the language
    ID and untranslated checks instead.
    """

    name: ClassVar[str] = "script_v2"
    columns: ClassVar[dict[str, type]] = {"script_fraction": float}
    min_fraction: float = 0.5

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        copied = set(WORDS.findall(prose(source)))
        text = " ".join(w for w in WORDS.findall(prose(translated)) if w not in copied)
        fraction, letters = script_fraction(text, lang.script)
        scores = {"script_fraction": round(fraction, 4)}
        keep = letters == 0 or fraction >= self.min_fraction
        return CheckResult(scores, keep, None if keep else "wrong_script")


@dataclass(frozen=True)
class Refusal:
    """A refusal phrase in the translation that the source did not contain."""

    name: ClassVar[str] = "refusal_v1"
    columns: ClassVar[dict[str, type]] = {"refusal": bool}

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        refused = bool(REFUSAL.search(prose(translated))) and not REFUSAL.search(prose(source))
        return CheckResult({"refusal": refused}, not refused, "refusal" if refused else None)


@dataclass(frozen=True)
class Untranslated:
    """Fields of several words that came back identical to the English source."""

    name: ClassVar[str] = "untranslated_v1"
    columns: ClassVar[dict[str, type]] = {"untranslated_fields": int}
    min_words: int = 3

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        copied = 0
        for name, value in source.fields.items():
            words = re.findall(r"[^\W\d_]{2,}", prose(source, (name,)))
            if len(words) >= self.min_words and " ".join(value.split()) == " ".join(
                (translated.fields.get(name) or "").split()
            ):
                copied += 1
        return CheckResult({"untranslated_fields": copied}, copied == 0, "untranslated" if copied else None)


def numbers(text: str) -> Counter[str]:
    """Numbers as digit strings, whatever the digits' script and the separators used."""
    found: Counter[str] = Counter()
    # 1,500 / 1.500 / 1 500 (French) / 1,5 are one number each
    for match in re.finditer(r"\d+(?:[.,]\d+|[ \u00a0\u202f]\d{3}(?!\d))*", text):
        found["".join(str(unicodedata.digit(ch)) for ch in match.group(0) if ch.isdigit())] += 1
    return found


@dataclass(frozen=True)
class Numbers:
    """Share of the source's numbers found in the translation (1.0 when the source has none)."""

    name: ClassVar[str] = "numbers_v1"
    columns: ClassVar[dict[str, type]] = {"numbers_kept": float}
    min_fraction: float = 1.0

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        wanted = numbers(prose(source))
        if not wanted:
            return CheckResult({"numbers_kept": 1.0})
        kept = sum((wanted & numbers(prose(translated))).values()) / sum(wanted.values())
        keep = kept >= self.min_fraction
        return CheckResult({"numbers_kept": round(kept, 4)}, keep, None if keep else "numbers_changed")


@dataclass
class Checked:
    kept: list[Example] = field(default_factory=list)
    rejected: list[tuple[Example, str, str]] = field(default_factory=list)  # record, reason, detail
    judged: Counter[str] = field(default_factory=Counter)  # check name → records it judged
    failed: Counter[str] = field(default_factory=Counter)  # check name → records it failed

    def pass_rates(self) -> dict[str, float]:
        return {name: round(1 - self.failed[name] / n, 4) for name, n in sorted(self.judged.items()) if n}


def _record_result(check: Check, record: Example, source: Example, lang: Language, back: Any) -> CheckResult:
    if getattr(check, "uses_backtranslation", False):
        return check(record, source, lang, back)  # type: ignore[call-arg]
    return check(record, source, lang)


def _is_per_record(check: Check) -> bool:
    return getattr(check, "per_record", True)


def check_records(
    translated: Sequence[Example],
    sources: Mapping[str, Example],
    lang: Language,
    checks: Sequence[Check],
    backtranslations: Mapping[str, Example] | None = None,
) -> Checked:
    """The per-record checks: a record passing them all is in `kept` with its scores, ready for
    the checks over the whole language (`CorpusPass`); a failing one is rejected here."""
    out = Checked()
    record_checks = [c for c in checks if _is_per_record(c)]
    corpus_columns = [name for c in checks if not _is_per_record(c) for name in c.columns]
    backtranslations = backtranslations or {}
    for record in translated:
        scores: dict[str, Any] = {}
        failed: list[str] = []
        for check in record_checks:
            result = _record_result(check, record, sources[record.id], lang, backtranslations.get(record.id))
            scores.update(result.scores)
            out.judged[check.name] += 1
            if not result.keep:
                out.failed[check.name] += 1
                failed.append(result.reason or check.name)
        if failed:
            _reject(out, record, scores | dict.fromkeys(corpus_columns), failed)
        else:
            out.kept.append(replace(record, scores={**record.scores, **scores}))  # keeps meta
    return out


class CorpusPass:
    """Checks over a whole language (such as duplicates): records are fed one by one, in order,
    after the per-record checks, so a language of any size streams through in one pass."""

    def __init__(self, checks: Sequence[Check], lang: Language):
        self.indexes = [(c, c.start(lang)) for c in checks if not _is_per_record(c)]  # type: ignore[attr-defined]

    def judge(self, record: Example, out: Checked) -> None:
        """Appends the record to `out.kept` or `out.rejected`."""
        scores: dict[str, Any] = {}
        failed: list[str] = []
        for check, index in self.indexes:
            result = index.judge(record)
            scores.update(result.scores)
            out.judged[check.name] += 1
            if not result.keep:
                out.failed[check.name] += 1
                failed.append(result.reason or check.name)
        if failed:
            _reject(out, record, scores, failed)
        else:
            out.kept.append(replace(record, scores={**record.scores, **scores}))

    def close(self) -> None:
        for _, index in self.indexes:
            index.close()


def apply_checks(
    translated: Sequence[Example],
    sources: Mapping[str, Example],
    lang: Language,
    checks: Sequence[Check],
    backtranslations: Mapping[str, Example] | None = None,
) -> Checked:
    """Score every record with every check; the first failing check names the reject reason.

    Per-record checks run first; checks over the whole language (`per_record = False`, such as
    duplicates) then see only the records that passed, in order. Every failing check's reason
    code is kept in the reject's `reject_reasons` score.
    """
    first = check_records(translated, sources, lang, checks, backtranslations)
    out = Checked(rejected=first.rejected, judged=first.judged, failed=first.failed)
    corpus = CorpusPass(checks, lang)
    for record in first.kept:
        corpus.judge(record, out)
    corpus.close()
    return out


def _reject(out: Checked, record: Example, scores: dict[str, Any], failed: list[str]) -> None:
    scored = replace(record, scores={**record.scores, **scores, "reject_reasons": failed})  # keeps meta
    out.rejected.append((scored, failed[0], "failed checks: " + ", ".join(failed)))
