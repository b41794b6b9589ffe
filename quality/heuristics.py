"""Heuristic checks, field by field, against the English source: length, ending, spans, chatter, copies.

Each class is one check with thresholds as constructor arguments (set per tier in the builders)
and scores kept as columns. Only fields the source has text in are judged.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from okapi.languages import Language
from okapi.prompts.protect import MARKER, protect
from okapi.quality.calibration import DEFAULT_LENGTH_RATIO, KIND_SPREAD, LENGTH_RATIO
from okapi.quality.checks import CheckResult
from okapi.quality.text import english_names, prose
from okapi.records import Example


@lru_cache(maxsize=16384)  # every check asks for the same fields' text
def bare(text: str) -> str:
    """The translatable text: code, URLs and placeholders removed, whitespace collapsed."""
    return " ".join(MARKER.sub(" ", protect(text).text).split())


def prose_length(text: str) -> int:
    return len(bare(text))


def length_z(english: str, translation: str, code: str) -> float:
    """How unusual the translation's length is for the language, in calibrated standard deviations."""
    centre, a, b = LENGTH_RATIO.get(code, DEFAULT_LENGTH_RATIO)
    n_en = max(prose_length(english), 1)
    return (math.log(max(prose_length(translation), 1) / n_en) - centre) / math.sqrt(a * a + b * b / n_en)


# Kinds of field a builder names (field → kind): their lengths and endings vary differently.
SENTENCE, QUESTION, INSTRUCTION, ANSWER, OPTION = "sentence", "question", "instruction", "answer", "option"
KINDS = (SENTENCE, QUESTION, INSTRUCTION, ANSWER, OPTION)
FieldKinds = tuple[tuple[str, str], ...]  # ((field, kind), ...): a tuple keeps checks hashable


def kind_of(name: str, kinds: FieldKinds) -> str:
    """The kind a builder gave the field; fields it did not name are news-like sentences."""
    return dict(kinds).get(name, SENTENCE)


def kind_z(english: str, translation: str, code: str, kind: str) -> float:
    """`length_z` for a kind of field: centre and spread measured on human translations of that kind."""
    shift, scale = KIND_SPREAD.get(kind, (0.0, 1.0))
    return (length_z(english, translation, code) - shift) / scale


def _fields(translated: Example, source: Example):
    """(name, English, translation) for every field whose English has letters."""
    for name, english in source.fields.items():
        if any(ch.isalpha() for ch in bare(english)):
            yield name, english, translated.fields.get(name) or ""


def _judge_lengths(
    translated: Example, source: Example, z_of: Callable[[str, str, str], float], min_z: float, max_z: float
) -> CheckResult:
    """The length checks' verdict: the most extreme field's z (`z_of(name, english, translation)`)
    decides; the record's overall ratio is kept too."""
    total_en = total_tr = 0
    extreme = 0.0
    for name, english, translation in _fields(translated, source):
        total_en, total_tr = total_en + prose_length(english), total_tr + prose_length(translation)
        z = z_of(name, english, translation)
        extreme = z if abs(z) > abs(extreme) else extreme
    if not total_en:
        return CheckResult({"length_ratio": None, "length_z": None})
    scores = {"length_ratio": round(total_tr / total_en, 4), "length_z": round(extreme, 3)}
    if extreme < min_z:
        return CheckResult(scores, False, "too_short")
    if extreme > max_z:
        return CheckResult(scores, False, "too_long")
    return CheckResult(scores)


@dataclass(frozen=True)
class LengthRatio:
    """Characters of translation per English character, as a z-score for the language.

    Calibrated on NTREX-128 (quality/calibration.py): z = (log ratio − centre) / sigma(L) with
    sigma(L)² = a² + b²/L, so short texts get the wider margin they need. The most extreme
    field decides; the record's overall ratio is kept too.
    """

    name: ClassVar[str] = "length_ratio_v1"
    columns: ClassVar[dict[str, type]] = {"length_ratio": float, "length_z": float}
    min_z: float = -3.0
    max_z: float = 3.0

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        def z_of(name: str, english: str, translation: str) -> float:
            return length_z(english, translation, lang.code)

        return _judge_lengths(translated, source, z_of, self.min_z, self.max_z)


@dataclass(frozen=True)
class LengthRatioV2:
    """Length against the English as a z-score for the language and the kind of field (option, question, instruction, answer).

    Version 1 judged every field as a news sentence: on real benchmark translations short options
    and long answers drew most of its false rejects. Each kind's centre and spread come from human
    translations of that kind (quality/calibration.py, KIND_SPREAD).
    """

    name: ClassVar[str] = "length_ratio_v2"
    columns: ClassVar[dict[str, type]] = {"length_ratio": float, "length_z": float}
    kinds: FieldKinds = ()
    min_z: float = -3.0
    max_z: float = 3.0

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        def z_of(name: str, english: str, translation: str) -> float:
            return kind_z(english, translation, lang.code, kind_of(name, self.kinds))

        return _judge_lengths(translated, source, z_of, self.min_z, self.max_z)


_CLOSERS = "\"'“”„‘’‚«»‹›)]」』*_"  # quotes close either way round across languages
_QUESTION = frozenset("?？؟")
_TERMINAL = frozenset(".!。！।॥۔…:：") | _QUESTION


def ending(text: str) -> str:
    """'question', 'terminal' or 'open' (no sentence-final punctuation) at the end of the prose."""
    tail = MARKER.sub("", protect(text).text).rstrip().rstrip(_CLOSERS).rstrip()
    if not tail:
        return "open"
    if tail[-1] in _QUESTION:
        return "question"
    return "terminal" if tail[-1] in _TERMINAL else "open"


_BRACKETS = {"(": ")", "（": "）", "[": "]", "「": "」", "『": "』", "《": "》", "【": "】"}


def unclosed(text: str) -> int:
    """Brackets opened and never closed: a translation cut inside "(Midsomer Norton)" leaves one.

    Quotes are left out: NTREX's human translators mix “ ” „ and " freely (closing “” pairs
    rejected 4-5% of genuine bn/de/zh pairs)."""
    return sum(max(text.count(opening) - text.count(closing), 0) for opening, closing in _BRACKETS.items())


@dataclass(frozen=True)
class Ending:
    """A field whose English ends a sentence must end one too, and a question must stay a question.

    A translation cut short (truncated output, max_tokens) loses its final punctuation and is
    shorter than usual; a model that answered a question instead of translating it ends with a
    statement. Human translators drop a final full stop now and then (Arabic, Malayalam in
    NTREX), so an open ending counts as truncation only when the field is also short
    (length z below `max_z_open`). A bracket left open that the English closes is a cut too.
    """

    name: ClassVar[str] = "ending_v1"
    columns: ClassVar[dict[str, type]] = {"ending_kept": bool}
    max_z_open: float = -0.5

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        reason = None
        for _, english, translation in _fields(translated, source):
            want, got = ending(english), ending(translation)
            short = length_z(english, translation, lang.code) < self.max_z_open
            if (want != "open" and got == "open" and short) or unclosed(translation) > unclosed(english):
                reason = reason or "truncated"
            elif want == "question" and got != "question":
                reason = reason or "answered_instead"
        return CheckResult({"ending_kept": reason is None}, reason is None, reason)


@dataclass(frozen=True)
class EndingV2:
    """A field must not be cut short, nor a question answered instead of translated, judged per kind of field.

    - option: a final full stop lost (or added) is not a cut: "Speed." → "Geschwindigkeit" is
      how translators write options; only a bracket left open counts.
    - instruction: a question may become a polite imperative and back ("Can you help me plan…?"
      → "Помоги спланировать…, пожалуйста."), so only a cut is judged.
    - question, sentence, answer: as version 1.
    """

    name: ClassVar[str] = "ending_v2"
    columns: ClassVar[dict[str, type]] = {"ending_kept": bool}
    kinds: FieldKinds = ()
    max_z_open: float = -0.5

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        reason = None
        for name, english, translation in _fields(translated, source):
            kind = kind_of(name, self.kinds)
            want, got = ending(english), ending(translation)
            if unclosed(translation) > unclosed(english):
                reason = reason or "truncated"
            elif kind == OPTION:
                continue
            elif (
                want != "open"
                and got == "open"
                and kind_z(english, translation, lang.code, kind) < self.max_z_open
            ):
                reason = reason or "truncated"
            elif want == "question" and got != "question" and kind != INSTRUCTION:
                reason = reason or "answered_instead"
        return CheckResult({"ending_kept": reason is None}, reason is None, reason)


@dataclass(frozen=True)
class Preserved:
    """Code blocks, inline code, URLs and placeholders of the source appear unchanged in the translation.

    The translation step restores them from markers; this check reads the final text, so it also
    covers translations made elsewhere (audits).
    """

    name: ClassVar[str] = "preserved_v1"
    columns: ClassVar[dict[str, type]] = {"protected_kept": float}
    min_fraction: float = 1.0

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        wanted = total = 0
        for name, english in source.fields.items():
            spans = Counter(protect(english).spans)
            text = translated.fields.get(name) or ""
            total += sum(spans.values())
            wanted += sum(min(n, text.count(span)) for span, n in spans.items())
        if not total:
            return CheckResult({"protected_kept": 1.0})
        kept = wanted / total
        keep = kept >= self.min_fraction
        return CheckResult(
            {"protected_kept": round(kept, 4)}, keep, None if keep else "protected_span_changed"
        )


# How assistants open an answer or wrap a translation, in English and the high-tier languages.
_CHATTER = re.compile(
    r"^\W*(?:sure\b|certainly\b|of course\b|absolutely\b|here(?:'s| is| are)\b|as an ai\b|"
    r"(?:the )?translation\b|translated\b|bien sûr\b|voici\b|claro\b|por supuesto\b|aquí (?:tienes|está)\b|"
    r"natürlich\b|gerne\b|hier (?:ist|sind)\b|certo\b|ecco\b|natuurlijk\b|hier is\b|конечно\b|вот\b|"
    r"звичайно\b|ось\b|当然|好的|以下是|chắc chắn\b|dưới đây là\b|tentu\b|berikut\b)",
    re.IGNORECASE,
)
# The English already says it ("He is of course…"): then the translation may too.
_ENGLISH_CHATTER = re.compile(r"\b(?:sure|certainly|of course|absolutely|here|as an|translat)", re.IGNORECASE)


@dataclass(frozen=True)
class Chatter:
    """A field that opens like an assistant's reply ("Sure! Here is…") where the English does not."""

    name: ClassVar[str] = "chatter_v1"
    columns: ClassVar[dict[str, type]] = {"chatter": bool}

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        found = any(
            _CHATTER.match(bare(translation)) and not _ENGLISH_CHATTER.search(bare(english)[:60])
            for _, english, translation in _fields(translated, source)
        )
        return CheckResult({"chatter": found}, not found, "answered_instead" if found else None)


_NUMBER = re.compile(r"\d+(?:[.,:]\d+|[ \u00a0\u202f]\d{3}(?!\d))*")


def _significant(digits: str) -> str:
    return digits.strip("0") or "0"


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdigit())


def significant_numbers(text: str) -> Counter[str]:
    """Numbers by their significant digits: 380,000 and "380 тысяч" / "38 万" are the same number.

    Leading and trailing zeros are dropped (04:00 is 4:00; thousands and 万 move zeros into
    words), and a time or ratio's ':' joins its parts like a decimal separator does.
    """
    return Counter(_significant(_digits(match.group(0))) for match in _NUMBER.finditer(text))


def digit_groups(text: str) -> Counter[str]:
    """Every run of digits on its own, by significant digits: 19:30 = "১৯ঃ৩০" = 19点30分 = 4.40 → 4 and 40."""
    return Counter(_significant(_digits(run)) for run in re.findall(r"\d+", text))


@dataclass(frozen=True)
class NumbersV3:
    """Share of the source's numbers (of `min_digits` or more) found in the translation.

    Version 1 compared exact digit strings and judged every number: NTREX's human translators
    change 2.3% of sentences that way (units converted, "one to four", 380 тысяч, 4h40), so
    version 2 compares significant digits and leaves single digits out by default. Version 3
    also accepts a number whose parts all appear separately, since times and decimals change
    their separators ("19:30" → Bengali "১৯ঃ৩০", Chinese "19点30分", "4.40 am" → "৪টা ৪০").
    """

    name: ClassVar[str] = "numbers_v3"
    columns: ClassVar[dict[str, type]] = {"numbers_kept": float}
    min_fraction: float = 1.0
    min_digits: int = 2
    may_spell_out: int = 0  # numbers up to this may be missing when no other number took their place

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        numbers = [m.group(0) for m in _NUMBER.finditer(prose(source))]
        wanted = [(key, n) for n in numbers if len(key := _significant(_digits(n))) >= self.min_digits]
        if not wanted:
            return CheckResult({"numbers_kept": 1.0})
        text = prose(translated)
        whole, groups = significant_numbers(text), digit_groups(text)
        missing = []
        for key, number in wanted:
            parts = digit_groups(number)
            if whole[key] > 0:
                whole[key] -= 1
            elif not parts - groups:
                groups -= parts
            else:
                missing.append(number)
        kept = 1 - len(missing) / len(wanted)
        keep = kept >= self.min_fraction
        if not keep and self.may_spell_out and not +whole:
            # nothing else stands in their place: small numbers were written as words ("13-year-old")
            spelled = sum(n.isdigit() and int(n) <= self.may_spell_out for n in missing)
            keep = 1 - (len(missing) - spelled) / len(wanted) >= self.min_fraction
        return CheckResult({"numbers_kept": round(kept, 4)}, keep, None if keep else "numbers_changed")


_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class UntranslatedV2:
    """Fields left in English: identical to the source, or nearly all their words are the source's.

    Version 1 caught only identical fields; version 2 also catches copies with small edits. The
    share is over the translation's words (names and numbers alone never reach it in a sentence);
    a field with fewer than `min_words` words besides names ("Dundee Stars 5-3 Belfast Giants") is
    not judged, since it reads the same in every language.
    """

    name: ClassVar[str] = "untranslated_v2"
    columns: ClassVar[dict[str, type]] = {"untranslated_fields": int, "copied_share": float}
    min_words: int = 3
    max_copied_share: float = 0.8

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        copied, highest = 0, 0.0
        for _, english, translation in _fields(translated, source):
            english_tokens = _WORD.findall(bare(english))
            words = [w.lower() for w in _WORD.findall(bare(translation))]
            names = english_names(bare(english))  # kept as they are in every language
            if sum(w not in names for w in english_tokens) < self.min_words or not words:
                continue
            english_words = {w.lower() for w in english_tokens}
            share = sum(w in english_words for w in words) / len(words)
            highest = max(highest, share)
            if share >= self.max_copied_share or bare(english) == bare(translation):
                copied += 1
        scores = {"untranslated_fields": copied, "copied_share": round(highest, 4)}
        return CheckResult(scores, copied == 0, "untranslated" if copied else None)
